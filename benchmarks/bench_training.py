"""CPU cost of the two things training spends its time on: the frozen-prefix feature pass and the
trained tail's forward + backward, by memory layout, batch size and threads.

python benchmarks/bench_training.py [--threads 1 2] [--seconds 3] [--xray-tail-from 5 4 3]

The feature pass runs once per image (cached); the tail runs for every image of every step.
"""

from __future__ import annotations

import argparse
import json
import time
from collections.abc import Callable

import torch

from models.encoders.architecture import ScanMatchCLIP, build_model
from models.encoders.registry import CONFIGS_DIR, DEFAULT_ENCODER


def _layout(model: ScanMatchCLIP, channels_last: bool) -> ScanMatchCLIP:
    return model.use_memory_format(torch.channels_last if channels_last else torch.contiguous_format)


def _rate(fn: Callable[[], int], seconds: float) -> float:
    fn()  # warm-up
    done, start = 0, time.perf_counter()
    while time.perf_counter() - start < seconds:
        done += fn()
    return done / (time.perf_counter() - start)


def prefix_images_per_second(model: ScanMatchCLIP, batch: int, seconds: float) -> float:
    x = torch.randn(batch, 3, 160, 160)

    @torch.inference_mode()
    def step() -> int:
        model.xray_prefix(x)
        return batch

    return _rate(step, seconds)


def tail_input_shape(model: ScanMatchCLIP) -> tuple[int, ...]:
    """The cached map the x-ray tail starts from: its shape depends on where the trained tail begins."""
    with torch.inference_mode():
        return tuple(model.xray_prefix(torch.randn(1, 3, 160, 160)).shape[1:])


def tail_seconds_per_step(model: ScanMatchCLIP, batch: int, seconds: float) -> float:
    h = torch.randn(batch, *tail_input_shape(model))

    def step() -> int:
        model.xray_tail(h).sum().backward()
        return 1

    return 1.0 / _rate(step, seconds)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--seconds", type=float, default=3.0, help="measuring time per cell")
    parser.add_argument(
        "--xray-tail-from",
        type=int,
        nargs="+",
        metavar="BLOCK",
        help="instead: the x-ray tail's step (batch 128, channels last) when training starts at these blocks",
    )
    args = parser.parse_args()
    cfg = json.loads((CONFIGS_DIR / f"{DEFAULT_ENCODER}.json").read_text())
    if args.xray_tail_from:
        tail_by_depth(cfg, args.xray_tail_from, args.threads, args.seconds)
        return
    model = build_model(cfg)
    model.freeze_base()
    print(f"CPU, torch {torch.__version__}, {DEFAULT_ENCODER}, 160 px\n")
    print("| threads | layout | prefix img/s, batch 8 | prefix img/s, batch 64 | tail fwd+bwd s/step (128) |")
    print("|---|---|---|---|---|")
    for threads in args.threads:
        torch.set_num_threads(threads)
        for channels_last in (False, True):
            m = _layout(model, channels_last)
            m.eval()
            p8 = prefix_images_per_second(m, 8, args.seconds)
            p64 = prefix_images_per_second(m, 64, args.seconds)
            m.train()
            tail = tail_seconds_per_step(m, 128, args.seconds)
            name = "channels last" if channels_last else "contiguous"
            print(f"| {threads} | {name} | {p8:.1f} | {p64:.1f} | {tail:.2f} |", flush=True)


def tail_by_depth(cfg: dict, blocks: list[int], threads: list[int], seconds: float) -> None:
    print(f"CPU, torch {torch.__version__}, {DEFAULT_ENCODER} x-ray tower, 160 px, channels last\n")
    print("| trained from block | cached map | threads | tail fwd+bwd s/step (128) |")
    print("|---|---|---|---|")
    for block in blocks:
        model = build_model({**cfg, "xray_trainable_from_block": block}, load_base=False)
        model.freeze_base()
        m = _layout(model, channels_last=True).train()
        shape = tail_input_shape(m)
        for n in threads:
            torch.set_num_threads(n)
            step = tail_seconds_per_step(m, 128, seconds)
            print(f"| {block} | {'x'.join(map(str, shape))} | {n} | {step:.2f} |", flush=True)


if __name__ == "__main__":
    main()
