from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch
from safetensors.torch import load_file

from models.encoders.architecture import ScanMatchCLIP, build_model
from models.encoders.artifact import load_artifact
from models.encoders.device import choose_placement
from models.encoders.encoder import best_pose_cosine, pair_cosine
from models.encoders.layout_head import LayoutHead, best_pose_similarity, dihedral
from models.train.__main__ import main as train_main
from tests.models.images import sample_images
from tests.models.layout import layout_config, write_layout_artifact


def test_the_eight_poses_are_distinct_start_as_given_and_are_closed_under_turns_and_mirrors() -> None:
    cells = torch.arange(2 * 9, dtype=torch.float32).reshape(1, 2, 3, 3)
    poses = dihedral(cells, 8)[0]
    assert poses.shape == (8, 2, 3, 3) and torch.equal(poses[0], cells[0])
    flat = {tuple(p.flatten().tolist()) for p in poses}
    assert len(flat) == 8
    for p in poses:
        assert tuple(torch.rot90(p, 1, dims=(-2, -1)).flatten().tolist()) in flat
        assert tuple(p.flip(-1).flatten().tolist()) in flat


@pytest.mark.parametrize("global_average", [True, False])
def test_a_turned_or_mirrored_map_is_embedded_as_one_of_the_original_poses(global_average: bool) -> None:
    # What lets a photo meet an x-ray of the goods lying the other way round: the head's poses of
    # a map are the head applied to that map turned or mirrored (5 x 5 maps, as at 160 px).
    torch.manual_seed(0)
    head = LayoutHead(32, 8, grid=3, cell_dim=6, global_average=global_average).eval()
    fmap = torch.randn(2, 32, 5, 5)
    with torch.no_grad():
        poses = head(fmap, poses=8)
        assert torch.allclose(poses[:, 0], head(fmap), atol=1e-5)
        for moved in (torch.rot90(fmap, 1, dims=(-2, -1)), fmap.flip(-2), torch.rot90(fmap.flip(-1), 3, dims=(-2, -1))):
            direct = head(moved)
            gaps = (poses - direct[:, None]).abs().amax(dim=(0, 2))
            assert gaps.min() < 1e-5
        # and layout matters: a turned map is not embedded like the original
        assert (head(torch.rot90(fmap, 1, dims=(-2, -1))) - head(fmap)).abs().max() > 1e-3


def test_best_pose_similarity_is_the_best_pose_cosine() -> None:
    torch.manual_seed(1)
    photo = torch.nn.functional.normalize(torch.randn(4, 8, 16), dim=-1)
    xray = torch.nn.functional.normalize(torch.randn(5, 16), dim=-1)
    sims = best_pose_similarity(photo, xray)
    for i in range(4):
        for j in range(5):
            assert sims[i, j] == pytest.approx(max(float(photo[i, k] @ xray[j]) for k in range(8)), abs=1e-6)


def test_a_layout_model_embeds_photos_in_every_pose_and_x_rays_once() -> None:
    model = ScanMatchCLIP(layout_config()).eval()
    x = torch.randn(2, 3, 160, 160)
    with torch.no_grad():
        poses, photo, xray = model.encode_photo_poses(x), model.encode_photo(x), model.encode_xray(x)
    assert poses.shape == (2, 8, model.embed_dim) and xray.shape == (2, model.embed_dim)
    assert torch.allclose(poses[:, 0], photo, atol=1e-5)
    assert torch.allclose(poses.norm(dim=-1), torch.ones(2, 8), atol=1e-5)
    assert {"photo_layout.mlp.fc1.weight", "xray_layout.reduce.weight"} <= set(model.trained_state_dict())


