from __future__ import annotations

import torch
import torch.nn.functional as F

from models.train.losses import paired_infonce, total_loss


def test_infonce_prefers_aligned_pairs() -> None:
    a = F.normalize(torch.randn(8, 16), dim=-1)
    match = torch.tensor([1, 1, 1, 1, 0, 0, 1, 1])
    aligned = paired_infonce(a, a, torch.tensor(20.0), match)
    shuffled = paired_infonce(a, a.roll(1, dims=0), torch.tensor(20.0), match)
    assert aligned < shuffled


def test_total_loss_handles_a_batch_without_matches() -> None:
    x = F.normalize(torch.randn(4, 8), dim=-1)
    loss, parts = total_loss(
        photo=x,
        xray=x,
        text=x,
        match=torch.zeros(4, dtype=torch.long),
        logit_scale=torch.tensor(2.3),
        logit_bias=torch.tensor(-5.0),
        weights={"photo_xray": 1.0, "verify": 1.0, "text_xray": 0.5, "photo_text": 0.25},
    )
    assert torch.isfinite(loss) and parts["photo_xray"] == 0.0


def test_view_losses_reward_embedding_two_renderings_of_the_same_goods_alike() -> None:
    x = F.normalize(torch.randn(6, 8), dim=-1)
    common = {
        "photo": x,
        "xray": x,
        "text": x,
        # No matches: the view losses still learn from every shipment.
        "match": torch.zeros(6, dtype=torch.long),
        "logit_scale": torch.tensor(2.3),
        "logit_bias": torch.tensor(-5.0),
        "weights": {"photo_views": 1.0, "xray_views": 1.0},
    }
    same, parts = total_loss(**common, photo_other=x, xray_other=x)
    other, _ = total_loss(**common, photo_other=x.roll(1, dims=0), xray_other=x.roll(1, dims=0))
    assert set(parts) >= {"photo_views", "xray_views"} and parts["xray_views"] > 0.0
    assert same < other


def test_label_losses_reward_photos_and_texts_near_their_category_label() -> None:
    labels = F.normalize(torch.randn(5, 8), dim=-1)
    category = torch.tensor([0, 1, 2, 3, 4, -100])  # the last listing's category is not in the taxonomy
    near = F.normalize(torch.cat([labels, torch.randn(1, 8)]), dim=-1)
    far = near.roll(1, dims=0)
    common = {
        "xray": near,
        "match": torch.ones(6, dtype=torch.long),
        "logit_scale": torch.tensor(2.3),
        "logit_bias": torch.tensor(-5.0),
        "weights": {"photo_label": 1.0, "text_label": 1.0},
        "labels": labels,
        "category": category,
    }
    good, parts = total_loss(photo=near, text=near, **common)
    bad, _ = total_loss(photo=far, text=near, **common)
    worse, _ = total_loss(photo=far, text=far, **common)
    assert set(parts) >= {"photo_label", "text_label"}
    assert good < bad < worse
    # Without labels the terms are left out, not zero-filled.
    _, no_labels = total_loss(photo=near, text=near, **{**common, "labels": None})
    assert "photo_label" not in no_labels


def test_the_xray_label_loss_rewards_xrays_near_the_label_of_what_they_show() -> None:
    labels = F.normalize(torch.randn(4, 8), dim=-1)
    shows = torch.tensor([2, 0, 3, -100])  # the last parcel is empty
    near = F.normalize(torch.cat([labels[[2, 0, 3]], torch.randn(1, 8)]), dim=-1)
    common = {
        "photo": near,
        "text": near,
        "match": torch.ones(4, dtype=torch.long),
        "logit_scale": torch.tensor(2.3),
        "logit_bias": torch.tensor(-5.0),
        "weights": {"xray_label": 1.0},
        "labels": labels,
        "xray_category": shows,
    }
    good, parts = total_loss(xray=near, **common)
    bad, _ = total_loss(xray=near.roll(1, dims=0), **common)
    assert "xray_label" in parts and good < bad
