"""The pure rules of `ingestor.derive`: which events an observation or a prospect outcome yields,
given what the state cache remembers. No filesystem, database or broker."""

from __future__ import annotations

import base64
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

import pytest

from ingestor import derive
from ingestor.observations import Gone, Moved, Reconciled, Seen
from ingestor.prospect import Hashed
from ingestor.reconcile import Diff
from ingestor.records import FileState, StatInfo
from ingestor.settle import Strength
from shared.hashing import Fingerprint
from shared.schemas.file_event import FileEvent

NOW = datetime(2026, 11, 22, 12, 0, tzinfo=UTC)
ID = "test-ingestor"
SHA, XXH = "a" * 64, "b" * 32


def stat(size: int = 10, mtime_ns: int = 1_700_000_000_000_000_000, inode: int = 7) -> StatInfo:
    return StatInfo(size, mtime_ns, mtime_ns, mtime_ns, inode, 9)


def cached(path: bytes, st: StatInfo | None = None, **changes: Any) -> FileState:
    st = st or stat()
    row = FileState(path, st.device, st.inode, st.size, st.mtime_ns, SHA, XXH)
    return replace(row, **changes)


def moved(
    row: FileState, dst: bytes, st: StatInfo | None, over: FileState | None = None
) -> derive.MoveOutcome:
    return derive.moved_file(
        row, dst, st, over, event_type="IN_MOVED_TO", neighbors=[], ingestor_id=ID, now=NOW
    )


def kinds(events: list[FileEvent]) -> list[tuple[str, str]]:
    return [(e.kind, e.file_path) for e in events]


# --- Seen --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("strength", "event_type", "given", "expected"),
    [
        ("closed", "IN_CLOSE_WRITE", None, True),
        ("closed", "IN_MOVED_TO", None, True),
        ("scan", "rescan", stat(), False),
        ("scan", "rescan", None, True),
        ("write", "IN_CREATE", None, True),
        ("write", "IN_CREATE", stat(), True),  # a given stat does not tell a hard link apart
        ("write", "IN_MODIFY", None, False),
    ],
)
def test_which_observations_are_lstated_first(
    strength: Strength, event_type: str, given: StatInfo | None, expected: bool
) -> None:
    assert derive.needs_stat(Seen(b"/d/f", strength, event_type, given)) is expected


def test_a_scan_settles_with_the_stat_it_saw() -> None:
    st = stat(size=5)
    assert derive.settle_terms(Seen(b"/d/f", "scan", "rescan", st), None) == ("scan", st.settle_sig)


def test_a_write_is_settled_without_a_signature() -> None:
    assert derive.settle_terms(Seen(b"/d/f", "write", "IN_MODIFY"), None) == ("write", None)


def test_a_closed_file_already_gone_is_not_settled() -> None:
    assert derive.settle_terms(Seen(b"/d/f", "closed", "IN_CLOSE_WRITE"), None) is None
    assert derive.settle_terms(Seen(b"/d/f", "write", "IN_CREATE"), None) is None


def test_a_file_moved_into_a_root_settles_as_closed() -> None:
    st = stat()
    terms = derive.settle_terms(Seen(b"/d/in.mkv", "closed", "IN_MOVED_TO"), st)
    assert terms == ("closed", st.settle_sig)


def test_a_hard_link_to_a_finished_file_settles_as_closed() -> None:
    link = replace(stat(size=100), nlink=2)
    assert derive.settle_terms(Seen(b"/d/f", "write", "IN_CREATE"), link) == (
        "closed",
        link.settle_sig,
    )


@pytest.mark.parametrize("fresh", [stat(size=100), replace(stat(size=0), nlink=2)])
def test_a_new_file_or_an_empty_link_is_still_being_written(fresh: StatInfo) -> None:
    assert derive.settle_terms(Seen(b"/d/f", "write", "IN_CREATE"), fresh) == (
        "write",
        fresh.settle_sig,
    )


# --- Gone --------------------------------------------------------------------------------------


def test_deleted_files_are_published_from_the_cache_in_order() -> None:
    known = {p: cached(p) for p in (b"/d/a", b"/d/b")}
    gone = [Gone(b"/d/b", False, "IN_DELETE"), Gone(b"/d/a", False, "IN_MOVED_FROM")]
    events = derive.deleted_files(gone, known, ingestor_id=ID, now=NOW)
    assert kinds(events) == [("deleted", "/d/b"), ("deleted", "/d/a")]
    assert [e.event_type for e in events] == ["IN_DELETE", "IN_MOVED_FROM"]
    assert all(e.sha256_hash == SHA and e.xxh128_hash == XXH for e in events)
    assert events[0].ingestor_id == ID and events[0].timestamp == NOW


