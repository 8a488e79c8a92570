// Predict: paste one row or several (CSV lines or JSON) and see what the model answers: the
// class and every class's probability, or the regression outputs.

import {api, get} from './api.js';
import {h, card, badge, errorBox, number, percent, pageHead} from './dom.js';
import {cells} from './train.js';

const SHOWN_CLASSES = 10;
const NUMBER = /^[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$/;

function cell(text) {
  if (text === '') return null;
  return NUMBER.test(text) ? Number(text) : text;
}

/** The rows of the text: JSON (a row, an object or a list of them) or CSV lines. */
export function parseRows(text, columns) {
  const trimmed = text.trim();
  if (!trimmed) throw new Error('paste a row first');
  if (trimmed.startsWith('[') || trimmed.startsWith('{')) {
    let value;
    try { value = JSON.parse(trimmed); } catch (error) { throw new Error(`that is not valid JSON: ${error.message}`); }
    const nested = Array.isArray(value) && value.length && (Array.isArray(value[0]) || typeof value[0] === 'object');
    return nested ? value : [value];
  }
  let rows = trimmed.split(/\r?\n/).filter((l) => l.trim() !== '').map(cells);
  // A pasted header line naming the model's columns is not a row.
  if (columns && rows.length > 1 && rows[0].every((c, i) => c === columns[i])) rows = rows.slice(1);
  return rows.map((r) => r.map(cell));
}

function probabilities(names, values) {
  const ranked = values.map((p, i) => [names[i] ?? String(i), p]).sort((a, b) => b[1] - a[1]).slice(0, SHOWN_CLASSES);
  return h('div', {class: 'probabilities'}, ranked.map(([name, p]) => {
    const fill = h('span', {class: 'bar-fill'});
    fill.style.width = `${(p * 100).toFixed(2)}%`;
    return h('div', {class: 'probability', dataset: {class: name}},
      h('span', {class: 'probability-name'}, name), h('span', {class: 'bar'}, fill), h('span', {class: 'probability-value'}, percent(p, 1)));
  }));
}

function answer(result, detail, rows) {
  const names = (detail.output && detail.output.classes) || [];
  const items = result.outputs.map((outputs, i) => {
    const input = h('div', {class: 'muted small mono'}, JSON.stringify(rows[i]));
    if (result.labels || result.classes) {
      const label = result.labels ? result.labels[i] : String(result.classes[i]);
      return h('div', {class: 'prediction'}, h('div', {class: 'prediction-head'}, h('span', {class: 'muted'}, `Row ${i + 1}`),
        h('span', {class: 'predicted-label'}, label)), input, probabilities(names, result.probabilities ? result.probabilities[i] : outputs));
    }
    return h('div', {class: 'prediction'}, h('div', {class: 'prediction-head'}, h('span', {class: 'muted'}, `Row ${i + 1}`),
      h('span', {class: 'predicted-value'}, outputs.map((v) => number(v, 6)).join(', '))), input);
  });
  return card(`${result.model} version ${result.version}`, {id: 'predict-result'}, items,
    h('details', null, h('summary', null, 'Answer as JSON'), h('pre', null, JSON.stringify(result, null, 2))));
}

function columnsOf(detail) {
  if (detail.preprocessing) return detail.preprocessing.columns.map((c) => c.name || `column ${c.inputs[0]}`);
  return null;
}

export async function render(main, {query, signal}) {
  document.title = 'Predict · Axon';
  const {models} = await get('/models', {signal});
  if (!models.length) {
    main.replaceChildren(h('div', {class: 'page'}, pageHead('Predict'), h('section', {class: 'card empty'},
      h('h2', null, 'No models to ask'), h('p', null, 'Train one first.'), h('a', {class: 'button primary', href: '#/train'}, 'Train from a CSV'))));
    return;
  }
  const chosen = models.some((m) => m.name === query.get('model')) ? query.get('model') : models[0].name;
  const pick = h('select', {id: 'predict-model'}, models.map((m) => h('option', {value: m.name}, `${m.name} (v${m.version}, ${m.task})`)));
  pick.value = chosen;
  const about = h('div', {class: 'model-about'});
  const input = h('textarea', {id: 'predict-input', rows: 5, spellcheck: 'false', placeholder: '5.1, 3.5, 1.4, 0.2'});
  const submit = h('button', {type: 'submit', class: 'primary', id: 'predict-submit'}, 'Predict');
  const output = h('div', {id: 'predict-output'});
  let detail = null;

  const load = async () => {
    detail = null;
    about.replaceChildren(h('span', {class: 'muted'}, 'Loading…'));
    try {
      detail = await get(`/models/${encodeURIComponent(pick.value)}`, {signal});
      const columns = columnsOf(detail);
      about.replaceChildren(h('div', null,
        h('p', null, badge(detail.task), ' ', columns ? `${columns.length} columns, in this order: ` : `${detail.input.shape[1]} numbers per row.`,
          columns ? h('span', {class: 'mono'}, columns.join(', ')) : null),
        detail.output.classes ? h('p', {class: 'muted small'}, `Classes: ${detail.output.classes.join(', ')}`) : null));
    } catch (error) {
      about.replaceChildren(errorBox(error, error.hint));
    }
  };
  pick.addEventListener('change', () => {
    window.history.replaceState(null, '', `#/predict?model=${encodeURIComponent(pick.value)}`);
    output.replaceChildren();
    load();
  });

  const form = h('form', {id: 'predict-form'},
    card('Input', null,
      h('label', {class: 'field'}, h('span', {class: 'field-label'}, 'Model'), pick),
      about,
      h('label', {class: 'field'}, h('span', {class: 'field-label'}, 'Rows'), input,
        h('span', {class: 'field-help'}, 'One row per line, values comma-separated in column order (a CSV line); empty cells are missing values. JSON works too: [5.1, 3.5, 1.4, 0.2] or {"sepal_length": 5.1, …}.')),
      h('div', {class: 'actions'}, submit)));
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    if (!detail) await load();
    let rows;
    try {
      rows = parseRows(input.value, detail && columnsOf(detail));
    } catch (error) {
      output.replaceChildren(errorBox({code: 'invalid_input', message: error.message}));
      return;
    }
    submit.disabled = true;
    try {
      const result = await api('POST', '/predict', {json: {model: pick.value, inputs: rows}, signal});
      output.replaceChildren(answer(result, detail || {}, rows));
    } catch (error) {
      if (!signal.aborted) output.replaceChildren(errorBox(error, error.hint));
    } finally {
      submit.disabled = false;
    }
  });

  main.replaceChildren(h('div', {class: 'page'},
    pageHead('Predict', 'Ask a model about one row or a few.'),
    h('div', {class: 'columns'}, h('div', {class: 'column'}, form), h('div', {class: 'column'}, output))));
  await load();
}
