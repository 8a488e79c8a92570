// Models: every model with its serving version, the versions kept, and its headline metric.
// The list follows GET /events and reloads when a model is installed, rolled back or deleted.

import {get, follow} from './api.js';
import {h, badge, number, percent, integer, ago, pageHead} from './dom.js';

// Details (versions, metrics) are one request per model: at most this many, a few at a time.
const DETAILED = 100, PARALLEL = 4;

/** The figure that says how good a model is, from its metrics. */
export function headline(metrics) {
  if (!metrics) return null;
  if (metrics.accuracy != null) return {label: 'accuracy', text: percent(metrics.accuracy), value: metrics.accuracy};
  if (metrics.r2 != null) return {label: 'R²', text: number(metrics.r2, 3), value: Math.max(0, metrics.r2)};
  if (metrics.rmse != null) return {label: 'RMSE', text: number(metrics.rmse, 3)};
  return null;
}

function quality(metrics) {
  const best = headline(metrics);
  if (!best) return h('span', {class: 'muted'}, '–');
  const meter = best.value != null ? h('span', {class: 'meter'}, h('span', {class: 'meter-fill'})) : null;
  if (meter) meter.firstChild.style.width = `${(best.value * 100).toFixed(1)}%`;
  return h('span', {class: 'quality'}, meter, h('span', null, best.text, ' ', h('span', {class: 'muted'}, best.label)));
}

function row(model) {
  const cells = {
    versions: h('td', {class: 'muted'}, '…'),
    quality: h('td', null, h('span', {class: 'muted'}, '…')),
  };
  const tr = h('tr', {dataset: {model: model.name}},
    h('td', null, h('a', {href: `#/models/${encodeURIComponent(model.name)}`, class: 'strong'}, model.name)),
    h('td', null, badge(model.task)),
    h('td', null, `v${model.version}`),
    cells.versions,
    h('td', {class: 'num'}, `${model.inputs} → ${model.outputs}`),
    h('td', {class: 'num'}, integer(model.parameter_count)),
    cells.quality,
    h('td', null, ago(model.created_at)));
  return {name: model.name, tr, cells};
}

async function fillDetails(rows, signal) {
  const queue = rows.slice(0, DETAILED);
  const worker = async () => {
    for (let next = queue.shift(); next && !signal.aborted; next = queue.shift()) {
      try {
        const detail = await get(`/models/${encodeURIComponent(next.name)}`, {signal});
        next.cells.versions.replaceChildren(`${detail.versions.length} kept`);
        next.cells.quality.replaceChildren(quality(detail.metrics));
      } catch (error) {
        if (signal.aborted) return;
        next.cells.quality.replaceChildren(h('span', {class: 'muted', title: error.message}, 'unavailable'));
      }
    }
  };
  await Promise.all(Array.from({length: PARALLEL}, worker));
}

async function draw(main, signal) {
  const list = await get('/models', {signal});
  const rows = list.models.map(row);
  const train = h('a', {class: 'button primary', href: '#/train'}, 'Train a model');
  const page = h('div', {class: 'page'},
    pageHead('Models', list.models.length === 1 ? '1 model serving' : `${list.models.length} models serving`, train));
  if (!rows.length) {
    page.append(h('section', {class: 'card empty'},
      h('h2', null, 'No models yet'),
      h('p', null, 'Upload a CSV on the Train page: Axon picks the task, the network and the settings from the data, and you can watch the loss fall.'),
      h('a', {class: 'button primary', href: '#/train'}, 'Train from a CSV')));
  } else {
    page.append(h('section', {class: 'card flush'}, h('table', {class: 'list', id: 'models-table'},
      h('thead', null, h('tr', null, ['Model', 'Task', 'Serving', 'Versions', 'Inputs → outputs', 'Parameters', 'Quality', 'Trained']
        .map((t) => h('th', null, t)))),
      h('tbody', null, rows.map((r) => r.tr)))));
  }
  if (list.skipped && list.skipped.length) {
    page.append(h('p', {class: 'notice'}, `${list.skipped.length} more models are on disk but not serving (limits.max_models): `, list.skipped.join(', ')));
  }
  main.replaceChildren(page);
  fillDetails(rows, signal);
}

export async function render(main, {signal}) {
  document.title = 'Models · Axon';
  await draw(main, signal);
  let timer = null;
  follow('/events', {
    signal,
    onEvent: (event) => {
      if (event.event !== 'model') return;
      clearTimeout(timer);
      timer = setTimeout(() => draw(main, signal).catch(() => {}), 250);
    },
  });
}