def test_an_unknown_file_gone_publishes_nothing() -> None:
    gone = [Gone(b"/d/never-complete", False, "IN_DELETE")]
    assert derive.deleted_files(gone, {}, ingestor_id=ID, now=NOW) == []


def test_a_file_gone_twice_in_one_batch_is_deleted_once() -> None:
    known = {b"/d/a": cached(b"/d/a")}
    gone = [Gone(b"/d/a", False, "IN_DELETE"), Gone(b"/d/a", False, "rescan")]
    events = derive.deleted_files(gone, known, ingestor_id=ID, now=NOW)
    assert kinds(events) == [("deleted", "/d/a")]
    assert known  # the caller's mapping is left alone


def test_a_folder_moved_out_of_the_roots_deletes_every_file_under_it() -> None:
    rows = [cached(b"/d/show/s01e01.mkv"), cached(b"/d/show/extras/x.mkv")]
    events = derive.deleted_tree(rows, event_type="IN_MOVED_FROM", ingestor_id=ID, now=NOW)
    assert kinds(events) == [("deleted", "/d/show/s01e01.mkv"), ("deleted", "/d/show/extras/x.mkv")]
    assert {e.event_type for e in events} == {"IN_MOVED_FROM"}


def test_a_deleted_name_that_is_not_utf8_carries_its_bytes() -> None:
    raw = b"/d/caf\xe9.mkv"
    (event,) = derive.deleted_tree([cached(raw)], event_type="IN_DELETE", ingestor_id=ID, now=NOW)
    assert event.file_path == "/d/caf\\xe9.mkv"
    assert base64.b64decode(event.file_path_b64 or "") == raw


# --- Moved -------------------------------------------------------------------------------------


def test_a_known_file_renamed_unchanged_is_one_moved_event_from_the_cache() -> None:
    st = stat()
    outcome = moved(cached(b"/d/old.mkv", st), b"/d/new.mkv", st)
    (event,) = outcome.events
    assert (event.kind, event.file_path, event.from_path) == ("moved", "/d/new.mkv", "/d/old.mkv")
    assert (event.sha256_hash, event.xxh128_hash) == (SHA, XXH)
    assert event.event_type == "IN_MOVED_TO"
    assert outcome.settle is None


def test_a_known_file_moved_on_again_keeps_its_identity_with_a_move_from_the_cache() -> None:
    # Renamed twice before the first rename was handled: the second rename (or a delete) follows
    # from its own observation; publishing `deleted` here would lose the asset.
    row = cached(b"/d/old.mkv")
    outcome = moved(row, b"/d/new.mkv", None)
    (event,) = outcome.events
    assert (event.kind, event.from_path, event.file_path) == ("moved", "/d/old.mkv", "/d/new.mkv")
    assert (event.sha256_hash, event.size, event.mtime_ns) == (SHA, row.size, row.mtime_ns)
    assert event.event_type == "IN_MOVED_TO"
    assert outcome.settle is None


def test_a_scan_move_whose_file_moved_on_is_a_move_with_the_stat_the_scan_saw() -> None:
    seen = StatInfo(10, 1_700_000_000_000_000_000, 5, 6, 7, 9)
    outcome = derive.moved_file(
        cached(b"/d/A/x.mkv"),
        b"/d/B/x.mkv",
        None,
        None,
        event_type="rescan",
        neighbors=[],
        ingestor_id=ID,
        now=NOW,
        seen=seen,
    )
    (event,) = outcome.events
    assert (event.kind, event.from_path, event.event_type) == ("moved", "/d/A/x.mkv", "rescan")
    assert event.accessed_time is not None and event.accessed_time.microsecond == 0


@pytest.mark.parametrize(
    "row",
    [
        cached(b"/d/old.mkv", sha256=None),  # never fully hashed: nothing to carry along
        cached(b"/d/caf\xe9.mkv"),  # an old name a consumer could not match exactly
    ],
)
def test_a_file_moved_on_again_without_an_identity_to_keep_is_deleted(row: FileState) -> None:
    outcome = moved(row, b"/d/new.mkv", None)
    assert [e.kind for e in outcome.events] == ["deleted"]
    assert outcome.events[0].event_type == "IN_MOVED_FROM"


def test_a_scan_move_published_as_deleted_names_the_scan() -> None:
    outcome = derive.moved_file(
        cached(b"/d/old.mkv", sha256=None),
        b"/d/new.mkv",
        stat(size=99),
        None,
        event_type="rescan",
        neighbors=[],
        ingestor_id=ID,
        now=NOW,
    )
    assert [(e.kind, e.event_type) for e in outcome.events] == [("deleted", "rescan")]


