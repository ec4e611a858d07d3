"""The model card: one training run's own record, as the artifact's `config.json` keeps it.

Every figure in a card is its run's: the training and model configs, the data it read, each
epoch's validation metrics and which epoch was kept, the time and device, the findings
thresholds. Why the encoder is built as it is, and the measurements behind its defaults, are not
a run's and live in `DESIGN_DOC`, which the card links to.
"""

from __future__ import annotations

import json
import math
from typing import Any

DESIGN_DOC = "docs/design.md"
EVALUATION_HEADING = "## Evaluation (models.evaluate)"


def render_card(
    *, model_config: dict[str, Any], calibration: dict[str, float], findings: dict | None, run: dict[str, Any]
) -> str:
    """The card of a trained artifact; `run` is the record training keeps in its `provenance`."""
    training = run["training"]
    val = run["val"]
    kept = run["kept_epoch"]
    settings = run.get("findings_thresholds") or {}
    rate = settings.get("rate", training["findings_false_alarm_rate"])
    margin = settings.get("margin", training.get("findings_margin", 0.0))
    return f"""# {training["name"]}

Photo / x-ray / text encoder for scanmatch: does the parcel's x-ray show what the listing sells?
Embedding size {model_config["embed_dim"]}, L2-normalised; {_preprocessing(model_config["preprocess"])}.
Everything below is this run's own record; why the encoder is built this way: `{DESIGN_DOC}`.

## Reproduce

```
{run["command"]}
```

## Run

{_run(run)}

## Training data

{_data(run["data"], views=int(training.get("views", 1)))}

## Training configuration

```json
{json.dumps(training, indent=2)}
```

## Model configuration (open_clip style)

```json
{json.dumps(model_config, indent=2)}
```

## Validation ({_split_name(run["data"]["val"])}, epoch {kept} kept)

ROC-AUC {val["roc_auc"]:.4f}, concealment ROC-AUC {val["concealment_auc"]:.4f},
photo-to-x-ray recall@1 {val["recall_at_1"]:.4f}, listing category named from photo and text
{val.get("listing_category_acc", float("nan")):.4f}. Calibration: `{json.dumps(calibration)}`.

The epoch kept is the one with the highest ROC-AUC + concealment ROC-AUC + recall@1 on validation.
Recall@1 is photo-to-x-ray retrieval among the {run["data"]["val"]["n"]} validation shipments;
"train recall@1" is the same among as many training shipments (as written, no new views): far
above validation means memorising. "Listing category" is how often the taxonomy label nearest a
listing's photo and text embeddings summed is its category, as the service names it.

| epoch | ROC-AUC | concealment AUC | recall@1 | train recall@1 | listing category | elapsed s |
|---|---|---|---|---|---|---|
{_history(run["history"], kept)}
{findings_table(findings, rate, margin, set_again_by=settings.get("command"))}
{EVALUATION_HEADING}

No held-out evaluation was run when this card was written. `python -m models.evaluate --json OUT.json
--update-card` (with this artifact as its `--encoder`) writes one here, on seeds training did not use.
"""


def selection_score(metrics: dict[str, float]) -> float:
    """What the kept epoch maximises on validation. A term the split cannot measure counts 0: a validation set
    of real shipments has no concealment scenario, and NaN would compare false with every score, keeping none."""
    terms = (metrics["roc_auc"], metrics["concealment_auc"], metrics["recall_at_1"])
    return float(sum(t for t in terms if not math.isnan(t)))


def _preprocessing(pre: dict[str, Any]) -> str:
    photo_px, xray_px = pre.get("photo_image_size") or pre["image_size"], pre["image_size"]
    sizes = f"photos at {photo_px} px, x-rays at {xray_px} px"
    if photo_px == xray_px:
        sizes = f"photos and x-rays at {xray_px} px"
    if pre.get("xray_framing") == "contents":
        sizes += ", x-rays framed on their contents with the long axis upright"
    return (
        f"{sizes}\n({pre.get('resize_mode', 'squash')} resize, {pre.get('interpolation', 'bicubic')}, "
        f"mean {pre['mean']}, std {pre['std']})"
    )


