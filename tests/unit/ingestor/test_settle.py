"""The settle rules with a fake clock: when is a file complete?"""

from __future__ import annotations

from ingestor.records import SettleSig
from ingestor.settle import SettleTracker, Verdict

P = b"/data/movie.mkv"


def run_due(
    tracker: SettleTracker, now: float, sigs: dict[bytes, SettleSig | None]
) -> dict[bytes, Verdict]:
    return {p: tracker.check(p, sigs.get(p), now) for p in tracker.due(now)}


def test_a_closed_file_is_ready_after_settle_seconds_when_its_stat_holds() -> None:
    t = SettleTracker(2.0)
    t.observe(P, 0.0, "write", "IN_CREATE", (0, 1, 7))
    t.observe(P, 0.5, "write", "IN_MODIFY")
    t.observe(P, 1.0, "closed", "IN_CLOSE_WRITE", (100, 2, 7))
    assert t.due(2.9) == []
    assert run_due(t, 3.0, {P: (100, 2, 7)}) == {P: Verdict.READY}
    assert len(t) == 0


def test_many_chunks_coalesce_into_one_ready() -> None:
    t = SettleTracker(2.0)
    now = 0.0
    t.observe(P, now, "write", "IN_CREATE", (0, 0, 7))
    for _ in range(100):
        now += 0.5
        t.observe(P, now, "write", "IN_MODIFY")
        assert t.due(now) == []
    t.observe(P, now, "closed", "IN_CLOSE_WRITE", (100, 100, 7))
    assert run_due(t, now + 2.0, {P: (100, 100, 7)}) == {P: Verdict.READY}


def test_a_stat_change_restarts_the_timer() -> None:
    t = SettleTracker(2.0)
    t.observe(P, 0.0, "closed", "IN_CLOSE_WRITE", (10, 1, 7))
    assert run_due(t, 2.0, {P: (20, 2, 7)}) == {P: Verdict.WAIT}
    assert t.next_deadline() == 4.0
    assert run_due(t, 4.0, {P: (20, 2, 7)}) == {P: Verdict.READY}


def test_modify_after_close_takes_candidacy_back_until_the_next_close() -> None:
    t = SettleTracker(2.0, open_grace=60.0)
    t.observe(P, 0.0, "closed", "IN_CLOSE_WRITE", (10, 1, 7))
    t.observe(P, 1.0, "write", "IN_MODIFY")  # reopened for writing
    # Quiet, stat stable, but never closed: it waits for the close (or the grace period).
    assert run_due(t, 3.0, {P: (10, 1, 7)}) == {P: Verdict.WAIT}
    t.observe(P, 5.0, "closed", "IN_CLOSE_WRITE", (30, 5, 7))
    assert run_due(t, 7.0, {P: (30, 5, 7)}) == {P: Verdict.READY}


def test_a_file_never_closed_is_ready_after_the_open_grace() -> None:
    t = SettleTracker(2.0, open_grace=30.0)
    t.observe(P, 0.0, "write", "IN_CREATE", (5, 1, 7))
    assert run_due(t, 2.0, {P: (5, 1, 7)}) == {P: Verdict.WAIT}
    assert t.next_deadline() == 30.0
    assert run_due(t, 30.0, {P: (5, 1, 7)}) == {P: Verdict.READY}


def test_a_vanished_file_is_gone() -> None:
    t = SettleTracker(1.0)
    t.observe(P, 0.0, "closed", "IN_CLOSE_WRITE", (1, 1, 1))
    assert run_due(t, 1.0, {P: None}) == {P: Verdict.GONE}
    assert len(t) == 0


def test_a_scan_does_not_restart_the_timer_when_nothing_changed() -> None:
    t = SettleTracker(2.0)
    t.observe(P, 0.0, "scan", "poll", (1, 1, 1))
    t.observe(P, 1.5, "scan", "poll", (1, 1, 1))  # the next poll, same stat
    assert run_due(t, 2.0, {P: (1, 1, 1)}) == {P: Verdict.READY}


def test_a_scan_restarts_the_timer_when_the_stat_changed() -> None:
    t = SettleTracker(2.0)
    t.observe(P, 0.0, "scan", "poll", (1, 1, 1))
    t.observe(P, 1.5, "scan", "poll", (2, 2, 1))
    assert t.due(2.0) == []
    assert run_due(t, 3.5, {P: (2, 2, 1)}) == {P: Verdict.READY}


def test_an_observation_while_stat_is_in_flight_wins() -> None:
    t = SettleTracker(2.0)
    t.observe(P, 0.0, "closed", "IN_CLOSE_WRITE", (1, 1, 1))
    due = t.due(2.0)
    t.observe(P, 2.1, "write", "IN_MODIFY")  # arrives while we stat
    assert [t.check(p, (1, 1, 1), 2.2) for p in due] == [Verdict.WAIT]


def test_postpone_and_rename() -> None:
    t = SettleTracker(1.0)
    t.observe(P, 0.0, "write", "IN_CREATE", (0, 0, 1))
    assert t.due(1.0) == [P]
    t.postpone(P, 1.0)
    assert t.next_deadline() == 2.0
    assert t.rename(P, b"/data/final.mkv", 1.5)
    assert P not in t and b"/data/final.mkv" in t
    assert run_due(t, 2.5, {b"/data/final.mkv": (0, 0, 1)}) == {b"/data/final.mkv": Verdict.READY}


def test_directory_rename_and_forget() -> None:
    t = SettleTracker(1.0)
    t.observe(b"/d/a/1", 0.0, "closed", "IN_CLOSE_WRITE", (1, 1, 1))
    t.observe(b"/d/a/2", 0.0, "closed", "IN_CLOSE_WRITE", (1, 1, 2))
    t.observe(b"/d/ab", 0.0, "closed", "IN_CLOSE_WRITE", (1, 1, 3))
    assert t.rename_under(b"/d/a", b"/d/z", 0.5) == 2
    assert b"/d/z/1" in t and b"/d/z/2" in t and b"/d/ab" in t
    assert t.forget_under(b"/d/z") == 2
    assert len(t) == 1


def test_a_write_is_remembered_so_the_file_is_read_even_if_its_stat_looks_cached() -> None:
    t = SettleTracker(1.0)
    t.observe(P, 0.0, "closed", "IN_CLOSE_WRITE", (1, 1, 1))
    assert not t.was_written(P)
    t.observe(P, 0.1, "write", "IN_MODIFY")
    t.observe(P, 0.2, "closed", "IN_CLOSE_WRITE", (1, 1, 1))
    assert t.was_written(P)
    t.rename(P, b"/data/b", 0.3)
    assert t.was_written(b"/data/b")


def test_after_an_overflow_every_pending_file_is_a_candidate() -> None:
    t = SettleTracker(1.0, open_grace=60.0)
    t.observe(P, 0.0, "write", "IN_CREATE", (1, 1, 1))  # its close was lost in the overflow
    t.promote_all()
    assert run_due(t, 1.0, {P: (1, 1, 1)}) == {P: Verdict.READY}
