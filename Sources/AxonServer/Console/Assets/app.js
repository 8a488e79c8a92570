// The console's shell: hash routes to views, the token dialog and the server's status line.
// Each view gets an AbortSignal that fires when the user leaves it, ending its requests and
// event streams.

import {token, get} from './api.js';
import {h, errorBox} from './dom.js';
import * as models from './models.js';
import * as model from './model.js';
import * as jobs from './jobs.js';
import * as job from './job.js';
import * as train from './train.js';
import * as predict from './predict.js';

const routes = [
  [/^\/models$/, models.render, 'models'],
  [/^\/models\/([^/]+)$/, model.render, 'models'],
  [/^\/jobs$/, jobs.render, 'jobs'],
  [/^\/jobs\/([^/]+)$/, job.render, 'jobs'],
  [/^\/train$/, train.render, 'train'],
  [/^\/predict$/, predict.render, 'predict'],
];

let view = null;

function currentRoute() {
  const raw = window.location.hash.replace(/^#/, '') || '/models';
  const [path, query] = raw.split('?');
  return {path: path.replace(/\/+$/, '') || '/models', query: new URLSearchParams(query || '')};
}

async function show() {
  view?.abort();
  const controller = new AbortController();
  view = controller;
  const {path, query} = currentRoute();
  const main = document.getElementById('main');
  const match = routes.map(([pattern, render, nav]) => [path.match(pattern), render, nav]).find(([m]) => m);
  for (const link of document.querySelectorAll('[data-nav]')) {
    const active = Boolean(match) && link.dataset.nav === match[2];
    link.classList.toggle('active', active);
    if (active) link.setAttribute('aria-current', 'page'); else link.removeAttribute('aria-current');
  }
  if (!match) {
    main.replaceChildren(errorBox({code: 'not_found', message: `the console has no page ${path}`}));
    return;
  }
  const [m, render] = match;
  main.replaceChildren(h('div', {class: 'loading'}, 'Loading…'));
  try {
    await render(main, {params: m.slice(1).map(decodeURIComponent), query, signal: controller.signal});
  } catch (error) {
    if (controller.signal.aborted || error.name === 'AbortError') return;
    main.replaceChildren(errorBox(error, error.hint));
  }
}

function tokenLabel() {
  const state = document.getElementById('token-state');
  if (!token.get()) state.textContent = 'none';
  else state.textContent = localStorage.getItem('axon.token') ? 'remembered' : 'this tab';
}

function openTokenDialog() {
  const dialog = document.getElementById('token-dialog');
  if (dialog.open) return;
  document.getElementById('token-input').value = token.get();
  document.getElementById('token-remember').checked = Boolean(localStorage.getItem('axon.token'));
  dialog.showModal();
}

function setUpToken() {
  const dialog = document.getElementById('token-dialog');
  document.getElementById('token-button').addEventListener('click', openTokenDialog);
  document.getElementById('token-cancel').addEventListener('click', () => dialog.close());
  document.getElementById('token-clear').addEventListener('click', () => {
    token.clear();
    dialog.close();
    refresh();
  });
  document.getElementById('token-form').addEventListener('submit', (event) => {
    event.preventDefault();
    const value = document.getElementById('token-input').value.trim();
    if (!value) return;
    token.set(value, document.getElementById('token-remember').checked);
    dialog.close();
    refresh();
  });
  // The first 401 of a page load opens the dialog; later ones leave it to the error boxes.
  let asked = false;
  window.addEventListener('axon:unauthorized', () => {
    document.getElementById('token-state').textContent = token.get() ? 'rejected' : 'needed';
    if (!asked) { asked = true; openTokenDialog(); }
  });
}

async function serverState() {
  const line = document.getElementById('server-state');
  try {
    const info = await get('/v2');
    line.replaceChildren(h('span', {class: 'dot dot-ok'}), `${info.name} ${info.version}`);
  } catch (error) {
    line.replaceChildren(h('span', {class: 'dot dot-bad'}), error.status === 401 ? 'token needed' : 'server unreachable');
  }
}

function refresh() {
  tokenLabel();
  serverState();
  show();
}

setUpToken();
window.addEventListener('hashchange', show);
refresh();
