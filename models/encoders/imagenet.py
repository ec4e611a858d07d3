"""The ImageNet EfficientNet-Lite0 encoder: no cross-modal training, one trunk for every image.

It is the `imagenet_cosine` baseline and a good x-ray-to-x-ray gallery encoder on its own.
"""

from __future__ import annotations

from typing import cast

import timm

from models.encoders import base_weights
from models.encoders.device import Placement, place_model
from models.encoders.encoder import Encoder
from models.encoders.identity import identity_of, preprocess_sha256
from models.encoders.preprocess import PreprocessConfig

IMAGENET_PREPROCESS = PreprocessConfig(
    image_size=224,
    mean=base_weights.EFFICIENTNET_LITE0_MEAN,
    std=base_weights.EFFICIENTNET_LITE0_STD,
    interpolation="bicubic",
    resize_mode="squash",
)


def load_imagenet_encoder(
    *, name: str, placement: Placement, preprocess: PreprocessConfig = IMAGENET_PREPROCESS, batch_size: int = 32
) -> Encoder:
    """ImageNet-pooled 1280-d features for photos and x-rays (weights sha256-checked)."""
    trunk = timm.create_model("tf_efficientnet_lite0", pretrained=False, num_classes=0)
    base_weights.load_efficientnet_lite0(trunk)
    trunk = place_model(trunk, placement)
    return Encoder(
        name=name,
        identity=identity_of(
            {
                "efficientnet-lite0-57934424.pth": base_weights.EFFICIENTNET_LITE0_SHA256,
                "preprocess.json": preprocess_sha256(preprocess),
            }
        ),
        dim=int(cast(int, trunk.num_features)),
        preprocess=preprocess,
        placement=placement,
        image_towers={"photo": trunk, "xray": trunk},
        text_tower=None,
        module=trunk,
        batch_size=batch_size,
    )
