// What the track page's waveform (waveform.js) and the player bar's (player/waveform.js)
// share: fetching a track's peaks (GET /api/tracks/{id}/waveform, 404 until a worker
// computed them), drawing them on a canvas with the played part in the accent colour, and
// the seek slider around it: click or drag to seek, arrows ±5 s, PageUp/PageDown ±10 %,
// Home/End; role="slider" with aria-valuenow and aria-valuetext kept current.

const cache = new Map(); // track id -> Promise of the waveform, or of null (none yet)

/** The track's waveform ({duration, peaks, rms}), or null while it is not computed. */
export function fetchWaveform(trackId) {
  const id = String(trackId);
  if (!cache.has(id)) {
    const request = fetch(`/api/tracks/${id}/waveform`, { headers: { Accept: "application/json" } })
      .then((response) => (response.ok ? response.json() : null))
      .catch(() => null);
    cache.set(id, request);
    // A missing one may be computed soon: ask again next time rather than remember "none".
    request.then((found) => {
      if (!found) cache.delete(id);
    });
  }
  return cache.get(id);
}

export function clock(seconds) {
  if (!Number.isFinite(seconds) || seconds < 0) return "0:00";
  const s = Math.floor(seconds);
  return `${Math.floor(s / 60)}:${String(s % 60).padStart(2, "0")}`;
}

/** `values` grouped into `count` buckets by their largest member. */
function regroup(values, count) {
  if (values.length <= count) return values;
  const out = new Array(count);
  for (let i = 0; i < count; i++) {
    const from = Math.floor((i * values.length) / count);
    const to = Math.max(from + 1, Math.floor(((i + 1) * values.length) / count));
    let top = 0;
    for (let j = from; j < to; j++) top = Math.max(top, values[j]);
    out[i] = top;
  }
  return out;
}

/**
 * A waveform slider over `element` (role="slider", holding a <canvas>). `options`:
 * `seek(seconds, { byKey })` commits a seek (by a click or drag, or by a key); `position()` is the current time in seconds (or null when
 * this track is not the one playing); `bar` and `gap` are the bar width and spacing in CSS
 * pixels.
 */
export class WaveSlider {
  constructor(element, { seek, position, bar = 2, gap = 1 }) {
    this.element = element;
    this.canvas = element.querySelector("canvas");
    this.seekTo = seek;
    this.position = position;
    this.bar = bar;
    this.gap = gap;
    this.data = null;
    this.duration = Number(element.getAttribute("aria-valuemax")) || 0;
    this.dragging = null; // the fraction under the pointer while a drag lasts
    this.observer = new ResizeObserver(() => this.draw());
    this.observer.observe(element);
    element.addEventListener("pointerdown", (event) => this.down(event));
    element.addEventListener("pointermove", (event) => this.move(event));
    element.addEventListener("pointerup", (event) => this.up(event));
    element.addEventListener("pointercancel", () => this.cancel());
    element.addEventListener("keydown", (event) => this.key(event));
  }

  show(data) {
    this.data = data;
    if (data && data.duration) this.duration = data.duration;
    this.element.setAttribute("aria-valuemax", String(Math.floor(this.duration)));
    this.update();
  }

  fractionAt(event) {
    const box = this.element.getBoundingClientRect();
    return Math.min(1, Math.max(0, (event.clientX - box.left) / (box.width || 1)));
  }

  down(event) {
    if (event.button !== 0 || !this.duration) return;
    this.element.setPointerCapture?.(event.pointerId);
    this.dragging = this.fractionAt(event);
    this.update();
  }

  move(event) {
    if (this.dragging === null) return;
    this.dragging = this.fractionAt(event);
    this.update();
  }

  up(event) {
    if (this.dragging === null) return;
    const fraction = this.fractionAt(event);
    this.dragging = null;
    this.seekTo(fraction * this.duration, { byKey: false });
    this.update(fraction * this.duration);
  }

  cancel() {
    this.dragging = null;
    this.update();
  }

  key(event) {
    if (!this.duration) return;
    const now = this.position() ?? 0;
    const steps = {
      ArrowRight: now + 5,
      ArrowUp: now + 5,
      ArrowLeft: now - 5,
      ArrowDown: now - 5,
      PageUp: now + this.duration / 10,
      PageDown: now - this.duration / 10,
      Home: 0,
      // The last second, not the very end: that would skip to the next track at once.
      End: this.duration - 1,
    };
    if (!(event.key in steps) || event.altKey || event.ctrlKey || event.metaKey || event.shiftKey) return;
    event.preventDefault();
    event.stopPropagation(); // the player's own ←/→ shortcuts would seek a second time
    const target = Math.min(Math.max(0, this.duration - 0.25), Math.max(0, steps[event.key]));
    this.seekTo(target, { byKey: true });
    this.update(target);
  }

  /** Bring aria-valuenow/-valuetext and the drawing up to date (`at`: a time just sought). */
  update(at) {
    const now = at ?? (this.dragging !== null ? this.dragging * this.duration : this.position() ?? 0);
    this.element.setAttribute("aria-valuenow", String(Math.floor(now)));
    this.element.setAttribute("aria-valuetext", `${clock(now)} of ${clock(this.duration)}`);
    this.played = this.duration ? Math.min(1, now / this.duration) : 0;
    this.draw();
  }

  draw() {
    const canvas = this.canvas;
    if (!canvas || !this.data) return;
    const width = canvas.clientWidth;
    const height = canvas.clientHeight;
    if (!width || !height) return;
    const ratio = window.devicePixelRatio || 1;
    if (canvas.width !== Math.round(width * ratio) || canvas.height !== Math.round(height * ratio)) {
      canvas.width = Math.round(width * ratio);
      canvas.height = Math.round(height * ratio);
    }
    const context = canvas.getContext("2d");
    context.setTransform(ratio, 0, 0, ratio, 0, 0);
    context.clearRect(0, 0, width, height);
    const style = getComputedStyle(this.element);
    const playedColour = style.getPropertyValue("--accent").trim() || "#7c9cff";
    const restColour = style.getPropertyValue("--wave-rest").trim() || style.getPropertyValue("--muted").trim() || "#888";
    const step = this.bar + this.gap;
    const count = Math.max(1, Math.floor((width + this.gap) / step));
    const peaks = regroup(this.data.peaks, count);
    const rms = regroup(this.data.rms, count);
    const shown = peaks.length;
    const used = shown * step - this.gap;
    const scale = width / Math.max(used, 1);
    const middle = height / 2;
    const playedUpTo = (this.played || 0) * width;
    for (let i = 0; i < shown; i++) {
      const x = i * step * scale;
      const w = Math.max(1, this.bar * scale);
      const colour = x + w / 2 <= playedUpTo ? playedColour : restColour;
      const peak = Math.max(1, (peaks[i] / 255) * middle);
      const body = Math.max(1, (rms[i] / 255) * middle);
      context.fillStyle = colour;
      context.globalAlpha = 0.45;
      context.fillRect(x, middle - peak, w, peak * 2);
      context.globalAlpha = 1;
      context.fillRect(x, middle - body, w, body * 2);
    }
    context.globalAlpha = 1;
  }
}
