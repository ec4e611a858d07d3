"""The training loop: cached frozen-prefix features in, the towers' trained late blocks and heads out."""

from __future__ import annotations

import json
import math
import platform
import random
import time
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from safetensors.torch import load_file, save_file
from scipy.special import expit, logit
from sklearn.linear_model import LogisticRegression
from tqdm import tqdm

from models.encoders.architecture import ScanMatchCLIP, build_model
from models.encoders.artifact import init_from_artifact
from models.encoders.device import choose_placement
from models.encoders.integrity import sha256_file
from models.encoders.preprocess import PreprocessConfig
from models.encoders.taxonomy import CATEGORIES, TAXONOMY
from models.evaluate.metrics import recall_from_similarity, scenario_auc, verification_auc
from models.train.card import selection_score
from models.train.config import TrainConfig
from models.train.features import (
    FeatureSet,
    TextFeatures,
    cached_features,
    check_generated,
    ensure_generated,
    label_texts,
    loader_workers,
    view_features,
)
from models.train.losses import total_loss

# The trained late blocks of both image towers learn at `tail_lr`; the heads at `lr`.
_TRUNKS = ("xray.trunk.", "clip.visual.trunk.")


def _seed_everything(seed: int) -> None:
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)


def _view_choice(feats: FeatureSet, n: int) -> torch.Tensor | None:
    """Per sample, which rendering to use: 0 = the written split, k = re-rendered view k."""
    if feats.xray_views is None:
        return None
    return torch.randint(0, feats.xray_views.shape[1] + 1, (n,))


def _other_view(choice: torch.Tensor, n_views: int) -> torch.Tensor:
    """Per sample, a rendering other than `choice`, uniformly."""
    return (choice + torch.randint(1, n_views, choice.shape)) % n_views


def _pick_view(base: torch.Tensor, views: torch.Tensor | None, idx: torch.Tensor, choice: torch.Tensor | None):
    if views is None or choice is None:
        return base
    out = base.clone()
    other = choice > 0
    out[other] = views[idx[other], choice[other] - 1]
    return out


def _xray_features(feats: FeatureSet, idx: torch.Tensor, *, flip: bool, choice: torch.Tensor | None) -> torch.Tensor:
    xray = feats.xray[idx]
    if flip and feats.xray_flip is not None:
        # Per-sample horizontal flip: scans arrive in either orientation on the belt.
        coin = torch.rand(len(idx)) < 0.5
        xray = torch.where(coin[:, None, None, None], feats.xray_flip[idx], xray)
    return _pick_view(xray, feats.xray_views, idx, choice)


def _embed(
    model: ScanMatchCLIP,
    feats: FeatureSet,
    idx: torch.Tensor,
    device: torch.device,
    *,
    flip: bool,
    photo_view: torch.Tensor | None = None,
    xray_view: torch.Tensor | None = None,
):
    """(photo (n, d), x-ray (n, d), text (n, d)), normalised."""
    photo = _photo_embedding(model, _pick_view(feats.photo[idx], feats.photo_views, idx, photo_view), device)
    xray = _xray_embedding(model, _xray_features(feats, idx, flip=flip, choice=xray_view), device)
    text = F.normalize(model.text_head(feats.text[idx].to(device)), dim=-1)
    return photo, xray, text


def _photo_embedding(model: ScanMatchCLIP, feats: torch.Tensor, device: torch.device) -> torch.Tensor:
    return F.normalize(model.photo_head(feats.to(device).float()), dim=-1)


def _xray_embedding(model: ScanMatchCLIP, feats: torch.Tensor, device: torch.device) -> torch.Tensor:
    return F.normalize(model.xray_tail(feats.to(device).float()), dim=-1)


def _second_views(
    model: ScanMatchCLIP,
    feats: FeatureSet,
    idx: torch.Tensor,
    device: torch.device,
    weights: dict[str, float],
    *,
    flip: bool,
    photo_view: torch.Tensor | None,
    xray_view: torch.Tensor | None,
) -> dict[str, torch.Tensor]:
    """Embeddings of another rendering of the same goods, for the within-modality view losses."""
    out: dict[str, torch.Tensor] = {}
    if feats.xray_views is None or photo_view is None or xray_view is None:
        return out
    n_views = feats.xray_views.shape[1] + 1
    if weights.get("photo_views", 0.0) > 0:
        photo = _pick_view(feats.photo[idx], feats.photo_views, idx, _other_view(photo_view, n_views))
        out["photo_other"] = _photo_embedding(model, photo, device)
    if weights.get("xray_views", 0.0) > 0:
        xray = _xray_features(feats, idx, flip=flip, choice=_other_view(xray_view, n_views))
        out["xray_other"] = _xray_embedding(model, xray, device)
    return out


