"""The ingestor against real inotify, real folders and the real broker: what it publishes."""

from __future__ import annotations

import asyncio
import hashlib
import os
import shutil
from pathlib import Path

import pytest
import xxhash

from ingestor.paths import display
from tests.integration.ingestor.conftest import (
    BrokerTap,
    Received,
    SettingsFactory,
    idle,
    running,
    write,
)

pytestmark = pytest.mark.integration


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


async def quiet(service_tap: tuple[object, BrokerTap]) -> list[Received]:
    """After the ingestor is idle: anything else that was published (should be nothing)."""
    service, tap = service_tap
    await idle(service)  # type: ignore[arg-type]
    return await tap.drain()


@pytest.mark.parametrize("style", ["held open, pausing longer than settle", "100 appends"])
async def test_a_file_written_in_chunks_over_3s_is_published_once_with_its_final_hash(
    make_settings: SettingsFactory, data_dir: Path, tap: BrokerTap, style: str
) -> None:
    path = data_dir / "slow.mkv"
    content = bytearray()
    async with running(make_settings()) as service:
        if style.startswith("held"):
            # One writer keeps the file open; pauses are longer than settle_seconds, so only the
            # close can tell that the file is complete.
            with open(path, "wb") as handle:
                for i in range(30):
                    chunk = os.urandom(32 * 1024)
                    handle.write(chunk)
                    handle.flush()
                    content += chunk
                    await asyncio.sleep(0.6 if i % 10 == 9 else 0.08)
        else:
            # A writer that reopens and appends 100 times (each append closes the file).
            for _ in range(100):
                chunk = os.urandom(8 * 1024)
                with open(path, "ab") as handle:
                    handle.write(chunk)
                content += chunk
                await asyncio.sleep(0.03)
        (got,) = await tap.collect(1)
        assert await quiet((service, tap)) == []
    assert got.event.kind == "created"
    assert got.event.file_path == str(path)
    assert got.event.sha256_hash == sha(bytes(content))
    assert got.event.xxh128_hash == xxhash.xxh3_128(bytes(content)).hexdigest()
    assert got.event.size == len(content)


async def test_a_burst_of_1000_files_yields_1000_events_without_duplicates(
    make_settings: SettingsFactory, data_dir: Path, tap: BrokerTap
) -> None:
    expected: dict[str, str] = {}
    async with running(make_settings()) as service:
        for i in range(1000):
            data = f"file {i}\n".encode() * (i % 7 + 1)
            path = data_dir / f"clip{i:04d}.mkv"
            write(path, data)
            expected[str(path)] = sha(data)
        got = await tap.collect(1000)
        assert await quiet((service, tap)) == []
    assert len({r.event.event_id for r in got}) == 1000
    assert {r.event.file_path: r.event.sha256_hash for r in got} == expected
    assert {r.event.kind for r in got} == {"created"}
    # Every sibling here is another media file, an asset of its own: never a neighbour.
    for r in got[:50]:
        assert r.event.neighbors == []


async def test_nested_new_directories_are_watched_and_their_files_published(
    make_settings: SettingsFactory, data_dir: Path, tap: BrokerTap
) -> None:
    async with running(make_settings()) as service:
        deep = data_dir / "show" / "season 1" / "extras"
        deep.mkdir(parents=True)  # files follow at once, before any watch could be added
        paths = [
            data_dir / "show" / "poster.jpg",
            data_dir / "show" / "season 1" / "e01.mkv",
            deep / "making-of.mkv",
        ]
        for p in paths:
            write(p, p.name.encode())
        got = await tap.collect(3)
        # The new directories are watched now: a later file deep inside is seen too.
        later = deep / "later.mkv"
        write(later, b"later")
        (last,) = await tap.collect(1)
        assert await quiet((service, tap)) == []
    assert {r.event.file_path for r in got} == {str(p) for p in paths}
    assert last.event.file_path == str(later)


async def test_a_directory_moved_in_publishes_all_its_files(
    make_settings: SettingsFactory, data_dir: Path, tap: BrokerTap, tmp_path: Path
) -> None:
    outside = tmp_path / "downloads" / "Album"
    (outside / "CD2").mkdir(parents=True)
    files = {
        outside / "01.flac": b"one",
        outside / "tracklist.txt": b"list",
        outside / "CD2" / "01.flac": b"two",
    }
    for p, data in files.items():
        write(p, data)
    async with running(make_settings()) as service:
        os.rename(outside, data_dir / "Album")
        got = await tap.collect(3)
        assert await quiet((service, tap)) == []
    moved_in = {str(data_dir / "Album" / p.relative_to(outside)): sha(d) for p, d in files.items()}
    assert {r.event.file_path: r.event.sha256_hash for r in got} == moved_in
    assert {r.event.kind for r in got} == {"created"}
    first = next(r for r in got if r.event.file_path.endswith("Album/01.flac"))
    assert first.event.neighbors == [str(data_dir / "Album" / "tracklist.txt")]


