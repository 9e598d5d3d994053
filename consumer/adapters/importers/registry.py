"""Which importer serves which source type.

Media-server importers come unbound; the ingest binds each to its source (URL, secret, path
mappings) with `consumer.domain.importing.bind_source` before any work.
"""

from __future__ import annotations

from collections.abc import Callable, Collection

from consumer.adapters.importers.filesystem import FilesystemImporter
from consumer.adapters.importers.jellyfin import JellyfinImporter
from consumer.adapters.importers.plex import PlexImporter

ImporterFactory = Callable[[str], object]
MEDIA_SERVERS = {
    PlexImporter.source_type: PlexImporter,
    JellyfinImporter.source_type: JellyfinImporter,
}


def default_importers(media_extensions: Collection[str]) -> ImporterFactory:
    def importer_for(source_type: str) -> object:
        if source_type == FilesystemImporter.source_type:
            return FilesystemImporter(media_extensions)
        server = MEDIA_SERVERS.get(source_type)
        if server is not None:
            return server(media_extensions)
        raise LookupError(f"no importer is available for source type '{source_type}'")

    return importer_for
