// Talking to /api/v1: one fetch wrapper (errors as readable messages, 401 → /login, the CSRF
// token on every mutating request), the error banner, and ViewContext: what a view opens
// (its one EventSource, timers, charts) so that leaving the view closes all of it.
// The session is an HttpOnly cookie this script never sees; the CSRF token comes from whoami.

import { $, formatTime, setServerNow } from './dom.js';

export const session = { me: null, leaving: false };

// Off to the login page, which comes back here (path, query and hash route) afterwards.
export function toLogin() {
  if (session.leaving) return;
  session.leaving = true;
  const here = window.location.pathname + window.location.search + window.location.hash;
  window.location.replace('/login?next=' + encodeURIComponent(here));
}

// ---- the error banner: keyed messages, so one source clearing its error leaves the others ----

const errors = new Map();

function drawBanner() {
  const banner = $('error');
  if (!banner) return;
  const messages = [...errors.values()];
  banner.textContent = messages.join('\n');
  banner.hidden = messages.length === 0;
}

export function setError(key, message) {
  if (message) errors.set(key, message); else errors.delete(key);
  drawBanner();
}

export function clearErrors() {
  errors.clear();
  drawBanner();
}

// A short success message next to the banner ("job 12 aborted"), gone after a few seconds.
let noticeTimer = 0;
export function notice(message) {
  const box = $('notice');
  if (!box) return;
  box.textContent = message;
  box.hidden = false;
  clearTimeout(noticeTimer);
  noticeTimer = setTimeout(() => { box.hidden = true; }, 6000);
}

export class ApiError extends Error {
  constructor(message, status, code) {
    super(message);
    this.status = status;
    this.code = code;
  }
}

// The readable text of an HTTP error body ({"error", "code"}).
function describe(method, url, status, statusText, body) {
  const what = (method === 'GET' ? '' : method + ' ') + url.replace(/\?.*$/, '');
  let detail = body && body.error ? body.error : statusText || 'no details';
  if (status === 403) detail = 'not allowed: ' + detail;
  const code = body && body.code ? ', ' + body.code : '';
  return what + ' failed (HTTP ' + status + code + '): ' + detail;
}

async function request(method, url, body) {
  const headers = { Accept: 'application/json' };
  if (method !== 'GET' && method !== 'HEAD') {
    if (session.me && session.me.csrf) headers['X-CSRF-Token'] = session.me.csrf;
    headers['Content-Type'] = 'application/json';
    if (body === undefined) body = {};
  }
  let response;
  try {
    response = await fetch(url, {
      method: method,
      cache: 'no-store',
      headers: headers,
      body: body === undefined ? undefined : JSON.stringify(body),
    });
  } catch (e) {
    throw new ApiError('cannot reach the labmesh web server (' + e.message + ')', 0, 'Unavailable');
  }
  const now = Number(response.headers.get('X-Labmesh-Now-Ms'));
  if (now > 0) setServerNow(now);
  let parsed = null;
  try {
    parsed = await response.json();
  } catch (e) {
    parsed = null;
  }
  if (response.status === 401 && url !== '/api/v1/logout') toLogin();
  if (!response.ok) {
    throw new ApiError(describe(method, url, response.status, response.statusText, parsed),
      response.status, parsed && parsed.code);
  }
  return parsed;
}

// GET/POST `url`; the parsed JSON, or an ApiError with a readable message. A mutating request
// refused 403 is tried once more when whoami has a different CSRF token by now (a login in
// another tab replaced the session).
export async function api(method, url, body) {
  try {
    return await request(method, url, body);
  } catch (e) {
    if (e.status !== 403 || method === 'GET' || !session.me || !session.me.csrf) throw e;
    const before = session.me.csrf;
    try {
      await loadMe();
    } catch (ignored) {
      throw e;
    }
    if (session.me.csrf === before) throw e;
    return request(method, url, body);
  }
}

export const get = (url) => api('GET', url);
export const post = (url, body) => api('POST', url, body || {});

export async function loadMe() {
  const who = await request('GET', '/api/v1/whoami');
  if (!who || typeof who.user !== 'string') throw new ApiError('/api/v1/whoami did not say who', 500);
  session.me = who;
  return who;
}

// ---- a view's resources ----

// Everything a view opens goes through its context; dispose() (the router calls it when the
// view changes) closes the EventSource, clears timers and destroys charts, so a page left open
// for hours holds only what the current view shows.
export class ViewContext {
  constructor(container, params) {
    this.container = container;
    this.params = params;
    this.alive = true;
    this.disposers = [];
    this.source = null;
    this.sourceTimer = 0;
  }

  onDispose(fn) { this.disposers.push(fn); }

  dispose() {
    this.alive = false;
    this.closeLive();
    for (const fn of this.disposers.splice(0)) {
      try { fn(); } catch (e) { /* a chart already gone */ }
    }
  }

  timeout(fn, ms) {
    const id = setTimeout(() => { if (this.alive) fn(); }, ms);
    this.onDispose(() => clearTimeout(id));
  }