async def test_a_part_file_is_published_only_when_renamed_to_its_final_name(
    make_settings: SettingsFactory, data_dir: Path, tap: BrokerTap
) -> None:
    async with running(make_settings()) as service:
        part = data_dir / "movie.mkv.part"
        write(part, b"first half ")
        await asyncio.sleep(0.5)  # longer than settle: a .part file still never counts
        with open(part, "ab") as handle:
            handle.write(b"second half")
        os.rename(part, data_dir / "movie.mkv")
        (got,) = await tap.collect(1)
        assert await quiet((service, tap)) == []
    assert got.event.file_path == str(data_dir / "movie.mkv")
    assert got.event.kind == "created"
    assert got.event.sha256_hash == sha(b"first half second half")


async def test_delete_modify_and_unchanged_rewrite(
    make_settings: SettingsFactory, data_dir: Path, tap: BrokerTap
) -> None:
    path = data_dir / "song.flac"
    async with running(make_settings()) as service:
        write(path, b"version 1")
        (created,) = await tap.collect(1)
        write(path, b"version 2, longer")
        (modified,) = await tap.collect(1)
        await idle(service)
        stats = service.pipeline.stats  # type: ignore[union-attr]
        hashed_before = stats.hashed_files
        write(path, b"version 2, longer")  # same content again: read, but nothing published
        await idle(service)
        assert stats.hashed_files == hashed_before + 1
        assert await tap.drain() == []
        path.unlink()
        (deleted,) = await tap.collect(1)
        assert await quiet((service, tap)) == []
    assert created.event.kind == "created"
    assert (modified.event.kind, modified.event.sha256_hash) == (
        "modified",
        sha(b"version 2, longer"),
    )
    assert deleted.event.kind == "deleted"
    assert deleted.event.file_path == str(path)
    assert deleted.event.sha256_hash == sha(b"version 2, longer")  # the last known content


async def test_a_move_is_one_moved_event_without_rehashing(
    make_settings: SettingsFactory, data_dir: Path, tap: BrokerTap
) -> None:
    (data_dir / "a").mkdir()
    (data_dir / "b").mkdir()
    src = data_dir / "a" / "episode.mkv"
    async with running(make_settings()) as service:
        write(src, b"episode content")
        await tap.collect(1)
        await idle(service)
        hashed = service.pipeline.stats.hashed_bytes  # type: ignore[union-attr]
        os.rename(src, data_dir / "b" / "renamed.mkv")
        (moved,) = await tap.collect(1)
        assert await quiet((service, tap)) == []
        assert service.pipeline.stats.hashed_bytes == hashed  # type: ignore[union-attr]
    assert moved.event.kind == "moved"
    assert moved.event.from_path == str(src)
    assert moved.event.file_path == str(data_dir / "b" / "renamed.mkv")
    assert moved.event.sha256_hash == sha(b"episode content")


@pytest.mark.parametrize("what", ["the file", "its folder"])
async def test_a_file_rewritten_then_renamed_before_it_settled_is_moved_then_modified(
    make_settings: SettingsFactory, data_dir: Path, tap: BrokerTap, what: str
) -> None:
    # The change is not published yet when the rename comes: the file still moves (its asset
    # follows it), and its new content is published at the new path once it has settled.
    (data_dir / "Show").mkdir()
    src = data_dir / "Show" / "e01.mkv"
    dst = data_dir / "Show" / "e01 (final).mkv" if what == "the file" else src
    async with running(make_settings()) as service:
        write(src, b"first cut")
        (created,) = await tap.collect(1)
        await idle(service)
        src.write_bytes(b"director's cut, longer")
        if what == "the file":
            os.rename(src, dst)
        else:
            os.rename(data_dir / "Show", data_dir / "Show (2026)")
            dst = data_dir / "Show (2026)" / "e01.mkv"
        moved, modified = await tap.collect(2)
        assert await quiet((service, tap)) == []
    assert (moved.event.kind, moved.event.from_path, moved.event.file_path) == (
        "moved",
        str(src),
        str(dst),
    )
    assert moved.event.sha256_hash == created.event.sha256_hash == sha(b"first cut")
    assert (modified.event.kind, modified.event.file_path) == ("modified", str(dst))
    assert modified.event.sha256_hash == sha(b"director's cut, longer")
    assert modified.event.timestamp > moved.event.timestamp


