"""The inotify watcher: one reader task that turns kernel events into observations, fast.

Recursive: every directory under a root gets a watch; a directory created or moved in is watched
at once and listed *after* its watch is in place, so nothing created inside it in the meantime is
missed (its files are reported as found). Directory renames inside the roots keep their watches
(paths are rebased); a directory moved out loses them.

The reader never awaits hashing or the database: it only appends observations to an unbounded
queue that the pipeline's coordinator consumes, so a burst of tens of thousands of files drains the
kernel queue (16,384 events by default) as fast as Python can parse it. If the kernel queue
overflows anyway (`IN_Q_OVERFLOW`), the watcher starts over with a fresh inotify instance and asks
for a rescan of every root, which recovers whatever was missed.

`IN_MOVED_FROM` / `IN_MOVED_TO` with the same cookie become one `Moved`; a `IN_MOVED_FROM` left
unpaired for `move_window` seconds (moved out of the roots) becomes `Gone`. When the watch limit is
reached (`ENOSPC`), the host fix is logged and the root falls back to polling.
"""

from __future__ import annotations

import array
import asyncio
import contextlib
import errno
import fcntl
import os
import termios
from collections.abc import Callable
from dataclasses import dataclass

from asyncinotify import Event, Inotify, Mask, Watch

from ingestor import metrics
from ingestor.observations import (
    FallBackToPolling,
    Gone,
    Moved,
    Observation,
    Rescan,
    RootLost,
    Seen,
)
from ingestor.paths import display, is_at_or_under, is_temporary, join, rebase
from shared.runtime.log import get_logger

log = get_logger(__name__)

EVENTS = (
    Mask.CREATE
    | Mask.MODIFY
    | Mask.CLOSE_WRITE
    | Mask.MOVED_FROM
    | Mask.MOVED_TO
    | Mask.DELETE
    | Mask.DELETE_SELF
    | Mask.MOVE_SELF
)
ROOT_MASK = EVENTS | Mask.ONLYDIR | Mask.EXCL_UNLINK
DIR_MASK = ROOT_MASK | Mask.DONT_FOLLOW

_OVERFLOW = int(Mask.Q_OVERFLOW)
_IGNORED = int(Mask.IGNORED)
_ISDIR = int(Mask.ISDIR)
_CREATE = int(Mask.CREATE)
_MODIFY = int(Mask.MODIFY)
_CLOSE_WRITE = int(Mask.CLOSE_WRITE)
_MOVED_FROM = int(Mask.MOVED_FROM)
_MOVED_TO = int(Mask.MOVED_TO)
_DELETE = int(Mask.DELETE)
_SELF_GONE = int(Mask.DELETE_SELF | Mask.MOVE_SELF | Mask.UNMOUNT)

MAX_USER_WATCHES = "/proc/sys/fs/inotify/max_user_watches"
READ_CACHE = 512  # events of maximum size per read(2); most are far smaller


def watch_limit_hint() -> str:
    try:
        with open(MAX_USER_WATCHES) as handle:
            current = handle.read().strip()
    except OSError:
        current = "unknown"
    return (
        f"the inotify watch limit is reached (fs.inotify.max_user_watches={current}); on the "
        "host run `sysctl -w fs.inotify.max_user_watches=524288` and persist it in "
        "/etc/sysctl.d/90-inotify.conf (each watched directory uses one watch)"
    )


class WatchLimitError(OSError):
    pass


@dataclass(slots=True)
class _PendingMove:
    path: bytes
    is_dir: bool
    root: bytes
    handle: asyncio.TimerHandle | None = None


def _new_inotify() -> Inotify:
    return Inotify(cache_size=READ_CACHE)


