// Element builders and formatting. Text from the server only ever becomes text nodes or
// attribute values, never markup: nothing here parses HTML.

const SVG = 'http://www.w3.org/2000/svg';

function apply(el, attrs) {
  if (!attrs) return;
  for (const [key, value] of Object.entries(attrs)) {
    if (value == null || value === false) continue;
    if (key.startsWith('on') && typeof value === 'function') {
      el.addEventListener(key.slice(2), value);
    } else if (key === 'dataset') {
      Object.assign(el.dataset, value);
    } else if (key === 'value' && 'value' in el) {
      el.value = value;
    } else {
      el.setAttribute(key, value === true ? '' : String(value));
    }
  }
}

function append(el, children) {
  for (const child of children.flat(Infinity)) {
    if (child == null || child === false) continue;
    el.append(child instanceof Node ? child : String(child));
  }
}

/** An HTML element: h('a', {href: '#/x', class: 'link'}, 'text', child). */
export function h(tag, attrs, ...children) {
  const el = document.createElement(tag);
  apply(el, attrs);
  append(el, children);
  return el;
}

/** An SVG element, same form as h(). */
export function svg(tag, attrs, ...children) {
  const el = document.createElementNS(SVG, tag);
  apply(el, attrs);
  append(el, children);
  return el;
}

/** A card: a titled section of a page. */
export function card(title, attrs, ...children) {
  return h('section', {class: 'card', ...attrs}, title ? h('h2', null, title) : null, ...children);
}

/** A small coloured label for a job status or a task. */
export function badge(text, kind) {
  return h('span', {class: `badge badge-${kind || text}`}, text);
}

/** A definition list of [label, value] pairs, values already formatted (null rows are skipped). */
export function facts(pairs, attrs) {
  return h('dl', {class: 'facts', ...attrs}, pairs.filter((p) => p && p[1] != null && p[1] !== '').map(([k, v]) => [h('dt', null, k), h('dd', null, v)]));
}

/** A table from a header row and body rows (cells are nodes or text). */
export function table(head, rows, attrs) {
  return h('table', attrs,
    h('thead', null, h('tr', null, head.map((c) => h('th', null, c)))),
    h('tbody', null, rows.map((r) => (r instanceof Node ? r : h('tr', null, r.map((c) => h('td', null, c)))))));
}

/** An error box for an ApiError or any Error. */
export function errorBox(error, extra) {
  const code = error && error.code ? h('code', null, error.code) : null;
  return h('div', {class: 'error-box', role: 'alert'}, code, ' ', error ? error.message : 'unknown error', extra ? h('div', {class: 'hint'}, extra) : null);
}

export function number(x, digits = 4) {
  if (x == null || Number.isNaN(x)) return '–';
  if (x === 0) return '0';
  const a = Math.abs(x);
  if (a >= 1e6 || a < 1e-3) return x.toExponential(2);
  return Number(x.toPrecision(digits)).toString();
}

/** A score in 0...1 with a fixed number of decimals (1.000, 0.987). */
export function score(x, digits = 3) {
  return x == null ? '–' : x.toFixed(digits);
}

export function percent(x, digits = 1) {
  return x == null ? '–' : `${(x * 100).toFixed(digits)}%`;
}

export function integer(x) {
  return x == null ? '–' : Math.round(x).toLocaleString('en-US');
}

export function rate(samplesPerSecond) {
  if (samplesPerSecond == null) return '–';
  const units = [[1e9, 'G'], [1e6, 'M'], [1e3, 'k']];
  for (const [scale, unit] of units) if (samplesPerSecond >= scale) return `${(samplesPerSecond / scale).toFixed(1)}${unit} rows/s`;
  return `${samplesPerSecond.toFixed(0)} rows/s`;
}

export function duration(seconds) {
  if (seconds == null || !Number.isFinite(seconds)) return '–';
  if (seconds < 1) return `${Math.round(seconds * 1000)} ms`;
  if (seconds < 60) return `${seconds.toFixed(1)} s`;
  const m = Math.floor(seconds / 60), s = Math.round(seconds % 60);
  if (m < 60) return `${m} min ${s} s`;
  return `${Math.floor(m / 60)} h ${m % 60} min`;
}

/** "3 min ago" for an ISO 8601 time; the exact time goes in the title attribute. */
export function ago(iso) {
  if (!iso) return '–';
  const then = Date.parse(iso);
  if (Number.isNaN(then)) return iso;
  const s = Math.max(0, (Date.now() - then) / 1000);
  let text;
  if (s < 45) text = 'just now';
  else if (s < 3600) text = `${Math.round(s / 60)} min ago`;
  else if (s < 86400) text = `${Math.round(s / 3600)} h ago`;
  else text = `${Math.round(s / 86400)} d ago`;
  return h('time', {datetime: iso, title: new Date(then).toLocaleString()}, text);
}

/** Seconds between two ISO 8601 times (the second defaults to now). */
export function between(start, end) {
  if (!start) return null;
  const a = Date.parse(start), b = end ? Date.parse(end) : Date.now();
  return Number.isNaN(a) || Number.isNaN(b) ? null : Math.max(0, (b - a) / 1000);
}

/** The page heading with an optional subtitle and actions on the right. */
export function pageHead(title, subtitle, ...actions) {
  return h('header', {class: 'page-head'},
    h('div', null, h('h1', null, title), subtitle ? h('p', {class: 'subtitle'}, subtitle) : null),
    actions.length ? h('div', {class: 'page-actions'}, actions) : null);
}
