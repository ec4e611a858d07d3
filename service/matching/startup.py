"""Starting the matcher without holding up the process.

Loading the networks and, on a model's first start, calibrating it take one to two minutes on a CPU.
Run on a thread, they leave the process answering at once: `/healthz` says it is alive (so an
orchestrator's liveness probe does not kill it in a loop), `/readyz` says which step it is on, intake
accepts filings (their verdicts are owed in the database and computed once matching is up), and the
routes that need the matcher answer 503 "starting" with a Retry-After.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

import structlog

from service.matching.matcher import Matcher

log = structlog.get_logger("scanmatch.startup")


class MatcherStartup:
    def __init__(self, begin: Callable[[Callable[[str], None]], Matcher], *, on_ready: Callable[[Matcher], None]):
        """`begin(phase)` builds the matcher, calling `phase` at each step; `on_ready` receives it."""
        self._begin = begin
        self._on_ready = on_ready
        self.phase = "starting"
        self.error: str | None = None
        self.matcher: Matcher | None = None
        self._closed = False
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None
        self._began = time.monotonic()

    @property
    def ready(self) -> bool:
        return self.matcher is not None

    def verdict_lag(self) -> float:
        """Seconds verdicts run behind intake: the refresh queue's lag, or the time spent starting so far."""
        matcher = self.matcher
        return matcher.refresher.lag() if matcher is not None else time.monotonic() - self._began

    def run(self, *, background: bool) -> None:
        """Start the matcher on a thread (background) or on this one, raising what fails."""
        if not background:
            self._start(raise_errors=True)
            return
        self._thread = threading.Thread(target=self._start, name="matcher-startup", daemon=True)
        self._thread.start()

    def wait(self, timeout: float | None = None) -> bool:
        """Wait for the start to end (ready or failed); whether it ended in time."""
        if self._thread is not None:
            self._thread.join(timeout)
            return not self._thread.is_alive()
        return True

    def close(self) -> None:
        """Close the matcher; one still starting is closed as soon as it is built (the process is going)."""
        with self._lock:
            self._closed = True
            matcher = self.matcher
        if matcher is not None:
            matcher.close()
        elif self._thread is not None and self._thread.is_alive():
            log.info("shutting down while matching was starting", phase=self.phase)

    def _set_phase(self, phase: str) -> None:
        self.phase = phase
        log.info("matching starting", phase=phase)

    def _start(self, *, raise_errors: bool = False) -> None:
        try:
            matcher = self._begin(self._set_phase)
        except Exception as error:
            self.phase, self.error = "failed", f"{error.__class__.__name__}: {error}"
            if raise_errors:
                raise
            log.exception("matching failed to start; intake still works. Fix the cause and restart")
            return
        with self._lock:
            closed = self._closed
            if not closed:
                self.matcher = matcher
                self.phase = "ready"
        if closed:
            matcher.close()
            return
        self._on_ready(matcher)
