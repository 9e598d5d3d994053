"""The rescan fast path: a full re-ingest compares find's listing with the catalog's signatures.

It must see exactly what the Python walk sees (same files, keys, stats), take the catalog's
word only for files whose signature matches byte for byte, and fall back to the walk whenever
find cannot vouch for its listing.
"""

from __future__ import annotations

import asyncio
import os
import stat
from pathlib import Path

import pytest

from apollonia.settings import load_settings
from consumer.adapters.db.catalog import CatalogDatabase
from consumer.adapters.importers.filesystem import FilesystemImporter
from consumer.domain.catalog import Collection
from consumer.domain.importing import DiscoveredItem, IngestScope, StatListing
from tests.contract.conftest import TV_MEDIA, Library, touch_later
from tests.contract.test_collection_ingest_data_contract import run_ingest

pytestmark = [pytest.mark.integration, pytest.mark.catalog_backends]


def extensions() -> frozenset[str]:
    return frozenset(load_settings().media_extensions)


class CountingImporter(FilesystemImporter):
    """Records how the ingest listed the collection: which media files it had to describe."""

    def __init__(self, exts: frozenset[str]) -> None:
        super().__init__(exts)
        self.described: list[str] = []
        self.walked = False

    def describe(self, collection: Collection, relative: str) -> DiscoveredItem | None:
        item = super().describe(collection, relative)
        if item is not None:  # sidecars (.srt, .nfo) are offered too, and turned down
            self.described.append(relative)
        return item

    def enumerate(self, collection: Collection, scope: IngestScope):  # type: ignore[no-untyped-def]
        self.walked = True
        return super().enumerate(collection, scope)


def build_awkward_tree(root: Path) -> None:
    """Everything a real library throws at a walker."""
    files = {
        "Show/Season 01/Show - S01E01.mkv": b"one",
        "Show/Season 01/Show - S01E02.MKV": b"two!",  # upper-case extension
        "Show/Season 01/  spaced  name .mp4": b"spaces",
        "Show/.hidden/S01E03.mkv": b"in a dot-folder",
        "Show/.S01E04.mkv": b"dot-file",
        "Show/S01E05.mkv.part": b"downloading",
        "Show/S01E05.nfo": b"<xml/>",
        "Show/S01E06.tmp": b"temp",
        "Cafe\u0301/Film.mkv": b"NFD name",  # decomposed: the key is NFC
        "line\nbreak.mkv": b"newline in the name",
        "empty.mkv": b"",
    }
    for rel, data in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
    # A name that is not valid UTF-8, a symlinked file, a symlinked folder (not followed), a
    # dangling symlink, and a FIFO with a media name (not a regular file).
    (root / os.fsdecode(b"bad\xffname.mkv")).write_bytes(b"latin-1 name")
    (root / "link.mkv").symlink_to(root / "Show/Season 01/Show - S01E01.mkv")
    (root / "linked-folder").symlink_to(root / "Show", target_is_directory=True)
    (root / "dangling.mkv").symlink_to(root / "nowhere.mkv")
    os.mkfifo(root / "pipe.mkv")


def signature(item: DiscoveredItem) -> tuple[str, str, str, int, int, int]:
    return (item.canonical_key, item.path, item.fs_path, item.size, item.mtime_ns, item.inode)


def listed(importer: FilesystemImporter, collection: Collection) -> list[DiscoveredItem]:
    fast = asyncio.run(importer.stat_listing(collection))
    assert fast is not None, "find is on every supported system: the fast path must run here"
    relatives = [sig.split(" ", 2)[2] for sig in fast.signatures] + fast.pending
    return [item for rel in relatives if (item := importer.describe(collection, rel)) is not None]


def tv_collection(library: Library) -> Collection:
    async def fetch() -> Collection:
        catalog = CatalogDatabase(load_settings().database_url)
        async with catalog, catalog.unit_of_work(read_only=True) as uow:
            (collection,) = await uow.collections.find("TV")
            return collection

    return asyncio.run(fetch())


