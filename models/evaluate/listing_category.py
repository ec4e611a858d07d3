"""How often an artifact names a listing's category from its photo and text, as the service does.

python -m models.evaluate.listing_category --artifact models/artifacts/scanmatch-effl0-minilm [--n 150] [--seed 31]
    [--template "a photo of a {}"]

The service takes a listing's category (for the x-ray findings a listing declares, and the HTS
check) from the listing's own words read by the untouched sentence encoder
(`models.encoders.listing_words`) fused with the ImageNet classifier's reading of the product
picture (`models.encoders.photo_categories.name_listing`). Prints the accuracy on `n` generated
match shipments of `seed` from the trained encoder's photo, text and both, the words alone, and
the service's rule.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

from models.encoders.artifact import load_artifact
from models.encoders.device import choose_placement
from models.encoders.listing_words import ListingWords
from models.encoders.photo_categories import ImageNetPhotoCategories, name_listing
from models.encoders.sentences import SentenceEncoder
from models.encoders.taxonomy import TAXONOMY
from models.generator.synthetic import generate_shipment


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m models.evaluate.listing_category", description=__doc__)
    parser.add_argument("--artifact", required=True, type=Path)
    parser.add_argument("--n", type=int, default=150)
    parser.add_argument("--seed", type=int, default=31)
    parser.add_argument("--template", default="{}", help="prompt wording around each label (the service: '{}')")
    args = parser.parse_args(argv)

    categories = tuple(TAXONOMY)
    shipments = [generate_shipment(seed=args.seed, index=i, scenario="match") for i in range(args.n)]
    encoder = load_artifact(args.artifact, name=args.artifact.name, placement=choose_placement("cpu"))
    prompts = encoder.embed_texts([args.template.format(TAXONOMY[c].label) for c in categories])
    photo = encoder.embed_images("photo", [s.photo for s in shipments]) @ prompts.T
    text = encoder.embed_texts([s.description for s in shipments]) @ prompts.T
    truth = np.array([categories.index(s.category) for s in shipments])
    where = f"{args.n} match shipments of seed {args.seed}, prompts {args.template!r}"
    print(f"{args.artifact}: listing category of {where}")
    print("| evidence | accuracy |\n|---|---|")
    for name, scores in (("photo", photo), ("text", text), ("photo + text", photo + text)):
        print(f"| {name} | {float((scores.argmax(1) == truth).mean()):.3f} |")
    classified = ImageNetPhotoCategories(encoder.placement)([s.photo for s in shipments])
    words = ListingWords(SentenceEncoder(encoder.placement))([s.description for s in shipments])
    right = np.mean([w.category == s.category for w, s in zip(words, shipments, strict=True)])
    print(f"| text, the sentence encoder's reading of the words | {float(right):.3f} |")
    trained = [categories[j] for j in (photo + text).argmax(1)]
    named = [
        name_listing(classified=c, trained=t, photo=True, text=True, words=w)
        for c, t, w in zip(classified, trained, words, strict=True)
    ]
    right = np.mean([n is not None and n.category == s.category for n, s in zip(named, shipments, strict=True)])
    print(f"| photo + text: words and the ImageNet classifier fused (the service) | {float(right):.3f} |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
