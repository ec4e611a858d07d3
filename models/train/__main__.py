"""`python -m models.train --config models/train/configs/default.json --out runs/default`.

Fine-tuning on the operator's own paired data (datasets/README.md's manifest: `scanmatch export-examined
DIR` writes one from the examined shipments, or an imported paired set):

    python -m models.train --config models/train/configs/adapt.json --out runs/adapt \
        --train-manifest DIR/manifest.jsonl [--val-manifest V.jsonl | --val-share 0.2] \
        --artifact $SCANMATCH_DATA_DIR/models/NAME

starts from the shipped artifact (the config's `init_from`), writes a new artifact with its card, and
`scanmatch reindex --model NAME` prepares it for serving.
"""

from __future__ import annotations

import argparse
import shlex
import sys
from pathlib import Path

from models.train.card import render_card
from models.train.config import TrainConfig
from models.train.export import write_artifact
from models.train.loop import train
from models.train.operator_data import with_data


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m models.train", description=__doc__)
    parser.add_argument("--config", required=True, type=Path, help="training config JSON")
    parser.add_argument("--out", required=True, type=Path, help="run folder: data, cache, checkpoints")
    parser.add_argument(
        "--artifact", type=Path, default=None, help="where to write the artifact (default: models/artifacts/<name>)"
    )
    parser.add_argument("--resume", action="store_true", help="continue from OUT/checkpoints/last.pt")
    parser.add_argument("--device", default=None, help="cpu or cuda (default: cuda when present)")
    parser.add_argument("--name", default=None, help="the model's name (default: the config's)")
    parser.add_argument("--train-manifest", type=Path, default=None, help="paired manifest to train on")
    parser.add_argument("--val-manifest", type=Path, default=None, help="paired manifest to validate on")
    parser.add_argument(
        "--val-share",
        type=float,
        default=0.2,
        help="with --train-manifest and no --val-manifest: the share of its shipments held out to validate on",
    )
    parser.add_argument(
        "--train-minutes", type=float, default=None, help="wall-clock budget of the run (default: the config's)"
    )
    args = parser.parse_args(argv)

    cfg = TrainConfig.load(args.config)
    if args.train_minutes is not None:
        cfg = cfg.model_copy(update={"train_minutes": args.train_minutes})
    try:
        cfg = with_data(
            cfg, args.out, name=args.name, train=args.train_manifest, val=args.val_manifest, share=args.val_share
        )
    except ValueError as error:
        parser.error(str(error))
    result = train(cfg, args.out, resume=args.resume, device=args.device)
    command = "python -m models.train " + " ".join(shlex.quote(a) for a in (argv if argv is not None else sys.argv[1:]))
    folder = args.artifact or Path("models/artifacts") / cfg.name
    run = {"command": command, **result["run"]}
    card = render_card(
        model_config=result["model_config"], calibration=result["calibration"], findings=result["findings"], run=run
    )
    sums = write_artifact(
        folder,
        model=result["model"],
        model_config=result["model_config"],
        preprocess=result["preprocess"],
        trained=True,
        calibration=result["calibration"],
        findings=result["findings"],
        card=card,
        provenance=run,
    )
    print(f"artifact written to {folder}: {sums}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
