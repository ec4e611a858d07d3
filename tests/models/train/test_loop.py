from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch

from models.encoders import base_weights
from models.encoders.artifact import load_artifact
from models.encoders.device import choose_placement
from models.train.__main__ import main as train_main
from models.train.card import selection_score
from models.train.loop import _other_view, category_batches, findings_thresholds
from tests.models.images import sample_images
from tests.models.train.tiny import tiny_config


def test_category_batches_are_one_size_with_few_kinds_each_and_no_shipment_twice() -> None:
    categories = [c for c in "abcdefghij" for _ in range(37)]
    batches = category_batches(categories, 32, 4, torch.Generator().manual_seed(0))
    seen = torch.cat(batches).tolist()
    # Every shipment at most once; per category fewer than a group (8) sit out, plus one short batch.
    assert len(seen) == len(set(seen)) and len(seen) >= len(categories) - 10 * 7 - 32
    for batch in batches:
        assert len(batch) == 32  # one shape for cuDNN
        kinds = [categories[i] for i in batch.tolist()]
        assert len(set(kinds)) <= 4 and all(kinds.count(k) % 8 == 0 for k in set(kinds))
    # Who sits out changes from epoch to epoch.
    gen = torch.Generator().manual_seed(0)
    first, second = (set(torch.cat(category_batches(categories, 32, 4, gen)).tolist()) for _ in range(2))
    assert first != second
    again = category_batches(categories, 32, 4, torch.Generator().manual_seed(0))
    assert all(torch.equal(a, b) for a, b in zip(batches, again, strict=True))


def test_the_second_view_is_always_another_rendering_and_any_other_one() -> None:
    torch.manual_seed(0)
    choice = torch.arange(5).repeat(200)
    other = _other_view(choice, 5)
    assert not (other == choice).any()
    for c in range(5):
        assert set(other[choice == c].tolist()) == set(range(5)) - {c}


def test_findings_thresholds_hold_the_false_alarm_rate_on_items_absent() -> None:
    rng = np.random.default_rng(0)
    targets = (rng.random((2000, 2)) < 0.2).astype(np.float32)
    probs = np.clip(0.3 * rng.random((2000, 2)) + 0.6 * targets, 0, 1)
    out = findings_thresholds(probs, targets, ("knife", "pills"), 0.01)
    for j, name in enumerate(("knife", "pills")):
        negatives = probs[targets[:, j] == 0, j]
        assert (negatives > out[name]["threshold"]).mean() <= 0.011
        assert out[name]["detection_rate"] > 0.9 and out[name]["roc_auc"] > 0.9


def test_findings_thresholds_sit_between_separated_scores_and_at_the_rate_where_they_overlap() -> None:
    rng = np.random.default_rng(1)
    targets = (rng.random((3000, 1)) < 0.2).astype(np.float32)
    absent, present = targets[:, 0] == 0, targets[:, 0] == 1
    separated = np.where(targets == 1, 0.7 + 0.3 * rng.random((3000, 1)), 0.05 * rng.random((3000, 1)))
    (bare,) = findings_thresholds(separated, targets, ("handgun",), 0.01).values()
    (sep,) = findings_thresholds(separated, targets, ("handgun",), 0.01, margin=0.5).values()
    # Midway in log-odds between the absent 99th percentile (~0.05) and the present 1st (~0.7).
    assert bare["threshold"] < 0.05 < sep["threshold"] < 0.7
    assert sep["false_alarm_rate"] == 0.0 < bare["false_alarm_rate"] and sep["detection_rate"] == 1.0
    overlapping = np.clip(0.5 * rng.random((3000, 1)) + 0.3 * targets, 0, 1)
    (over,) = findings_thresholds(overlapping, targets, ("handgun",), 0.01, margin=0.5).values()
    assert over["threshold"] == round(float(np.quantile(overlapping[absent, 0], 0.99)), 4)
    assert 0.005 <= over["false_alarm_rate"] <= 0.011 and over["detection_rate"] < 1.0
    assert present.sum() > 0