def test_stat_listing_finds_exactly_what_the_walk_finds(library: Library) -> None:
    """Same files, same keys (NFC, escaped bytes), same stats, same exclusions."""
    library.setup()
    build_awkward_tree(library.tv)
    collection = tv_collection(library)
    importer = FilesystemImporter(extensions())
    walked = sorted(map(signature, importer.enumerate(collection, IngestScope())))
    fast = sorted(map(signature, listed(importer, collection)))
    assert fast == walked
    keys = {key for key, *_ in walked}
    assert "Café/Film.mkv" in keys  # composed
    assert "link.mkv" in keys
    assert not any(key.startswith("linked-folder/") for key in keys)
    assert not keys & {"pipe.mkv", "dangling.mkv", "Show/.S01E04.mkv", "Show/S01E05.mkv.part"}


def test_catalog_signatures_match_find_for_every_plain_file(library: Library) -> None:
    """After an ingest, find's line for every unchanged ASCII file is the catalog's signature,
    so an unchanged rescan describes nothing; a touched and a new file are described."""
    library.setup()
    first = asyncio.run(run_ingest(FilesystemImporter(extensions())))
    assert first.stats.assets_ingested == len(TV_MEDIA)

    spy = CountingImporter(extensions())
    again = asyncio.run(run_ingest(spy))
    assert (spy.walked, spy.described) == (False, [])
    assert again.stats.assets_skipped == len(TV_MEDIA)

    touched = next(iter(TV_MEDIA))
    touch_later(library.tv / touched)
    (library.tv / "New Show - S01E01.mkv").write_bytes(b"new")
    spy = CountingImporter(extensions())
    third = asyncio.run(run_ingest(spy))
    assert sorted(spy.described) == sorted([touched, "New Show - S01E01.mkv"])
    assert third.stats.assets_ingested == 1
    assert third.stats.stats_refreshed == 1
    assert third.stats.assets_skipped == len(TV_MEDIA)
    assert third.stats.assets_discovered == len(TV_MEDIA) + 1


def test_rescan_fast_path_marks_missing_files(library: Library) -> None:
    """A file gone since the last ingest is soft-deleted through the fast path too."""
    library.setup()
    asyncio.run(run_ingest(FilesystemImporter(extensions())))
    gone = next(iter(TV_MEDIA))
    (library.tv / gone).unlink()
    spy = CountingImporter(extensions())
    result = asyncio.run(run_ingest(spy))
    assert spy.walked is False
    assert result.stats.assets_missing == 1
    assert library.query("SELECT is_deleted FROM assets WHERE canonical_key = ?", (gone,)) == [(1,)]


def fake_find(folder: Path, script: str) -> None:
    folder.mkdir(exist_ok=True)
    find = folder / "find"
    find.write_text(f"#!/bin/sh\n{script}\n")
    find.chmod(find.stat().st_mode | stat.S_IXUSR)


@pytest.mark.parametrize(
    "script",
    [
        "echo \"find: '$2/Show': Permission denied\" >&2; exit 1",  # a folder it could not read
        "echo 'find: unknown predicate -printf' >&2; exit 1",  # not GNU find
        "exit 0",  # exits cleanly but prints a warning on stderr below
    ],
)
def test_a_find_that_complains_means_the_python_walk(
    library: Library, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, script: str
) -> None:
    """find's listing is only trusted when it ran cleanly; otherwise the walk records errors
    precisely and nothing is marked missing that could not be looked at."""
    library.setup()
    asyncio.run(run_ingest(FilesystemImporter(extensions())))
    if script == "exit 0":
        script = "echo 'find: warning: something odd' >&2; exit 0"
    fake_find(tmp_path / "bin", script)
    monkeypatch.setenv("PATH", f"{tmp_path / 'bin'}:{os.environ['PATH']}")
    collection = tv_collection(library)
    assert asyncio.run(FilesystemImporter(extensions()).stat_listing(collection)) is None

    spy = CountingImporter(extensions())
    result = asyncio.run(run_ingest(spy))
    assert spy.walked is True
    assert result.stats.assets_skipped == len(TV_MEDIA)
    assert result.stats.assets_missing == 0


