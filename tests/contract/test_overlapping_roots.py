"""The same file is never cataloged twice (issue 17, item 3): collection roots never overlap,
repeated data folders are one folder, and a collection lies inside its source's root."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from pathlib import Path

import pytest

from apollonia.cli import errors
from apollonia.settings import load_settings
from consumer.adapters.db.catalog import CatalogDatabase
from consumer.adapters.importers.filesystem import FilesystemImporter
from consumer.domain.errors import OperationError
from consumer.service_layer import admin
from tests.contract.conftest import Library

pytestmark = [pytest.mark.integration, pytest.mark.catalog_backends]


def out(result: object) -> str:
    return f"{result.stdout}{result.stderr}"  # type: ignore[attr-defined]


@pytest.mark.parametrize(
    ("folder", "words"),
    [
        ("tv", "is already the root of collection 'TV'"),
        ("tv/The Show (2005)", "is inside collection 'TV'"),
        (".", "contains collection '"),
    ],
    ids=["equal", "inside", "containing"],
)
def test_collection_add_refuses_a_root_overlapping_another(
    library: Library, folder: str, words: str
) -> None:
    library.setup()
    before = library.query("SELECT count(*) FROM collections")
    result = library.cli(
        "collection", "add", "--source", "Local", "--name", "Again", "--path",
        str(library.root / folder),
    )  # fmt: skip
    assert result.code == 1, out(result)
    assert words in out(result)
    assert "Traceback" not in out(result)
    assert library.query("SELECT count(*) FROM collections") == before


def test_an_overlap_with_another_sources_collection_is_refused_too(library: Library) -> None:
    library.setup()
    assert library.cli("source", "add", "--name", "Other", "--type", "filesystem").code == 0
    result = library.cli(
        "collection", "add", "--source", "Other", "--name", "Shows", "--path", str(library.tv)
    )
    assert result.code == 1, out(result)
    assert "is already the root of collection 'TV'" in out(result)


def test_a_root_outside_its_source_root_is_refused(library: Library, tmp_path: Path) -> None:
    library.setup()
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    result = library.cli(
        "collection", "add", "--source", "Local", "--name", "Away", "--path", str(elsewhere)
    )
    assert result.code == 1, out(result)
    assert f"collection root {elsewhere} is outside the root {library.root}" in out(result)


def test_collection_update_refuses_to_move_onto_another_root(library: Library) -> None:
    library.setup()
    result = library.cli("collection", "update", "Films", "--path", str(library.tv / "Other Show"))
    assert result.code == 1, out(result)
    assert "is inside collection 'TV'" in out(result)
    films = library.query("SELECT root_path FROM collections WHERE name = 'Films'")
    assert films == [(str(library.films),)]
    # moving within its own (old) root is no overlap with itself
    (library.films / "Heat (1995)").mkdir(exist_ok=True)
    moved = library.cli(
        "collection", "update", "Films", "--path", str(library.films / "Heat (1995)")
    )
    assert moved.code == 0, out(moved)


def test_source_update_refuses_a_root_that_leaves_its_collections_out(library: Library) -> None:
    library.setup()
    result = library.cli("source", "update", "Local", "--path", str(library.tv))
    assert result.code == 1, out(result)
    assert "'Films'" in out(result) and "would lie outside it" in out(result)


def test_discover_creates_nothing_when_a_folder_overlaps(library: Library) -> None:
    """An embedded `run` made a collection at the library root; discovering the source's
    top-level folders would catalog every file a second time."""
    library.setup()
    library.execute("DELETE FROM collections WHERE name = 'Films'")
    library.execute(f"UPDATE collections SET root_path = '{library.root}' WHERE name = 'TV'")
    library.execute(f"UPDATE sources SET root_path = '{library.root}'")
    result = library.cli("source", "discover", "Local")
    assert result.code == 1, out(result)
    assert "is inside collection 'TV'" in out(result)
    assert library.query("SELECT name FROM collections") == [("TV",)]


def test_discover_of_a_second_source_on_the_same_folders_is_refused(library: Library) -> None:
    library.setup()
    assert (
        library.cli(
            "source", "add", "--name", "Twin", "--type", "filesystem", "--path", str(library.root)
        ).code
        == 0
    )
    result = library.cli("source", "discover", "Twin")
    assert result.code == 1, out(result)
    assert "is already the root of collection 'TV'" in out(result)
    assert library.query("SELECT count(*) FROM collections") == [(2,)]


# --- `apollonia run` -----------------------------------------------------------------------
@pytest.mark.parametrize("spelling", ["same", "slash", "dotdot", "symlink"])
def test_run_collapses_a_folder_given_twice(
    library: Library, tmp_path: Path, spelling: str
) -> None:
    data = library.tv
    twin = {
        "same": str(data),
        "slash": f"{data}/",
        "dotdot": str(data / "Other Show" / ".."),
        "symlink": str(tmp_path / "link"),
    }[spelling]
    (tmp_path / "link").symlink_to(data, target_is_directory=True)
    result = library.cli("run", "--once", "--data", str(data), "--data", twin)
    assert result.code == 0, out(result)
    assert library.query("SELECT name, root_path FROM collections") == [("tv", str(data))]
    assert library.query("SELECT count(*) FROM assets") == [(5,)]  # TV's five media files


def test_run_refuses_nested_data_folders_naming_both(library: Library) -> None:
    inner = library.tv / "The Show (2005)"
    result = library.cli("run", "--once", "--data", str(library.tv), "--data", str(inner))
    assert result.code == 1, out(result)
    assert f"data folder {inner} is inside data folder {library.tv}" in out(result)
    assert "Traceback" not in out(result)


def test_run_refuses_a_folder_inside_a_collection_it_cataloged_before(library: Library) -> None:
    assert library.cli("run", "--once", "--data", str(library.root)).code == 0
    result = library.cli("run", "--once", "--data", str(library.tv))
    assert result.code == 1, out(result)
    assert "is inside collection 'media'" in out(result)
    assert "Traceback" not in out(result)
    assert library.query("SELECT name FROM collections") == [("media",)]


def test_the_service_layer_refuses_with_a_worded_error(library: Library) -> None:
    """What the CLI words comes from the service layer's one check (every caller shares it)."""
    library.setup()

    async def add_again() -> None:
        settings = load_settings()
        catalog = CatalogDatabase(settings.database_url)
        async with catalog, catalog.unit_of_work() as uow:
            (source,) = await uow.sources.find("Local")
            await admin.add_collection(
                uow, source, FilesystemImporter(settings.media_extensions), name="Twice",
                root_path=str(library.tv), enrichers=[], sync_enabled=True,
                hash_mode="full", external_id=None, now=datetime.now(UTC),
            )  # fmt: skip

    with pytest.raises(OperationError) as caught:
        asyncio.run(add_again())
    assert errors.exit_code(caught.value) == 1
    assert errors.message(caught.value).startswith("Error: collection roots must not overlap")


def test_unique_folders_is_what_run_and_the_ingestor_watch(tmp_path: Path) -> None:
    """`apollonia ingestor --data D --data D/` watches D once (the same helper as `run`)."""
    from shared.files import unique_folders

    data = tmp_path / "d"
    (data / "sub").mkdir(parents=True)
    (tmp_path / "link").symlink_to(data, target_is_directory=True)
    given = [data, Path(f"{data}/"), data / "sub" / "..", tmp_path / "link", data / "sub"]
    assert unique_folders(given) == [data, data / "sub"]
