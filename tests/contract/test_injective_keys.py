"""Two files, two keys (issue 17, item 1): a name with an undecodable byte and a name spelling
that byte as text are two assets, on the Python walk, on find's fast path and from events."""

from __future__ import annotations

import asyncio
import base64
import os
from datetime import UTC, datetime

import pytest

from apollonia.settings import load_settings
from consumer.adapters.importers.filesystem import FilesystemImporter, _parse_listing
from consumer.domain.catalog import Collection
from consumer.domain.importing import IngestScope, StatListing
from consumer.domain.keys import key_bytes
from consumer.service_layer.apply import FilePresent
from consumer.service_layer.routing import CollectionRouter, plan_events
from shared.schemas.file_event import FileEvent
from tests.contract.conftest import TV_MEDIA, Library
from tests.contract.test_collection_ingest_data_contract import run_ingest
from tests.contract.test_rescan_listing import listed, signature, tv_collection

pytestmark = [pytest.mark.integration, pytest.mark.catalog_backends]

BYTE_NAME = b"caf\xe9.mkv"  # Latin-1 é: not valid UTF-8
TEXT_NAME = b"caf\\xe9.mkv"  # backslash, x, e, 9: what a display of the other one reads
SLASHED = b"back\\slash.mkv"  # plain ASCII with a backslash: never a find signature


def make_files(library: Library) -> None:
    for raw in (BYTE_NAME, TEXT_NAME, SLASHED):
        (library.tv / os.fsdecode(raw)).write_bytes(raw)


def extensions() -> frozenset[str]:
    return frozenset(load_settings().media_extensions)


def test_the_walk_and_find_give_each_file_its_own_key(library: Library) -> None:
    library.setup()
    make_files(library)
    collection = tv_collection(library)
    importer = FilesystemImporter(extensions())
    walked = sorted(map(signature, importer.enumerate(collection, IngestScope())))
    assert sorted(map(signature, listed(importer, collection))) == walked
    by_name = {key_bytes(key): key for key, *_ in walked}
    assert by_name[BYTE_NAME] == "caf\\xe9.mkv"
    assert by_name[TEXT_NAME] == "caf\\\\xe9.mkv"
    assert by_name[SLASHED] == "back\\\\slash.mkv"


@pytest.mark.parametrize("fast_listing", [True, False], ids=["find", "python-walk"])
def test_both_files_are_cataloged_and_a_rescan_changes_nothing(
    library: Library, monkeypatch: pytest.MonkeyPatch, fast_listing: bool
) -> None:
    library.setup()
    make_files(library)
    if not fast_listing:
        monkeypatch.setenv("PATH", "/nonexistent")
    first = asyncio.run(run_ingest(FilesystemImporter(extensions())))
    assert first.stats.errors == []  # no "Unicode normalisation" complaint: they differ
    assert first.stats.assets_ingested == len(TV_MEDIA) + 3
    rows = dict(library.query("SELECT canonical_key, path FROM assets"))
    assert {"caf\\xe9.mkv", "caf\\\\xe9.mkv", "back\\\\slash.mkv"} <= set(rows)
    again = asyncio.run(run_ingest(FilesystemImporter(extensions())))
    assert again.stats.errors == []
    assert again.stats.assets_updated == 0  # never one asset flipping between two files
    assert again.stats.assets_skipped == len(TV_MEDIA) + 3


def test_listing_parser_describes_names_with_a_backslash_in_python() -> None:
    out = b"3 1.0000000010 a.mkv\0" + b"4 2.0000000000 b\\c.mkv\0"
    assert _parse_listing(out) == StatListing({"3 1.0000000010 a.mkv"}, ["b\\c.mkv"])


def event(path: str, b64: str | None = None) -> FileEvent:
    now = datetime.now(UTC).isoformat()
    return FileEvent.model_validate(
        {
            "file_path": path,
            "file_path_b64": b64,
            "event_type": "IN_CLOSE_WRITE",
            "sha256_hash": "a" * 64,
            "xxh128_hash": "b" * 32,
            "size": 1,
            "modified_time": now,
            "accessed_time": now,
            "changed_time": now,
            "timestamp": now,
            "neighbors": [],
        }
    )


def test_events_for_the_two_files_route_to_two_keys() -> None:
    tv = Collection("c", "s", "TV", "/media/tv", created_at=datetime.now(UTC))
    router = CollectionRouter([], [tv], extensions())
    raw = b"/media/tv/" + BYTE_NAME
    display = raw.decode("utf-8", "backslashreplace")  # what the ingestor puts in file_path
    plan = plan_events(
        router,
        [
            event(display, base64.b64encode(raw).decode()),
            event("/media/tv/" + TEXT_NAME.decode()),
        ],
    )
    changes = plan.groups["c"].changes
    keys = [change.obs.canonical_key for change in changes if isinstance(change, FilePresent)]
    assert keys == ["caf\\xe9.mkv", "caf\\\\xe9.mkv"]


def test_an_event_path_no_file_name_decodes_to_is_rejected_not_a_crash() -> None:
    tv = Collection("c", "s", "TV", "/media/tv", created_at=datetime.now(UTC))
    router = CollectionRouter([], [tv], extensions())
    plan = plan_events(router, [event("/media/tv/bad\ud800.mkv")])
    assert [reason for _, _, reason in plan.rejected] == [
        "'/media/tv/bad\\ud800.mkv' is not a file name: '\\ud800' is not a character a file "
        "name can hold"
    ]