def category_indices(categories: list[str]) -> torch.Tensor:
    """Each shipment's index in `CATEGORIES`; -100 (ignored by the label losses) for one outside it."""
    return torch.tensor([CATEGORIES.index(c) if c in TAXONOMY else -100 for c in categories], dtype=torch.long)


def _label_embeddings(model: ScanMatchCLIP, label_feats: torch.Tensor, device: torch.device) -> torch.Tensor:
    return F.normalize(model.text_head(label_feats.to(device)), dim=-1)


def findings_thresholds(
    probs: np.ndarray, targets: np.ndarray, classes: tuple[str, ...], rate: float, margin: float = 0.0
) -> dict:
    """Per item: the probability above which an x-ray is reported to show it.

    At most `rate` of the x-rays without the item alarm. Where the item's x-rays score clearly
    higher (the share `rate` least likely of them above that point), the threshold moves the
    fraction `margin` of the way up towards them, in log-odds: on an encoder that separates them,
    the bare rate-quantile (0.009 for handguns) put 1% false alarms per item on genuine parcels,
    and each forces a mismatch verdict (`TrainConfig.findings_margin` has the measurements).
    """
    out = {}
    for j, name in enumerate(classes):
        negatives = probs[targets[:, j] == 0, j]
        positives = probs[targets[:, j] == 1, j]
        threshold = float(np.quantile(negatives, 1.0 - rate)) if negatives.size else 0.5
        if positives.size and negatives.size:
            weakest = float(np.quantile(positives, rate))
            if weakest > threshold:
                # Clipped: a probability of exactly 0 or 1 (float32 saturation) has no finite log-odds.
                low, high = logit(np.clip([threshold, weakest], 1e-6, 1 - 1e-6))
                threshold = float(expit(low + margin * (high - low)))
        out[name] = {
            "threshold": round(threshold, 4),
            "roc_auc": round(verification_auc(probs[:, j], targets[:, j]), 4),
            "detection_rate": round(float((positives > threshold).mean()), 4) if positives.size else float("nan"),
            "false_alarm_rate": round(float((negatives > threshold).mean()), 4) if negatives.size else float("nan"),
            "n_positive": int(positives.size),
        }
    return out


@torch.no_grad()
def evaluate_features(
    model: ScanMatchCLIP,
    feats: FeatureSet,
    device: torch.device,
    *,
    first: int | None = None,
    label_feats: torch.Tensor | None = None,
) -> dict[str, Any]:
    """Metrics over the first `first` shipments of `feats` (all by default), as written (no views).

    With `label_feats` (the label texts' frozen features), also how often the label nearest a
    listing's photo and text embeddings summed is its category, as the service names it.
    """
    model.eval()
    n = len(feats) if first is None else min(first, len(feats))
    outs = [_embed(model, feats, torch.arange(s, min(s + 256, n)), device, flip=False) for s in range(0, n, 256)]
    photo = torch.cat([o[0] for o in outs]).float().cpu()
    xray_t = torch.cat([o[1] for o in outs]).float().cpu()
    text = torch.cat([o[2] for o in outs]).float().cpu()
    sims = (photo @ xray_t.T).numpy()
    xray = xray_t.numpy()
    labels = feats.label[:n].numpy()
    cos = sims.diagonal().copy()
    out: dict[str, Any] = {
        "roc_auc": verification_auc(cos, labels),
        "concealment_auc": scenario_auc(cos, labels, feats.scenario[:n], "concealment"),
        "recall_at_1": recall_from_similarity(sims, labels, 1),
        "cosine": cos,
    }
    if label_feats is not None:
        prompts = _label_embeddings(model, label_feats, device).float().cpu()
        named = ((photo + text) @ prompts.T).argmax(1)
        truth = category_indices(feats.category[:n])
        known = truth >= 0
        right = (named[known] == truth[known]).float()
        out["listing_category_acc"] = float(right.mean()) if known.any() else float("nan")
    if model.findings is not None and feats.findings is not None:
        probs = torch.sigmoid(model.findings_logits(torch.from_numpy(xray).to(device))).cpu().numpy()
        targets = feats.findings[:n].numpy()
        out["findings_auc"] = {
            c: round(verification_auc(probs[:, j], targets[:, j]), 4) for j, c in enumerate(model.findings_classes)
        }
        out["findings_probs"] = probs
    return out