@pytest.mark.parametrize("what", ["a file", "a folder"])
async def test_a_rename_into_a_folder_created_a_moment_before_is_still_a_move(
    make_settings: SettingsFactory, data_dir: Path, tap: BrokerTap, what: str
) -> None:
    # The new folder is not watched yet when the rename lands in it: inotify reports only the
    # IN_MOVED_FROM half. The new folder's listing finds the file(s) again: still moves.
    (data_dir / "incoming" / "Show").mkdir(parents=True)
    names = ["e01.mkv"] if what == "a file" else ["Show/e01.mkv", "Show/e02.mkv"]
    for name in names:
        write(data_dir / "incoming" / name, name.encode())
    async with running(make_settings()) as service:
        await tap.collect(len(names))
        await idle(service)
        # No await in between: the watcher cannot watch the new folder before the rename.
        (data_dir / "Library").mkdir()
        if what == "a file":
            os.rename(data_dir / "incoming" / "e01.mkv", data_dir / "Library" / "e01.mkv")
        else:
            os.rename(data_dir / "incoming" / "Show", data_dir / "Library" / "Show")
        moved = await tap.collect(len(names))
        assert await quiet((service, tap)) == []
    assert {(r.event.kind, r.event.from_path, r.event.file_path) for r in moved} == {
        ("moved", str(data_dir / "incoming" / n), str(data_dir / "Library" / n)) for n in names
    }
    assert {r.event.sha256_hash for r in moved} == {sha(n.encode()) for n in names}


async def test_a_folder_listed_again_and_renamed_since_is_not_paired_with_a_stale_listing(
    make_settings: SettingsFactory, data_dir: Path, tap: BrokerTap, tmp_path: Path
) -> None:
    # The soak's doubled file: the folder moved out of the root and back (its listing notes
    # the file), the file renamed inside it, then the folder moved out again. The deletion must
    # not take the old listing's path for the file's new place: the file is not there.
    show, aside = data_dir / "Show", tmp_path / "aside"
    show.mkdir()
    aside.mkdir()
    write(show / "e01.mkv", b"episode")
    async with running(make_settings()) as service:
        await tap.collect(1)
        await idle(service)
        os.rename(show, aside / "Show")
        await tap.collect(1)  # deleted
        os.rename(aside / "Show", show)
        await tap.collect(1)  # created again, from the listing
        await idle(service)
        os.rename(show / "e01.mkv", show / "e01 (renamed).mkv")
        (moved,) = await tap.collect(1)
        await idle(service)
        os.rename(show, aside / "Show")
        (gone,) = await tap.collect(1)
        assert await quiet((service, tap)) == []
    assert (moved.event.kind, moved.event.file_path) == ("moved", str(show / "e01 (renamed).mkv"))
    assert (gone.event.kind, gone.event.file_path) == ("deleted", str(show / "e01 (renamed).mkv"))


async def test_directory_rename_and_delete(
    make_settings: SettingsFactory, data_dir: Path, tap: BrokerTap
) -> None:
    season = data_dir / "Season 1"
    (season / "subs").mkdir(parents=True)
    names = ["e01.mkv", "e02.mkv", "subs/e01.srt"]
    async with running(make_settings()) as service:
        for name in names:
            write(season / name, name.encode())
        await tap.collect(3)
        await idle(service)
        os.rename(season, data_dir / "Season 01")
        moved = await tap.collect(3)
        # The watches followed the rename: a new file in the renamed tree is seen.
        write(data_dir / "Season 01" / "subs" / "e02.srt", b"new")
        (created,) = await tap.collect(1)
        shutil.rmtree(data_dir / "Season 01")
        deleted = await tap.collect(4)
        assert await quiet((service, tap)) == []
    assert {(r.event.kind, r.event.from_path, r.event.file_path) for r in moved} == {
        ("moved", str(season / n), str(data_dir / "Season 01" / n)) for n in names
    }
    assert created.event.file_path == str(data_dir / "Season 01" / "subs" / "e02.srt")
    assert {r.event.kind for r in deleted} == {"deleted"}
    assert {r.event.file_path for r in deleted} == {
        str(data_dir / "Season 01" / n) for n in [*names, "subs/e02.srt"]
    }


