"""`ingest_event` (`apollonia ingest-file`): one event applied now, or an OperationError."""

from __future__ import annotations

import pytest

from consumer.domain.decisions import Action
from consumer.domain.errors import OperationError
from consumer.service_layer.ingest_file import ingest_event
from tests.unit.builders import ARCHIVE, MEDIA, SHOWS, catalog, file_event


async def test_a_media_file_of_a_collection_is_applied_with_an_ingest_file_run() -> None:
    fake = catalog()
    path = "/media/shows/Show/S01E01.mkv"

    ingested = await ingest_event(fake, file_event("created", path), MEDIA)

    assert (ingested.collection_uuid, ingested.collection_name) == (SHOWS.uuid, "Shows")
    assert ingested.decision.action == Action.CREATE
    (asset,) = fake.assets()
    assert ingested.decision.asset_uuid == asset.uuid
    (run,) = fake.runs()
    assert (run.kind, run.scope) == ("ingest_file", {"kind": "file", "path": path})
    assert run.stats == {"created": 1, "updated": 0, "skipped": 0}


async def test_a_sync_disabled_collection_still_takes_an_explicit_file() -> None:
    fake = catalog()
    ingested = await ingest_event(fake, file_event("created", "/media/archive/Old.mkv"), MEDIA)
    assert ingested.collection_uuid == ARCHIVE.uuid
    assert fake.asset(ARCHIVE.uuid, "Old.mkv") is not None


async def test_ingesting_the_same_file_again_is_a_skip() -> None:
    fake = catalog()
    event = file_event("created", "/media/shows/Show/S01E01.mkv")
    await ingest_event(fake, event, MEDIA)

    again = await ingest_event(fake, event, MEDIA)

    assert again.decision.action == Action.SKIP
    assert len(fake.assets()) == 1


@pytest.mark.parametrize(
    ("path", "code", "message"),
    [
        ("/elsewhere/Film.mkv", "no_collection", "is under no collection"),
        ("/media/shows/notes.txt", "not_media", "is not a media file"),
        ("/media/shows/../../etc/evil.mkv", "path_rejected", "escapes collection root"),
    ],
)
async def test_a_file_that_cannot_be_ingested_is_an_operation_error(
    path: str, code: str, message: str
) -> None:
    fake = catalog()

    with pytest.raises(OperationError) as raised:
        await ingest_event(fake, file_event("created", path), MEDIA)

    assert (raised.value.error_code, raised.value.exit_code) == (code, 1)
    assert raised.value.message.startswith("Error: ") and message in raised.value.message
    assert fake.assets() == [] and fake.runs() == []
