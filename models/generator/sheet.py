"""Contact sheet for judging realism: one row per category, photo/x-ray pairs side by side.

``python -m models.generator.sheet [--out docs/synthetic-sheet.png] [--seed 7] [--cell 128]``
"""

from __future__ import annotations

import argparse
from pathlib import Path

from PIL import Image, ImageDraw

from models.generator.synthetic import CATEGORIES, generate_shipment

_COLUMNS = (("match", "photo"), ("match", "xray"), ("match", "photo"), ("match", "xray"),
            ("concealment", "xray"), ("substitution", "xray"))
_HEAD = ("photo", "x-ray (same item)", "photo", "x-ray (same item)", "x-ray: + concealed",
         "x-ray: substituted")


def draw_sheet(*, seed: int = 7, cell: int = 128, render: int = 256,
               categories: tuple[str, ...] = CATEGORIES) -> Image.Image:
    """Render the sheet; each row uses fixed indices so rows are stable between runs."""
    label_w, head_h, gap = 118, 22, 4
    w = label_w + len(_COLUMNS) * (cell + gap)
    h = head_h + len(categories) * (cell + gap)
    sheet = Image.new("RGB", (w, h), (255, 255, 255))
    draw = ImageDraw.Draw(sheet)
    for j, text in enumerate(_HEAD):
        draw.text((label_w + j * (cell + gap) + 3, 5), text, fill=(0, 0, 0))
    for i, cat in enumerate(categories):
        y = head_h + i * (cell + gap)
        draw.text((4, y + cell // 2 - 6), cat, fill=(0, 0, 0))
        cache: dict[tuple[str, int], object] = {}
        for j, (scenario, modality) in enumerate(_COLUMNS):
            pair = j // 2 if j < 4 else j
            key = (scenario, pair)
            if key not in cache:
                cache[key] = generate_shipment(seed=seed, index=1000 * i + pair, size=render,
                                               scenario=scenario, category=cat)
            img = getattr(cache[key], modality).resize((cell, cell), Image.Resampling.LANCZOS)
            sheet.paste(img, (label_w + j * (cell + gap), y))
    return sheet


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(prog="python -m models.generator.sheet")
    ap.add_argument("--out", type=Path, default=Path("docs/synthetic-sheet.png"))
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--cell", type=int, default=128)
    ap.add_argument("--render", type=int, default=256)
    ap.add_argument("--categories", default=None, help="comma-separated subset")
    args = ap.parse_args(argv)
    cats = tuple(args.categories.split(",")) if args.categories else CATEGORIES
    args.out.parent.mkdir(parents=True, exist_ok=True)
    draw_sheet(seed=args.seed, cell=args.cell, render=args.render, categories=cats).save(args.out, optimize=True)
    print(args.out)


if __name__ == "__main__":
    main()
