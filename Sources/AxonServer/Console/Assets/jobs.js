// Jobs: the recent training jobs, newest first, each with a small loss curve. GET /events keeps
// the progress of running jobs current and reloads the list when a job starts or ends.

import {get, follow} from './api.js';
import {h, svg, badge, number, integer, duration, ago, pageHead} from './dom.js';
import {headline} from './models.js';
import {took} from './job.js';

// Each job carries its whole loss curve (up to jobs.history_points epochs), so the page asks for few.
const LIMIT = 25;

function sparkline(history) {
  const values = history.map((e) => e.train_loss).filter((v) => Number.isFinite(v) && v > 0);
  const el = svg('svg', {class: 'sparkline', viewBox: '0 0 100 28', 'aria-hidden': 'true'});
  if (values.length < 2) return el;
  const logs = values.map(Math.log10);
  const lo = Math.min(...logs), hi = Math.max(...logs), span = hi - lo || 1;
  const d = logs.map((v, i) => `${i ? 'L' : 'M'}${((i / (logs.length - 1)) * 98 + 1).toFixed(1)},${(26 - ((v - lo) / span) * 24).toFixed(1)}`).join('');
  el.append(svg('path', {d}));
  return el;
}

function progressCell(epoch, epochs, job) {
  if (job && ['succeeded', 'failed', 'cancelled'].includes(job.status)) {
    return h('span', {class: 'progress-cell'}, `${integer(epoch)} epochs`, job.stop_reason === 'early_stopped' ? h('span', {class: 'muted'}, 'early stop') : null);
  }
  const bar = h('span', {class: 'progress small'}, h('span', {class: 'progress-fill'}));
  bar.firstChild.style.width = `${Math.min(100, (epoch / Math.max(1, epochs)) * 100).toFixed(1)}%`;
  return h('span', {class: 'progress-cell'}, bar, h('span', {class: 'muted'}, `${integer(epoch)} / ${integer(epochs)}`));
}

function outcome(job) {
  if (job.status === 'succeeded') {
    const best = headline(job.metrics);
    return [`v${job.version}`, best ? h('span', {class: 'muted'}, ` · ${best.text} ${best.label}`) : null];
  }
  if (job.status === 'failed' && job.error) return h('code', {title: job.error.message}, job.error.code);
  return h('span', {class: 'muted'}, job.waiting_for ? `waiting for ${job.waiting_for}` : '–');
}

function row(job) {
  const history = job.history || [];
  const last = history[history.length - 1];
  const cells = {
    status: h('td', null, badge(job.status)),
    progress: h('td', null, progressCell(job.epoch, job.epochs, job)),
    loss: h('span', {class: 'num'}, last ? number(last.train_loss, 3) : '–'),
  };
  const tr = h('tr', {dataset: {job: job.id}},
    h('td', null, h('a', {href: `#/jobs/${encodeURIComponent(job.id)}`, class: 'strong mono'}, job.id)),
    h('td', null, h('a', {href: `#/models/${encodeURIComponent(job.model)}`}, job.model)),
    cells.status, cells.progress,
    h('td', null, h('span', {class: 'loss-cell'}, sparkline(history), cells.loss)),
    h('td', null, outcome(job)),
    h('td', {class: 'when'}, ago(job.created_at), job.started_at ? h('span', {class: 'muted small'}, `${job.finished_at ? 'took' : 'running for'} ${duration(took(job))}`) : null));
  return {tr, cells};
}

async function draw(main, signal) {
  const {jobs} = await get(`/jobs?limit=${LIMIT}`, {signal});
  const rows = new Map(jobs.map((job) => [job.id, row(job)]));
  const running = jobs.filter((j) => j.status === 'running' || j.status === 'queued').length;
  const page = h('div', {class: 'page'},
    pageHead('Jobs', jobs.length ? `${jobs.length} most recent${running ? ` · ${running} active` : ''}` : null,
      h('a', {class: 'button primary', href: '#/train'}, 'New training job')));
  if (!jobs.length) {
    page.append(h('section', {class: 'card empty'}, h('h2', null, 'No jobs yet'),
      h('p', null, 'Jobs appear here when a model is trained, from this console or through the API.'),
      h('a', {class: 'button primary', href: '#/train'}, 'Train from a CSV')));
  } else {
    page.append(h('section', {class: 'card flush'}, h('table', {class: 'list', id: 'jobs-table'},
      h('thead', null, h('tr', null, ['Job', 'Model', 'Status', 'Epochs', 'Training loss', 'Result', 'Submitted']
        .map((t) => h('th', null, t)))),
      h('tbody', null, [...rows.values()].map((r) => r.tr)))));
  }
  main.replaceChildren(page);
  return rows;
}

export async function render(main, {signal}) {
  document.title = 'Jobs · Axon';
  let rows = await draw(main, signal);
  let timer = null;
  const reload = () => {
    clearTimeout(timer);
    timer = setTimeout(async () => { rows = await draw(main, signal).catch(() => rows); }, 300);
  };
  follow('/events', {
    signal,
    onEvent: ({event, data}) => {
      if (event === 'epoch' && rows.has(data.job)) {
        const r = rows.get(data.job);
        r.cells.status.replaceChildren(badge('running'));
        r.cells.progress.replaceChildren(progressCell(data.epoch + 1, data.epochs));
        r.cells.loss.textContent = number(data.train_loss, 3);
      } else if (event !== 'epoch' && event !== 'model') {
        reload();
      }
    },
  });
}
