"""Mount detection from /proc/self/mountinfo and the watch plan it leads to."""

from __future__ import annotations

import pytest

from ingestor.poll import Mount, needs_polling, parse_mountinfo, plan_units, read_mounts

MOUNTINFO = b"""\
22 27 0:21 / /proc rw,relatime - proc proc rw
27 1 254:0 / / rw,relatime shared:1 - ext4 /dev/vda rw
40 27 0:40 / /mnt/nas rw,relatime shared:20 - nfs4 nas:/export rw,vers=4.2
41 27 0:41 / /mnt/user rw,nosuid - fuse.shfs shfs rw,user_id=0
42 27 0:42 / /data rw - ext4 /dev/sdb1 rw
43 42 0:43 / /data/remote\\040share rw master:3 - cifs //srv/share rw
44 42 0:44 / /data/usb rw - fuseblk /dev/sdc1 rw
45 27 0:45 / /srv/media rw - xfs /dev/sdd1 rw
this line is malformed
"""


def mounts() -> list[Mount]:
    return parse_mountinfo(MOUNTINFO)


def test_parse_unescapes_and_skips_malformed_lines() -> None:
    parsed = mounts()
    assert [m.mount_point for m in parsed] == [
        b"/proc",
        b"/",
        b"/mnt/nas",
        b"/mnt/user",
        b"/data",
        b"/data/remote share",
        b"/data/usb",
        b"/srv/media",
    ]
    assert parsed[2].fstype == "nfs4" and parsed[2].source == "nas:/export"
    assert parsed[5].fstype == "cifs"


@pytest.mark.parametrize(
    ("fstype", "polled"),
    [
        ("nfs", True),
        ("nfs4", True),
        ("cifs", True),
        ("smb3", True),
        ("fuse", True),
        ("fuse.mergerfs", True),
        ("fuse.shfs", True),
        ("fuseblk", False),
        ("ext4", False),
        ("btrfs", False),
        ("zfs", False),
    ],
)
def test_which_filesystems_are_polled(fstype: str, polled: bool) -> None:
    assert needs_polling(fstype) is polled


def same(path: bytes) -> bytes:
    return path


def test_auto_polls_network_and_fuse_roots() -> None:
    units = plan_units([b"/mnt/nas/movies", b"/mnt/user/tv", b"/srv/media"], "auto", mounts(), same)
    modes = {u.root: (u.mode, u.reason) for u in units}
    assert modes == {
        b"/mnt/nas/movies": ("poll", "nfs4 mount"),
        b"/mnt/user/tv": ("poll", "fuse.shfs mount"),
        b"/srv/media": ("inotify", "xfs mount"),
    }


def test_auto_polls_a_network_mount_below_an_inotify_root_on_its_own() -> None:
    units = plan_units([b"/data"], "auto", mounts(), same)
    by_root = {u.root: u for u in units}
    assert by_root[b"/data"].mode == "inotify"
    assert by_root[b"/data"].exclude == frozenset({b"/data/remote share"})
    assert by_root[b"/data/remote share"].mode == "poll"
    # Every mount point is a guard against "emptied by an unmount" deletions.
    assert by_root[b"/data"].guards == frozenset({b"/data", b"/data/remote share", b"/data/usb"})


def test_forced_modes_and_nested_roots() -> None:
    assert {u.mode for u in plan_units([b"/mnt/nas"], "inotify", mounts(), same)} == {"inotify"}
    polled = plan_units([b"/srv/media", b"/srv/media/tv"], "poll", mounts(), same)
    assert [(u.root, u.mode) for u in polled] == [(b"/srv/media", "poll")]


def test_a_symlinked_root_is_classified_by_its_target() -> None:
    def resolve(path: bytes) -> bytes:
        return path.replace(b"/media", b"/mnt/nas/media")

    (unit,) = plan_units([b"/media"], "auto", mounts(), resolve)
    assert (unit.root, unit.mode) == (b"/media", "poll")


def test_reading_this_machine_works() -> None:
    assert any(m.mount_point == b"/" for m in read_mounts())
