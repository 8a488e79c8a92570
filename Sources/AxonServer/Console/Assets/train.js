// Train: pick a CSV, see its first rows, choose the target column and a few settings, and
// send it to POST /train as text/csv; the job's page then shows it training. Settings left
// blank are chosen by the server from the data (the job page says what and why).

import {api} from './api.js';
import {h, card, errorBox, integer, pageHead} from './dom.js';

const PREVIEW_ROWS = 6, PREVIEW_BYTES = 64 << 10, COUNT_BYTES = 16 << 20;

/** Splits one CSV line into cells (RFC 4180 quotes; enough for a header and a preview). */
export function cells(line) {
  const out = [];
  let cell = '', quoted = false;
  for (let i = 0; i < line.length; i++) {
    const c = line[i];
    if (quoted) {
      if (c === '"' && line[i + 1] === '"') { cell += '"'; i++; } else if (c === '"') quoted = false; else cell += c;
    } else if (c === '"') quoted = true;
    else if (c === ',') { out.push(cell); cell = ''; } else cell += c;
  }
  out.push(cell);
  return out.map((s) => s.trim());
}

function modelName(fileName) {
  const base = fileName.replace(/\.[^.]*$/, '').replace(/[^A-Za-z0-9._-]+/g, '-').replace(/^[.-]+/, '');
  return base.slice(0, 64) || 'model';
}

function field(label, input, help) {
  return h('label', {class: 'field'}, h('span', {class: 'field-label'}, label), input, help ? h('span', {class: 'field-help'}, help) : null);
}

function select(id, options) {
  return h('select', {id, name: id}, options.map(([value, text]) => h('option', {value}, text)));
}

async function describe(file) {
  const head = await file.slice(0, PREVIEW_BYTES).text();
  const lines = head.split(/\r?\n/).filter((l) => l.trim() !== '');
  let rows = null;
  if (file.size <= COUNT_BYTES) {
    const text = await file.text();
    rows = text.split(/\r?\n/).filter((l) => l.trim() !== '').length - 1;
  }
  return {header: cells(lines[0] || ''), preview: lines.slice(1, 1 + PREVIEW_ROWS).map(cells), rows};
}

function previewTable(info, target) {
  const index = info.header.indexOf(target);
  const mark = (i) => (i === index ? {class: 'target-col'} : null);
  return h('table', {class: 'compact preview', id: 'train-preview'},
    h('thead', null, h('tr', null, info.header.map((c, i) => h('th', mark(i), i === index ? h('span', {class: 'target-tag'}, 'target') : null, c)))),
    h('tbody', null, info.preview.map((r) => h('tr', null, r.map((c, i) => h('td', mark(i), c))))));
}

export async function render(main, {signal}) {
  document.title = 'Train · Axon';
  const file = h('input', {type: 'file', id: 'train-file', accept: '.csv,text/csv', required: true});
  const summary = h('div', {class: 'file-summary'}, h('p', {class: 'muted'}, 'A CSV with a header row: one column is the target, the others are the inputs. Text columns are one-hot encoded, empty cells imputed.'));
  const preview = h('div', {class: 'preview-wrap'});
  const name = h('input', {type: 'text', id: 'train-model', required: true, maxlength: 64, pattern: '[A-Za-z0-9_\\-][A-Za-z0-9._\\-]{0,63}', placeholder: 'iris', autocomplete: 'off'});
  const target = h('select', {id: 'train-target', required: true, disabled: true}, h('option', {value: ''}, 'choose a CSV first'));
  const task = select('train-task', [['', 'auto'], ['classification', 'classification'], ['regression', 'regression']]);
  const epochs = h('input', {type: 'number', id: 'train-epochs', min: 1, step: 1, placeholder: 'auto'});
  const split = h('input', {type: 'number', id: 'train-validation', min: 0, max: 0.9, step: 0.05, placeholder: 'auto'});
  const rate = h('input', {type: 'number', id: 'train-rate', min: 0, step: 'any', placeholder: 'auto'});
  const batch = h('input', {type: 'number', id: 'train-batch', min: 1, step: 1, placeholder: 'auto'});
  const patience = h('input', {type: 'number', id: 'train-patience', min: 0, step: 1, placeholder: 'auto'});
  const normalize = select('train-normalize', [['', 'auto'], ['standard', 'standard'], ['min_max', 'min-max'], ['none', 'none']]);
  const seed = h('input', {type: 'number', id: 'train-seed', min: 0, step: 1, placeholder: 'auto'});
  const submit = h('button', {type: 'submit', class: 'primary', id: 'train-submit', disabled: true}, 'Start training');
  const message = h('div', {id: 'train-message'});
  let info = null;

  file.addEventListener('change', async () => {
    const chosen = file.files[0];
    message.replaceChildren();
    if (!chosen) return;
    info = await describe(chosen);
    summary.replaceChildren(h('p', null, h('strong', null, chosen.name), ` · ${info.rows != null ? `${integer(info.rows)} rows` : 'large file'} · ${info.header.length} columns · ${integer(Math.ceil(chosen.size / 1024))} KiB`));
    target.replaceChildren(...info.header.map((c) => h('option', {value: c}, c)));
    target.value = info.header[info.header.length - 1];
    target.disabled = false;
    if (!name.value) name.value = modelName(chosen.name);
    preview.replaceChildren(previewTable(info, target.value));
    submit.disabled = false;
  });
  target.addEventListener('change', () => info && preview.replaceChildren(previewTable(info, target.value)));

  const form = h('form', {id: 'train-form'},
    card('Data', null, h('div', {class: 'data-row'}, field('CSV file', file), summary), preview),
    card('Settings', null,
      h('div', {class: 'form-grid five'},
        field('Model name', name, 'A new version if it exists'),
        field('Target column', target, 'What to predict'),
        field('Task', task),
        field('Epochs', epochs, 'At most: early stopping ends sooner'),
        field('Validation split', split, 'Share held out, 0 to 0.9'),
        field('Learning rate', rate),
        field('Batch size', batch),
        field('Early-stopping patience', patience, 'Epochs; 0 turns it off'),
        field('Normalize inputs', normalize),
        field('Seed', seed, 'Same seed, same model')),
      h('div', {class: 'form-foot'},
        h('p', {class: 'muted small'}, 'Blank settings are chosen from the data; the job page lists every setting and why.'), submit),
      message));

  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    const chosen = file.files[0];
    if (!chosen || !form.reportValidity()) return;
    const query = new URLSearchParams({model: name.value.trim(), target: target.value});
    const optional = [['task', task], ['epochs', epochs], ['validation_split', split], ['learning_rate', rate], ['batch_size', batch],
      ['patience', patience], ['normalize', normalize], ['seed', seed]];
    for (const [key, input] of optional) if (input.value.trim() !== '') query.set(key, input.value.trim());
    submit.disabled = true;
    message.replaceChildren(h('p', {class: 'muted'}, 'Uploading…'));
    try {
      const job = await api('POST', `/train?${query}`, {body: chosen, contentType: 'text/csv', signal});
      window.location.hash = `#/jobs/${encodeURIComponent(job.id)}`;
    } catch (error) {
      if (signal.aborted) return;
      message.replaceChildren(errorBox(error, error.hint));
      message.scrollIntoView({block: 'nearest'});
      submit.disabled = false;
    }
  });

  main.replaceChildren(h('div', {class: 'page'},
    pageHead('Train a model', 'Upload a CSV and Axon trains a network on it; the loss curve appears as it learns.'), form));
}
