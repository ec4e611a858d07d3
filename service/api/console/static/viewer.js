// The image viewers of the shipment page: zoom and pan for both images; for the x-ray, the display
// functions screeners expect: negative, contrast, and one material class at a time from the scanner's
// pseudo-colour (orange organic, green inorganic or mixed, blue metal).
// Everything on the stage (the canvas, and the where-to-look layer) zooms and pans together.

const MAX_ZOOM = 32;

// Hue bands of the pseudo-colour, in degrees: models/generator/xray.py keys hue on the dual-energy ratio.
const BANDS = {
  organic: (h) => h >= 15 && h < 60,
  inorganic: (h) => h >= 60 && h < 175,
  metal: (h) => h >= 175 && h < 265,
};

function hueSaturationValue(r, g, b) {
  const max = Math.max(r, g, b), min = Math.min(r, g, b), d = max - min;
  let h = 0;
  if (d > 0) {
    if (max === r) h = 60 * (((g - b) / d) % 6);
    else if (max === g) h = 60 * ((b - r) / d + 2);
    else h = 60 * ((r - g) / d + 4);
  }
  return [(h + 360) % 360, max === 0 ? 0 : d / max, max / 255];
}

export function filterPixels(source, target, { negative, contrast, emphasis }) {
  const keep = BANDS[emphasis];
  for (let i = 0; i < source.length; i += 4) {
    let r = source[i], g = source[i + 1], b = source[i + 2];
    if (keep) {
      const [h, s, v] = hueSaturationValue(r, g, b);
      // Very dense matter is nearly black whatever its hue: it counts as metal.
      const isClass = emphasis === "metal" ? (s > 0.2 && keep(h)) || v < 0.12 : s > 0.2 && v >= 0.12 && keep(h);
      if (!isClass) {
        const grey = 235 + 0.08 * (0.3 * r + 0.59 * g + 0.11 * b);  // fade everything else to near white
        r = g = b = grey;
      }
    }
    if (contrast !== 1) {
      r = (r - 128) * contrast + 128; g = (g - 128) * contrast + 128; b = (b - 128) * contrast + 128;
    }
    if (negative) { r = 255 - r; g = 255 - g; b = 255 - b; }
    target[i] = r; target[i + 1] = g; target[i + 2] = b; target[i + 3] = source[i + 3];
  }
}

class Viewer {
  constructor(figure) {
    this.figure = figure;
    this.frame = figure.querySelector(".frame");
    this.stage = figure.querySelector(".stage");
    this.canvas = figure.querySelector("canvas");
    this.context = this.canvas.getContext("2d", { willReadFrequently: true });
    this.filters = { negative: false, contrast: 1, emphasis: "all" };
    this.scale = 1;
    this.x = 0;
    this.y = 0;
    this.image = new Image();
    this.image.addEventListener("load", () => this.loaded());
    this.image.addEventListener("error", () => this.failed());
    this.image.src = figure.dataset.src;
    this.bind();
  }

  loaded() {
    const { naturalWidth: w, naturalHeight: h } = this.image;
    this.canvas.width = w;
    this.canvas.height = h;
    this.stage.style.width = `${w}px`;
    this.stage.style.height = `${h}px`;
    this.context.drawImage(this.image, 0, 0);
    this.original = this.context.getImageData(0, 0, w, h);
    this.figure.dataset.naturalWidth = String(w);
    this.figure.dataset.naturalHeight = String(h);
    this.figure.dataset.loaded = "true";
    this.fit();
  }

  failed() {
    this.figure.dataset.loaded = "false";
    this.frame.textContent = "The image could not be loaded.";
  }

  draw() {
    if (!this.original) return;
    const { negative, contrast, emphasis } = this.filters;
    if (!negative && contrast === 1 && emphasis === "all") {
      this.context.putImageData(this.original, 0, 0);
      return;
    }
    const out = this.context.createImageData(this.original.width, this.original.height);
    filterPixels(this.original.data, out.data, this.filters);
    this.context.putImageData(out, 0, 0);
  }

  apply() {
    this.stage.style.transform = `translate(${this.x}px, ${this.y}px) scale(${this.scale})`;
    this.figure.dataset.zoom = this.scale.toFixed(3);
  }

  fit() {
    if (!this.original) return;
    const { clientWidth: fw, clientHeight: fh } = this.frame;
    this.scale = Math.min(fw / this.canvas.width, fh / this.canvas.height);
    this.x = (fw - this.canvas.width * this.scale) / 2;
    this.y = (fh - this.canvas.height * this.scale) / 2;
    this.apply();
  }

  zoomAt(factor, px, py) {
    const fitted = Math.min(this.frame.clientWidth / this.canvas.width, this.frame.clientHeight / this.canvas.height);
    const scale = Math.min(MAX_ZOOM, Math.max(fitted / 2, this.scale * factor));
    // Keep the image point under (px, py) where it is.
    this.x = px - ((px - this.x) * scale) / this.scale;
    this.y = py - ((py - this.y) * scale) / this.scale;
    this.scale = scale;
    this.apply();
  }

  zoomCentre(factor) {
    this.zoomAt(factor, this.frame.clientWidth / 2, this.frame.clientHeight / 2);
  }

