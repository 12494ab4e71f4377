// labmesh web page: a hash router over a few views (dashboard, jobs, job form, job, hosts,
// host, results, schedules). No framework and no build step; everything comes from /api/v1, the same JSON
// scripts and `labmesh --json` use, and live changes come from one EventSource per view
// (/api/v1/events, see api.js). Signing in: whoami first; 401 anywhere sends the browser to
// /login?next=<this page>, which comes back here.

import { $, markUpdated } from './dom.js';
import { ViewContext, clearErrors, loadMe, post, session, setError, toLogin } from './api.js';
import * as dashboard from './view_dashboard.js';
import * as jobs from './view_jobs.js';
import * as jobForm from './view_job_form.js';
import * as job from './view_job.js';
import * as hosts from './view_hosts.js';
import * as host from './view_host.js';
import * as results from './view_results.js';
import * as schedules from './view_schedules.js';

// [pattern over the path of the hash route, view module, nav item]
const ROUTES = [
  [/^\/?$/, dashboard, 'dashboard'],
  [/^\/jobs\/?$/, jobs, 'jobs'],
  [/^\/jobs\/new$/, jobForm, 'new-job'],
  [/^\/jobs\/(\d+)$/, job, 'jobs'],
  [/^\/hosts\/?$/, hosts, 'hosts'],
  [/^\/hosts\/([^/]+)$/, host, 'hosts'],
  [/^\/results\/?$/, results, 'results'],
  [/^\/schedules\/?$/, schedules, 'schedules'],
];

let current = null;  // the ViewContext of the view on screen

// "#/jobs?owner=ann" → {path: "/jobs", query: URLSearchParams}
function parseHash() {
  const raw = window.location.hash.replace(/^#/, '');
  const at = raw.indexOf('?');
  const path = at < 0 ? raw : raw.slice(0, at);
  return { path: path || '/', query: new URLSearchParams(at < 0 ? '' : raw.slice(at + 1)) };
}

function route() {
  if (session.leaving || session.me === null) return;
  if (current) current.dispose();
  current = null;
  clearErrors();
  const { path, query } = parseHash();
  const view = $('view');
  view.replaceChildren();
  for (const [pattern, module, nav] of ROUTES) {
    const match = pattern.exec(path);
    if (!match) continue;
    for (const a of document.querySelectorAll('#nav a[data-nav]')) {
      a.classList.toggle('active', a.dataset.nav === nav);
    }
    let arg = match[1];
    try {
      if (arg !== undefined) arg = decodeURIComponent(arg);
    } catch (e) { /* keep it raw */ }
    current = new ViewContext(view, { arg: arg, query: query });
    view.dataset.view = nav;
    try {
      module.mount(current);
    } catch (e) {
      setError('page', 'page error: ' + e.message);
    }
    return;
  }
  view.dataset.view = 'none';
  setError('route', 'no such page: #' + path + ' (see the links above)');
}

async function logout() {
  $('logout').disabled = true;
  try {
    await post('/api/v1/logout');
  } catch (e) {
    if (e.status !== 401) {  // 401: the session was already gone, which is what we wanted
      $('logout').disabled = false;
      setError('logout', 'log out failed: ' + e.message);
      return;
    }
  }
  session.leaving = true;
  if (current) current.dispose();
  window.location.replace('/login');
}

async function start() {
  $('logout').addEventListener('click', logout);
  window.addEventListener('hashchange', route);
  for (;;) {
    try {
      const me = await loadMe();
      $('user-name').textContent = me.user + (me.admin ? ' (admin)' : '');
      if (me.expires) $('user').title = 'session until ' + me.expires;
      $('user').hidden = false;
      $('logout').hidden = false;
      setError('whoami', null);
      markUpdated();
      route();
      return;
    } catch (e) {
      if (e.status === 401) {
        toLogin();
        return;
      }
      setError('whoami', e.message + ' (retrying in 2 s)');
      await new Promise((resolve) => setTimeout(resolve, 2000));
    }
  }
}

if (document.readyState === 'loading') {
  document.addEventListener('DOMContentLoaded', start);
} else {
  start();
}
