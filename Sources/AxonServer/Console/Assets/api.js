// The console's only way to the server: JSON calls and Server-Sent Event streams, both through
// fetch() so that every request can carry the bearer token (EventSource cannot send headers).

const TOKEN_KEY = 'axon.token';

/** The bearer token: per tab (sessionStorage) unless the user chose to remember it. */
export const token = {
  get() {
    return sessionStorage.getItem(TOKEN_KEY) || localStorage.getItem(TOKEN_KEY) || '';
  },
  set(value, remember) {
    this.clear();
    (remember ? localStorage : sessionStorage).setItem(TOKEN_KEY, value);
  },
  clear() {
    sessionStorage.removeItem(TOKEN_KEY);
    localStorage.removeItem(TOKEN_KEY);
  },
};

/** An error answer of the API ({"error": {"code", "message"}}), or a network failure (status 0). */
export class ApiError extends Error {
  constructor(status, code, message) {
    super(message);
    this.status = status;
    this.code = code;
  }

  /** What a person should do about it, when the code says. */
  get hint() {
    if (this.status === 401) return 'This server needs a bearer token: set one with the Token button.';
    if (this.code === 'insufficient_scope') return 'Your token is the read token: training, cancelling, rollback and delete need the admin token.';
    if (this.code === 'read_only') return 'This server serves a read-only state directory: it predicts, but does not train or change models.';
    return null;
  }
}

function headers(extra) {
  const all = {...extra};
  const value = token.get();
  if (value) all.Authorization = `Bearer ${value}`;
  return all;
}

async function failure(response) {
  const text = await response.text().catch(() => '');
  let code = `http_${response.status}`, message = text || response.statusText;
  try {
    const body = JSON.parse(text);
    if (body && body.error) ({code, message} = body.error);
  } catch (_) { /* not JSON: keep the text */ }
  const error = new ApiError(response.status, code, message);
  if (response.status === 401) window.dispatchEvent(new CustomEvent('axon:unauthorized', {detail: error}));
  return error;
}

/**
 * One API call. `json` is sent as application/json, `body` as is with `contentType`.
 * Resolves to the parsed JSON answer; rejects with ApiError.
 */
export async function api(method, path, {json, body, contentType, signal} = {}) {
  const extra = {Accept: 'application/json'};
  let payload = body;
  if (json !== undefined) {
    payload = JSON.stringify(json);
    extra['Content-Type'] = 'application/json';
  } else if (contentType) {
    extra['Content-Type'] = contentType;
  }
  let response;
  try {
    response = await fetch(path, {method, headers: headers(extra), body: payload, signal, cache: 'no-store', credentials: 'omit'});
  } catch (error) {
    if (error.name === 'AbortError') throw error;
    throw new ApiError(0, 'network', `the server did not answer (${error.message})`);
  }
  if (!response.ok) throw await failure(response);
  const text = await response.text();
  return text ? JSON.parse(text) : null;
}

export const get = (path, options) => api('GET', path, options);

function sleep(ms, signal) {
  return new Promise((resolve) => {
    const timer = setTimeout(resolve, ms);
    signal?.addEventListener('abort', () => { clearTimeout(timer); resolve(); }, {once: true});
  });
}

/**
 * Follows a text/event-stream (WHATWG format) until `signal` aborts or `done()` says the
 * stream has nothing more to give. Each event reaches `onEvent({id, event, data})` with `data`
 * parsed as JSON. A stream that breaks is reopened with Last-Event-ID after a short pause, at
 * most `retries` times in a row; an error answer (4xx, or 503 past the retries) goes to
 * `onError` and ends it. `lastId` starts after an event the caller already has.
 */
export async function follow(path, {onEvent, onOpen, onError, done = () => false, signal, retries = 8, lastId: resumeAfter = null}) {
  let lastId = resumeAfter, failures = 0;
  while (!signal?.aborted && !done()) {
    try {
      const extra = {Accept: 'text/event-stream'};
      if (lastId != null) extra['Last-Event-ID'] = lastId;
      const response = await fetch(path, {headers: headers(extra), signal, cache: 'no-store', credentials: 'omit'});
      if (!response.ok) {
        const error = await failure(response);
        if (response.status !== 503 || ++failures > retries) { onError?.(error); return; }
      } else {
        failures = 0;
        onOpen?.();
        lastId = await read(response.body, onEvent, lastId);
      }
    } catch (error) {
      if (signal?.aborted) return;
      if (++failures > retries) { onError?.(new ApiError(0, 'network', `the event stream broke (${error.message})`)); return; }
    }
    if (!done()) await sleep(Math.min(500 * 2 ** failures, 8000), signal);
  }
}

// Reads one response body to its end; returns the last event id seen.
async function read(body, onEvent, lastId) {
  const reader = body.pipeThrough(new TextDecoderStream()).getReader();
  let buffer = '', name = '', data = [], id = lastId;
  for (;;) {
    const {value, done} = await reader.read();
    if (done) return id;
    buffer += value;
    let end;
    while ((end = buffer.indexOf('\n')) >= 0) {
      let line = buffer.slice(0, end);
      buffer = buffer.slice(end + 1);
      if (line.endsWith('\r')) line = line.slice(0, -1);
      if (line === '') {
        if (data.length) {
          let parsed = null;
          try { parsed = JSON.parse(data.join('\n')); } catch (_) { parsed = data.join('\n'); }
          onEvent({id, event: name || 'message', data: parsed});
        }
        name = '';
        data = [];
        continue;
      }
      if (line.startsWith(':')) continue; // a heartbeat comment
      const colon = line.indexOf(':');
      const field = colon < 0 ? line : line.slice(0, colon);
      let text = colon < 0 ? '' : line.slice(colon + 1);
      if (text.startsWith(' ')) text = text.slice(1);
      if (field === 'event') name = text;
      else if (field === 'data') data.push(text);
      else if (field === 'id' && !text.includes('\0')) id = text;
    }
  }
}
