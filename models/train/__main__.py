"""`python -m models.train --config models/train/configs/default.json --out runs/default`."""

from __future__ import annotations

import argparse
import shlex
import sys
from pathlib import Path

from models.train.card import render_card
from models.train.config import TrainConfig
from models.train.export import write_artifact
from models.train.loop import train


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m models.train", description=__doc__)
    parser.add_argument("--config", required=True, type=Path, help="training config JSON")
    parser.add_argument("--out", required=True, type=Path, help="run folder: data, cache, checkpoints")
    parser.add_argument(
        "--artifact", type=Path, default=None, help="where to write the artifact (default: models/artifacts/<name>)"
    )
    parser.add_argument("--resume", action="store_true", help="continue from OUT/checkpoints/last.pt")
    parser.add_argument("--device", default=None, help="cpu or cuda (default: cuda when present)")
    args = parser.parse_args(argv)

    cfg = TrainConfig.load(args.config)
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