def test_a_known_file_moved_with_other_content_moves_first_then_is_prospected_again() -> None:
    # Written a moment before the rename, the change not published yet: it is still this file.
    # The move (from what was published of it) keeps its asset; the new content follows as a
    # `modified` once the new path has settled and been hashed against the row the move leaves.
    row = cached(b"/d/old.mkv")
    now_st = stat(size=99)
    outcome = moved(row, b"/d/new.mkv", now_st)
    (event,) = outcome.events
    assert (event.kind, event.from_path, event.file_path) == ("moved", "/d/old.mkv", "/d/new.mkv")
    assert (event.sha256_hash, event.size, event.mtime_ns) == (SHA, row.size, row.mtime_ns)
    assert outcome.settle == now_st.settle_sig


@pytest.mark.parametrize(
    ("row", "over"),
    [
        (cached(b"/d/a.mkv"), cached(b"/d/b.mkv")),  # renamed over a known file
        (cached(b"/d/caf\xe9.mkv"), None),  # an old name a consumer could not match exactly
    ],
    ids=["over-a-known-file", "old-name-not-utf8"],
)
def test_a_file_moved_with_other_content_and_no_move_to_publish_is_deleted_and_prospected(
    row: FileState, over: FileState | None
) -> None:
    now_st = stat(size=99)
    outcome = moved(row, b"/d/b.mkv", now_st, over=over)
    assert kinds(outcome.events) == [("deleted", row.path.decode("utf-8", "backslashreplace"))]
    assert outcome.settle == now_st.settle_sig


def test_a_moved_file_without_cached_hashes_is_prospected_again() -> None:
    st = stat()
    outcome = moved(cached(b"/d/old.mkv", st, sha256=None), b"/d/new.mkv", st)
    assert kinds(outcome.events) == [("deleted", "/d/old.mkv")]
    assert outcome.settle == st.settle_sig


def test_a_rename_over_a_known_file_is_deleted_plus_modified() -> None:
    st = stat()
    outcome = moved(cached(b"/d/a.mkv", st), b"/d/b.mkv", st, over=cached(b"/d/b.mkv"))
    assert kinds(outcome.events) == [("deleted", "/d/a.mkv"), ("modified", "/d/b.mkv")]
    assert outcome.events[1].sha256_hash == SHA and outcome.events[1].from_path is None
    assert outcome.settle is None


def test_a_move_from_a_name_that_is_not_utf8_is_deleted_plus_created() -> None:
    st = stat()
    outcome = moved(cached(b"/d/caf\xe9.mkv", st), b"/d/cafe.mkv", st)
    assert kinds(outcome.events) == [("deleted", "/d/caf\\xe9.mkv"), ("created", "/d/cafe.mkv")]
    assert outcome.events[1].from_path is None


def test_a_move_to_a_name_that_is_not_utf8_is_still_a_move() -> None:
    st = stat()
    (event,) = moved(cached(b"/d/cafe.mkv", st), b"/d/caf\xe9.mkv", st).events
    assert event.kind == "moved" and event.from_path == "/d/cafe.mkv"
    assert base64.b64decode(event.file_path_b64 or "") == b"/d/caf\xe9.mkv"


def test_an_unknown_file_renamed_is_a_new_arrival_unless_already_tracked() -> None:
    st = stat()
    assert derive.arrival(was_pending=False, was_flying=False, st=st) == st.settle_sig
    assert derive.arrival(was_pending=True, was_flying=False, st=st) is None
    assert derive.arrival(was_pending=False, was_flying=True, st=st) is None
    assert derive.arrival(was_pending=False, was_flying=False, st=None) is None


def test_a_folder_move_is_one_moved_event_per_cached_file_under_it() -> None:
    rows = [
        cached(b"/d/show/s01e01.mkv", stat(inode=1)),
        cached(b"/d/show/s01e01.srt", stat(inode=2)),
        cached(b"/d/show/extras/making-of.mkv", stat(inode=3)),
    ]
    targets = derive.moved_tree_targets(rows, b"/d/show", b"/d/Show (2024)")
    assert targets == [
        b"/d/Show (2024)/s01e01.mkv",
        b"/d/Show (2024)/s01e01.srt",
        b"/d/Show (2024)/extras/making-of.mkv",
    ]
    events = [
        e
        for row, dst in zip(rows, targets, strict=True)
        for e in moved(row, dst, stat(inode=row.inode or 0)).events
    ]
    assert [(e.kind, e.from_path, e.file_path) for e in events] == [
        ("moved", "/d/show/s01e01.mkv", "/d/Show (2024)/s01e01.mkv"),
        ("moved", "/d/show/s01e01.srt", "/d/Show (2024)/s01e01.srt"),
        ("moved", "/d/show/extras/making-of.mkv", "/d/Show (2024)/extras/making-of.mkv"),
    ]


