from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from models.encoders.encoder import Encoder
from models.encoders.errors import UnknownEncoder
from models.encoders.registry import (
    DEFAULT_ENCODER,
    ImageNetSpec,
    OpenClipCheckpointSpec,
    Registry,
    default_registry,
    list_encoders,
    load_encoder,
)
from tests.models.images import sample_images

# The embedding size each registered encoder documents (model card / DESIGN); a new entry must add one.
DOCUMENTED_DIMS = {"scanmatch-effl0-minilm": 256, "imagenet-effl0": 1280}


@pytest.fixture(scope="module", params=list_encoders())
def encoder(request: pytest.FixtureRequest) -> Encoder:
    # No allow_random: every registered encoder must load from verified, trained weights.
    return load_encoder(request.param, device="cpu", batch_size=2)


def test_every_registered_encoder_documents_its_dim() -> None:
    assert set(list_encoders()) == set(DOCUMENTED_DIMS)
    assert DEFAULT_ENCODER in list_encoders()


def test_registered_encoder_embeds_a_batch(encoder: Encoder) -> None:
    images = sample_images(3)
    assert encoder.dim == DOCUMENTED_DIMS[encoder.name]
    assert len(encoder.identity) == 64
    for modality in ("photo", "xray"):
        out = encoder.embed_images(modality, images)
        assert out.dtype == np.float32
        assert out.shape == (3, encoder.dim)
        np.testing.assert_allclose(np.linalg.norm(out, axis=1), 1.0, atol=1e-5)
    # Batching must not change results: batch size 2 (3 images -> 2 batches) vs one batch.
    np.testing.assert_allclose(
        encoder.embed_images("xray", images), encoder.embed_images("xray", images, batch_size=8), atol=1e-5
    )
    if encoder.has_text:
        texts = encoder.embed_texts(["wireless earbuds in a charging case", "ceramic coffee mug", "desk lamp"])
        assert texts.shape == (3, encoder.dim) and texts.dtype == np.float32
        np.testing.assert_allclose(np.linalg.norm(texts, axis=1), 1.0, atol=1e-5)


def test_empty_batch_gives_empty_array(encoder: Encoder) -> None:
    assert encoder.embed_images("photo", []).shape == (0, encoder.dim)


def test_unknown_name_is_refused_and_known_names_listed() -> None:
    with pytest.raises(UnknownEncoder) as err:
        load_encoder("ViT-Z-99")
    message = str(err.value)
    assert "ViT-Z-99" in message
    for name in list_encoders():
        assert name in message


def test_operator_specs_extend_a_new_registry(tmp_path: Path) -> None:
    spec = OpenClipCheckpointSpec(name="operator-vit", arch="ViT-B-32", path=tmp_path / "x.pt", sha256="0" * 64)
    registry = default_registry(extra=[spec])
    assert "operator-vit" in registry.names()
    assert "operator-vit" not in list_encoders()


def test_duplicate_names_are_refused() -> None:
    with pytest.raises(ValueError, match="twice"):
        Registry([ImageNetSpec(name="a"), ImageNetSpec(name="a")])