def test_a_tiny_run_trains_resumes_and_writes_a_loadable_artifact(tmp_path: Path) -> None:
    config = tiny_config(
        n_train=48,
        n_val=32,
        source_size=96,
        epochs=1,
        categories_per_batch=4,
        views=2,
        loss_weights={
            "photo_xray": 1.0,
            "verify": 1.0,
            "findings": 1.0,
            "photo_views": 0.5,
            "xray_views": 0.5,
            "photo_label": 0.25,
            "text_label": 0.25,
            "xray_label": 0.25,
        },
    )
    cfg_path = tmp_path / "tiny.json"
    cfg_path.write_text(json.dumps(config))
    out, artifact = tmp_path / "run", tmp_path / "artifact"
    assert train_main(["--config", str(cfg_path), "--out", str(out), "--artifact", str(artifact)]) == 0
    assert len(list((out / "cache").glob("view1-*.pt"))) == 1  # the second view was rendered and cached
    first = torch.load(out / "checkpoints" / "last.pt", weights_only=False)["state"]
    assert first["epoch"] == 1 and len(first["history"]) == 1

    # Resume to a second epoch: the run continues from the checkpoint instead of starting over.
    cfg_path.write_text(json.dumps({**config, "epochs": 2}))
    assert train_main(["--config", str(cfg_path), "--out", str(out), "--artifact", str(artifact), "--resume"]) == 0
    state = torch.load(out / "checkpoints" / "last.pt", weights_only=False)["state"]
    assert state["epoch"] == 2 and state["history"][0] == first["history"][0]
    metrics = {"roc_auc", "concealment_auc", "recall_at_1", "train_recall_at_1", "findings_auc"}
    assert metrics <= set(state["history"][1])
    # Naming a listing's category from its photo and text, as the service does, is tracked per epoch.
    assert 0.0 <= state["history"][1]["listing_category_acc"] <= 1.0

    encoder = load_artifact(artifact, name="tiny", placement=choose_placement("cpu"))
    xrays = encoder.embed_images("xray", sample_images(3, seed=4))
    assert xrays.shape == (3, encoder.dim)
    np.testing.assert_allclose(np.linalg.norm(xrays, axis=1), 1.0, rtol=1e-5)
    assert encoder.findings is not None
    # The service's numpy head gives what the trained torch head gives.
    with torch.no_grad():
        expected = torch.sigmoid(encoder.module.findings_logits(torch.from_numpy(xrays))).numpy()
    np.testing.assert_allclose(encoder.findings.probabilities(xrays), expected, rtol=1e-4, atol=1e-6)
    found = encoder.findings(xrays[0])
    assert {f.item for f in found} == {"kitchen_knife", "handgun", "battery_pack", "pills"}
    assert all(0.0 <= f.probability <= 1.0 for f in found)
    assert [f.probability for f in found] == sorted((f.probability for f in found), reverse=True)
    _card_is_the_runs_own(artifact)


# Figures and words of this project's history that an old card printed as every run's own.
HISTORY = ("Design and why", "Measurements that chose", "0.419 against 0.324", "385 of 400", "layout", "H200")


def _card_is_the_runs_own(artifact: Path) -> None:
    card = (artifact / "MODEL_CARD.md").read_text()
    run = json.loads((artifact / "config.json").read_text())["provenance"]
    assert [h["epoch"] for h in run["history"]] == [1, 2]
    for h in run["history"]:
        kept = " (kept)" if h["epoch"] == run["kept_epoch"] else ""
        row = f"| {h['epoch']}{kept} | {h['roc_auc']:.4f} | {h['concealment_auc']:.4f} | {h['recall_at_1']:.4f} |"
        assert row in card
    assert run["kept_epoch"] == max(run["history"], key=selection_score)["epoch"]
    assert f"epoch {run['kept_epoch']} kept" in card
    # Its data, config, time and device.
    assert run["data"]["train"] == {"seed": 1001, "n": 48, "source_size": 96, "mix": {"match": 0.5, "concealment": 0.5}}
    assert "- train: 48 synthetic shipments of `models.generator.synthetic`, seed 1001, source size 96 px" in card
    assert "- val: 32 synthetic shipments" in card and "seed 1002" in card
    assert json.dumps(run["training"], indent=2) in card and '"name": "tiny"' in card
    assert f"{run['total_seconds']} s in all, of which {run['feature_seconds']} s" in card
    assert "`cpu`" in card and f"torch {torch.__version__}" in card
    # Its findings thresholds, and the base weights it was verified against.
    findings = json.loads((artifact / "config.json").read_text())["findings"]
    assert all(f"| {item} | {f['threshold']:.4f} |" in card for item, f in findings.items())
    assert base_weights.EFFICIENTNET_LITE0_SHA256 in card and base_weights.MINILM_SHA256 in card
    assert "No held-out evaluation was run" in card and "docs/design.md" in card
    assert not [words for words in HISTORY if words in card]


@pytest.fixture(autouse=True)
def _restore_threads():
    threads = torch.get_num_threads()
    yield
    torch.set_num_threads(threads)
