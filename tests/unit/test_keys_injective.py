"""Canonical keys are injective over byte names (issue 17, item 1): two files never share a key,
and a key reads back as the one name it stands for."""

from __future__ import annotations

import unicodedata

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from consumer.domain.keys import (
    InvalidPathError,
    canonical_key,
    escape_name,
    key_bytes,
    name_of_key,
    relative_key,
)

ROOT = "/media/tv"

# Pieces that collide under a naive escaping: backslashes, `x`, hex digits, stray high bytes,
# a split UTF-8 sequence, a combining mark and an encoded surrogate (never valid UTF-8).
_PIECES = [b"\\", b"\\\\", b"x", b"e", b"9", b"f", b"\xe9", b"\xc3", b"\xa9", b"\xcc\x81"]
_PIECES += [b"\xed\xa0\x80", b"\xff", b"caf", b"a", b".mkv", "é".encode(), b" "]
piece = st.one_of(st.sampled_from(_PIECES), st.binary(min_size=1, max_size=3))
byte_name = (
    st.lists(piece, min_size=1, max_size=8)
    .map(b"".join)
    .map(lambda raw: raw.replace(b"/", b"_").replace(b"\x00", b"_"))
    .filter(lambda raw: raw not in (b".", b".."))
)
byte_path = st.lists(byte_name, min_size=1, max_size=4).map(b"/".join)


def exact(raw: bytes) -> str:
    """The name as Python's file-system calls hand it to us."""
    return raw.decode("utf-8", "surrogateescape")


def nfc_bytes(raw: bytes) -> bytes:
    return unicodedata.normalize("NFC", exact(raw)).encode("utf-8", "surrogateescape")


def key_of(raw: bytes) -> str:
    return canonical_key(ROOT, f"{ROOT}/{exact(raw)}")


@given(byte_path)
@example(b"caf\xe9.mkv")
@example(b"caf\\xe9.mkv")
@example(b"\xae\xcc\x81")  # a combining mark after an undecodable byte composes with nothing
def test_a_key_reads_back_as_its_name(raw: bytes) -> None:
    key = key_of(raw)
    key.encode("utf-8")  # valid text: SQLite and JSON can hold every key
    assert key_bytes(key) == nfc_bytes(raw)
    if unicodedata.is_normalized("NFC", exact(raw)):
        assert key_bytes(key) == raw


@given(byte_path, byte_path)
@example(b"caf\xe9.mkv", b"caf\\xe9.mkv")
@example(b"a\\\\b", b"a\\b")
def test_distinct_names_get_distinct_keys(a: bytes, b: bytes) -> None:
    # The only names sharing a key are NFC and NFD spellings of one title (reported as such).
    assert (key_of(a) == key_of(b)) == (nfc_bytes(a) == nfc_bytes(b))


@given(byte_name)
def test_the_fast_path_agrees_with_the_general_one(raw: bytes) -> None:
    assert relative_key(exact(raw)) == key_of(raw)


def test_the_two_cafe_files_of_the_issue() -> None:
    assert key_of(b"caf\xe9.mkv") == "caf\\xe9.mkv"
    assert key_of(b"caf\\xe9.mkv") == "caf\\\\xe9.mkv"
    assert key_bytes("caf\\xe9.mkv") == b"caf\xe9.mkv"
    assert key_bytes("caf\\\\xe9.mkv") == b"caf\\xe9.mkv"


@pytest.mark.parametrize("text", ["a\\b", "a\\", "\\x41", "\\xc3\\xa9", "\\xE9", "\\x7f"])
def test_text_no_name_escapes_to_is_not_a_key(text: str) -> None:
    with pytest.raises(InvalidPathError):
        name_of_key(text)


def test_only_undecodable_surrogates_are_escaped() -> None:
    assert escape_name("\udcff") == "\\xff"
    with pytest.raises(InvalidPathError):
        escape_name("\ud800")  # no file name decodes to this
