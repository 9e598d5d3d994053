"""Live observations under a tree being reconciled wait for its findings (`ingestor.holds`)."""

from __future__ import annotations

from ingestor.holds import Holds
from ingestor.observations import Gone, Moved, Rescan, Seen

LIVE_RENAME = Moved(b"/d/B/x.mkv", b"/d/B/y.mkv", False, "IN_MOVED_TO")


def test_nothing_is_held_while_no_reconciliation_runs() -> None:
    holds = Holds()
    assert not holds.hold(LIVE_RENAME)
    assert holds.idle


def test_observations_under_a_reconciled_tree_wait_for_its_end_in_order() -> None:
    holds = Holds()
    holds.begin(b"/d")
    written = Seen(b"/d/B/z.mkv", "closed", "IN_CLOSE_WRITE")
    deleted = Gone(b"/d/B/w.mkv", False, "IN_DELETE")
    assert holds.hold(LIVE_RENAME) and holds.hold(written) and holds.hold(deleted)
    assert holds.end(b"/d") == [LIVE_RENAME, written, deleted]
    assert holds.idle
    assert not holds.hold(LIVE_RENAME)  # the reconciliation is over


def test_other_trees_and_other_observations_pass() -> None:
    holds = Holds()
    holds.begin(b"/d")
    assert not holds.hold(Seen(b"/e/f.mkv", "closed", "IN_CLOSE_WRITE"))
    assert not holds.hold(Seen(b"/dd/f.mkv", "closed", "IN_CLOSE_WRITE"))  # not under /d
    assert not holds.hold(Rescan(b"/e", "overflow"))
    assert holds.hold(Moved(b"/e/f.mkv", b"/d/f.mkv", False, "IN_MOVED_TO"))  # into /d


def test_a_second_run_of_the_same_tree_keeps_holding_until_it_ends_too() -> None:
    holds = Holds()
    holds.begin(b"/d")
    holds.begin(b"/d")
    assert holds.hold(LIVE_RENAME)
    assert holds.end(b"/d") == []
    assert holds.end(b"/d") == [LIVE_RENAME]


def test_stopping_releases_everything() -> None:
    holds = Holds()
    holds.begin(b"/d")
    holds.hold(LIVE_RENAME)
    assert holds.release_all() == [LIVE_RENAME]
    assert holds.idle and not holds.hold(LIVE_RENAME)


def test_a_rescan_of_the_tree_waits_behind_the_events_it_followed() -> None:
    holds = Holds()
    holds.begin(b"/d")
    created = Seen(b"/d/f.mkv", "write", "IN_CREATE")
    overflow = Rescan(b"/d", "overflow")
    everything = Rescan(None, "periodic")
    assert holds.hold(created) and holds.hold(overflow) and holds.hold(everything)
    assert holds.end(b"/d") == [created, overflow, everything]


def test_a_file_a_held_rename_takes_away_is_left_to_that_rename() -> None:
    # A rename during a scan that walked the old folder after it and the new one before it:
    # the scan finds the file nowhere, the held rename says where it went.
    holds = Holds()
    holds.begin(b"/d")
    holds.hold(Moved(b"/d/A/x.mkv", b"/d/C/y.mkv", False, "IN_MOVED_TO"))
    holds.hold(Moved(b"/d/F", b"/d/G", True, "IN_MOVED_TO"))
    vanished = [b"/d/A/x.mkv", b"/d/F/z.mkv", b"/d/A/gone.mkv", b"/d/FF/z.mkv"]
    assert holds.moved_away(b"/d", vanished) == {b"/d/A/x.mkv", b"/d/F/z.mkv"}
    assert holds.moved_away(b"/e", vanished) == set()
