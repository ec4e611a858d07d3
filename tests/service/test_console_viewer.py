"""The x-ray viewer's pixel filters (service/api/console/static/viewer.js), run by Node where it is installed."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

VIEWER = Path(__file__).parents[2] / "service" / "api" / "console" / "static" / "viewer.js"
# Pseudo-colour display colours of models/generator/xray.py: organic orange, inorganic green, metal blue,
# dense metal near black, and the white of empty space.
PIXELS = {"organic": (238, 150, 45), "inorganic": (70, 165, 85), "metal": (40, 95, 215), "dense": (10, 10, 20)}
PIXELS["empty"] = (255, 255, 255)

SCRIPT = """
globalThis.document = { querySelectorAll: () => [] };
const { filterPixels } = await import(process.argv[1]);
const pixels = JSON.parse(process.argv[2]);
const source = Uint8ClampedArray.from(pixels.flatMap((p) => [...p, 255]));
const out = {};
for (const settings of JSON.parse(process.argv[3])) {
  const target = new Uint8ClampedArray(source.length);
  filterPixels(source, target, settings);
  const rgb = (_, i) => Array.from(target.slice(4 * i, 4 * i + 3));
  out[JSON.stringify(settings)] = Array.from({ length: pixels.length }, rgb);
}
console.log(JSON.stringify(out));
"""


def run_in_node(script: str, *arguments: object, what: str) -> Any:
    """Run a module script against viewer.js (its URL, then each argument as JSON); what it printed, parsed."""
    node = shutil.which("node")
    if node is None:
        pytest.skip(f"Node.js is not installed: the viewer's {what} run in the browser only")
    done = subprocess.run(
        [node, "--input-type=module", "-e", script, VIEWER.as_uri(), *(json.dumps(a) for a in arguments)],
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    return json.loads(done.stdout)


def run_filters(*settings: dict[str, object]) -> list[dict[str, tuple[int, ...]]]:
    names = list(PIXELS)
    results = run_in_node(SCRIPT, list(PIXELS.values()), list(settings), what="filters")
    return [dict(zip(names, map(tuple, results[json.dumps(s, separators=(",", ":"))]), strict=True)) for s in settings]


def test_material_emphasis_keeps_one_class_and_fades_the_rest() -> None:
    plain = {"negative": False, "contrast": 1}
    shown = run_filters(*({**plain, "emphasis": e} for e in ("all", "organic", "inorganic", "metal")))
    everything, organic, inorganic, metal = shown
    assert everything == PIXELS
    assert organic["organic"] == PIXELS["organic"] and inorganic["inorganic"] == PIXELS["inorganic"]
    assert metal["metal"] == PIXELS["metal"] and metal["dense"] == PIXELS["dense"]
    for kept, view in (("organic", organic), ("inorganic", inorganic), ("metal", metal)):
        for name, colour in view.items():
            if name != kept and not (kept == "metal" and name == "dense"):
                assert min(colour) >= 235 and max(colour) - min(colour) == 0, (kept, name, colour)


def test_negative_and_contrast() -> None:
    (negative,) = run_filters({"negative": True, "contrast": 1, "emphasis": "all"})
    assert negative["empty"] == (0, 0, 0) and negative["organic"] == (17, 105, 210)
    (stretched,) = run_filters({"negative": False, "contrast": 2, "emphasis": "all"})
    assert stretched["organic"] == (255, 172, 0)  # (v - 128) * 2 + 128, clamped


HEAT_SCRIPT = """
globalThis.document = { querySelectorAll: () => [] };
const { paintHeat, hottest } = await import(process.argv[1]);
const cells = JSON.parse(process.argv[2]);
const side = cells.length * 8;
const target = new Uint8ClampedArray(4 * side * side);
paintHeat(cells, Math.max(...cells.flat()), target);
const at = (x, y) => Array.from(target.slice(4 * (y * side + x), 4 * (y * side + x) + 4));
const centre = cells.map((row, r) => row.map((_, c) => at(8 * c + 4, 8 * r + 4)));
console.log(JSON.stringify({ hottest: hottest(cells), centre, ring: at(0, 8), edge: at(7, 12), beside: at(8, 12) }));
"""


def test_where_to_look_paints_heat_by_share_of_the_peak_and_rings_the_hottest_cell() -> None:
    cells = [[0.0, 0.1], [0.5, -0.2]]  # greying out the bottom-left cell changed the score most; negative: none
    painted = run_in_node(HEAT_SCRIPT, cells, what="overlay")
    assert painted["hottest"] == [1, 0]
    centre = painted["centre"]
    assert centre[0][0][3] == 0 and centre[1][1][3] == 0  # no heat: transparent
    assert centre[0][1][3] == 34 and centre[1][0][3] == 170  # 170 * 0.1 / 0.5, and the peak
    assert centre[0][1][:3] == [220, 20, 20]
    assert painted["ring"] == [255, 220, 0, 255]  # the hottest cell's top-left corner pixel
    assert painted["edge"] == [255, 220, 0, 255]  # its right edge
    assert painted["beside"] == [220, 20, 20, 0]  # the next cell: no ring, no heat


TOGGLE_SCRIPT = """
const listeners = (o) => Object.assign(o, { on: {}, addEventListener(t, f) { this.on[t] = f; } });
const drawn = [];
globalThis.document = {
  querySelectorAll: () => [],
  createElement: () => ({ hidden: false, getContext: () => ({
    createImageData: (w, h) => ({ data: new Uint8ClampedArray(4 * w * h) }), putImageData: (d) => drawn.push(d) }) }),
};
globalThis.Option = function (text, value, _, selected) { Object.assign(this, { text, value, selected }); };
const asked = [];
globalThis.fetch = async (url) => {
  asked.push(url);
  return { ok: true, json: async () => JSON.parse(process.argv[2]) };
};
const { WhereToLook } = await import(process.argv[1]);
const choice = listeners({ hidden: true, options: [] });
choice.append = (o) => { choice.options.push(o); if (o.selected) choice.value = o.value; };
const note = { textContent: "" }, stage = { children: [], append(c) { this.children.push(c); } };
const parts = { "[data-overlay-map]": choice, "[data-overlay-note]": note, ".stage": stage };
const figure = { dataset: {}, querySelector: (s) => parts[s] };
const toggle = listeners({ checked: false, dataset: { overlay: "/console/shipments/shp_1/where-to-look" } });
const overlay = new WhereToLook(figure, toggle);
const states = [];
const state = () => ({ hidden: stage.children[0].hidden, choiceHidden: choice.hidden, asked: asked.length,
  shown: figure.dataset.overlay ?? null, options: choice.options.map((o) => o.value), drawn: drawn.length });
