"""Cross-request micro-batching: concurrent submissions share model calls; failures reach every caller."""

from __future__ import annotations

import threading
import time
from collections.abc import Sequence

import pytest

from service.batching import MicroBatcher


def test_concurrent_items_are_batched_and_answered_in_order() -> None:
    sizes: list[int] = []

    def double(items: Sequence[int]) -> list[int]:
        sizes.append(len(items))
        time.sleep(0.01)
        return [2 * i for i in items]

    batcher = MicroBatcher(double, max_batch_size=8, max_wait_ms=50)
    futures = [batcher.submit(i) for i in range(40)]
    assert [f.result(timeout=10) for f in futures] == [2 * i for i in range(40)]
    batcher.close()
    assert max(sizes) <= 8 and len(sizes) < 40
    assert (batcher.batches, batcher.items) == (len(sizes), 40)


def test_a_lone_item_waits_at_most_max_wait() -> None:
    batcher = MicroBatcher(lambda items: list(items), max_batch_size=64, max_wait_ms=20)
    start = time.monotonic()
    assert batcher.submit("x").result(timeout=5) == "x"
    assert time.monotonic() - start < 1.0
    batcher.close()


def test_a_failing_batch_fails_each_of_its_callers_and_the_batcher_goes_on() -> None:
    calls = threading.Event()

    def flaky(items: Sequence[int]) -> list[int]:
        if not calls.is_set():
            calls.set()
            raise ValueError("model exploded")
        return list(items)

    batcher = MicroBatcher(flaky, max_batch_size=4, max_wait_ms=1)
    with pytest.raises(ValueError, match="model exploded"):
        batcher.submit(1).result(timeout=5)
    assert batcher.submit(2).result(timeout=5) == 2
    batcher.close()
    with pytest.raises(RuntimeError, match="stopped"):
        batcher.submit(3)
