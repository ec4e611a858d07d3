"""Refreshing shipments' verdicts after filings: on the matcher's own threads, never a request's.

The queue holds shipment ids, not tasks: however many filings a shipment receives before its refresh
runs, it is refreshed once (coalesced), and the queue holds at most `bound` shipments. Nothing is lost
past the bound, because the work is in the database already: a filing deletes the shipment's stored
verdict (service.matching.verdicts.invalidate), so every shipment without one is owed a refresh. When
the queue overflows, or after a restart, the workers sweep the database for those shipments once the
queue has room, oldest first. Closing stops the workers after the refresh each is running: what was
still queued waits in the database for the next start.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

import structlog
from sqlalchemy import select

from service.db.tables import Shipment
from service.db.tables import Verdict as VerdictRow
from service.matching import verdicts
from service.matching.matcher import Matcher

log = structlog.get_logger("scanmatch.refresh")


class RefreshQueue:
    def __init__(
        self,
        run: Callable[[str], None],
        *,
        owed: Callable[[int], list[str]],
        bound: int,
        workers: int = 2,
    ) -> None:
        """`run` refreshes one shipment; `owed(n)` lists up to n shipments the database says need one."""
        self._run = run
        self._owed = owed
        self.bound = bound
        self._pending: dict[str, float] = {}  # shipment id -> when it was first queued (monotonic)
        self._running: dict[str, float] = {}
        self._behind_since: float | None = time.monotonic()  # the database may owe refreshes: sweep at start
        self._skip: set[str] = set()  # shipments whose refresh failed in this process: not swept again
        self._sweeping = False
        self._overflows = 0  # shipments turned away since start: a sweep that began before one must look again
        self._stopping = False
        self._changed = threading.Condition()
        self.done = 0
        self._threads = [threading.Thread(target=self._loop, name=f"verdict-{i}", daemon=True) for i in range(workers)]

    def start(self) -> None:
        """Start the workers (once the matcher can compute verdicts): they sweep the database first."""
        for thread in self._threads:
            thread.start()

    def submit(self, shipment_id: str) -> None:
        """Refresh this shipment soon; a no-op when it is queued already, deferred to the sweep past the bound."""
        with self._changed:
            if shipment_id in self._pending:
                return
            if len(self._pending) >= self.bound:
                self._overflows += 1
                if self._behind_since is None:
                    self._behind_since = time.monotonic()
                    log.warning("verdict refresh queue full: further shipments wait in the database", bound=self.bound)
                return
            self._pending[shipment_id] = time.monotonic()
            self._changed.notify()

    @property
    def depth(self) -> int:
        """Shipments queued or being refreshed."""
        with self._changed:
            return len(self._pending) + len(self._running)

    def lag(self) -> float:
        """Seconds the oldest refresh still owed has waited: how far verdicts run behind intake."""
        with self._changed:
            waiting = [*self._pending.values(), *self._running.values()]
            if self._behind_since is not None:
                waiting.append(self._behind_since)
            return time.monotonic() - min(waiting) if waiting else 0.0

    def idle(self, timeout: float) -> bool:
        """Wait until nothing is queued, running or owed by the database; whether that happened in time."""
        deadline = time.monotonic() + timeout
        with self._changed:
            while self._pending or self._running or self._behind_since is not None:
                remaining = deadline - time.monotonic()
                if remaining <= 0 or not self._changed.wait(remaining):
                    return False
            return True

    def close(self, timeout: float = 10.0) -> None:
        """Stop after the refreshes now running; queued shipments stay owed in the database."""
        with self._changed:
            self._stopping = True
            left = len(self._pending)
            self._pending.clear()
            self._changed.notify_all()
        deadline = time.monotonic() + timeout
        for thread in self._threads:
            if thread.is_alive():
                thread.join(max(deadline - time.monotonic(), 0))
        if left:
            log.info("verdict refreshes left for the next start", shipments=left)

    def _take(self) -> str | tuple[float, int] | None:
        """A shipment to refresh; or (since, overflows) when the database is to be swept; None to stop."""
        with self._changed:
            while not self._stopping:
                for shipment_id in self._pending:
                    if shipment_id not in self._running:
                        self._running[shipment_id] = self._pending.pop(shipment_id)
                        return shipment_id
                idle = not self._pending and not self._running
                if self._behind_since is not None and idle and not self._sweeping:
                    self._sweeping = True
                    return self._behind_since, self._overflows
                self._changed.wait()
            return None

    def _sweep(self, since: float, overflows: int) -> None:
        """Queue up to `bound` shipments the database says are owed a verdict (after an overflow, or at start)."""
        try:
            # One more than there is room for: whether the database owes still more after these.
            owed = [s for s in self._owed(self.bound + len(self._skip) + 1) if s not in self._skip]
        except Exception:
            log.exception("could not list the shipments owed a verdict; retrying in 30 s")
            with self._changed:
                self._sweeping = False
                self._changed.wait(30)
            return
        with self._changed:
            self._sweeping = False
            for shipment_id in owed[: self.bound]:
                self._pending.setdefault(shipment_id, since)
            if len(owed) <= self.bound and overflows == self._overflows:
                self._behind_since = None  # caught up: nothing more is owed than what is queued
            self._changed.notify_all()

    def _loop(self) -> None:
        while (job := self._take()) is not None:
            if isinstance(job, tuple):
                self._sweep(*job)
                continue
            try:
                self._run(job)
            except Exception:
                log.exception("verdict refresh failed", shipment_id=job)
                with self._changed:
                    self._skip.add(job)
            finally:
                with self._changed:
                    self._running.pop(job, None)
                    self.done += 1
                    self._changed.notify_all()


def queue_for(matcher: Matcher) -> RefreshQueue:
    """The matcher's refresh queue: two workers (they mostly wait on the embedding batcher)."""
    return RefreshQueue(
        lambda shipment_id: refresh(matcher, shipment_id),
        owed=lambda limit: owed_verdicts(matcher, limit),
        bound=matcher.settings.refresh_queue_max,
    )


def owed_verdicts(matcher: Matcher, limit: int) -> list[str]:
    """Up to `limit` shipments, oldest first, with no stored verdict: each filing deletes its shipment's."""
    with matcher.sessions() as session:
        return list(
            session.scalars(
                select(Shipment.id)
                .where(Shipment.merged_into_id.is_(None), Shipment.id.not_in(select(VerdictRow.shipment_id)))
                .order_by(Shipment.created_at, Shipment.id)
                .limit(limit)
            )
        )


def schedule(matcher: Matcher, shipment_id: str) -> None:
    """Refresh a shipment's verdict soon (a filing arrived), on the matcher's verdict threads."""
    matcher.refresher.submit(shipment_id)


def refresh(matcher: Matcher, shipment_id: str) -> None:
    """Compute and store a shipment's verdict unless a current one is stored; failures are raised to the queue."""
    # Wait for the embeddings first, holding no database connection while the worker runs.
    with matcher.sessions() as session:
        items = verdicts.image_items(session, shipment_id)
    matcher.embedder.embed_now(items)
    with matcher.sessions() as session:
        verdicts.current(session, matcher, shipment_id)
        session.commit()