def _run(run: dict[str, Any]) -> str:
    training = run["training"]
    where = f"`{run['device']}`"
    if run.get("device_name") and run["device_name"] != run["device"]:
        where += f" ({run['device_name']})"
    if run["device"] == "cpu":
        threads = training["threads"]
        where += f" with {threads} thread{'s' if threads != 1 else ''}, float32"
    else:
        where += f", {run['precision']} autocast"
    done, planned = len(run["history"]), training["epochs"]
    epochs = f"{done} epochs"
    if done < planned:
        epochs = f"{done} of {planned} planned epochs"
        if training.get("train_minutes") is not None:
            epochs += f": what fitted its {training['train_minutes']:g}-minute budget"
    lines = [
        f"- Device: {where}; torch {run['torch']} on {run['platform']}.",
        f"- Time: {run['total_seconds']} s in all, of which {run['feature_seconds']} s writing the data and "
        "caching the frozen features.",
        f"- Epochs: {epochs}; epoch {run['kept_epoch']} kept.",
    ]
    init = run.get("init_from")
    if init:
        lines.append(
            f"- Started from the trained tensors of `{init['artifact']}` (weights sha256 "
            f"`{init['weights_sha256'][:16]}...`), not from scratch: its own card tells how that was trained."
        )
    else:
        lines.append("- Started from the ImageNet-initialised towers and untrained heads.")
    return "\n".join(lines)


def _split_name(source: dict[str, Any]) -> str:
    return f"seed {source['seed']}" if "seed" in source else f"`{source['manifest']}`"


def _data(data: dict[str, Any], *, views: int) -> str:
    lines = []
    for split, source in data.items():
        if "manifest" in source:
            lines.append(
                f"- {split}: {source['n']} shipments of `{source['manifest']}` (sha256 `{source['sha256']}`)."
            )
            continue
        text = (
            f"- {split}: {source['n']} synthetic shipments of `models.generator.synthetic`, seed "
            f"{source['seed']}, source size {source['source_size']} px, scenario mix `{json.dumps(source['mix'])}`"
        )
        if split == "train" and views > 1:
            text += f"; each rendered {views} times (another photo, packing and scan), one drawn per step"
        lines.append(text + ".")
    return "\n".join(lines)


def _history(history: list[dict[str, Any]], kept: int) -> str:
    nan = float("nan")
    return "\n".join(
        f"| {h['epoch']}{' (kept)' if h['epoch'] == kept else ''} | {h['roc_auc']:.4f} "
        f"| {h['concealment_auc']:.4f} | {h['recall_at_1']:.4f} | {h.get('train_recall_at_1', nan):.4f} "
        f"| {h.get('listing_category_acc', nan):.4f} | {h['elapsed_s']} |"
        for h in history
    )


def findings_table(
    findings: dict[str, dict[str, float]] | None, rate: float, margin: float, *, set_again_by: str | None = None
) -> str:
    if not findings:
        return ""
    rows = "\n".join(
        f"| {item} | {f['threshold']:.4f} | {f['roc_auc']:.4f} | {f['detection_rate']:.4f} "
        f"| {f.get('false_alarm_rate', float('nan')):.4f} | {f['n_positive']} |"
        for item, f in findings.items()
    )
    again = f"\nThresholds set again after training: `{set_again_by}`.\n" if set_again_by else ""
    return f"""
### X-ray findings (validation, alarm threshold at most {rate:.0%} false alarms)

Each threshold lets at most {rate:.0%} of validation x-rays without the item alarm; where the
item's x-rays score clearly higher, it rises {margin:g} of the way (in log-odds) towards them.

| item | threshold | ROC-AUC | detection rate | false-alarm rate | x-rays holding it |
|---|---|---|---|---|---|
{rows}
{again}"""
