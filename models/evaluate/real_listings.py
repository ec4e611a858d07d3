"""A real listing's category from its photo alone, its title alone and both, with and without a labelled
gallery of listing photos: issue 18's Must-show "listing category from a real photo alone >= 0.80".

python -m models.evaluate.real_listings --manifest datasets/real/manifest.jsonl [--json OUT.json]
    [--sizes 5 10 20] [--repeats 10] [--k 10] [--prior 20] [--seed 0]

Reads the real photos of the manifest (`models.evaluate.real`, `datasets/README.md`) and reports, per
category and overall, the share of photos whose listing category is named right by:
- `rule`: the service's rule without a gallery (`name_listing`: the ImageNet classifier where its
  P >= 0.5, else the trained encoder's nearest category name);
- `classifier`: the ImageNet classifier's top category, however unsure;
- `gallery_N`: the labelled listing-photo gallery alone (`models.encoders.photo_gallery`, the k
  nearest labelled photos in the untouched ImageNet EfficientNet-Lite0 space, similarity-weighted),
  with N labelled photos per category; `fused_N`: the service's rule with that gallery's reading;
- `words`: the title alone (`ListingWords`), on the photos that have one; `words_self_label`: the
  labels the service would give photos from their titles alone (`photo_gallery.self_label`: words
  at P >= `--words-from`, no sure classifier against them), on the photos it would label; `words_photo`: title and
  photo fused as the service does (`name_listing` with words), and `words_photo_gallery_N` with
  the gallery too.

Galleries are drawn at random `repeats` times (seeded): N photos of each category that has more
than N, so that at least one is left to query. Every photo not drawn is a query; the photos of a
category with N or fewer are all queries the gallery cannot name (it holds none of their category),
so they count against the gallery, as they would in a service whose operator labelled none. Figures
with a gallery are the mean over draws, each photo weighted by how often it was a query.
Research-licensed images: evaluation only.
"""

from __future__ import annotations

import argparse
import json
from collections import defaultdict
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image

from models.encoders import photo_gallery
from models.encoders.device import choose_placement
from models.encoders.listing_words import ListingWords
from models.encoders.photo_categories import (
    CATEGORIES,
    GalleryCategory,
    ImageNetPhotoCategories,
    NamedCategory,
    PhotoCategory,
    name_listing,
)
from models.encoders.registry import DEFAULT_ENCODER, load_encoder
from models.encoders.sentences import SentenceEncoder
from models.encoders.taxonomy import TAXONOMY
from models.evaluate.real import RealImage, read_real_manifest

SIZES = (5, 10, 20)


class Tally:
    """Right / asked per category, for one way of naming."""

    def __init__(self) -> None:
        self.right: dict[str, int] = defaultdict(int)
        self.asked: dict[str, int] = defaultdict(int)

    def add(self, truth: str, named: str | NamedCategory | None) -> None:
        said = named.category if isinstance(named, NamedCategory) else named
        self.asked[truth] += 1
        self.right[truth] += int(said == truth)

    def result(self) -> dict[str, Any]:
        n = sum(self.asked.values())
        per = {c: round(self.right[c] / self.asked[c], 4) for c in sorted(self.asked)}
        return {
            "accuracy": round(sum(self.right.values()) / n, 4) if n else None,
            "macro": round(float(np.mean(list(per.values()))), 4) if per else None,
            "n": n,
            "per_category": per,
        }


def trained_categories(photos: list[Image.Image], encoder_name: str) -> list[str]:
    """The category name the trained encoder's photo embedding is nearest (today's fallback)."""
    encoder = load_encoder(encoder_name)
    prompts = encoder.embed_texts([TAXONOMY[c].label for c in CATEGORIES])
    return [CATEGORIES[j] for j in (encoder.embed_images("photo", photos) @ prompts.T).argmax(axis=1)]


def gallery_reading(
    vectors: np.ndarray, labels: list[str], query: np.ndarray, *, k: int, prior: float, temperature: float
) -> GalleryCategory | None:
    """The labelled photos' vote for one query, as the service reads it (models.encoders.photo_gallery)."""
    sims = vectors @ query
    top = np.argsort(-sims)[:k]
    held = [(labels[j],) for j in top]
    return photo_gallery.read(sims[top].tolist(), held, labelled=len(labels), prior=prior, temperature=temperature)


