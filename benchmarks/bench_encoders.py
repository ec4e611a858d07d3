"""CPU throughput of every registered encoder: images per second at batch 1 and batch 32.

python benchmarks/bench_encoders.py [--threads 1] [--images 64] [--encoders NAME ...] [--contiguous]
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import torch
from PIL import Image

from models.encoders.encoder import Encoder
from models.encoders.registry import list_encoders, load_encoder


def _images(n: int, size: int = 256) -> list[Image.Image]:
    rng = np.random.default_rng(0)
    return [Image.fromarray(rng.integers(0, 256, (size, size, 3), dtype=np.uint8)) for _ in range(n)]


def images_per_second(encoder: Encoder, modality: str, images: list[Image.Image], batch_size: int) -> float:
    encoder.embed_images(modality, images[:batch_size], batch_size=batch_size)  # warm-up
    start = time.perf_counter()
    encoder.embed_images(modality, images, batch_size=batch_size)
    return len(images) / (time.perf_counter() - start)


def texts_per_second(encoder: Encoder, n: int, batch_size: int) -> float:
    texts = [f"wireless earbuds with charging case, model {i}, black, bluetooth 5.3" for i in range(n)]
    encoder.embed_texts(texts[:batch_size], batch_size=batch_size)
    start = time.perf_counter()
    encoder.embed_texts(texts, batch_size=batch_size)
    return n / (time.perf_counter() - start)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=1, help="torch CPU threads")
    parser.add_argument("--images", type=int, default=64, help="images per measurement (batch 32 runs)")
    parser.add_argument("--encoders", nargs="*", default=None)
    parser.add_argument(
        "--contiguous", action="store_true", help="scanmatch towers in the contiguous layout instead of channels last"
    )
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    print(f"CPU, torch {torch.__version__}, {args.threads} thread(s), 256x256 inputs (preprocessing included)\n")
    print(f"| {'encoder':<24} | {'modality':<8} | {'px':>4} | {'batch 1 /s':>10} | {'batch 32 /s':>11} |")
    print(f"|{'-' * 26}|{'-' * 10}|{'-' * 6}|{'-' * 12}|{'-' * 13}|")
    for name in args.encoders or list_encoders():
        enc = load_encoder(name, device="cpu")
        if args.contiguous and hasattr(enc.module, "use_memory_format"):
            enc.module.use_memory_format(torch.contiguous_format)
        images = _images(args.images)
        for modality in ("photo", "xray"):
            b1 = images_per_second(enc, modality, images[:16], 1)
            b32 = images_per_second(enc, modality, images, 32)
            px = enc.preprocess.for_modality(modality).image_size
            print(f"| {name:<24} | {modality:<8} | {px:>4} | {b1:>10.1f} | {b32:>11.1f} |", flush=True)
        if enc.has_text:
            t1, t32 = texts_per_second(enc, 16, 1), texts_per_second(enc, args.images, 32)
            print(f"| {name:<24} | {'text':<8} | {'-':>4} | {t1:>10.1f} | {t32:>11.1f} |", flush=True)


if __name__ == "__main__":
    main()
