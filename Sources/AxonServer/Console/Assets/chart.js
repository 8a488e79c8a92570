// The loss curve of a job as SVG: train and validation loss per epoch, a log scale when the
// loss falls by more than a decade, a legend with the latest values and a hover read-out.

import {svg, number} from './dom.js';

const W = 760, H = 300;
const M = {left: 58, right: 18, top: 34, bottom: 38};
const SERIES = [
  {key: 'train', label: 'train loss', css: 'line-train'},
  {key: 'validation', label: 'validation loss', css: 'line-validation'},
];

function niceStep(span, count) {
  const raw = span / Math.max(1, count);
  const power = 10 ** Math.floor(Math.log10(raw));
  const unit = raw / power;
  return power * (unit <= 1 ? 1 : unit <= 2 ? 2 : unit <= 5 ? 5 : 10);
}

function linearTicks(lo, hi, count) {
  const step = niceStep(hi - lo, count);
  const ticks = [];
  for (let t = Math.ceil(lo / step) * step; t <= hi + step * 1e-9; t += step) ticks.push(Number(t.toPrecision(12)));
  return ticks;
}

// The y scale: log10 when every value is positive and they span ten times or more.
function yScale(values) {
  const finite = values.filter((v) => Number.isFinite(v));
  let lo = Math.min(...finite), hi = Math.max(...finite);
  if (!finite.length) { lo = 0; hi = 1; }
  if (lo > 0 && hi / lo >= 10) {
    // Bounds on the 1-2-5 steps around the data; ticks at the decades (and 2, 5 when few).
    const steps = [];
    for (let e = Math.floor(Math.log10(lo)) - 1; e <= Math.ceil(Math.log10(hi)); e++) for (const m of [1, 2, 5]) steps.push(m * 10 ** e);
    const bottom = Math.max(...steps.filter((s) => s <= lo)), top = Math.min(...steps.filter((s) => s >= hi));
    const a = Math.log10(bottom), b = Math.log10(top);
    const decades = b - a <= 2.5;
    const ticks = steps.filter((s) => s >= bottom * 0.999 && s <= top * 1.001 && (decades || Number.isInteger(Math.log10(s))));
    return {log: true, lo: bottom, hi: top, ticks, map: (v) => (Math.log10(v) - a) / (b - a || 1)};
  }
  const top = hi > 0 ? hi * 1.08 : 1;
  const ticks = linearTicks(0, top, 5);
  const max = ticks[ticks.length - 1] || top;
  return {log: false, lo: 0, hi: max, ticks, map: (v) => v / max};
}

export class LossChart {
  constructor() {
    this.points = [];
    this.pending = false;
    this.el = svg('svg', {class: 'loss-chart', viewBox: `0 0 ${W} ${H}`, role: 'img', 'aria-label': 'Loss per epoch'});
    this.el.addEventListener('mousemove', (e) => this.hover(e));
    this.el.addEventListener('mouseleave', () => this.hover(null));
    this.draw();
  }

  /** Replaces every point: [{epoch, train, validation}], in epoch order. */
  set(points) {
    this.points = points.slice();
    this.schedule();
  }

  /** Adds one epoch's point (a later copy of an epoch replaces the earlier). */
  add(point) {
    const last = this.points[this.points.length - 1];
    if (last && point.epoch <= last.epoch) {
      this.points = this.points.filter((p) => p.epoch < point.epoch);
    }
    this.points.push(point);
    this.schedule();
  }

  schedule() {
    if (this.pending) return;
    this.pending = true;
    requestAnimationFrame(() => { this.pending = false; this.draw(); });
  }

