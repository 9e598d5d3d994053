"""Canonical keys (DESIGN: catalog invariants; seed 001 milestone 2)."""

from __future__ import annotations

import doctest
import unicodedata

import pytest
from hypothesis import given
from hypothesis import strategies as st

import consumer.domain.keys as keys_module
from consumer.domain.keys import (
    InvalidPathError,
    KeyOutsideRootError,
    canonical_key,
    name_of_key,
    normalize_key,
    normalize_root,
)

ROOT = "/media/tv"

segment = st.text(
    alphabet=st.characters(blacklist_categories=["Cs"], blacklist_characters="/\x00"),
    min_size=1,
    max_size=12,
).filter(lambda s: s not in (".", ".."))
noise = st.sampled_from(["", ".", "..", "/"])
relative_path = st.lists(st.one_of(segment, noise), min_size=1, max_size=8).map("/".join)


def test_docstring_examples_hold() -> None:
    result = doctest.testmod(keys_module)
    assert result.attempted >= 6
    assert result.failed == 0


@pytest.mark.parametrize(
    ("path", "key"),
    [
        ("/media/tv/Show/Season 01/e01.mkv", "Show/Season 01/e01.mkv"),
        ("/media/tv/a//b/./c.mkv", "a/b/c.mkv"),
        ("/media/tv/Show/../Film.mkv", "Film.mkv"),
        ("/media//tv/x.mkv", "x.mkv"),
        ("Show/e01.mkv", "Show/e01.mkv"),
        ("./Show//e01.mkv", "Show/e01.mkv"),
        ("/media/tv/CASE/Mixed.MKV", "CASE/Mixed.MKV"),
    ],
)
def test_examples(path: str, key: str) -> None:
    assert canonical_key(ROOT, path) == key


@pytest.mark.parametrize(
    "path",
    [
        "/media/tv/../movies/x.mkv",
        "/media/other/x.mkv",
        "../x.mkv",
        "a/../../x.mkv",
        "/media/tvx/y",
    ],
)
def test_paths_outside_the_root_are_rejected(path: str) -> None:
    with pytest.raises(KeyOutsideRootError):
        canonical_key(ROOT, path)


@pytest.mark.parametrize("path", ["/media/tv", "/media/tv/", "/media/tv/a/..", "", ".", "a\x00b"])
def test_root_itself_empty_and_nul_are_not_keys(path: str) -> None:
    with pytest.raises(InvalidPathError):
        canonical_key(ROOT, path)


def test_root_must_be_absolute() -> None:
    with pytest.raises(InvalidPathError):
        normalize_root("media/tv")
    assert normalize_root("/media//tv/") == "/media/tv"


@given(relative_path)
def test_normalising_twice_changes_nothing(path: str) -> None:
    try:
        key = normalize_key(path)
    except InvalidPathError:
        return
    # A key is escaped text (issue 17): it names a path again once read back with name_of_key.
    assert normalize_key(name_of_key(key)) == key
    assert canonical_key(ROOT, f"{ROOT}/{name_of_key(key)}") == key


@given(st.lists(segment, min_size=1, max_size=6))
def test_nfc_and_nfd_give_the_same_key(parts: list[str]) -> None:
    path = "/".join(parts)
    nfd = unicodedata.normalize("NFD", path)
    nfc = unicodedata.normalize("NFC", path)
    assert normalize_key(nfd) == normalize_key(nfc)
    assert unicodedata.is_normalized("NFC", normalize_key(nfd))


@given(relative_path)
def test_a_key_never_escapes_its_root(path: str) -> None:
    try:
        key = canonical_key(ROOT, f"{ROOT}/{path}")
    except InvalidPathError:
        return
    assert not key.startswith("/")
    assert ".." not in key.split("/")
    assert "." not in key.split("/")
    assert "" not in key.split("/")


@given(st.lists(segment, min_size=1, max_size=6))
def test_case_is_preserved(parts: list[str]) -> None:
    key = normalize_key("/".join(parts))
    assert name_of_key(key) == unicodedata.normalize("NFC", "/".join(parts))