class InotifyWatcher:
    """Watches roots recursively and reports observations through `emit`."""

    def __init__(
        self,
        emit: Callable[[Observation], None],
        *,
        move_window: float = 0.5,
        inotify_factory: Callable[[], Inotify] = _new_inotify,
    ) -> None:
        self._emit = emit
        self._move_window = move_window
        self._factory = inotify_factory
        self._inotify = inotify_factory()
        self._roots: dict[bytes, frozenset[bytes]] = {}
        self._wd_path: dict[int, bytes] = {}
        self._wd_root: dict[int, bytes] = {}
        self._path_wd: dict[bytes, int] = {}
        self._watches: dict[int, Watch] = {}
        self._moves: dict[int, _PendingMove] = {}
        self._move_by_path: dict[bytes, int] = {}
        self._busy = False

    # --- state -------------------------------------------------------------------------------

    @property
    def watch_count(self) -> int:
        return len(self._wd_path)

    @property
    def roots(self) -> list[bytes]:
        return list(self._roots)

    @property
    def quiet(self) -> bool:
        """Nothing is waiting: no unread event in the kernel queue or the library's buffer, no
        event being handled, no move waiting for its other half."""
        if self._moves or self._busy or getattr(self._inotify, "_events", None):
            return False
        return self._unread_bytes() == 0

    def _unread_bytes(self) -> int:
        try:
            buf = array.array("i", [0])
            fcntl.ioctl(self._inotify.fd, termios.FIONREAD, buf, True)
        except (OSError, ValueError):
            return 0
        return int(buf[0])

    def _gauge(self) -> None:
        metrics.WATCHES.set(len(self._wd_path))

    # --- watches -----------------------------------------------------------------------------

    async def add_root(self, root: bytes, exclude: frozenset[bytes] = frozenset()) -> bool:
        """Watch `root` and everything below it. False when the watch limit is reached (the
        pipeline is told through a `FallBackToPolling` observation); OSError when the root itself
        cannot be watched (missing, not a directory, no permission)."""
        self._roots[root] = exclude
        try:
            await self._watch_tree(root, root, report=None)
        except WatchLimitError:
            self._give_up(root)
            return False
        except OSError:
            self._drop_root(root)
            raise
        self._gauge()
        log.info("watching", root=display(root), watches=self.watch_count)
        return True

    async def ensure_watched(self, root: bytes, directories: list[bytes]) -> int:
        """Add watches a scan found missing (a directory whose creation was missed, a disk
        mounted again below the root...); its files were reported by the scan. The number added."""
        if root not in self._roots:
            return 0
        exclude = self._roots[root]
        added = 0
        try:
            for i, directory in enumerate(directories):
                if directory in self._path_wd or any(is_at_or_under(directory, e) for e in exclude):
                    continue
                if self._add_watch(directory, root) is not None:
                    added += 1
                if i % 256 == 255:
                    await asyncio.sleep(0)
        except WatchLimitError:
            self._give_up(root)
        if added:
            self._gauge()
            log.info("watches added by a rescan", root=display(root), added=added)
        return added

    def remove_root(self, root: bytes) -> None:
        self._drop_root(root)

    def _add_watch(self, path: bytes, root: bytes) -> int | None:
        try:
            watch = self._inotify.add_watch(path, ROOT_MASK if path == root else DIR_MASK)
        except OSError as exc:
            if exc.errno == errno.ENOSPC:
                raise WatchLimitError(errno.ENOSPC, watch_limit_hint()) from None
            if path == root:
                raise
            if exc.errno not in (errno.ENOENT, errno.ENOTDIR):
                log.warning("cannot watch directory", path=display(path), error=exc.strerror)
            return None
        wd = watch.wd
        self._watches[wd] = watch
        old = self._wd_path.get(wd)
        if old is not None and old != path:
            self._path_wd.pop(old, None)
        self._wd_path[wd] = path
        self._wd_root[wd] = root
        self._path_wd[path] = wd
        return wd

    async def _watch_tree(self, top: bytes, root: bytes, report: str | None) -> None:
        """Watch `top` and its subdirectories (watch first, then list). With `report`, every file
        found is emitted as Seen(scan) with that event type."""
        exclude = self._roots.get(root, frozenset())
        stack = [top]
        done = 0
        while stack:
            directory = stack.pop()
            if directory in exclude:
                continue
            if self._add_watch(directory, root) is None:
                continue
            try:
                entries = os.scandir(directory)
            except OSError:
                continue
            with entries:
                for entry in entries:
                    if is_temporary(entry.name):
                        continue
                    path = join(directory, entry.name)
                    try:
                        if entry.is_dir(follow_symlinks=False):
                            stack.append(path)
                        elif report is not None and entry.is_file(follow_symlinks=False):
                            self._emit(Seen(path, "scan", report))
                    except OSError:
                        continue
            done += 1
            if done % 256 == 0:
                await asyncio.sleep(0)

    async def _expand(self, directory: bytes, root: bytes, event_type: str) -> None:
        """A directory appeared under `root`: watch it and report what is already inside."""
        try:
            await self._watch_tree(directory, root, report=event_type)
        except WatchLimitError:
            self._give_up(root)
        self._gauge()

    def _forget_wd(self, wd: int) -> None:
        path = self._wd_path.pop(wd, None)
        self._wd_root.pop(wd, None)
        self._watches.pop(wd, None)
        if path is not None and self._path_wd.get(path) == wd:
            del self._path_wd[path]

    def _unwatch_under(self, directory: bytes) -> None:
        for wd, path in list(self._wd_path.items()):
            if is_at_or_under(path, directory):
                watch = self._watches.get(wd)
                self._forget_wd(wd)
                if watch is not None:
                    with contextlib.suppress(OSError, ValueError):
                        self._inotify.rm_watch(watch)
        self._gauge()

    def _drop_root(self, root: bytes) -> None:
        self._roots.pop(root, None)
        self._unwatch_under(root)

    def _give_up(self, root: bytes) -> None:
        hint = watch_limit_hint()
        log.error(
            "inotify cannot watch this root; polling it instead", root=display(root), fix=hint
        )
        self._drop_root(root)
        self._emit(FallBackToPolling(root, "inotify watch limit"))

    def _rebase_watches(self, src: bytes, dst: bytes, root: bytes) -> None:
        for wd, path in list(self._wd_path.items()):
            if is_at_or_under(path, src):
                new = dst if path == src else rebase(path, src, dst)
                if self._path_wd.get(path) == wd:
                    del self._path_wd[path]
                self._wd_path[wd] = new
                self._wd_root[wd] = root
                self._path_wd[new] = wd

    # --- the reader --------------------------------------------------------------------------

    async def run(self) -> None:
        """Read events until cancelled."""
        while True:
            event = await self._inotify.get()
            self._busy = True
            try:
                await self._handle(event)
            except Exception:
                log.exception("inotify event handling failed", inotify_event=repr(event))
            finally:
                self._busy = False

    def close(self) -> None:
        for move in self._moves.values():
            if move.handle is not None:
                move.handle.cancel()
        self._moves.clear()
        self._move_by_path.clear()
        self._inotify.close()
        self._wd_path.clear()
        self._wd_root.clear()
        self._path_wd.clear()
        self._watches.clear()
        self._gauge()

    async def _restart(self) -> None:
        """After an overflow: a fresh instance and fresh watches (the old map may be stale)."""
        roots = dict(self._roots)
        self.close()
        self._inotify = self._factory()
        for root, exclude in roots.items():
            if await asyncio.to_thread(os.path.isdir, root):
                await self.add_root(root, exclude)
            else:
                self._roots.pop(root, None)
                self._emit(RootLost(root, "missing after overflow"))

    async def _handle(self, event: Event) -> None:
        mask = int(event.mask)
        if mask & _OVERFLOW:
            metrics.OVERFLOWS.inc()
            log.warning("inotify queue overflowed; rescanning every root")
            await self._restart()
            self._emit(Rescan(None, "overflow"))
            return
        watch = event.watch
        if watch is None:
            return
        wd = watch.wd
        directory = self._wd_path.get(wd)
        if directory is None:
            return
        root = self._wd_root[wd]
        if mask & _IGNORED:
            self._forget_wd(wd)
            self._gauge()
            if directory == root and root in self._roots:
                self._lose_root(root, "watch removed")
            return
        if event.name is None:  # about the watched directory itself
            if mask & _SELF_GONE and directory == root and root in self._roots:
                self._lose_root(root, "deleted, moved or unmounted")
            return

        raw_name = os.fsencode(event.name)
        path = join(directory, raw_name)
        is_dir = bool(mask & _ISDIR)
        if mask & _MOVED_FROM:
            self._flush_move_for(path)
            move = _PendingMove(path, is_dir, root)
            cookie = event.cookie
            self._moves[cookie] = move
            self._move_by_path[path] = cookie
            move.handle = asyncio.get_running_loop().call_later(
                self._move_window, self._expire_later, cookie
            )
            return
        if mask & _MOVED_TO:
            await self._moved_to(event.cookie, path, raw_name, is_dir, root)
            return
        self._flush_move_for(path)
        if is_temporary(raw_name):
            return
        if is_dir:
            if mask & _CREATE:
                await self._expand(path, root, "IN_CREATE")
            elif mask & _DELETE:
                self._emit(Gone(path, True, "IN_DELETE"))
            return
        if mask & _CLOSE_WRITE:
            self._emit(Seen(path, "closed", "IN_CLOSE_WRITE"))
        elif mask & _MODIFY:
            self._emit(Seen(path, "write", "IN_MODIFY"))
        elif mask & _CREATE:
            self._emit(Seen(path, "write", "IN_CREATE"))
        elif mask & _DELETE:
            self._emit(Gone(path, False, "IN_DELETE"))

    async def _moved_to(
        self, cookie: int, path: bytes, raw_name: bytes, is_dir: bool, root: bytes
    ) -> None:
        move = self._moves.pop(cookie, None)
        if move is not None:
            if move.handle is not None:
                move.handle.cancel()
            if self._move_by_path.get(move.path) == cookie:
                del self._move_by_path[move.path]
        self._flush_move_for(path)
        src_hidden = move is None or is_temporary(os.path.basename(move.path))
        if is_temporary(raw_name):
            # Renamed to a temporary or hidden name: for us it is gone.
            if move is not None and not src_hidden:
                if move.is_dir:
                    self._unwatch_under(move.path)
                self._emit(Gone(move.path, move.is_dir, "IN_MOVED_FROM"))
            return
        if move is None or src_hidden:
            # Moved in from outside the roots, or a finished download renamed into place.
            if is_dir:
                await self._expand(path, root, "IN_MOVED_TO")
            else:
                self._emit(Seen(path, "closed", "IN_MOVED_TO"))
            return
        if is_dir:
            self._rebase_watches(move.path, path, root)
        self._emit(Moved(move.path, path, is_dir, "IN_MOVED_TO"))

    def _lose_root(self, root: bytes, reason: str) -> None:
        log.warning("data directory lost; waiting for it to come back", root=display(root))
        self._drop_root(root)
        self._emit(RootLost(root, reason))

    def _expire(self, cookie: int) -> None:
        move = self._moves.pop(cookie, None)
        if move is None:
            return
        if move.handle is not None:
            move.handle.cancel()
        if self._move_by_path.get(move.path) == cookie:
            del self._move_by_path[move.path]
        if is_temporary(os.path.basename(move.path)):
            return
        if move.is_dir:
            self._unwatch_under(move.path)
        self._emit(Gone(move.path, move.is_dir, "IN_MOVED_FROM"))

    def _expire_later(self, cookie: int) -> None:
        if self._busy:  # the other half may be queued behind the current event
            move = self._moves.get(cookie)
            if move is not None:
                move.handle = asyncio.get_running_loop().call_later(
                    self._move_window, self._expire_later, cookie
                )
            return
        self._expire(cookie)

    def _flush_move_for(self, path: bytes) -> None:
        cookie = self._move_by_path.get(path)
        if cookie is not None:
            self._expire(cookie)