  draw() {
    const el = this.el;
    el.replaceChildren();
    const pts = this.points;
    const x0 = M.left, x1 = W - M.right, y0 = H - M.bottom, y1 = M.top;
    const present = SERIES.filter((s) => pts.some((p) => Number.isFinite(p[s.key])));
    if (!pts.length) {
      el.append(svg('text', {x: W / 2, y: H / 2, class: 'chart-empty', 'text-anchor': 'middle'}, 'Waiting for the first epoch…'));
      return;
    }
    const first = pts[0].epoch, last = Math.max(pts[pts.length - 1].epoch, first + 1);
    const sx = (epoch) => x0 + ((epoch - first) / (last - first)) * (x1 - x0);
    const y = yScale(pts.flatMap((p) => present.map((s) => p[s.key])));
    const sy = (v) => y0 - Math.min(1, Math.max(0, y.map(v))) * (y0 - y1);
    this.scale = {sx, sy, first, last, x0, x1};

    const grid = svg('g', {class: 'grid'});
    for (const t of y.ticks) {
      const py = sy(t).toFixed(1);
      grid.append(svg('line', {x1: x0, x2: x1, y1: py, y2: py}));
      grid.append(svg('text', {x: x0 - 8, y: py, dy: '0.32em', 'text-anchor': 'end'}, number(t, 3)));
    }
    for (const t of linearTicks(first, last, 7).filter((t) => Number.isInteger(t))) {
      const px = sx(t).toFixed(1);
      grid.append(svg('line', {x1: px, x2: px, y1: y0, y2: y0 + 5, class: 'tick'}));
      grid.append(svg('text', {x: px, y: y0 + 19, 'text-anchor': 'middle'}, String(t)));
    }
    grid.append(svg('line', {x1: x0, x2: x1, y1: y0, y2: y0, class: 'axis'}));
    grid.append(svg('text', {x: x1, y: H - 4, 'text-anchor': 'end', class: 'axis-label'}, 'epoch'));
    grid.append(svg('text', {x: 6, y: 16, class: 'axis-label'}, y.log ? 'loss (log scale)' : 'loss'));
    el.append(grid);

    for (const s of present) {
      const d = pts.filter((p) => Number.isFinite(p[s.key]))
        .map((p, i) => `${i ? 'L' : 'M'}${sx(p.epoch).toFixed(1)},${sy(p[s.key]).toFixed(1)}`).join('');
      const count = pts.filter((p) => Number.isFinite(p[s.key])).length;
      el.append(svg('path', {d, class: `line ${s.css}`, 'data-series': s.key, 'data-points': count}));
    }
    this.legend(present);
    this.cursor = svg('g', {class: 'cursor', visibility: 'hidden'});
    el.append(this.cursor);
  }

  legend(present) {
    const lastOf = (key) => {
      for (let i = this.points.length - 1; i >= 0; i--) if (Number.isFinite(this.points[i][key])) return this.points[i][key];
      return null;
    };
    let x = W - M.right;
    for (const s of present.slice().reverse()) {
      const text = `${s.label} ${number(lastOf(s.key), 3)}`;
      const width = 30 + text.length * 6.6;
      x -= width;
      this.el.append(svg('g', {class: 'legend', transform: `translate(${x.toFixed(0)},14)`},
        svg('line', {x1: 0, x2: 18, y1: 0, y2: 0, class: `line ${s.css}`}),
        svg('text', {x: 24, y: 0, dy: '0.32em'}, text)));
    }
  }

  hover(event) {
    const cursor = this.cursor, scale = this.scale;
    if (!cursor || !scale || !this.points.length) return;
    if (!event) { cursor.setAttribute('visibility', 'hidden'); return; }
    const box = this.el.getBoundingClientRect();
    const px = ((event.clientX - box.left) / box.width) * W;
    if (px < scale.x0 || px > scale.x1) { cursor.setAttribute('visibility', 'hidden'); return; }
    const epoch = scale.first + ((px - scale.x0) / (scale.x1 - scale.x0)) * (scale.last - scale.first);
    let best = this.points[0];
    for (const p of this.points) if (Math.abs(p.epoch - epoch) < Math.abs(best.epoch - epoch)) best = p;
    const x = scale.sx(best.epoch);
    const lines = [`epoch ${best.epoch}`];
    cursor.replaceChildren(svg('line', {x1: x, x2: x, y1: M.top, y2: H - M.bottom}));
    for (const s of SERIES) {
      if (!Number.isFinite(best[s.key])) continue;
      cursor.append(svg('circle', {cx: x, cy: scale.sy(best[s.key]), r: 3.5, class: s.css}));
      lines.push(`${s.label.split(' ')[0]} ${number(best[s.key], 4)}`);
    }
    const left = x > W / 2 ? x - 140 : x + 10;
    cursor.append(svg('rect', {x: left, y: M.top + 6, width: 130, height: 16 * lines.length + 8, rx: 4, class: 'tip'}));
    lines.forEach((t, i) => cursor.append(svg('text', {x: left + 8, y: M.top + 22 + 16 * i}, t)));
    cursor.setAttribute('visibility', 'visible');
  }
}