  interval(fn, ms) {
    const id = setInterval(() => { if (this.alive) fn(); }, ms);
    this.onDispose(() => clearInterval(id));
    return id;
  }

  // Runs an async step and shows its error under `key` (cleared when it succeeds).
  async guard(key, fn) {
    try {
      const value = await fn();
      if (this.alive) setError(key, null);
      return value;
    } catch (e) {
      if (this.alive && e.status !== 401) setError(key, e.message);
      return undefined;
    }
  }

  // The view's one EventSource on /api/v1/events?<query>: handlers maps event names (hosts,
  // pending, jobs, job, log, host) to functions of the parsed data. An `error` event from the
  // server ({"error","code"}) is shown and ends the stream (401 → /login); it is opened again
  // after a pause unless the thing is gone (404). When the stream cannot be opened at all (503:
  // too many streams, or a server without /events) `fallback()` (a plain GET of the same data)
  // runs and the stream is tried again, so the page still updates every few seconds.
  // `onEnd(body)`, if given, sees a server error event first and returns true when it dealt
  // with it (e.g. opened another stream).
  live(queryString, handlers, fallback, onEnd) {
    this.closeLive();
    if (!this.alive) return;
    const source = new EventSource('/api/v1/events?' + queryString);
    this.source = source;
    const key = 'live';
    for (const [name, handler] of Object.entries(handlers)) {
      source.addEventListener(name, (event) => {
        if (this.source !== source) return;
        let data;
        try {
          data = JSON.parse(event.data);
        } catch (e) {
          setError(key, 'live update "' + name + '" is not JSON');
          return;
        }
        setError(key, null);
        handler(data);
      });
    }
    source.addEventListener('error', (event) => {
      if (this.source !== source) return;
      if (event.data) {  // the server's error event: the stream is over
        let body = {};
        try { body = JSON.parse(event.data); } catch (e) { body = { error: String(event.data) }; }
        source.close();
        this.source = null;
        if (body.code === 'Unauthenticated') {
          toLogin();
          return;
        }
        if (onEnd && onEnd(body)) return;
        setError(key, 'live updates stopped: ' + (body.error || 'unknown error') +
          (body.code ? ' (' + body.code + ')' : ''));
        if (body.code !== 'NotFound') this.sourceTimer = setTimeout(() => this.live(queryString, handlers, fallback, onEnd), 5000);
        return;
      }
      if (source.readyState === EventSource.CLOSED) {
        // Refused (not a stream): the fallback's GET shows why (and goes to /login on 401).
        this.source = null;
        if (fallback) fallback();
        this.sourceTimer = setTimeout(() => this.live(queryString, handlers, fallback, onEnd), 3000);
      }
      // CONNECTING: the browser reconnects by itself (the server ends streams every 5 min).
    });
  }

  closeLive() {
    clearTimeout(this.sourceTimer);
    if (this.source) {
      this.source.close();
      this.source = null;
    }
  }
}

// Chart.js (/static/chart.js, UMD global Chart) is loaded on the first view that plots.
let chartPromise = null;
export function loadChart() {
  if (window.Chart) return Promise.resolve(window.Chart);
  if (!chartPromise) {
    chartPromise = new Promise((resolve, reject) => {
      const script = document.createElement('script');
      script.src = '/static/chart.js';
      script.onload = () => window.Chart ? resolve(window.Chart)
        : reject(new Error('/static/chart.js did not define Chart'));
      script.onerror = () => {
        chartPromise = null;
        reject(new Error('Chart.js is not available (/static/chart.js; the coordinator needs ' +
          'Debian\'s libjs-chart.js): showing a table instead'));
      };
      document.head.appendChild(script);
    });
  }
  return chartPromise;
}

// "11-29 14:03:07" tick labels for a linear x axis of ms (Chart.js's time scale would need a
// date adapter the coordinator does not serve).
function timeTick(value) {
  const d = new Date(value);
  const p = (n) => String(n).padStart(2, '0');
  return p(d.getMonth() + 1) + '-' + p(d.getDate()) + ' ' + p(d.getHours()) + ':' +
    p(d.getMinutes()) + ':' + p(d.getSeconds());
}

// A line chart over time, as every plot of the page draws it: points {x: ms, y}, not parsed,
// no animation, the x axis in timeTick labels, the tooltip titled with the point's time.
// `yScales` are the y axes (Chart.js `scales` entries besides x); `tooltipCallbacks` and
// `onClick` are added to the options.
export function timeLineChart(Chart, canvas, datasets, yScales, tooltipCallbacks = {}, onClick) {
  const options = {
    animation: false,
    maintainAspectRatio: false,
    parsing: false,
    scales: Object.assign({ x: { type: 'linear', ticks: { callback: timeTick, maxTicksLimit: 8 } } },
      yScales),
    plugins: {
      tooltip: {
        callbacks: Object.assign({ title: (items) => items.length ? formatTime(items[0].parsed.x) : '' },
          tooltipCallbacks),
      },
    },
  };
  if (onClick) options.onClick = onClick;
  return new Chart(canvas, { type: 'line', data: { datasets: datasets }, options: options });
}
