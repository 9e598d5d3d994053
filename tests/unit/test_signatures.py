"""Content signatures and the enricher checksum (seed 001 milestone 3)."""

from __future__ import annotations

import random

from hypothesis import given
from hypothesis import strategies as st

from consumer.domain.signatures import (
    EnricherRef,
    content_changed,
    content_signature,
    enricher_checksum,
    needs_hash,
)

enrichers = st.lists(
    st.builds(EnricherRef, st.text(min_size=1, max_size=8), st.integers(-5, 50)), max_size=6
)

SHA_A = "a" * 64
SHA_B = "b" * 64


@given(enrichers, st.randoms())
def test_checksum_is_order_independent(refs: list[EnricherRef], rnd: random.Random) -> None:
    shuffled = list(refs)
    rnd.shuffle(shuffled)
    assert enricher_checksum(refs) == enricher_checksum(shuffled)


def test_checksum_accepts_mappings_and_changes_with_priority() -> None:
    a = enricher_checksum([{"enricher_id": "ffprobe", "priority": 1}])
    assert a == enricher_checksum([EnricherRef("ffprobe", 1)])
    assert a != enricher_checksum([EnricherRef("ffprobe", 2)])
    assert a != enricher_checksum([])
    assert len(a) == 64


def test_signature_prefers_the_hash() -> None:
    assert content_signature(SHA_A, 10, 5) == f"sha256:{SHA_A}"
    assert content_signature(None, 10, 5) == "stat:10:5"


def test_unchanged_stat_needs_no_read() -> None:
    assert not needs_hash(10, 5, 10, 5)
    assert needs_hash(10, 5, 10, 6)
    assert needs_hash(None, None, 10, 6)


def test_hash_decides_when_both_sides_have_one() -> None:
    same_bytes_new_mtime = content_changed(
        stored_sha256=SHA_A, stored_size=10, stored_mtime_ns=5, sha256=SHA_A, size=10, mtime_ns=9
    )
    assert not same_bytes_new_mtime
    assert content_changed(
        stored_sha256=SHA_A, stored_size=10, stored_mtime_ns=5, sha256=SHA_B, size=10, mtime_ns=5
    )


def test_stat_decides_without_a_hash() -> None:
    assert content_changed(
        stored_sha256=None, stored_size=10, stored_mtime_ns=5, sha256=SHA_A, size=10, mtime_ns=6
    )
    assert not content_changed(
        stored_sha256=SHA_A, stored_size=10, stored_mtime_ns=5, sha256=None, size=10, mtime_ns=5
    )
