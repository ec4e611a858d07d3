"""Pairs per second of the synthetic generator on one CPU core.

    .venv/bin/python benchmarks/bench_synthetic.py [--n 200] [--sizes 128,256,512]

"generate" is photo + x-ray + text in memory; "+ encode" adds the JPEG/PNG encoding the CLI does.
Target: >= 20 pairs/s at 256 px.
"""

from __future__ import annotations

import os

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "NUMEXPR_NUM_THREADS"):
    os.environ[_var] = "1"  # before numpy loads: one core means one core

import argparse  # noqa: E402
import io  # noqa: E402
import time  # noqa: E402

import cv2  # noqa: E402

from models.generator.synthetic import generate_shipment  # noqa: E402


def _rate(n: int, size: int, encode: bool) -> float:
    generate_shipment(seed=99, index=0, size=size)  # warm caches and lazy imports
    t0 = time.perf_counter()
    for i in range(n):
        s = generate_shipment(seed=1, index=i, size=size)
        if encode:
            s.photo.save(io.BytesIO(), format="JPEG", quality=90)
            s.xray.save(io.BytesIO(), format="PNG", compress_level=3)
    return n / (time.perf_counter() - t0)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, default=200)
    ap.add_argument("--sizes", default="128,256,512")
    args = ap.parse_args()
    cv2.setNumThreads(1)
    try:
        import torch

        torch.set_num_threads(1)
    except ImportError:  # the generator itself never needs torch
        pass
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {sorted(os.sched_getaffinity(0))[0]})
    print(f"{'size':>6} {'mode':>12} {'pairs/s':>9} {'ms/pair':>8}")
    for size in (int(s) for s in args.sizes.split(",")):
        for encode in (False, True):
            r = _rate(args.n, size, encode)
            print(f"{size:>6} {'+ encode' if encode else 'generate':>12} {r:>9.1f} {1000 / r:>8.1f}")


if __name__ == "__main__":
    main()
