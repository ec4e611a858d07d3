// The image viewers of the shipment page: zoom and pan for both images; for the x-ray, the display
// functions screeners expect: negative, contrast, and one material class at a time from the scanner's
// pseudo-colour (orange organic, green inorganic or mixed, blue metal).
// Everything on the stage (the canvas, and any overlay layer added to it later) zooms and pans together.

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

for (const figure of document.querySelectorAll("figure.viewer[data-src]")) {
  new Viewer(figure);
}