def fit_calibration(cos: np.ndarray, labels: np.ndarray) -> dict[str, float]:
    """Platt scaling on the validation split, so P(match) means what it says on unseen data."""
    lr = LogisticRegression(C=1e4).fit(cos[:, None], labels)
    return {"scale": float(lr.coef_[0, 0]), "bias": float(lr.intercept_[0])}


def category_batches(
    categories: list[str], batch_size: int, per_batch: int, gen: torch.Generator
) -> list[torch.Tensor]:
    """Batches of `per_batch` categories, batch_size // per_batch shipments each, all of one size.

    With random batches of 128 over 25 categories a photo meets about four others of its kind, so
    InfoNCE is satisfied by telling categories apart and almost never asks which phone is which:
    the instance-level signal recall@1 needs. Grouping puts ~16 of a kind side by side.

    Every batch has the same size: on a GPU, cuDNN plans each convolution per input shape, and
    batches of varying size stalled an H200 for seconds at each new size. Each category's
    shipments beyond a multiple of the group size sit out the epoch (another random few each time).
    """
    group = max(1, batch_size // per_batch)
    by_cat: dict[str, list[int]] = {}
    for i, c in enumerate(categories):
        by_cat.setdefault(c, []).append(i)
    chunks: list[torch.Tensor] = []
    for idx in by_cat.values():
        shuffled = torch.tensor(idx)[torch.randperm(len(idx), generator=gen)]
        chunks.extend(c for c in shuffled.split(group) if len(c) == group)
    order = torch.randperm(len(chunks), generator=gen).tolist()
    batches = [torch.cat([chunks[j] for j in order[k : k + per_batch]]) for k in range(0, len(order), per_batch)]
    return [b for b in batches if len(b) == group * per_batch]


class WarmupCosine:
    """Learning-rate factor: linear warm-up, then a cosine to zero at step `total`.

    `total` may be shortened mid-run (a time budget); being an object, not a closure, it is saved
    in the scheduler's state and restored on resume.
    """

    def __init__(self, total: int, warmup: int) -> None:
        self.total, self.warmup = total, warmup

    def __call__(self, step: int) -> float:
        if step < self.warmup:
            return (step + 1) / self.warmup
        progress = (step - self.warmup) / max(1, self.total - self.warmup)
        return 0.5 * (1.0 + math.cos(math.pi * min(1.0, progress)))


def epochs_that_fit(*, done: int, planned: int, seconds_per_epoch: float, seconds_left: float) -> int:
    """How many epochs in all fit when `done` are done and each takes `seconds_per_epoch` (never more than planned)."""
    return max(done, min(planned, done + int(max(0.0, seconds_left) // max(seconds_per_epoch, 1e-9))))


def data_source(cfg: TrainConfig, split: str, manifest: Path, n: int) -> dict[str, Any]:
    """Where a split came from, for the record: the operator's manifest, or the generator's stream."""
    given = cfg.train_manifest if split == "train" else cfg.val_manifest
    if given:
        return {"manifest": given, "sha256": sha256_file(manifest), "n": n}
    seed = cfg.train_seed if split == "train" else cfg.val_seed
    return {"seed": seed, "n": n, "source_size": cfg.source_size, "mix": cfg.mix}


def train(cfg: TrainConfig, out: Path, *, resume: bool = False, device: str | None = None) -> dict[str, Any]:
    """Train, checkpointing every epoch into `out/checkpoints`.

    Returns the trained model and its calibration and findings thresholds, and under "run" the
    run's record (config, data, history, kept epoch, time, device) that the artifact keeps.
    """
    started = time.time()
    torch.set_num_threads(cfg.threads)
    _seed_everything(cfg.seed)
    placement = choose_placement(device)
    dev = placement.device
    model_cfg = json.loads(Path(cfg.model_config_path).read_text())
    # The text transformer's weights load only if some listing text is missing from the cache.
    model = build_model(model_cfg, load_text=False)
    model.freeze_base()
    init = None
    if cfg.init_from and not resume:
        init = {"artifact": cfg.init_from, "weights_sha256": init_from_artifact(model, Path(cfg.init_from))}
    preprocess = PreprocessConfig.from_dict(model_cfg["preprocess"])

    workers = loader_workers(dev, cfg.workers)

    def manifest(given: str | None, split: str, n: int, seed: int) -> Path:
        if given:
            return Path(given)
        return ensure_generated(
            out / "data" / split, n=n, seed=seed, size=cfg.source_size, mix=cfg.mix, workers=max(2, workers)
        )

    t_feat = time.time()
    train_manifest = manifest(cfg.train_manifest, "train", cfg.n_train, cfg.train_seed)
    val_manifest = manifest(cfg.val_manifest, "val", cfg.n_val, cfg.val_seed)
    model.to(dev)
    # cuDNN's autotuner (cudnn.benchmark) stays off: it re-tunes every conv for each new input shape
    # (8-20 s stalls between 60-90 ms steps on an H200 when batch sizes varied, 2026-11-29); with
    # batches of one size it might pay, but that is not measured.
    cache = out / "cache"
    text = TextFeatures(model, model_cfg, cache)
    train_feats = cached_features(
        cache, train_manifest, model, text, preprocess, hflip=cfg.hflip_xray, desc="train", workers=workers
    )
    val_feats = cached_features(cache, val_manifest, model, text, preprocess, hflip=False, desc="val", workers=workers)
    # On the device once: the label texts go through the (trained) text head at every step.
    label_feats = text(label_texts(), "labels").to(dev)
    train_category = category_indices(train_feats.category)
    train_content = category_indices(train_feats.content)
    if cfg.views > 1:
        check_generated(train_manifest, seed=cfg.train_seed, mix=cfg.mix)
        train_feats.photo_views, train_feats.xray_views = view_features(
            cache,
            model,
            preprocess,
            seed=cfg.train_seed,
            n=len(train_feats),
            size=cfg.source_size,
            mix=cfg.mix,
            views=cfg.views,
            workers=workers,
        )
    feature_seconds = time.time() - t_feat

    tail = [p for n, p in model.named_parameters() if p.requires_grad and n.startswith(_TRUNKS)]
    heads = [p for n, p in model.named_parameters() if p.requires_grad and not n.startswith(_TRUNKS)]
    opt = torch.optim.AdamW(
        [{"params": heads, "lr": cfg.lr}, {"params": tail, "lr": cfg.tail_lr}], weight_decay=cfg.weight_decay
    )
    steps_per_epoch = max(1, len(train_feats) // cfg.batch_size)
    schedule = WarmupCosine(steps_per_epoch * cfg.epochs, cfg.warmup_steps)
    sched = torch.optim.lr_scheduler.LambdaLR(opt, schedule)
    scaler = torch.amp.GradScaler("cuda", enabled=placement.autocast)

    ckpt_dir = out / "checkpoints"
    ckpt_dir.mkdir(parents=True, exist_ok=True)
    state: dict[str, Any] = {"epoch": 0, "best": -1.0, "kept_epoch": 0, "history": []}
    if resume and (ckpt_dir / "last.pt").is_file():
        saved = torch.load(ckpt_dir / "last.pt", weights_only=False)
        model.load_state_dict(saved["model"], strict=False)
        opt.load_state_dict(saved["optimizer"])
        sched.load_state_dict(saved["scheduler"])
        torch.set_rng_state(saved["rng"])
        state = saved["state"]

    # What each parcel holds, when the model has a findings head to train.
    targets = train_feats.findings if model.findings is not None else None
    gen = torch.Generator().manual_seed(cfg.seed)
    if resume and "batch_rng" in state:
        gen.set_state(state["batch_rng"])
    # Each command plans its own epochs (a resume may raise them) and fits them to its own budget.
    planned = cfg.epochs
    schedule.total = steps_per_epoch * planned
    for epoch in range(state["epoch"], cfg.epochs):
        if epoch >= planned:
            break
        t_epoch = time.time()
        model.train()
        if cfg.categories_per_batch > 0:
            batches = category_batches(train_feats.category, cfg.batch_size, cfg.categories_per_batch, gen)
        else:
            perm = torch.randperm(len(train_feats), generator=gen)
            batches = list(perm.split(cfg.batch_size))[:steps_per_epoch]
        bar = tqdm(batches, desc=f"epoch {epoch + 1}/{planned}", unit="step")
        for idx in bar:
            with torch.autocast(dev.type, dtype=placement.dtype, enabled=placement.autocast):
                photo_view, xray_view = _view_choice(train_feats, len(idx)), _view_choice(train_feats, len(idx))
                photo, xray, text = _embed(
                    model, train_feats, idx, dev, flip=cfg.hflip_xray, photo_view=photo_view, xray_view=xray_view
                )
                others = _second_views(
                    model,
                    train_feats,
                    idx,
                    dev,
                    cfg.loss_weights,
                    flip=cfg.hflip_xray,
                    photo_view=photo_view,
                    xray_view=xray_view,
                )
                loss, parts = total_loss(
                    findings_logits=model.findings_logits(xray.float()) if targets is not None else None,
                    findings_targets=targets[idx].to(dev) if targets is not None else None,
                    photo=photo.float(),
                    xray=xray.float(),
                    text=text.float(),
                    match=train_feats.label[idx].to(dev),
                    logit_scale=model.clip.logit_scale,
                    logit_bias=model.clip.logit_bias,
                    weights=cfg.loss_weights,
                    labels=_label_embeddings(model, label_feats, dev).float(),
                    category=train_category[idx].to(dev),
                    xray_category=train_content[idx].to(dev),
                    **others,
                )
            opt.zero_grad(set_to_none=True)
            scaler.scale(loss).backward()
            scaler.step(opt)
            scaler.update()
            sched.step()
            bar.set_postfix(loss=f"{loss.item():.3f}", verify=f"{parts['verify']:.3f}")
        val = evaluate_features(model, val_feats, dev, label_feats=label_feats)
        score = selection_score(val)
        # The same retrieval among as many training shipments: far above validation means memorising.
        seen = evaluate_features(model, train_feats, dev, first=len(val_feats))
        record = {
            "epoch": epoch + 1,
            **{k: v for k, v in val.items() if k not in ("cosine", "findings_probs")},
            "train_recall_at_1": round(seen["recall_at_1"], 4),
            "elapsed_s": round(time.time() - started, 1),
        }
        state["history"].append(record)
        tqdm.write(json.dumps(record))
        if score > state["best"]:
            state["best"], state["kept_epoch"] = score, epoch + 1
            save_file(model.trained_state_dict(), str(ckpt_dir / "best.safetensors"))
        state["epoch"] = epoch + 1
        if cfg.train_minutes is not None:
            # The latest epoch is the estimate, and the plan may grow back towards cfg.epochs: a first
            # epoch ran 1.7x slower than the next ones (caches warming, other work on the cores).
            fit = epochs_that_fit(
                done=epoch + 1,
                planned=cfg.epochs,
                seconds_per_epoch=time.time() - t_epoch,
                seconds_left=cfg.train_minutes * 60 - (time.time() - started),
            )
            if fit != planned:
                tqdm.write(
                    f"time budget of {cfg.train_minutes:g} minutes: {fit} of {cfg.epochs} epochs fit "
                    f"(planned {planned}); the learning-rate schedule now ends with the last of them"
                )
                planned = fit
                schedule.total = steps_per_epoch * planned
        state["batch_rng"] = gen.get_state()
        torch.save(
            {
                "model": model.trained_state_dict(),
                "optimizer": opt.state_dict(),
                "scheduler": sched.state_dict(),
                "rng": torch.get_rng_state(),
                "state": state,
            },
            ckpt_dir / "last.pt.tmp",
        )
        (ckpt_dir / "last.pt.tmp").replace(ckpt_dir / "last.pt")

    model.load_state_dict(load_file(str(ckpt_dir / "best.safetensors")), strict=False)
    val = evaluate_features(model, val_feats, dev, label_feats=label_feats)
    calibration = fit_calibration(val.pop("cosine"), val_feats.label.numpy())
    findings = None
    if "findings_probs" in val and val_feats.findings is not None:
        findings = findings_thresholds(
            val.pop("findings_probs"),
            val_feats.findings.numpy(),
            model.findings_classes,
            cfg.findings_false_alarm_rate,
            cfg.findings_margin,
        )
    run = {
        "train_seed": cfg.train_seed,
        "val_seed": cfg.val_seed,
        "device": str(dev),
        "device_name": torch.cuda.get_device_name(dev) if dev.type == "cuda" else platform.processor() or "cpu",
        "precision": str(placement.dtype).removeprefix("torch."),
        "total_seconds": round(time.time() - started, 1),
        "feature_seconds": round(feature_seconds, 1),
        "val": val,
        "kept_epoch": state["kept_epoch"],
        "history": state["history"],
        "data": {
            "train": data_source(cfg, "train", train_manifest, len(train_feats)),
            "val": data_source(cfg, "val", val_manifest, len(val_feats)),
        },
        "training": cfg.to_dict(),
        "init_from": init,
        "torch": torch.__version__,
        "platform": platform.platform(),
    }
    return {
        "model": model.cpu(),
        "model_config": model_cfg,
        "preprocess": preprocess,
        "calibration": calibration,
        "findings": findings,
        "run": run,
    }