def evaluate(
    rows: list[RealImage],
    vectors: np.ndarray,
    classified: list[PhotoCategory],
    trained: list[str],
    words: list[Any],
    *,
    sizes: tuple[int, ...],
    repeats: int,
    k: int,
    prior: float,
    seed: int,
    temperature: float = photo_gallery.TEMPERATURE,
    words_from: float = photo_gallery.WORDS_FROM,
) -> dict[str, Any]:
    """Every way of naming, per category and overall (see the module's docstring)."""
    truth = [r.category for r in rows]
    tallies: dict[str, Tally] = defaultdict(Tally)
    for i, t in enumerate(truth):
        tallies["rule"].add(t, name_listing(classified=classified[i], trained=trained[i], photo=True, text=False))
        tallies["classifier"].add(t, classified[i].category)
        if words[i] is not None:
            tallies["words"].add(t, words[i].category)
            label = photo_gallery.self_label(words[i], classified[i], words_from)
            if label is not None:
                tallies["words_self_label"].add(t, label)
            fused = name_listing(classified=classified[i], trained=trained[i], photo=True, text=True, words=words[i])
            tallies["words_photo"].add(t, fused)
    labels = np.array(truth)
    rng = np.random.default_rng(seed)
    galleried: dict[str, list[str]] = {}
    for size in sizes:
        usable = sorted(c for c in set(truth) if (labels == c).sum() > size)
        galleried[str(size)] = usable
        for _ in range(repeats):
            drawn = np.concatenate([rng.choice(np.flatnonzero(labels == c), size, replace=False) for c in usable])
            held = [truth[j] for j in drawn]
            for i in np.setdiff1d(np.arange(len(rows)), drawn):
                reading = gallery_reading(vectors[drawn], held, vectors[i], k=k, prior=prior, temperature=temperature)
                tallies[f"gallery_{size}"].add(truth[i], reading.category if reading else None)
                fused = name_listing(
                    classified=classified[i], trained=trained[i], photo=True, text=False, gallery=reading
                )
                tallies[f"fused_{size}"].add(truth[i], fused)
                if words[i] is not None:
                    both = name_listing(
                        classified=classified[i],
                        trained=trained[i],
                        photo=True,
                        text=True,
                        words=words[i],
                        gallery=reading,
                    )
                    tallies[f"words_photo_gallery_{size}"].add(truth[i], both)
    return {
        "photos": len(rows),
        "with_title": sum(w is not None for w in words),
        "per_category_photos": {c: truth.count(c) for c in sorted(set(truth))},
        "gallery_categories": galleried,
        "settings": {
            "sizes": list(sizes),
            "repeats": repeats,
            "k": k,
            "prior": prior,
            "temperature": temperature,
            "words_from": words_from,
            "seed": seed,
        },
        "results": {name: tally.result() for name, tally in tallies.items()},
    }


def render(report: dict[str, Any]) -> str:
    results = report["results"]
    lines = ["| reading | accuracy | macro | n |", "|---|---|---|---|"]
    for name, r in results.items():
        lines.append(f"| {name} | {r['accuracy']:.3f} | {r['macro']:.3f} | {r['n']} |")
    categories = list(report["per_category_photos"])
    names = list(results)
    lines += ["", "| category | photos | " + " | ".join(names) + " |", "|---|---" + "|---" * len(names) + "|"]
    for c in categories:
        cells = [results[n]["per_category"].get(c) for n in names]
        shown = " | ".join("" if v is None else f"{v:.2f}" for v in cells)
        lines.append(f"| {c} | {report['per_category_photos'][c]} | {shown} |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    doc = __doc__.split("\n\n")[0]
    parser = argparse.ArgumentParser(prog="python -m models.evaluate.real_listings", description=doc)
    parser.add_argument("--manifest", type=Path, required=True, help="real-image manifest.jsonl (datasets/README.md)")
    parser.add_argument("--sizes", type=int, nargs="+", default=list(SIZES), help="labelled photos per category")
    parser.add_argument("--repeats", type=int, default=10, help="random gallery draws")
    parser.add_argument("--k", type=int, default=10, help="nearest labelled photos that vote (the service's default)")
    parser.add_argument("--prior", type=float, default=20.0, help="the vote's evidence prior (the service's default)")
    parser.add_argument("--temperature", type=float, default=photo_gallery.TEMPERATURE, help="the vote's temperature")
    parser.add_argument(
        "--words-from", type=float, default=photo_gallery.WORDS_FROM, help="words' P from which they label the photo"
    )
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--encoder", default=DEFAULT_ENCODER, help="the trained encoder of today's fallback")
    parser.add_argument("--json", type=Path, help="also write the full results here")
    args = parser.parse_args(argv)
    if not args.manifest.is_file():
        parser.error(f"no manifest at {args.manifest}: build the real set first (datasets/README.md)")
    rows = [r for r in read_real_manifest(args.manifest) if r.modality == "photo"]
    photos = []
    for row in rows:
        with Image.open(args.manifest.parent / row.path) as img:
            photos.append(img.convert("RGB"))
    placement = choose_placement("cpu")
    classified = ImageNetPhotoCategories(placement)(photos)
    vectors = load_encoder("imagenet-effl0").embed_images("photo", photos)
    trained = trained_categories(photos, args.encoder)
    reader = ListingWords(SentenceEncoder(placement))
    titled = [i for i, r in enumerate(rows) if r.title]
    read = dict(zip(titled, reader([rows[i].title for i in titled]), strict=True))
    words = [read.get(i) for i in range(len(rows))]
    report = evaluate(
        rows,
        np.asarray(vectors),
        classified,
        trained,
        words,
        sizes=tuple(args.sizes),
        repeats=args.repeats,
        k=args.k,
        prior=args.prior,
        seed=args.seed,
        temperature=args.temperature,
        words_from=args.words_from,
    )
    report["manifest"] = str(args.manifest)
    print(render(report))
    if args.json:
        args.json.write_text(json.dumps(report, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
