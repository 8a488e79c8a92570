// A training job, live: its loss curves drawn from GET /jobs/{id}/events as the epochs finish,
// progress and speed, cancel, and at the end the version it installed or why it failed.

import {api, get, follow} from './api.js';
import {h, card, badge, facts, table, errorBox, number, percent, integer, rate, duration, between, ago, pageHead} from './dom.js';
import {LossChart} from './chart.js';
import {headline} from './models.js';

const SETTINGS = [
  ['task', 'Task'], ['layers', 'Layers'], ['activation', 'Activation'], ['loss', 'Loss'], ['optimizer', 'Optimizer'],
  ['learning_rate', 'Learning rate'], ['batch_size', 'Batch size'], ['epochs', 'Epochs'], ['steps', 'Optimizer steps'],
  ['validation_split', 'Validation split'], ['l2', 'L2'], ['early_stopping', 'Early stopping'], ['normalize', 'Normalize inputs'],
  ['normalize_targets', 'Normalize targets'],
];

function settingValue(settings, key) {
  const v = settings[key];
  if (key === 'layers') return v.join(' → ');
  if (key === 'learning_rate') return settings.learning_rate_schedule ? `${number(v)}, ${settings.learning_rate_schedule}` : number(v);
  if (key === 'early_stopping') {
    return v ? `patience ${v.patience}, min Δ ${number(v.min_delta)}${v.restore_best_weights ? ', best weights kept' : ''}` : 'off';
  }
  if (typeof v === 'boolean') return v ? 'yes' : 'no';
  if (typeof v === 'number') return number(v);
  return v == null ? '–' : String(v).replace(/_/g, ' ');
}

/** Every resolved setting with why its default was chosen (absent when the request gave it). */
export function settingsTable(settings) {
  const why = settings.why || {};
  const rows = SETTINGS.filter(([key]) => key in settings).map(([key, label]) =>
    [label, h('span', {class: 'mono'}, settingValue(settings, key)), h('span', {class: 'why'}, why[key] || '–')]);
  return table(['Setting', 'Value', 'Why'], rows, {class: 'compact settings'});
}

/** How long the job trained: the measured seconds once it has them, else from its timestamps. */
export function took(job) {
  return job.metrics && job.metrics.training_seconds != null ? job.metrics.training_seconds : between(job.started_at, job.finished_at);
}

function point(entry) {
  return {epoch: entry.epoch, train: entry.train_loss, validation: entry.validation_loss};
}

class JobView {
  constructor(main, job, signal) {
    this.main = main;
    this.job = job;
    this.signal = signal;
    this.chart = new LossChart();
    this.chart.set((job.history || []).map(point));
    this.status = h('span');
    this.stats = h('div');
    this.progress = h('div', {class: 'progress'}, h('div', {class: 'progress-fill'}));
    this.result = h('div');
    this.cancel = h('button', {type: 'button', class: 'danger', id: 'cancel-job', onclick: () => this.cancelJob()}, 'Cancel');
    this.live = {};
  }

  mount() {
    const job = this.job;
    const model = h('a', {href: `#/models/${encodeURIComponent(job.model)}`}, job.model);
    const subtitle = [this.status, ' ', job.kind === 'train' ? 'training ' : `${job.kind} `, model, ` on ${integer(job.rows)} training rows · submitted `, ago(job.created_at)];
    this.main.replaceChildren(h('div', {class: 'page'},
      pageHead(job.id, subtitle, this.cancel),
      h('div', {class: 'columns wide-left'},
        card('Loss', {id: 'loss-card', class: 'card chart-card'}, this.chart.el),
        card('Progress', {id: 'progress-card'}, this.progress, this.stats)),
      this.result,
      job.settings ? card('Settings', {id: 'job-settings'}, settingsTable(job.settings)) : null));
    this.update();
  }

