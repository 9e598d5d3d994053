"""Where inotify is blind, poll: mount detection and the plan of what is watched how.

inotify reports only changes made through the local kernel's VFS. On NFS, SMB/CIFS and FUSE mounts
(mergerfs, Unraid's shfs, sshfs, rclone) writes made by another host, or underneath the union,
produce no event at all, so in `watch_mode=auto` such roots are *polled*: rescanned every
`poll_interval` seconds and compared with the state database. A network or FUSE mount *below* an
inotify root is polled on its own as well, and the inotify watcher does not descend into it.

Mounts are read from `/proc/self/mountinfo` (see proc(5)); `fuseblk` (ntfs-3g, exfat-fuse on a
local disk) is not polled: every write to it goes through the local mount, which inotify sees.
"""

from __future__ import annotations

import asyncio
import os
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Literal

from ingestor.paths import display, is_under
from shared.runtime.log import get_logger

log = get_logger(__name__)

MOUNTINFO = "/proc/self/mountinfo"
POLLED_FSTYPES = frozenset(
    {
        "nfs",
        "nfs4",
        "cifs",
        "smb3",
        "smbfs",
        "9p",
        "afs",
        "ceph",
        "glusterfs",
        "lustre",
        "fuse",
        "davfs",
    }
)

UnitMode = Literal["inotify", "poll"]
WatchModeName = Literal["auto", "inotify", "poll"]

_OCTAL = re.compile(rb"\\([0-7]{3})")


@dataclass(frozen=True, slots=True)
class Mount:
    mount_point: bytes
    fstype: str
    source: str


def _unescape(field_: bytes) -> bytes:
    """mountinfo escapes space, tab, newline and backslash as `\\ooo` octal."""
    return _OCTAL.sub(lambda m: bytes([int(m.group(1), 8)]), field_)


def parse_mountinfo(data: bytes) -> list[Mount]:
    """Parse `/proc/self/mountinfo`; malformed lines are skipped."""
    mounts: list[Mount] = []
    for line in data.splitlines():
        fields = line.split(b" ")
        try:
            sep = fields.index(b"-", 6)
            mount_point = _unescape(fields[4])
            fstype = fields[sep + 1].decode("utf-8", "replace")
            source = _unescape(fields[sep + 2]).decode("utf-8", "replace")
        except (ValueError, IndexError):
            continue
        mounts.append(Mount(mount_point, fstype, source))
    return mounts


def read_mounts(path: str = MOUNTINFO) -> list[Mount]:
    try:
        with open(path, "rb") as handle:
            return parse_mountinfo(handle.read())
    except OSError:
        return []


def needs_polling(fstype: str) -> bool:
    return fstype in POLLED_FSTYPES or fstype.startswith("fuse.")


def mount_of(real_path: bytes, mounts: Sequence[Mount]) -> Mount | None:
    """The mount `real_path` (a resolved path) lives on: the longest, last-mounted match."""
    best: Mount | None = None
    for mount in mounts:
        mp = mount.mount_point
        if (real_path == mp or is_under(real_path, mp)) and (
            best is None or len(mp) >= len(best.mount_point)
        ):
            best = mount
    return best


@dataclass(frozen=True, slots=True)
class ScanUnit:
    """A tree watched one way: `root` (as configured), minus the `exclude`d sub-mounts.

    `guards` are the mount points inside it (and the root itself): a scan that finds one of them
    missing or empty while the state database holds files under it emits no deletions there.
    """

    root: bytes
    mode: UnitMode
    reason: str
    exclude: frozenset[bytes] = field(default_factory=frozenset)
    guards: frozenset[bytes] = field(default_factory=frozenset)

    @property
    def label(self) -> str:
        return display(self.root)


def outermost(roots: Sequence[bytes]) -> list[bytes]:
    """The roots without those inside another root (the outer one covers them), in order."""
    kept: list[bytes] = []
    for root in sorted(set(roots), key=len):
        if any(root == k or is_under(root, k) for k in kept):
            log.warning("data directory inside another one ignored", root=display(root))
            continue
        kept.append(root)
    return [r for r in dict.fromkeys(roots) if r in kept]


def plan_units(
    roots: Sequence[bytes],
    watch_mode: WatchModeName,
    mounts: Sequence[Mount],
    realpath: Callable[[bytes], bytes] = os.path.realpath,
) -> list[ScanUnit]:
    """Decide how each root (and each network mount below it) is watched.

    A root nested in another root is dropped (the outer one covers it).
    """
    units: list[ScanUnit] = []
    for root in outermost(roots):
        real = realpath(root)
        inner = [m for m in mounts if is_under(m.mount_point, real)]

        # Mount points as seen under the configured root (which may be a symlink).
        def visible(mp: bytes, root: bytes = root, real: bytes = real) -> bytes:
            return root + mp[len(real) :] if real != b"/" else root + mp

        guards = frozenset({root, *(visible(m.mount_point) for m in inner)})
        if watch_mode == "poll":
            units.append(ScanUnit(root, "poll", "watch_mode=poll", guards=guards))
            continue
        if watch_mode == "inotify":
            units.append(ScanUnit(root, "inotify", "watch_mode=inotify", guards=guards))
            continue
        own = mount_of(real, mounts)
        if own is not None and needs_polling(own.fstype):
            units.append(ScanUnit(root, "poll", f"{own.fstype} mount", guards=guards))
            continue
        polled = sorted({visible(m.mount_point) for m in inner if needs_polling(m.fstype)}, key=len)
        # Keep only the outermost polled mounts; the inner ones are inside them.
        outer: list[bytes] = []
        for mp in polled:
            if not any(is_under(mp, o) for o in outer):
                outer.append(mp)
        fstype = own.fstype if own else "unknown"
        units.append(
            ScanUnit(root, "inotify", f"{fstype} mount", exclude=frozenset(outer), guards=guards)
        )
        for mp in outer:
            sub_type = next((m.fstype for m in inner if visible(m.mount_point) == mp), "network")
            sub_guards = frozenset(g for g in guards if g == mp or is_under(g, mp))
            units.append(ScanUnit(mp, "poll", f"{sub_type} mount", guards=sub_guards))
    return units


class Poller:
    """Calls `trigger()` every `interval` seconds until cancelled (one per polled unit)."""

    def __init__(self, unit: ScanUnit, interval: float, trigger: Callable[[], None]) -> None:
        self.unit = unit
        self.interval = interval
        self._trigger = trigger

    async def run(self) -> None:
        while True:
            await asyncio.sleep(self.interval)
            self._trigger()