async def test_a_hard_link_is_published(
    make_settings: SettingsFactory, data_dir: Path, tap: BrokerTap, tmp_path: Path
) -> None:
    source = tmp_path / "import.mkv"  # same filesystem, outside the root (an *arr import)
    write(source, b"linked content")
    async with running(make_settings()) as service:
        os.link(source, data_dir / "linked.mkv")  # link(2) produces IN_CREATE only
        (got,) = await tap.collect(1, within=90)
        assert await quiet((service, tap)) == []
    assert got.event.file_path == str(data_dir / "linked.mkv")
    assert got.event.sha256_hash == sha(b"linked content")


ODD_NAMES = [
    b"caf\xe9 (latin-1).mkv",  # not valid UTF-8
    b"\xff\xfe raw bytes.mkv",
    b"with space & 'quotes' (2020).mkv",
    "日本語 ファイル 🎵.flac".encode(),
    b"back\\slash.mkv",
    b"new\nline.mkv",
]


async def test_odd_file_names(
    make_settings: SettingsFactory, data_dir: Path, tap: BrokerTap
) -> None:
    root = bytes(data_dir)
    async with running(make_settings()) as service:
        for name in ODD_NAMES:
            write(root + b"/" + name, name)
        os.mkdir(root + b"/dir \xfe")  # a directory whose name is not UTF-8 either
        write(root + b"/dir \xfe/" + ODD_NAMES[0], ODD_NAMES[0])
        got = await tap.collect(len(ODD_NAMES) + 1)
        by_raw = {r.raw_path: r for r in got}
        assert set(by_raw) == {root + b"/" + n for n in ODD_NAMES} | {
            root + b"/dir \xfe/" + ODD_NAMES[0]
        }
        for raw, r in by_raw.items():
            assert r.event.sha256_hash == sha(raw.rpartition(b"/")[2])
            assert r.event.file_path == display(raw)
            try:
                raw.decode("utf-8")
            except UnicodeDecodeError:
                assert r.event.file_path_b64 is not None
            else:
                assert r.event.file_path_b64 is None
        # A move of a UTF-8 name is a move; of a non-UTF-8 name, deleted + created (documented).
        os.rename(root + b"/" + ODD_NAMES[3], root + b"/renamed \xe2\x9c\x93.flac")
        (moved,) = await tap.collect(1)
        os.rename(root + b"/" + ODD_NAMES[0], root + b"/caf\xe9 renamed.mkv")
        pair = await tap.collect(2)
        assert await quiet((service, tap)) == []
    assert moved.event.kind == "moved"
    assert moved.event.from_path == "/".join([str(data_dir), ODD_NAMES[3].decode()])
    assert [r.event.kind for r in pair] == ["deleted", "created"]
    assert pair[0].raw_path == root + b"/" + ODD_NAMES[0]
    assert pair[1].raw_path == root + b"/caf\xe9 renamed.mkv"
    assert pair[1].event.sha256_hash == sha(ODD_NAMES[0])


async def test_published_messages_carry_the_contract_properties(
    make_settings: SettingsFactory, data_dir: Path, tap: BrokerTap
) -> None:
    async with running(make_settings()) as service:
        write(data_dir / "a.mkv", b"a")
        (got,) = await tap.collect(1)
        await idle(service)
    props = got.message
    assert props.content_type == "application/json"
    assert props.delivery_mode == 2
    assert props.message_id == str(got.event.event_id)
    assert props.type == "file.created"
    assert props.app_id == "apollonia-ingestor"
    assert props.timestamp is not None
    assert props.routing_key == "file.created"
    assert got.event.ingestor_id == "test-ingestor"
    assert got.event.event_type == "IN_CLOSE_WRITE"


async def test_files_that_vanish_before_they_settle_are_never_published(
    make_settings: SettingsFactory, data_dir: Path, tap: BrokerTap
) -> None:
    async with running(make_settings()) as service:
        for i in range(20):
            write(data_dir / f"blip{i}.tmpfile", b"x" * i)
            (data_dir / f"blip{i}.tmpfile").unlink()
        write(data_dir / "keeper.mkv", b"keep")
        (got,) = await tap.collect(1)
        assert await quiet((service, tap)) == []
    assert got.event.file_path == str(data_dir / "keeper.mkv")
