// A model's page: what it scores (confusion-matrix heat map or regression metrics), its
// network, how it normalizes its inputs, every setting it was trained with and why, and its
// versions (with rollback).

import {api, get} from './api.js';
import {h, card, badge, facts, table, errorBox, number, score, percent, integer, duration, ago, pageHead} from './dom.js';
import {headline} from './models.js';
import {settingsTable} from './job.js';

// Classes shown in the heat map; a larger matrix is cut to its first classes.
const MATRIX_CLASSES = 30;

function tiles(metrics) {
  if (!metrics) return null;
  const list = metrics.accuracy != null
    ? [['Accuracy', percent(metrics.accuracy, 2)], ['Macro F1', score(metrics.macro_f1)],
      ['Macro precision', score(metrics.macro_precision)], ['Macro recall', score(metrics.macro_recall)]]
    : [['RMSE', number(metrics.rmse, 4)], ['MAE', number(metrics.mae, 4)], ['R²', number(metrics.r2, 4)], ['MSE', number(metrics.mse, 4)]];
  list.push(['Loss', number(metrics.loss, 4)], ['Epochs', integer(metrics.epochs)]);
  return h('div', {class: 'tiles', id: 'model-metrics'}, list.map(([label, value]) =>
    h('div', {class: 'tile', dataset: {metric: label.toLowerCase()}}, h('div', {class: 'tile-label'}, label), h('div', {class: 'tile-value'}, value))));
}

// The job evaluates on the validation split when it has one, else on the training rows.
function evaluatedOn(metrics) {
  return metrics.validation_loss != null ? 'Measured on the validation split.' : 'Measured on the training rows (no validation split).';
}

function heatmap(metrics) {
  const classes = metrics.classes.slice(0, MATRIX_CLASSES);
  const matrix = metrics.confusion_matrix;
  const head = h('tr', null, h('th', {class: 'corner'}, 'true ↓', h('br'), 'predicted →'), classes.map((c) => h('th', {class: 'col', title: c}, c)));
  const rows = classes.map((label, i) => {
    const total = matrix[i].reduce((a, b) => a + b, 0) || 1;
    return h('tr', null, h('th', {class: 'row', title: label}, label), classes.map((_, j) => {
      const count = matrix[i][j], share = count / total;
      const cell = h('td', {title: `${label} predicted as ${classes[j]}: ${count} of ${total}`}, count);
      if (count > 0) {
        cell.style.backgroundColor = i === j ? `rgba(79, 70, 229, ${0.12 + 0.88 * share})` : `rgba(225, 29, 72, ${0.15 + 0.85 * share})`;
        if (share > 0.5) cell.classList.add('strong-cell');
      }
      return cell;
    }));
  });
  const perClass = table(['Class', 'Precision', 'Recall', 'F1'],
    classes.map((c, i) => [c, score(metrics.precision[i]), score(metrics.recall[i]), score(metrics.f1[i])]), {class: 'compact'});
  return card('Confusion matrix', {id: 'confusion'},
    h('table', {class: 'heatmap'}, h('thead', null, head), h('tbody', null, rows)),
    metrics.classes.length > MATRIX_CLASSES ? h('p', {class: 'muted'}, `First ${MATRIX_CLASSES} of ${metrics.classes.length} classes.`) : null,
    h('p', {class: 'muted small'}, `Rows are the true classes; the diagonal counts the rows predicted right. ${evaluatedOn(metrics)}`),
    perClass);
}

function regression(metrics, detail) {
  const rows = [
    ['RMSE', number(metrics.rmse, 5), 'root mean squared error: the typical miss, in the target\'s units'],
    ['MAE', number(metrics.mae, 5), 'mean absolute error, in the target\'s units'],
    ['R²', number(metrics.r2, 5), 'share of the target\'s variance explained: 1 is a perfect fit, 0 predicting the mean'],
    ['MSE', number(metrics.mse, 5), 'mean squared error'],
    ['Loss', number(metrics.loss, 5), `the model's loss (${detail.architecture.loss}) on the same rows`],
  ];
  return card('Regression metrics', {id: 'regression'},
    table(['Metric', 'Value', 'Meaning'], rows.map(([k, v, why]) => [k, h('span', {class: 'mono'}, v), h('span', {class: 'why'}, why)]), {class: 'compact'}),
    h('p', {class: 'muted small'}, evaluatedOn(metrics)));
}

