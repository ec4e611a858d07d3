"""`python -m models.train.text_features --config C --out RUN`: fill RUN's text-feature cache before training.

The listing texts of generated splits come from the generator's own text stream, without rendering
a photo or an x-ray, so this takes a minute or two on a CPU. A machine that then trains from RUN
(copy `RUN/cache/text-*.pt` there) never needs the frozen MiniLM weights: `python -m models.train`
loads them only for a text missing from the cache.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from tqdm import tqdm

from models.encoders.architecture import build_model
from models.generator.manifest import read_manifest
from models.train.config import TrainConfig
from models.train.features import TextFeatures, label_texts, listing_text


def listing_texts(*, seed: int, n: int, mix: dict[str, float] | None) -> list[str]:
    """The texts training reads (`listing_text`) for generated shipments 0..n-1 of stream `seed`."""
    from models.generator.synthetic import generate_listing

    texts = []
    for i in tqdm(range(n), desc=f"listings of seed {seed}", unit="listing"):
        listing = generate_listing(seed=seed, index=i, mix=mix)
        texts.append(listing_text(listing.title, listing.description))
    return texts


def split_texts(cfg: TrainConfig) -> dict[str, list[str]]:
    """Per split ("train", "val"), its listing texts in manifest order."""
    out = {}
    for split, manifest, seed, n in (
        ("train", cfg.train_manifest, cfg.train_seed, cfg.n_train),
        ("val", cfg.val_manifest, cfg.val_seed, cfg.n_val),
    ):
        if manifest:
            out[split] = [listing_text(r.title, r.description) for r in read_manifest(Path(manifest))]
        else:
            out[split] = listing_texts(seed=seed, n=n, mix=cfg.mix)
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m models.train.text_features", description=__doc__)
    parser.add_argument("--config", required=True, type=Path, help="training config JSON")
    parser.add_argument("--out", required=True, type=Path, help="run folder (its cache/ is filled)")
    args = parser.parse_args(argv)

    cfg = TrainConfig.load(args.config)
    model_cfg = json.loads(Path(cfg.model_config_path).read_text())
    # Only the text tower runs here: the image towers keep their random initialisation.
    model = build_model(model_cfg, load_base=False)
    text = TextFeatures(model, model_cfg, args.out / "cache")
    # The taxonomy's labels too: the label losses and the listing-category check embed them.
    for split, texts in (split_texts(cfg) | {"labels": label_texts()}).items():
        feats = text(texts, split)
        print(f"{split}: {tuple(feats.shape)} -> {text.path(texts, split)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
