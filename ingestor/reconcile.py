"""Reconciliation: walk a tree, compare it with the state database, and say what changed.

Used on start (so files created, changed, moved or deleted while the ingestor was down are
published), every `reconcile_interval`, after an inotify queue overflow, and as the polling scanner
for roots inotify cannot see. `scan_tree` is blocking (run it in a thread); `diff` is pure unless
given `birth` (then run it in a thread too).

Unchanged files (same size and mtime as cached) are neither read nor published. A file that
vanished while another appeared with the same device, inode, size and mtime was *moved*: it is
published as one `moved` event and never rehashed. One that appeared with the same device and
inode but other content was moved too when its inode was born before the old path was recorded
(not a reused inode number): `moved`, then `modified` once hashed.

Deletions are suppressed where the evidence is weak: when the root is missing, when the root or a
mount point inside it is empty while the state database holds files under it (a mount glitch must
not look like a mass delete), and under any directory that could not be listed.
"""

from __future__ import annotations

import os
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field

from ingestor.paths import is_at_or_under, is_temporary, join
from ingestor.records import FileState, StatInfo

Birth = Callable[[bytes], "tuple[int, int] | None"]  # path -> (inode, birth time ns)


@dataclass(slots=True)
class Scan:
    root: bytes
    files: dict[bytes, StatInfo] = field(default_factory=dict)
    root_missing: bool = False
    unreadable: list[bytes] = field(default_factory=list)
    directories: list[bytes] = field(default_factory=list)  # every directory walked


def scan_tree(root: bytes, exclude: Iterable[bytes] = ()) -> Scan:
    """Every regular, non-temporary file under `root` (no symlinks, no hidden or excluded
    directories) with its lstat. Blocking."""
    excluded = frozenset(exclude)
    scan = Scan(root)
    if not os.path.isdir(root):
        scan.root_missing = True
        return scan
    stack = [root]
    while stack:
        directory = stack.pop()
        try:
            entries = os.scandir(directory)
        except OSError:
            if directory == root:
                scan.root_missing = True
                return scan
            scan.unreadable.append(directory)
            continue
        scan.directories.append(directory)
        with entries:
            for entry in entries:
                if is_temporary(entry.name):
                    continue
                path = join(directory, entry.name)
                try:
                    if entry.is_dir(follow_symlinks=False):
                        if path not in excluded:
                            stack.append(path)
                    elif entry.is_file(follow_symlinks=False):
                        scan.files[path] = StatInfo.from_stat(entry.stat(follow_symlinks=False))
                except OSError:  # vanished while we looked: it simply is not there
                    continue
    return scan


@dataclass(slots=True)
class Diff:
    new: list[tuple[bytes, StatInfo]] = field(default_factory=list)
    changed: list[tuple[bytes, StatInfo]] = field(default_factory=list)
    unchanged: int = 0
    vanished: list[FileState] = field(default_factory=list)
    moved: list[tuple[FileState, bytes, StatInfo]] = field(default_factory=list)
    suppressed: list[tuple[bytes, str, int]] = field(default_factory=list)  # dir, why, how many

    @property
    def suppressed_count(self) -> int:
        return sum(n for _, _, n in self.suppressed)


def diff(
    scan: Scan,
    known: Sequence[FileState],
    guards: Iterable[bytes] = (),
    birth: Birth | None = None,
) -> Diff:
    """Compare a scan with what the state database knows about the same tree. With `birth`
    (`ingestor.birth.birth_ns`, which reads the disk), files that changed *and* moved are paired
    too (`_pair_changed`); without it, `diff` is pure."""
    out = Diff()
    if scan.root_missing:
        if known:
            out.suppressed.append((scan.root, "root missing", len(known)))
        return out

    known_by_path = {k.path: k for k in known}
    for path, st in scan.files.items():
        cached = known_by_path.get(path)
        if cached is None:
            out.new.append((path, st))
        elif cached.content_sig != st.content_sig:
            out.changed.append((path, st))
        else:
            out.unchanged += 1

    vanished = [k for k in known if k.path not in scan.files]
    if vanished:
        vanished = _suppress(vanished, scan, {scan.root, *guards}, known, out)

    if vanished and out.new:
        by_identity: dict[tuple[int | None, int | None, int, int], list[int]] = defaultdict(list)
        for i, (_, st) in enumerate(out.new):
            by_identity[(st.device, st.inode, st.size, st.mtime_ns)].append(i)
        paired: set[int] = set()
        still: list[FileState] = []
        for state in vanished:
            hits = by_identity.get(state.identity, [])
            if len(hits) == 1 and state.inode is not None and hits[0] not in paired:
                i = hits[0]
                paired.add(i)
                out.moved.append((state, out.new[i][0], out.new[i][1]))
            else:
                still.append(state)
        vanished = still
        if birth is not None and vanished:
            vanished = _pair_changed(vanished, out, paired, birth)
        out.new = [item for i, item in enumerate(out.new) if i not in paired]
    out.vanished = vanished
    return out


def _pair_changed(
    vanished: list[FileState], out: Diff, paired: set[int], birth: Birth
) -> list[FileState]:
    """Moves whose content changed too (written and renamed while nobody watched): one vanished
    path and one new path with the same device and inode, each the only one with it, where the
    inode was born before the old path was last recorded. A reused inode number is born after
    (see `ingestor.birth`); without a birth time nothing is paired. The move is published from
    the cache and the new content as `modified` once hashed (`derive.moved_file`)."""
    by_inode: dict[tuple[int | None, int | None], list[int]] = defaultdict(list)
    for i, (_, st) in enumerate(out.new):
        if i not in paired:
            by_inode[(st.device, st.inode)].append(i)
    vanished_inodes = Counter((v.device, v.inode) for v in vanished)
    still: list[FileState] = []
    for state in vanished:
        inode = (state.device, state.inode)
        hits = by_inode.get(inode, []) if state.inode is not None else []
        ok = len(hits) == 1 and vanished_inodes[inode] == 1
        if ok and state.recorded_at is not None:
            path, st = out.new[hits[0]]
            born = birth(path)
            if (
                born is not None
                and born[0] == st.inode
                and born[1] < int(state.recorded_at * 1_000_000_000)
            ):
                paired.add(hits[0])
                out.moved.append((state, path, st))
                continue
        still.append(state)
    return still


def _suppress(
    vanished: list[FileState],
    scan: Scan,
    guards: set[bytes],
    known: Sequence[FileState],
    out: Diff,
) -> list[FileState]:
    blocked: list[tuple[bytes, str]] = [(d, "unreadable directory") for d in scan.unreadable]
    for guard in sorted(guards, key=len):
        held = any(is_at_or_under(k.path, guard) for k in known)
        if held and not any(is_at_or_under(p, guard) for p in scan.files):
            why = "root empty" if guard == scan.root else "mount point empty"
            blocked.append((guard, why))
    if not blocked:
        return vanished
    kept: list[FileState] = []
    counts: dict[tuple[bytes, str], int] = defaultdict(int)
    for state in vanished:
        hit = next(((d, w) for d, w in blocked if is_at_or_under(state.path, d)), None)
        if hit is None:
            kept.append(state)
        else:
            counts[hit] += 1
    out.suppressed.extend((d, w, n) for (d, w), n in counts.items())
    return kept
