"""The hash cache as the pipeline's stages see it (`ingestor.state.StateDatabase` is the real
one)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from typing import Protocol

from ingestor.records import FileState
from shared.schemas.file_event import FileEvent


class FileStateStore(Protocol):
    """The hash cache the pipeline consults and updates (`ingestor.state.StateDatabase`)."""

    async def get_many(self, paths: Sequence[bytes]) -> dict[bytes, FileState]: ...

    async def under(self, directory: bytes) -> list[FileState]: ...

    def iterate(self, batch: int = ...) -> AsyncIterator[list[FileState]]: ...

    async def remember(self, events: Sequence[FileEvent]) -> None: ...

    async def refresh(self, states: Sequence[FileState]) -> None: ...
