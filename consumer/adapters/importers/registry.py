"""Which importer serves which source type."""

from __future__ import annotations

from collections.abc import Callable, Collection

from consumer.adapters.importers.filesystem import FilesystemImporter

ImporterFactory = Callable[[str], object]


def default_importers(media_extensions: Collection[str]) -> ImporterFactory:
    def importer_for(source_type: str) -> object:
        if source_type == FilesystemImporter.source_type:
            return FilesystemImporter(media_extensions)
        raise LookupError(f"no importer is available for source type '{source_type}'")

    return importer_for
