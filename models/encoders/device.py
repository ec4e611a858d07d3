"""Device and precision are chosen here and nowhere else."""

from __future__ import annotations

from dataclasses import dataclass

import torch


@dataclass(frozen=True)
class Placement:
    """Where a model runs and in which dtype its inputs and autocast run."""

    device: torch.device
    dtype: torch.dtype

    @property
    def autocast(self) -> bool:
        return self.device.type == "cuda" and self.dtype != torch.float32


def choose_placement(device: str | torch.device | None = None, precision: str | None = None) -> Placement:
    """Pick the device (CUDA when present unless told otherwise) and precision.

    Precision defaults to fp16 autocast on CUDA (weights stay fp32, BatchNorm and LayerNorm stay
    stable) and fp32 on CPU, where half precision is slower, not faster.
    """
    dev = torch.device(device) if device is not None else torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if precision is None:
        precision = "fp16" if dev.type == "cuda" else "fp32"
    dtypes = {"fp32": torch.float32, "fp16": torch.float16, "bf16": torch.bfloat16}
    if precision not in dtypes:
        raise ValueError(f"unknown precision {precision!r}; choose one of {sorted(dtypes)}")
    if dev.type == "cpu" and precision != "fp32":
        raise ValueError("reduced precision is only supported on CUDA here")
    return Placement(device=dev, dtype=dtypes[precision])


def place_model(model: torch.nn.Module, placement: Placement) -> torch.nn.Module:
    """Move a model to its device in eval mode; weights stay fp32 and autocast handles precision."""
    return model.to(placement.device).eval()