def test_a_layout_model_without_poses_embeds_each_photo_once() -> None:
    cfg = layout_config()
    cfg.pop("photo_poses")
    model = ScanMatchCLIP(cfg).eval()
    x = torch.randn(2, 3, 160, 160)
    with torch.no_grad():
        poses, photo = model.encode_photo_poses(x), model.encode_photo(x)
    assert model.photo_poses == 1 and poses.shape == (2, 1, model.embed_dim)
    assert torch.allclose(poses[:, 0], photo, atol=1e-5)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"photo_poses": "c4"}, "unknown photo_poses"),
        ({"layout_head": {"grid": 3, "cells": 64}}, "unknown layout_head key"),
        ({"xray_cfg": {"timm_model_name": "tf_efficientnet_lite0", "timm_pool": "avg", "timm_proj": "mlp"}},
         "must end in feature maps"),
    ],
)
def test_a_layout_config_that_cannot_work_is_refused(change: dict, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        ScanMatchCLIP(layout_config(**change))


def test_poses_without_a_layout_head_are_refused() -> None:
    cfg = {k: v for k, v in layout_config().items() if k != "layout_head"}
    with pytest.raises(ValueError, match="needs a 'layout_head'"):
        ScanMatchCLIP({**cfg, "photo_poses": "d4"})


def test_a_layout_artifact_embeds_photo_poses_and_scores_pairs_by_the_best_pose(tmp_path: Path) -> None:
    enc = load_artifact(write_layout_artifact(tmp_path / "layout"), name="layout", placement=choose_placement("cpu"))
    photos, scans = sample_images(3), sample_images(3, seed=1)
    poses, photo = enc.embed_photo_poses(photos), enc.embed_images("photo", photos)
    xray = enc.embed_images("xray", scans)
    assert enc.photo_poses == 8 and poses.shape == (3, 8, enc.dim) and poses.dtype == np.float32
    assert np.allclose(np.linalg.norm(poses, axis=-1), 1.0, atol=1e-4)
    assert np.allclose(poses[:, 0], photo, atol=1e-4)
    best = np.array([max(float(poses[i, k] @ xray[i]) for k in range(8)) for i in range(3)])
    assert np.allclose(pair_cosine(poses, xray), best, atol=1e-5)
    assert np.allclose(best_pose_cosine(poses, xray).diagonal(), best, atol=1e-5)
    assert np.allclose(enc.match_probability(poses, xray), 1 / (1 + np.exp(-(10.0 * best - 5.0))), atol=1e-5)
    # A model without poses gives one pose per photo, the plain embedding.
    assert enc.match_probability(photo, xray).shape == (3,)


def test_a_tiny_layout_run_trains_on_the_best_pose_and_ships_the_poses(tmp_path: Path) -> None:
    model_cfg = tmp_path / "layout-model.json"
    model_cfg.write_text(json.dumps(layout_config()))
    config = {
        "name": "tiny-layout",
        "model_config": str(model_cfg),
        "n_train": 48,
        "n_val": 32,
        "source_size": 96,
        "epochs": 1,
        "batch_size": 16,
        "categories_per_batch": 0,
        "warmup_steps": 1,
        "threads": 1,
        "mix": {"match": 0.5, "concealment": 0.5},
    }
    (tmp_path / "tiny.json").write_text(json.dumps(config))
    out, artifact = tmp_path / "run", tmp_path / "artifact"
    args = ["--config", str(tmp_path / "tiny.json"), "--out", str(out), "--artifact", str(artifact)]
    assert train_main(args) == 0
    torch.manual_seed(0)  # as training seeds itself (config seed 0) before building the model
    before = build_model(layout_config()).trained_state_dict()
    trained = load_file(str(out / "checkpoints" / "best.safetensors"))
    for name in ("photo_layout.mlp.fc2.weight", "xray_layout.reduce.weight"):
        assert not torch.equal(trained[name], before[name]), f"{name} was not trained"
    enc = load_artifact(artifact, name="tiny-layout", placement=choose_placement("cpu"))
    assert enc.embed_photo_poses(sample_images(2)).shape == (2, 8, enc.dim)
