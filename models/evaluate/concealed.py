"""How many concealed items an artifact's x-ray findings head reports, on generated concealment parcels.

python -m models.evaluate.concealed --artifact models/artifacts/scanmatch-effl0-minilm [--seed 23] [--n 400]

Each of the first `n` concealment shipments of `seed` hides one item of concern (knife, handgun,
battery pack, pills) among the declared goods; the x-ray goes through PNG as the service receives
it. Prints the share the findings head reports at its shipped thresholds, per item, and the misses.
"""

from __future__ import annotations

import argparse
import io
from collections import Counter
from pathlib import Path

from PIL import Image

from models.encoders.artifact import load_artifact
from models.encoders.device import choose_placement
from models.encoders.encoder import Encoder
from models.generator.synthetic import generate_shipment


def as_received(xray: Image.Image) -> Image.Image:
    """A generated x-ray after the PNG round trip a carrier's upload takes, as the service reads it."""
    buf = io.BytesIO()
    xray.save(buf, format="PNG")
    return Image.open(io.BytesIO(buf.getvalue())).convert("RGB")


def concealed_detection(encoder: Encoder, *, seed: int, n: int) -> tuple[Counter[str], Counter[str], list[str]]:
    """(hidden items per kind, reported per kind, misses as 'index category item')."""
    if encoder.findings is None:
        raise SystemExit(f"{encoder.version} has no x-ray findings head")
    hidden: Counter[str] = Counter()
    found: Counter[str] = Counter()
    misses: list[str] = []
    for index in range(n):
        shipment = generate_shipment(seed=seed, index=index, scenario="concealment")
        findings = encoder.findings(encoder.embed_images("xray", [as_received(shipment.xray)])[0])
        known, present = {f.item for f in findings}, {f.item for f in findings if f.present}
        for item in (c for c in shipment.contents[1:] if c in known):
            hidden[item] += 1
            if item in present:
                found[item] += 1
            else:
                misses.append(f"{index} {shipment.category} {item}")
    return hidden, found, misses


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m models.evaluate.concealed", description=__doc__.splitlines()[0])
    parser.add_argument("--artifact", type=Path, required=True, help="an artifact folder (weights + model card)")
    parser.add_argument("--seed", type=int, default=23)
    parser.add_argument("--n", type=int, default=400)
    args = parser.parse_args(argv)
    encoder = load_artifact(args.artifact, name=args.artifact.name, placement=choose_placement("cpu"))
    hidden, found, misses = concealed_detection(encoder, seed=args.seed, n=args.n)
    print(f"{args.artifact}: concealment shipments 0..{args.n - 1} of seed {args.seed}\n")
    print("| item | hidden | reported | share |\n|---|---|---|---|")
    for item in sorted(hidden):
        print(f"| {item} | {hidden[item]} | {found[item]} | {found[item] / hidden[item]:.3f} |")
    total, hit = sum(hidden.values()), sum(found.values())
    print(f"| all | {total} | {hit} | {hit / max(1, total):.3f} |")
    print("\nmissed (index, declared category, hidden item):", "; ".join(misses) or "none")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
