"""Cross-request micro-batching: items from many requests, one model call per batch.

Every batch runs on one worker thread, so the batch function never runs on the event loop and
never twice at once. The batcher does not own the model: anything else that calls the same model
must share a lock with the batch function (the embedder embeds listing texts on the threads that
compute verdicts, under its lock). Callers get a Future; a batch is closed when it reaches
`max_batch_size` items or when its first item has waited `max_wait_ms`.
"""

from __future__ import annotations

import queue
import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import Future
from typing import Generic, TypeVar

import structlog

In = TypeVar("In")
Out = TypeVar("Out")

log = structlog.get_logger("scanmatch.batching")
_STOP = object()


class MicroBatcher(Generic[In, Out]):
    def __init__(
        self,
        run: Callable[[Sequence[In]], Sequence[Out]],
        *,
        max_batch_size: int,
        max_wait_ms: float,
        name: str = "batcher",
    ) -> None:
        if max_batch_size < 1 or max_wait_ms < 0:
            raise ValueError("max_batch_size must be >= 1 and max_wait_ms >= 0")
        self._run = run
        self.max_batch_size = max_batch_size
        self.max_wait = max_wait_ms / 1000
        self._queue: queue.Queue[object] = queue.Queue()
        self._thread = threading.Thread(target=self._loop, name=name, daemon=True)
        self.batches = 0
        self.items = 0
        self._thread.start()

    def submit(self, item: In) -> Future[Out]:
        if not self._thread.is_alive():
            raise RuntimeError("the batcher is stopped")
        future: Future[Out] = Future()
        self._queue.put((item, future))
        return future

    def close(self, timeout: float = 30) -> None:
        """Finish what was submitted, then stop the worker."""
        self._queue.put(_STOP)
        self._thread.join(timeout)

    def _collect(self) -> tuple[list[tuple[In, Future[Out]]], bool]:
        first = self._queue.get()
        if first is _STOP:
            return [], True
        batch = [first]  # type: ignore[list-item]
        deadline = time.monotonic() + self.max_wait
        while len(batch) < self.max_batch_size:
            remaining = deadline - time.monotonic()
            try:
                item = self._queue.get(timeout=max(remaining, 0)) if remaining > 0 else self._queue.get_nowait()
            except queue.Empty:
                break
            if item is _STOP:
                return batch, True  # type: ignore[return-value]
            batch.append(item)  # type: ignore[arg-type]
        return batch, False  # type: ignore[return-value]

    def _loop(self) -> None:
        stopping = False
        while not stopping:
            batch, stopping = self._collect()
            if not batch:
                continue
            items = [item for item, _ in batch]
            try:
                results = self._run(items)
                if len(results) != len(items):
                    raise RuntimeError(f"batch function returned {len(results)} results for {len(items)} items")
            except BaseException as error:  # every waiting caller learns of the failure
                log.exception("batch failed", size=len(items))
                for _, future in batch:
                    future.set_exception(error)
                continue
            self.batches += 1
            self.items += len(items)
            for (_, future), result in zip(batch, results, strict=True):
                future.set_result(result)