  update() {
    const job = this.job, live = this.live;
    const finished = ['succeeded', 'failed', 'cancelled'].includes(job.status);
    this.status.replaceChildren(badge(job.status));
    this.main.querySelector('.page')?.setAttribute('data-status', job.status);
    this.cancel.hidden = finished;
    const done = live.epoch != null ? live.epoch + 1 : job.epoch;
    const epochs = live.epochs || job.epochs;
    const share = finished && job.status === 'succeeded' ? 1 : Math.min(1, done / Math.max(1, epochs));
    this.progress.firstChild.style.width = `${(share * 100).toFixed(1)}%`;
    const last = this.chart.points[this.chart.points.length - 1] || {};
    const elapsed = took(job);
    this.stats.replaceChildren(facts([
      ['Epoch', `${integer(done)} of ${integer(epochs)}`],
      ['Train loss', number(last.train, 3)],
      ['Validation loss', last.validation != null ? number(last.validation, 3) : 'no split'],
      ['Speed', rate(live.samples_per_second ?? job.samples_per_second)],
      finished ? ['Took', duration(elapsed)] : ['Time left', duration(live.eta_seconds ?? job.eta_seconds)],
      job.stop_reason ? ['Stopped', job.stop_reason.replace(/_/g, ' ')] : null,
      job.waiting_for ? ['Waiting for', job.waiting_for] : null,
    ], {id: 'job-stats'}));
    this.showResult();
  }

  showResult() {
    const job = this.job;
    if (job.status === 'succeeded') {
      const best = headline(job.metrics);
      this.result.replaceChildren(card('Result', {id: 'job-result', class: 'card result-ok'},
        h('p', {class: 'result-line'}, 'Installed ', h('strong', null, `${job.model} version ${job.version}`),
          best ? [' · ', h('strong', {id: 'job-headline'}, best.text), ` ${best.label}`] : null,
          job.metrics && job.metrics.accuracy == null && job.metrics.rmse != null ? ` · RMSE ${number(job.metrics.rmse, 4)}` : null),
        h('a', {class: 'button primary', id: 'open-model', href: `#/models/${encodeURIComponent(job.model)}`}, 'Open model')));
    } else if (job.status === 'failed') {
      this.result.replaceChildren(card('Result', {id: 'job-result'}, errorBox(job.error || {message: 'the job failed'})));
    } else if (job.status === 'cancelled') {
      this.result.replaceChildren(card('Result', {id: 'job-result'}, h('p', null, 'Cancelled: nothing was installed.')));
    } else {
      this.result.replaceChildren();
    }
  }

  onEvent(event) {
    const data = event.data || {};
    if (event.event === 'epoch') {
      this.live = data;
      this.job.status = 'running';
      this.chart.add(point(data));
    } else if (event.event === 'queued' || event.event === 'started') {
      this.job.status = data.status;
      this.job.waiting_for = data.waiting_for;
    } else if (['succeeded', 'failed', 'cancelled'].includes(event.event)) {
      this.job = data;
      this.live = {};
      this.chart.set((data.history || []).map(point));
    }
    this.update();
  }

  get finished() {
    return ['succeeded', 'failed', 'cancelled'].includes(this.job.status);
  }

  async cancelJob() {
    if (!window.confirm(`Cancel ${this.job.id}? Nothing it trained so far is kept.`)) return;
    this.cancel.disabled = true;
    try {
      this.job = await api('DELETE', `/jobs/${encodeURIComponent(this.job.id)}`, {signal: this.signal});
      this.update();
    } catch (error) {
      this.result.replaceChildren(errorBox(error, error.hint));
    } finally {
      this.cancel.disabled = false;
    }
  }

  follow() {
    if (this.finished) return;
    const history = this.job.history || [];
    // Resume after what the record already gave: epoch e has event id 3 + e.
    const lastId = history.length ? String(3 + history[history.length - 1].epoch) : null;
    follow(`/jobs/${encodeURIComponent(this.job.id)}/events`, {
      signal: this.signal, lastId,
      done: () => this.finished,
      onEvent: (event) => this.onEvent(event),
      onError: (error) => this.result.replaceChildren(errorBox(error, error.hint)),
    });
  }
}

export async function render(main, {params: [id], signal}) {
  document.title = `${id} · Axon`;
  const job = await get(`/jobs/${encodeURIComponent(id)}`, {signal});
  const view = new JobView(main, job, signal);
  view.mount();
  view.follow();
}