def test_a_folder_moved_into_a_subfolder_of_itself_keeps_the_tail() -> None:
    rows = [cached(b"/d/a/x.mkv")]
    assert derive.moved_tree_targets(rows, b"/d/a", b"/d/b/a") == [b"/d/b/a/x.mkv"]
    assert derive.moved_tree_targets(rows, b"/d/a/", b"/d/c/") == [b"/d/c/x.mkv"]


# --- prospect outcomes -------------------------------------------------------------------------


def hashed_outcome(path: bytes, st: StatInfo, sha: str = SHA) -> Hashed:
    return Hashed(path, st, Fingerprint(sha, XXH, st.size), [b"/d/neighbour.srt"])


def test_a_hashed_unknown_file_is_created() -> None:
    result = derive.hashed(
        hashed_outcome(b"/d/f.mkv", stat()), None, event_type="settled", ingestor_id=ID, now=NOW
    )
    assert isinstance(result, FileEvent)
    assert (result.kind, result.event_type, result.neighbors) == (
        "created",
        "settled",
        ["/d/neighbour.srt"],
    )


def test_a_hashed_known_file_with_new_content_is_modified() -> None:
    row = cached(b"/d/f.mkv")
    outcome = hashed_outcome(b"/d/f.mkv", stat(size=20), sha="c" * 64)
    result = derive.hashed(outcome, row, event_type="IN_CLOSE_WRITE", ingestor_id=ID, now=NOW)
    assert isinstance(result, FileEvent)
    assert (result.kind, result.sha256_hash, result.size) == ("modified", "c" * 64, 20)


def test_a_touched_file_with_the_same_content_is_only_refreshed() -> None:
    row = cached(b"/d/f.mkv")
    touched = stat(mtime_ns=1_800_000_000_000_000_000, inode=8)
    result = derive.hashed(
        hashed_outcome(b"/d/f.mkv", touched), row, event_type="x", ingestor_id=ID, now=NOW
    )
    assert result == replace(row, inode=8, mtime_ns=touched.mtime_ns)


def test_an_unchanged_file_is_refreshed_only_when_its_inode_changed() -> None:
    row = cached(b"/d/f.mkv", stat(inode=7))
    assert derive.unchanged(row, stat(inode=7)) is None
    assert derive.unchanged(row, stat(inode=70)) == replace(row, inode=70)


# --- republishing ------------------------------------------------------------------------------


def test_republishing_an_unchanged_file_is_created_from_the_cache() -> None:
    st = stat()
    event = derive.republished(
        b"/d/f.mkv", st, cached(b"/d/f.mkv", st), neighbors=[], ingestor_id=ID, now=NOW
    )
    assert event is not None
    assert (event.kind, event.event_type, event.sha256_hash) == ("created", "republish", SHA)


@pytest.mark.parametrize(
    ("st", "row"),
    [
        (None, cached(b"/d/f.mkv")),  # gone
        (stat(size=11), cached(b"/d/f.mkv")),  # changed
        (stat(), None),  # forgotten meanwhile
        (stat(), cached(b"/d/f.mkv", xxh128=None)),  # never fully hashed
    ],
)
def test_republishing_leaves_changed_or_gone_files_to_the_reconciliation(
    st: StatInfo | None, row: FileState | None
) -> None:
    assert derive.republished(b"/d/f.mkv", st, row, neighbors=[], ingestor_id=ID, now=NOW) is None


# --- reconciliation ----------------------------------------------------------------------------


@pytest.mark.parametrize(("reason", "event_type"), [("poll", "poll"), ("startup", "rescan")])
def test_a_reconciliation_observes_moves_then_deletions_then_new_files(
    reason: str, event_type: str
) -> None:
    st = stat()
    result = Diff(
        new=[(b"/d/new", st)],
        changed=[(b"/d/changed", st)],
        vanished=[cached(b"/d/vanished"), cached(b"/d/back")],
        moved=[(cached(b"/d/from"), b"/d/to", st)],
    )
    findings = derive.reconciled(b"/d", result, [cached(b"/d/vanished")], reason)
    assert findings == Reconciled(
        b"/d",
        moved=(Moved(b"/d/from", b"/d/to", False, event_type, st),),
        gone=(Gone(b"/d/vanished", False, event_type),),
        seen=(Seen(b"/d/new", "scan", event_type, st), Seen(b"/d/changed", "scan", event_type, st)),
    )