states.push(state());
for (const checked of [true, false, true]) {
  toggle.checked = checked;
  toggle.on.change();
  await overlay.loading;
  states.push(state());
}
choice.value = "mismatch";
choice.on.change();
states.push(state());
console.log(JSON.stringify({ states, url: asked[0], side: stage.children[0].width }));
"""


def test_the_where_to_look_toggle_fetches_once_and_shows_the_chosen_map() -> None:
    heat = [[0.0] * 8 for _ in range(8)]
    overlay = {
        "cells": 8,
        "shown": "finding:handgun",
        "maps": [
            {"key": "mismatch", "label": "departs", "cells": heat, "peak": 0.0, "present": False},
            {"key": "finding:handgun", "label": "handgun", "cells": heat, "peak": 0.0, "present": True},
        ],
    }
    seen = run_in_node(TOGGLE_SCRIPT, overlay, what="overlay")
    before, on, off, again, switched = seen["states"]
    assert before == {"hidden": True, "choiceHidden": True, "asked": 0, "shown": None, "options": [], "drawn": 0}
    assert on == {
        "hidden": False,
        "choiceHidden": False,
        "asked": 1,
        "shown": "finding:handgun",  # the map the server says to open on
        "options": ["mismatch", "finding:handgun"],
        "drawn": 1,
    }
    assert off["hidden"] and off["choiceHidden"] and off["asked"] == 1
    assert not again["hidden"] and again["asked"] == 1 and again["options"] == on["options"]  # fetched once
    assert switched["shown"] == "mismatch" and switched["drawn"] == 2
    assert seen["url"] == "/console/shipments/shp_1/where-to-look" and seen["side"] == 8 * 8
