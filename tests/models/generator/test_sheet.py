from __future__ import annotations

from pathlib import Path

from models.generator.sheet import draw_sheet, main


def test_sheet_has_one_row_per_category(tmp_path: Path) -> None:
    img = draw_sheet(seed=1, cell=40, render=64, categories=("smartphone", "book"))
    assert img.mode == "RGB" and img.size[1] == 22 + 2 * (40 + 4)
    out = tmp_path / "sheet.png"
    main(["--out", str(out), "--cell", "32", "--render", "48", "--categories", "toy"])
    assert out.stat().st_size > 0