  bind() {
    this.frame.addEventListener("wheel", (event) => {
      event.preventDefault();
      const box = this.frame.getBoundingClientRect();
      this.zoomAt(event.deltaY < 0 ? 1.25 : 0.8, event.clientX - box.left, event.clientY - box.top);
    }, { passive: false });
    let drag = null;
    this.frame.addEventListener("pointerdown", (event) => {
      drag = { x: event.clientX - this.x, y: event.clientY - this.y };
      this.frame.setPointerCapture(event.pointerId);
      this.frame.classList.add("dragging");
    });
    this.frame.addEventListener("pointermove", (event) => {
      if (!drag) return;
      this.x = event.clientX - drag.x;
      this.y = event.clientY - drag.y;
      this.apply();
    });
    const stop = () => { drag = null; this.frame.classList.remove("dragging"); };
    this.frame.addEventListener("pointerup", stop);
    this.frame.addEventListener("pointercancel", stop);
    const actions = {
      "zoom-in": () => this.zoomCentre(1.5),
      "zoom-out": () => this.zoomCentre(1 / 1.5),
      fit: () => this.fit(),
      actual: () => this.zoomCentre(1 / this.scale),
    };
    for (const button of this.figure.querySelectorAll("[data-action]")) {
      button.addEventListener("click", () => actions[button.dataset.action]());
    }
    for (const control of this.figure.querySelectorAll("[data-filter]")) {
      control.addEventListener("input", () => {
        const name = control.dataset.filter;
        this.filters[name] = control.type === "checkbox" ? control.checked
          : control.type === "range" ? Number(control.value) : control.value;
        this.draw();
      });
    }
  }
}

// Where to look: the server's occlusion saliency grid (service/matching/where_to_look.py) as a layer on
// the stage, so it zooms and pans with the x-ray. Each cell is CELL_PX canvas pixels; the layer is
// stretched over the whole image. Heat is red, its opacity proportional to the cell's share of the map's
// peak; the hottest cell is ringed in yellow.
const CELL_PX = 8;
const MAX_ALPHA = 170;

export function hottest(cells) {
  let best = [0, 0];
  cells.forEach((row, r) => row.forEach((v, c) => { if (v > cells[best[0]][best[1]]) best = [r, c]; }));
  return best;
}

export function paintHeat(cells, peak, target) {
  const n = cells.length, side = n * CELL_PX;
  const [hr, hc] = hottest(cells);
  for (let y = 0; y < side; y++) {
    for (let x = 0; x < side; x++) {
      const r = Math.floor(y / CELL_PX), c = Math.floor(x / CELL_PX), i = 4 * (y * side + x);
      const ring = peak > 0 && r === hr && c === hc
        && (x % CELL_PX === 0 || y % CELL_PX === 0 || x % CELL_PX === CELL_PX - 1 || y % CELL_PX === CELL_PX - 1);
      const share = peak > 0 ? Math.max(0, cells[r][c]) / peak : 0;
      [target[i], target[i + 1], target[i + 2], target[i + 3]] = ring ? [255, 220, 0, 255]
        : [220, 20, 20, Math.round(MAX_ALPHA * share)];
    }
  }
}

export class WhereToLook {
  constructor(figure, toggle) {
    this.figure = figure;
    this.toggle = toggle;
    this.choice = figure.querySelector("[data-overlay-map]");
    this.note = figure.querySelector("[data-overlay-note]");
    this.layer = document.createElement("canvas");
    this.layer.className = "layer where-to-look";
    this.layer.hidden = true;
    figure.querySelector(".stage").append(this.layer);
    toggle.addEventListener("change", () => this.show());
    this.choice.addEventListener("change", () => this.draw());
  }

  show() {
    this.layer.hidden = this.choice.hidden = !this.toggle.checked;
    if (this.toggle.checked && !this.loading) this.loading = this.load();  // fetched once, however often toggled
  }

  async load() {
    this.note.textContent = "computing where to look…";
    const answer = await fetch(this.toggle.dataset.overlay, { credentials: "same-origin" });
    if (!answer.ok) {
      this.note.textContent = "where to look could not be computed";
      this.loading = null;  // the next toggle asks again
      return;
    }
    this.overlay = await answer.json();
    if (!this.overlay.maps.length) {
      this.note.textContent = "nothing to show: no listing photo and no findings to explain";
      return;
    }
    for (const map of this.overlay.maps) {
      this.choice.append(new Option(map.label, map.key, false, map.key === this.overlay.shown));
    }
    this.draw();
  }

  draw() {
    if (!this.overlay) return;
    const map = this.overlay.maps.find((m) => m.key === this.choice.value);
    const side = map.cells.length * CELL_PX;
    this.layer.width = this.layer.height = side;
    const context = this.layer.getContext("2d");
    const image = context.createImageData(side, side);
    paintHeat(map.cells, map.peak, image.data);
    context.putImageData(image, 0, 0);
    this.figure.dataset.overlay = map.key;
    this.note.textContent = `${map.label}: the redder the cell, the more greying it out changes this `
      + `(peak ${map.peak.toFixed(3)}); the yellow ring marks the most`;
  }
}

for (const figure of document.querySelectorAll("figure.viewer[data-src]")) {
  new Viewer(figure);
  const toggle = figure.querySelector("[data-overlay]");
  if (toggle) new WhereToLook(figure, toggle);
}
