"""`python -m models.train.findings --artifact DIR`: set an artifact's x-ray findings thresholds again.

Training sets each item's alarm threshold on its validation split (`loop.findings_thresholds`).
When that rule changes, this applies it to a trained artifact without training again: it renders
the artifact's validation shipments (the seed its provenance records, as training wrote them),
reads their x-rays through PNG as the service receives them (`as_received`), and rewrites the thresholds in
`config.json`, the findings table of the model card, and the checksums. The weights are untouched.
"""

from __future__ import annotations

import argparse
import json
import re
import shlex
import sys
from pathlib import Path

import numpy as np
from tqdm import tqdm

from models.encoders.artifact import CARD, CONFIG, load_artifact, write_checksums
from models.encoders.device import choose_placement
from models.evaluate.concealed import as_received
from models.generator.synthetic import generate_shipment
from models.train.card import findings_table
from models.train.config import DEFAULT_MIX, TrainConfig
from models.train.loop import findings_thresholds


def validation_probabilities(folder: Path, *, seed: int, n: int, size: int) -> tuple[np.ndarray, np.ndarray, tuple]:
    """(probabilities (n, k), targets (n, k), items) of the findings head on validation shipments 0..n-1."""
    encoder = load_artifact(folder, name=folder.name, placement=choose_placement("cpu"))
    if encoder.findings is None:
        raise SystemExit(f"{folder} has no x-ray findings head: nothing to set")
    items = encoder.findings.items
    probs, targets = [], []
    for start in tqdm(range(0, n, 32), desc=f"validation x-rays of seed {seed}", unit="batch"):
        indices = range(start, min(n, start + 32))
        batch = [generate_shipment(seed=seed, index=i, size=size, mix=DEFAULT_MIX) for i in indices]
        probs.append(encoder.findings.probabilities(encoder.embed_images("xray", [as_received(s.xray) for s in batch])))
        targets.append(np.array([[float(item in s.contents) for item in items] for s in batch], np.float32))
    return np.concatenate(probs), np.concatenate(targets), items


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m models.train.findings", description=__doc__)
    parser.add_argument("--artifact", required=True, type=Path, help="artifact folder (its thresholds are rewritten)")
    defaults = TrainConfig()
    parser.add_argument("--n", type=int, default=defaults.n_val, help="validation shipments (training's n_val)")
    parser.add_argument("--size", type=int, default=defaults.source_size, help="source size (training's)")
    parser.add_argument("--rate", type=float, default=defaults.findings_false_alarm_rate)
    parser.add_argument("--margin", type=float, default=defaults.findings_margin)
    args = parser.parse_args(argv)

    config_path = args.artifact / CONFIG
    cfg = json.loads(config_path.read_text())
    seed = cfg.get("provenance", {}).get("val_seed")
    if seed is None:
        raise SystemExit(f"{config_path} records no validation seed; it was not written by models.train")
    probs, targets, items = validation_probabilities(args.artifact, seed=int(seed), n=args.n, size=args.size)
    findings = findings_thresholds(probs, targets, tuple(items), args.rate, args.margin)
    command = "python -m models.train.findings " + " ".join(shlex.quote(a) for a in (argv or sys.argv[1:]))
    cfg["findings"] = findings
    cfg["provenance"]["findings_thresholds"] = {
        "command": command,
        "n_val": args.n,
        "rate": args.rate,
        "margin": args.margin,
    }
    config_path.write_text(json.dumps(cfg, indent=2) + "\n")

    card = args.artifact / CARD
    table = findings_table(findings, args.rate, args.margin, set_again_by=command)
    section = re.compile(r"\n### X-ray findings \(validation.*?(?=\n## )", flags=re.S)
    text, replaced = section.subn(lambda _: table, card.read_text())
    if not replaced:
        raise SystemExit(f"{card} has no findings table to replace")
    card.write_text(text)
    write_checksums(args.artifact)
    for item, f in findings.items():
        rates = f"detection {f['detection_rate']}, false alarms {f['false_alarm_rate']}"
        print(f"{item}: threshold {f['threshold']}, {rates} on validation")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
