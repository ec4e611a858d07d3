"""CPU cost of framing x-rays on their contents (`models.encoders.framing`), per scan, by image size.

python benchmarks/bench_xray_framing.py [--n 60] [--sizes 256 512]

Framing runs once per image before its tower (in training's feature pass and in the service),
on one core.
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable

from PIL import Image

from models.encoders.framing import frame_xray
from models.generator.synthetic import generate_shipment


def _ms_per_image(frame: Callable[[Image.Image], Image.Image], images: list[Image.Image]) -> float:
    frame(images[0])  # warm-up
    start = time.perf_counter()
    for img in images:
        frame(img)
    return (time.perf_counter() - start) / len(images) * 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=60, help="generated shipments per size")
    parser.add_argument("--sizes", type=int, nargs="+", default=[256, 512])
    args = parser.parse_args()
    print("| image px | shipments | x-ray ms per scan |")
    print("|---|---|---|")
    for size in args.sizes:
        shipments = [generate_shipment(seed=9, index=i, size=size) for i in range(args.n)]
        xray = _ms_per_image(frame_xray, [s.xray for s in shipments])
        print(f"| {size} | {len(shipments)} | {xray:.1f} |")


if __name__ == "__main__":
    main()
