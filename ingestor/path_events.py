"""Gone and Moved observations applied: the settler and in-flight prospects are told, the cached
state is read, `ingestor.derive` says what to publish, and it is emitted under the emit lock.

The cache is read under the lock so an emission racing this one (a prospect batch) is already in
it: a file hashed and then deleted is published created, then deleted, never the other way round.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import datetime

from ingestor import derive
from ingestor.arrivals import Arrivals
from ingestor.emit import Emitter
from ingestor.flights import Flights
from ingestor.neighbors import NeighborFinder
from ingestor.observations import Gone, Moved
from ingestor.paths import rebase
from ingestor.records import FileState, StatInfo, lstat_many
from ingestor.schedule import ProspectScheduler
from ingestor.settler import Settler
from ingestor.store import FileStateStore
from shared.schemas.file_event import FileEvent

_EMIT_CHUNK = 500  # a folder of 100,000 files moves in batches the sink can take at once


class PathEvents:
    def __init__(
        self,
        *,
        state: FileStateStore,
        settler: Settler,
        flights: Flights,
        scheduler: ProspectScheduler,
        emitter: Emitter,
        neighbors: NeighborFinder,
        ingestor_id: str,
        clock: Callable[[], float],
        now: Callable[[], datetime],
        move_window: float = 0.5,
    ) -> None:
        self.state = state
        self.settler = settler
        self.flights = flights
        self.scheduler = scheduler
        self.emitter = emitter
        self.neighbors = neighbors
        self._ingestor_id = ingestor_id
        self._clock = clock
        self._now = now
        self.arrivals = Arrivals()
        self._move_window = move_window  # how long the watcher waits for a rename's halves

    def arrived(self, path: bytes, st: StatInfo) -> None:
        """A file a new directory's listing found, maybe the other half of a rename inotify
        could not pair: kept, and not published before that rename's `IN_MOVED_FROM` has had
        time to come (after `move_window`), so it can still be published as the move it was."""
        now = self._clock()
        self.arrivals.note(path, st, now)
        self.settler.tracker.hold(path, now + 2 * self._move_window + 0.25)

    async def _unpaired_moves(self, rows: list[FileState]) -> list[Moved]:
        """The files among `rows` (gone by an `IN_MOVED_FROM` inotify could not pair) that a new
        directory's listing found again: each one the move it was (`ingestor.arrivals`)."""
        if not len(self.arrivals):
            return []
        now = self._clock()
        moves: list[Moved] = []
        for row in rows:
            found = self.arrivals.claim(row, now)
            if found is not None:
                moves.append(Moved(row.path, found[0], False, "IN_MOVED_TO", found[1]))
        if not moves:
            return []
        # Only a destination that still holds that very file (the listing may be seconds old:
        # renamed or moved out since) and that nobody has published yet (one already known is
        # a file of its own).
        now_stats = await asyncio.to_thread(lstat_many, [m.dst for m in moves])
        moves = [
            m
            for m, st in zip(moves, now_stats, strict=True)
            if st is not None
            and m.stat is not None
            and (st.device, st.inode, st.content_sig)
            == (m.stat.device, m.stat.inode, m.stat.content_sig)
        ]
        known = await self.state.get_many([m.dst for m in moves])
        return [m for m in moves if m.dst not in known]

    async def delete_files(self, gone: list[Gone]) -> None:
        unpaired = [g.path for g in gone if g.event_type == "IN_MOVED_FROM"]
        if unpaired and len(self.arrivals):
            rows = await self.state.get_many(unpaired)
            if moves := await self._unpaired_moves(list(rows.values())):
                await self.move_files(moves)
                paired = {m.src for m in moves}
                gone = [g for g in gone if g.path not in paired]
                if not gone:
                    return
        for g in gone:
            self.settler.tracker.forget(g.path)
            self.flights.cancel(g.path)
            self.scheduler.forget_failure(g.path)
        async with self.emitter.lock:
            known = await self.state.get_many([g.path for g in gone])
            events = derive.deleted_files(
                gone, known, ingestor_id=self._ingestor_id, now=self._now()
            )
            await self.emitter.emit_locked(events)

    async def delete_dir(self, obs: Gone) -> None:
        self.settler.tracker.forget_under(obs.path)
        self.flights.cancel(obs.path, tree=True)
        # A folder renamed into one created a moment before: its files were found again.
        if (
            obs.event_type == "IN_MOVED_FROM"
            and len(self.arrivals)
            and (moves := await self._unpaired_moves(await self.state.under(obs.path)))
        ):
            await self.move_files(moves)
        async with self.emitter.lock:
            rows = await self.state.under(obs.path)
            events = derive.deleted_tree(
                rows, event_type=obs.event_type, ingestor_id=self._ingestor_id, now=self._now()
            )
            await self.emitter.emit_locked(events)

    async def move_file(self, obs: Moved) -> None:
        await self.move_files([obs])

    async def move_files(self, moves: list[Moved]) -> None:
        """File moves applied as one step: one read of the cache, one emission (in chunks the
        sink can take) — a reconciliation's folder move is one batch, as a live one is."""
        now = self._clock()
        tracked: list[tuple[bool, bool]] = []  # was it settling, was it being prospected
        for obs in moves:
            self.scheduler.forget_failure(obs.src)
            was_pending = self.settler.tracker.rename(obs.src, obs.dst, now)
            tracked.append((was_pending, bool(self.flights.cancel(obs.src))))
        async with self.emitter.lock:
            known = await self.state.get_many([p for m in moves for p in (m.src, m.dst)])
            targets = [m.dst for m in moves]

            def inspect() -> tuple[list[StatInfo | None], dict[bytes, list[bytes]]]:
                stats = lstat_many(targets)
                present = [dst for dst, st in zip(targets, stats, strict=True) if st is not None]
                return stats, self.neighbors.find(present) if present else {}

            stats, neighbors = await asyncio.to_thread(inspect)
            events: list[FileEvent] = []
            for obs, st, (was_pending, was_flying) in zip(moves, stats, tracked, strict=True):
                if was_flying:
                    self.settler.resettle(obs.dst, obs.event_type)
                cached = known.get(obs.src)
                if cached is None:
                    sig = derive.arrival(was_pending=was_pending, was_flying=was_flying, st=st)
                    if sig is not None:
                        # Unknown before the move (never complete, or never seen): a new file.
                        self.settler.settle(obs.dst, now, "closed", obs.event_type, sig)
                    continue
                events.extend(
                    self._moved(
                        cached, obs.dst, st, known.get(obs.dst), obs, neighbors.get(obs.dst, [])
                    )
                )
            for i in range(0, len(events), _EMIT_CHUNK):
                await self.emitter.emit_locked(events[i : i + _EMIT_CHUNK])

    async def move_dir(self, obs: Moved) -> None:
        now = self._clock()
        self.settler.tracker.rename_under(obs.src, obs.dst, now)
        for p in self.flights.cancel(obs.src, tree=True):
            self.settler.resettle(rebase(p, obs.src, obs.dst), obs.event_type)
        async with self.emitter.lock:
            rows = await self.state.under(obs.src)
            if not rows:
                return
            targets = derive.moved_tree_targets(rows, obs.src, obs.dst)

            def inspect() -> tuple[list[StatInfo | None], dict[bytes, list[bytes]]]:
                return lstat_many(targets), self.neighbors.find(targets)

            stats, neighbors = await asyncio.to_thread(inspect)
            known_targets = await self.state.get_many(targets)
            events: list[FileEvent] = []
            for row, dst, st in zip(rows, targets, stats, strict=True):
                events.extend(
                    self._moved(row, dst, st, known_targets.get(dst), obs, neighbors[dst])
                )
            for i in range(0, len(events), _EMIT_CHUNK):
                await self.emitter.emit_locked(events[i : i + _EMIT_CHUNK])

    def _moved(
        self,
        cached: FileState,
        dst: bytes,
        st: StatInfo | None,
        dst_cached: FileState | None,
        obs: Moved,
        neighbors: list[bytes],
    ) -> list[FileEvent]:
        outcome = derive.moved_file(
            cached,
            dst,
            st,
            dst_cached,
            event_type=obs.event_type,
            neighbors=neighbors,
            ingestor_id=self._ingestor_id,
            now=self._now(),
            seen=obs.stat,
        )
        if outcome.settle is not None:
            self.settler.settle(dst, self._clock(), "closed", obs.event_type, outcome.settle)
        return outcome.events
