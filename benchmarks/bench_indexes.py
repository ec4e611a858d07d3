"""Searches while the index saves and grows: does a search ever wait on the disk or on an add?

python -m benchmarks.bench_indexes [--sizes 100000] [--dim 512] [--seconds 20] [--exact-max 50000]

For each size: fills a VectorIndex (service.matching.indexes; exact up to --exact-max vectors, IVF-PQ
past it) with random unit vectors, then times single-query top-10 searches for --seconds three ways:
alone; while another thread saves the index to disk over and over; and while another thread adds
batches of 16 vectors. Prints p50 / p99 / max search latency for each, the time one save takes, and
the time one 16-vector add takes at that size.
"""

from __future__ import annotations

import argparse
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

from service.matching.indexes import VectorIndex


def unit(rng: np.random.Generator, n: int, dim: int) -> np.ndarray:
    v = rng.standard_normal((n, dim)).astype(np.float32)
    return v / np.linalg.norm(v, axis=1, keepdims=True)


def searches(index: VectorIndex, queries: np.ndarray, seconds: float) -> list[float]:
    out: list[float] = []
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        began = time.perf_counter()
        index.search(queries[len(out) % len(queries)], 10)
        out.append((time.perf_counter() - began) * 1000)
    return out


def while_busy(
    index: VectorIndex, queries: np.ndarray, seconds: float, work: Callable[[], None]
) -> tuple[list[float], list[float]]:
    """Search latencies (ms) while another thread runs `work` over and over, and each run's time (s)."""
    stop, runs = threading.Event(), []

    def loop() -> None:
        while not stop.is_set():
            began = time.perf_counter()
            work()
            runs.append(time.perf_counter() - began)
            time.sleep(0.005)

    thread = threading.Thread(target=loop)
    thread.start()
    try:
        return searches(index, queries, seconds), runs
    finally:
        stop.set()
        thread.join()


def row(label: str, ms: list[float], extra: str = "") -> None:
    a = np.array(ms)
    print(f"{label:<28} {len(a):>8} {np.percentile(a, 50):>8.2f} {np.percentile(a, 99):>8.2f} {a.max():>9.1f}  {extra}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", type=int, nargs="+", default=[100_000])
    parser.add_argument("--dim", type=int, default=512)
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--exact-max", type=int, default=50_000)
    args = parser.parse_args()
    rng = np.random.default_rng(0)
    queries = unit(rng, 256, args.dim)
    for size in args.sizes:
        folder = Path(tempfile.mkdtemp(prefix="scanmatch-bench-index-"))
        index = VectorIndex(folder / "bench.faiss", args.dim, exact_max=args.exact_max)
        began = time.perf_counter()
        index.rebuild(np.arange(size, dtype=np.int64), unit(rng, size, args.dim))
        built = time.perf_counter() - began
        kind = "exact" if index.exact else "IVF-PQ"
        print(f"\n{size:,} vectors, dim {args.dim}, {kind} (built and saved in {built:.1f} s)")
        print(f"{'searches':<28} {'n':>8} {'p50 ms':>8} {'p99 ms':>8} {'max ms':>9}")
        row("alone", searches(index, queries, args.seconds))
        ms, saves = while_busy(index, queries, args.seconds, index.save)
        row("while saving", ms, f"{len(saves)} saves, {np.median(saves) * 1000:.0f} ms each")
        batches = iter(range(size, 1 << 62, 16))

        def add() -> None:
            first = next(batches)  # noqa: B023 - called before the loop moves on
            index.add(np.arange(first, first + 16, dtype=np.int64), unit(rng, 16, args.dim))  # noqa: B023

        ms, adds = while_busy(index, queries, args.seconds, add)
        row("while adding (16 a batch)", ms, f"{len(adds)} adds, {np.median(adds) * 1000:.2f} ms each")


if __name__ == "__main__":
    main()
