"""CPU cost of framing an x-ray on its contents (`models.xray_align`), per scan, by scan size.

python benchmarks/bench_xray_framing.py [--n 60] [--sizes 256 512]

Framing runs once per scan before the x-ray tower (in training's feature pass and in the
service), on one core.
"""

from __future__ import annotations

import argparse
import time

from models.data.synthetic import generate_shipment
from models.xray_align import align_xray


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=60, help="generated scans per size")
    parser.add_argument("--sizes", type=int, nargs="+", default=[256, 512])
    args = parser.parse_args()
    print("| scan px | scans | ms per scan |")
    print("|---|---|---|")
    for size in args.sizes:
        scans = [generate_shipment(seed=9, index=i, size=size).xray for i in range(args.n)]
        align_xray(scans[0])  # warm-up
        start = time.perf_counter()
        for scan in scans:
            align_xray(scan)
        ms = (time.perf_counter() - start) / len(scans) * 1000
        print(f"| {size} | {len(scans)} | {ms:.1f} |")


if __name__ == "__main__":
    main()