def test_no_find_on_the_path_means_the_python_walk(
    library: Library, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    library.setup()
    asyncio.run(run_ingest(FilesystemImporter(extensions())))
    (tmp_path / "empty").mkdir()
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))
    spy = CountingImporter(extensions())
    result = asyncio.run(run_ingest(spy))
    assert spy.walked is True
    assert result.stats.assets_skipped == len(TV_MEDIA)


def test_listing_parser_separates_symlinks_and_non_ascii_names() -> None:
    from consumer.adapters.importers.filesystem import _parse_listing

    out = b"3 1.0000000010 a.mkv\0Lb.mkv\0" + "4 2.0000000000 é.mkv\0".encode()
    assert _parse_listing(out) == StatListing({"3 1.0000000010 a.mkv"}, ["b.mkv", "é.mkv"])
    ascii_only = b"3 1.0000000010 a.mkv\0Lb.mkv\0"
    assert _parse_listing(ascii_only) == StatListing({"3 1.0000000010 a.mkv"}, ["b.mkv"])
    assert _parse_listing(b"") == StatListing(set(), [])


def test_two_files_with_one_catalog_key_make_one_asset_and_an_error(library: Library) -> None:
    """NFC and NFD spellings of one name can both exist on Linux; they share a catalog key.
    The first is cataloged, the second reported, and the ingest does not fail (D-9)."""
    library.setup()
    (library.tv / "Caf\u00e9.mkv").write_bytes(b"composed")
    (library.tv / "Cafe\u0301.mkv").write_bytes(b"decomposed")
    result = asyncio.run(run_ingest(FilesystemImporter(extensions())))
    assert result.stats.assets_ingested == len(TV_MEDIA) + 1
    assert [e["message"] for e in result.stats.errors] == [
        "another file maps to the same catalog key 'Café.mkv' (names that differ only in "
        "Unicode normalisation); not cataloged"
    ]
    assert library.query("SELECT count(*) FROM assets WHERE canonical_key = 'Café.mkv'") == [(1,)]


@pytest.mark.parametrize("fast_listing", [True, False], ids=["find", "python-walk"])
def test_slices_pipelined_decide_like_one_slice(
    library: Library, monkeypatch: pytest.MonkeyPatch, fast_listing: bool
) -> None:
    """Slices of two files (so hashing, deciding and writing overlap across slices): a new, a
    rewritten, a touched, a deleted and unchanged files are all decided as in one slice."""
    library.setup()
    monkeypatch.setattr("consumer.service_layer.collection_ingest.SLICE", 2)
    first = asyncio.run(run_ingest(FilesystemImporter(extensions())))
    assert first.stats.assets_ingested == len(TV_MEDIA)
    assert library.query("SELECT count(*) FROM assets") == [(len(TV_MEDIA),)]

    rewritten, touched, deleted = TV_MEDIA[0], TV_MEDIA[1], TV_MEDIA[2]
    (library.tv / rewritten).write_bytes(b"new content, longer than before")
    touch_later(library.tv / touched)
    (library.tv / deleted).unlink()
    for n in range(3):
        (library.tv / f"Extra Show/Season 01/Extra Show - S01E0{n + 1}.mkv").parent.mkdir(
            parents=True, exist_ok=True
        )
        (library.tv / f"Extra Show/Season 01/Extra Show - S01E0{n + 1}.mkv").write_bytes(
            f"extra {n}".encode()
        )
    if not fast_listing:
        monkeypatch.setenv("PATH", "/nonexistent")
    second = asyncio.run(run_ingest(CountingImporter(extensions())))
    stats = second.stats
    assert (stats.assets_ingested, stats.assets_updated, stats.assets_missing) == (3, 1, 1)
    assert stats.stats_refreshed == 1
    assert stats.assets_skipped == len(TV_MEDIA) - 2  # unchanged + the touched one
    assert stats.errors == []
    rows = dict(library.query("SELECT canonical_key, is_deleted FROM assets"))
    assert len(rows) == len(TV_MEDIA) + 3
    assert rows[deleted] == 1
    assert sum(rows.values()) == 1
