"""Media items through the service layer on the in-memory catalog: the apply path attaches files
to their items (creating them, or finding a wanted one), and list / show / add report them."""

from __future__ import annotations

from datetime import timedelta

import pytest

from consumer.domain.assets import FileFacts
from consumer.domain.catalog import Collection
from consumer.domain.errors import OperationError
from consumer.domain.media_info import media_metadata
from consumer.service_layer.apply import FileGone, FileMoved, FilePresent, apply_changes
from consumer.service_layer.media import add_media, list_media, show_media
from tests.unit.builders import FILMS, SHOWS, T0, catalog, sha
from tests.unit.fakes import FakeCatalog


def facts(key: str, n: int) -> FileFacts:
    return FileFacts(key, f"/media/x/{key}", 1000 + n, n * 1_000_000_000, sha256=sha(n))


async def ingest(fake: FakeCatalog, collection: Collection, *keys: str) -> None:
    async with fake.unit_of_work(label="test") as uow:
        await apply_changes(
            uow,
            collection,
            [FilePresent(facts(k, i + 1)) for i, k in enumerate(keys)],
            now=T0,
            describe=media_metadata,
        )
        await uow.commit()


FIREFLY = [f"Firefly/Season 01/Firefly - S01E{n:02d}.mkv" for n in (1, 2, 4)]


async def test_files_attach_to_items_created_on_demand() -> None:
    fake = catalog()
    await ingest(fake, SHOWS, *FIREFLY, "Firefly/Season 02/Firefly - S02E01.mkv")
    await ingest(fake, FILMS, "Alien (1979)/Alien (1979).mkv", "Dune.2021.1080p.mkv")
    items = await list_media(fake, active_only=False, now=T0)
    labels = [(s.collection_name, s.item.label, s.progress.total) for s in items]
    assert labels == [
        ("Films", "Alien (1979)", 1),
        ("Films", "Dune (2021)", 1),
        ("Shows", "Firefly S01", 3),
        ("Shows", "Firefly S02", 1),
    ]
    assert all(a.media_item_id is not None for a in fake.assets())
    # One item per season however many batches bring its files.
    await ingest(fake, SHOWS, "Firefly/Season 01/Firefly - S01E05.mkv")
    s1, s2 = await list_media(fake, collection="Shows", name="firefly", now=T0, media_type="tv")
    assert (s1.item.label, s1.progress.total, s2.progress.total) == ("Firefly S01", 4, 1)


async def test_a_wanted_item_waits_for_its_files_and_gets_them() -> None:
    fake = catalog()
    wanted = await add_media(fake, collection="Shows", media_type="tv", name="Firefly", season=1)
    (summary,) = await list_media(fake, now=T0)
    assert summary.item.id == wanted.id and summary.progress.waiting_for_files and summary.active
    await ingest(fake, SHOWS, *FIREFLY)
    (summary,) = await list_media(fake, now=T0)
    assert summary.item.id == wanted.id and summary.progress.total == 3
    detail = await show_media(fake, wanted.id[:8], now=T0)
    assert detail.episodes == [1, 2, 4] and detail.gaps == [3]
    assert [a.episodes for a in detail.assets] == [[1], [2], [4]]


async def test_a_wanted_film_without_a_year_learns_it_from_its_file() -> None:
    fake = catalog()
    wanted = await add_media(fake, collection="Films", media_type="movie", name="Alien")
    await ingest(fake, FILMS, "Alien (1979)/Alien (1979).mkv")
    (summary,) = await list_media(fake, now=T0)
    assert summary.item.id == wanted.id and summary.item.year == 1979


async def test_deleted_files_stay_on_their_item_counted_apart() -> None:
    fake = catalog()
    await ingest(fake, SHOWS, *FIREFLY)
    async with fake.unit_of_work() as uow:
        await apply_changes(uow, SHOWS, [FileGone(FIREFLY[0], "deleted")], now=T0)
        await uow.commit()
    (summary,) = await list_media(fake, now=T0)
    assert (summary.progress.total, summary.progress.deleted) == (2, 1)
    detail = await show_media(fake, summary.item.id, now=T0)
    assert detail.episodes == [2, 4] and detail.gaps == [1, 3]


async def test_active_and_all() -> None:
    fake = catalog()
    await ingest(fake, FILMS, "Alien (1979)/Alien (1979).mkv")
    later = T0 + timedelta(days=2)
    assert len(await list_media(fake, now=later)) == 1  # not approved: active
    assert len(await list_media(fake, now=later, active_only=False)) == 1


@pytest.mark.parametrize(
    ("kwargs", "code", "case"),
    [
        ({"collection": "Nope", "media_type": "tv", "name": "X", "season": 1}, "not_found", ""),
        ({"collection": "Shows", "media_type": "tv", "name": "X"}, "invalid_media_item", ""),
        (
            {"collection": "Films", "media_type": "movie", "name": "X", "year": 3000},
            "invalid_media_item",
            "bad_year",
        ),
    ],
)
async def test_add_refuses(kwargs: dict[str, object], code: str, case: str) -> None:
    with pytest.raises(OperationError) as raised:
        await add_media(catalog(), **kwargs)  # type: ignore[arg-type]
    assert code in raised.value.error_code
    assert not case or raised.value.case == case


async def test_add_refuses_a_duplicate() -> None:
    fake = catalog()
    await add_media(fake, collection="Shows", media_type="tv", name="Firefly", season=1)
    with pytest.raises(OperationError) as raised:
        await add_media(fake, collection="Shows", media_type="tv", name="firefly ", season=1)
    assert raised.value.error_code == "media_exists"
    # Another season is another item.
    await add_media(fake, collection="Shows", media_type="tv", name="Firefly", season=2)


async def test_show_and_list_refuse_what_is_not_there() -> None:
    with pytest.raises(OperationError) as raised:
        await show_media(catalog(), "nothing")
    assert raised.value.error_code == "media_not_found"
    with pytest.raises(OperationError) as raised:
        await list_media(catalog(), media_type="show")
    assert raised.value.case == "media_item_type"


async def test_a_file_moved_into_another_season_changes_item() -> None:
    fake = catalog()
    await ingest(fake, SHOWS, FIREFLY[0])
    moved = "Firefly/Season 02/Firefly - S02E01.mkv"
    async with fake.unit_of_work() as uow:
        obs = facts(moved, 1)  # same content: a move
        await apply_changes(
            uow, SHOWS, [FileMoved(FIREFLY[0], obs)], now=T0, describe=media_metadata
        )
        await uow.commit()
    by_label = {s.item.label: s.progress.total for s in await list_media(fake, now=T0)}
    assert by_label == {"Firefly S01": 0, "Firefly S02": 1}


async def test_music_gets_no_item_and_a_dry_run_writes_none() -> None:
    fake = catalog()
    await ingest(fake, FILMS, "Music/Artist/Album/01 - Song.flac")
    assert await list_media(fake, active_only=False, now=T0) == []
    (song,) = fake.assets()
    assert song.media_item_id is None
    async with fake.unit_of_work() as uow:
        await apply_changes(
            uow,
            FILMS,
            [FilePresent(facts("Heat (1995)/Heat.mkv", 9))],
            now=T0,
            describe=media_metadata,
            write=False,
        )
        await uow.commit()
    assert await list_media(fake, active_only=False, now=T0) == []
