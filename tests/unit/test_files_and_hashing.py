"""File-name rules and the one-read hashing."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest
import xxhash

from shared.files import is_media_name, is_temporary_name
from shared.hashing import Hasher, hash_file

MEDIA = frozenset({"mkv", "mp3"})


@pytest.mark.parametrize(
    "name",
    [".hidden.mkv", "movie.mkv.part", "movie.partial", "x.tmp", "x.mkv.!qB", "notes~", ""],
)
def test_temporary_names(name: str) -> None:
    assert is_temporary_name(name)
    assert not is_media_name(name, MEDIA)


@pytest.mark.parametrize(
    ("name", "media"), [("a.MKV", True), ("a.mp3", True), ("a.nfo", False), ("mkv", False)]
)
def test_media_names(name: str, media: bool) -> None:
    assert is_media_name(name, MEDIA) is media


@pytest.mark.parametrize("size", [0, 1, 65_535, 1024 * 1024, 3 * 1024 * 1024 + 17])
def test_hash_file_matches_reference_digests(tmp_path: Path, size: int) -> None:
    data = bytes(range(256)) * (size // 256) + bytes(size % 256)
    path = tmp_path / "f.bin"
    path.write_bytes(data)
    fp = hash_file(path, chunk_size=64 * 1024)
    assert fp.sha256 == hashlib.sha256(data).hexdigest()
    assert fp.xxh128 == xxhash.xxh3_128(data).hexdigest()
    assert fp.size == size


async def test_hasher_reports_unreadable_files_in_place(tmp_path: Path) -> None:
    good = tmp_path / "good.mkv"
    good.write_bytes(b"abc")
    hasher = Hasher(workers=2)
    try:
        results = await hasher.hash_many([good, tmp_path / "vanished.mkv", good])
        single = await hasher.hash(good)
    finally:
        hasher.close()
    assert isinstance(results[1], FileNotFoundError)
    assert results[0] == results[2] == single
    assert single.sha256 == hashlib.sha256(b"abc").hexdigest()