function architecture(detail) {
  const {layers, activations, loss} = detail.architecture;
  const blocks = [];
  layers.forEach((size, i) => {
    const kind = i === 0 ? 'input' : i === layers.length - 1 ? 'output' : 'hidden';
    if (i) blocks.push(h('span', {class: 'arrow'}, '→'));
    blocks.push(h('div', {class: `layer layer-${kind}`},
      h('div', {class: 'layer-size'}, integer(size)),
      h('div', {class: 'layer-name'}, i === 0 ? 'inputs' : activations[i - 1] || kind)));
  });
  return card('Architecture', {id: 'architecture'}, h('div', {class: 'layers'}, blocks), facts([
    ['Loss', loss.replace(/_/g, ' ')], ['Parameters', integer(detail.parameter_count)],
    ['Outputs', detail.output.classes ? detail.output.classes.join(', ') : integer(detail.output.shape[1])],
  ]));
}

function transform(column) {
  if (column.kind === 'categorical') {
    const more = column.category_count > (column.categories || []).length ? ` (+${column.category_count - column.categories.length} more)` : '';
    return `one-hot: ${(column.categories || []).join(', ')}${more}`;
  }
  const s = column.scaler;
  if (!s) return 'as is';
  if (s.kind === 'standard') return `(x − ${number(s.mean, 4)}) / ${number(s.std, 4)}`;
  return `(x − ${number(s.min, 4)}) / ${number(s.range, 4)}`;
}

function normalization(detail) {
  const p = detail.preprocessing;
  if (!p) {
    const kind = detail.training ? detail.training.normalize : 'unknown';
    return card('Normalization', {id: 'normalization'}, facts([['Inputs', kind.replace(/_/g, ' ')]]));
  }
  const rows = p.columns.map((c) => [c.name || `column ${c.inputs[0]}`, c.kind, transform(c),
    c.kind === 'numeric' ? `${number(c.imputed, 4)}${c.missing_count ? ` (${c.missing_count} missing)` : ''}` : (c.missing_count ? `${c.missing_count} missing` : '–')]);
  return card('Normalization', {id: 'normalization'},
    table(['Column', 'Kind', 'Transform', 'If missing'], rows, {class: 'compact'}),
    h('p', {class: 'muted small'}, `Missing values: ${p.missing_values}. ${p.encoded_width} network inputs. Learned on the training split and applied at every prediction.`));
}

function versions(detail, reload, signal) {
  const message = h('div');
  const rows = detail.versions.slice().reverse().map((v) => {
    const best = headline(v.metrics);
    const action = v.current ? badge('serving', 'succeeded') : h('button', {
      type: 'button', class: 'small secondary',
      onclick: async () => {
        try {
          await api('POST', `/models/${encodeURIComponent(detail.name)}/rollback`, {json: {version: v.version}, signal});
          reload();
        } catch (error) {
          message.replaceChildren(errorBox(error, error.hint));
        }
      },
    }, `Serve v${v.version}`);
    return [`v${v.version}`, ago(v.created_at), v.parent_version ? `v${v.parent_version}` : '–', best ? `${best.text} ${best.label}` : '–', action];
  });
  return card('Versions', {id: 'versions'}, message, table(['Version', 'Created', 'Continued from', 'Quality', ''], rows, {class: 'compact nowrap'}));
}

async function remove(name, main) {
  if (!window.confirm(`Delete model ${name} and every version of it? This cannot be undone.`)) return;
  try {
    await api('DELETE', `/models/${encodeURIComponent(name)}`);
    window.location.hash = '#/models';
  } catch (error) {
    main.querySelector('.page-head').after(errorBox(error, error.hint));
  }
}

export async function render(main, {params: [name], signal}) {
  document.title = `${name} · Axon`;
  const detail = await get(`/models/${encodeURIComponent(name)}`, {signal});
  const reload = () => render(main, {params: [name], signal}).catch((e) => main.replaceChildren(errorBox(e, e.hint)));
  const m = detail.metrics;
  const predict = h('a', {class: 'button primary', href: `#/predict?model=${encodeURIComponent(name)}`, id: 'predict-link'}, 'Predict');
  const del = h('button', {type: 'button', class: 'danger', onclick: () => remove(name, main)}, 'Delete');
  const subtitle = [badge(detail.task), ` version ${detail.version} of ${detail.versions.length} kept · trained `, ago(detail.created_at),
    m && m.training_seconds != null ? ` in ${duration(m.training_seconds)}` : '',
    m && m.stop_reason ? `, ${m.stop_reason.replace(/_/g, ' ')}` : ''];
  main.replaceChildren(h('div', {class: 'page'},
    pageHead(name, subtitle, predict, del),
    tiles(m),
    h('div', {class: 'columns'},
      h('div', {class: 'column'},
        m && m.confusion_matrix ? heatmap(m) : m ? regression(m, detail) : card('Metrics', null, h('p', {class: 'muted'}, 'This version has no stored metrics.')),
        versions(detail, reload, signal)),
      h('div', {class: 'column'},
        architecture(detail),
        normalization(detail),
        detail.settings ? card('Settings', {id: 'settings'}, settingsTable(detail.settings)) : null))));
}
