// #/jobs/ID[?log=HOST]: one job — its settings and control, each entry (status, host, times,
// reason, barrier position, result counts, results directory), abort (job or entry), clone
// into the form, and a live tail of one entry's log. Live: job=ID[&log=HOST&log_offset=N] on
// /api/v1/events (one stream for both; choosing another log opens a new one).

import { badge, button, durationText, el, emptyRow, formatDuration, formatTime, h, hostHref,
  markUpdated, query, resultsHref, whenCell } from './dom.js';
import { get, notice, post, setError } from './api.js';
import { jobTargets } from './view_jobs.js';

// At most this much of a log is kept on the page (its tail); the whole file is in the results.
export const LOG_CAP_CHARS = 256 * 1024;
const FINAL = new Set(['Completed', 'Failed', 'Aborted', 'Stopped']);

// A button that asks "sure?" on the first click and acts on a second one within 5 s (no
// modal dialog, which would stop the page's updates and get in the way of tests). `armed`
// (a Map, key → until when) keeps the question across redraws of the row it sits in.
function confirmButton(text, className, action, armed, key) {
  const state = armed || new Map();
  const b = button(text, className);
  const draw = () => {
    const on = (state.get(key) || 0) > Date.now();
    b.textContent = on ? 'Really ' + text.toLowerCase() + '?' : text;
    b.classList.toggle('armed', on);
  };
  b.addEventListener('click', () => {
    if ((state.get(key) || 0) > Date.now()) {
      state.delete(key);
      draw();
      action();
      return;
    }
    state.set(key, Date.now() + 5000);
    draw();
    setTimeout(draw, 5050);
  });
  draw();
  return b;
}

// One notification of the job's end: its target, state, attempts and last error.
export function notificationText(n) {
  const attempts = n.attempts + (n.attempts === 1 ? ' attempt' : ' attempts');
  // A --reserve-on-failure notification names the host it reserved.
  const target = n.event === 'host.reserved' ? n.target + ' (host ' + n.host + ' reserved)' : n.target;
  return targetText(target, n, attempts);
}

function targetText(target, n, attempts) {
  if (n.state === 'delivered') return target + ': delivered ' + formatTime(n.delivered_us / 1000) + ' (' + attempts + ')';
  if (n.state === 'failed') return target + ': failed (' + attempts + '): ' + n.last_error;
  return target + ': pending (' + attempts + (n.last_error ? '; last error: ' + n.last_error : '') + ')';
}

function countsText(counts) {
  const parts = Object.entries(counts || {}).map(([s, n]) => n + ' ' + s);
  return parts.length ? parts.join(', ') : '';
}

export function mount(ctx) {
  const id = ctx.params.arg;
  const path = '/api/v1/jobs/' + id;
  let logHost = ctx.params.query.get('log') || '';
  let job = null;
  const armed = new Map();  // abort buttons waiting for their second click

  // --- header and actions ---
  const title = h('h2', null, 'Job ' + id);
  title.id = 'job-title';
  const status = el('span', 'job-status');
  status.id = 'job-status';
  const abortJob = confirmButton('Abort job', 'danger', () => abort({}), armed, '');
  abortJob.id = 'job-abort';
  const clone = el('a', 'button-link', 'Clone as new job');
  clone.id = 'job-clone';
  clone.href = '#/jobs/new?clone=' + id;
  const saveTemplate = button('Save as template', null, async () => {
    const name = window.prompt('Template name (letters, digits, . _ -):', '');
    if (!name) return;
    try {
      await post('/api/v1/templates', { name: name.trim(), from_job: Number(id) });
      notice('saved as template ' + name.trim() + ' (see Schedules)');
    } catch (e) {
      setError('job-template', 'save as template: ' + e.message);
    }
  });
  saveTemplate.id = 'job-save-template';
  const files = el('a', 'button-link', 'Result files');
  files.id = 'job-files';
  files.target = '_blank';
  files.rel = 'noopener';
  files.hidden = true;
  const settings = el('dl', 'facts');
  settings.id = 'job-settings';
  const control = el('pre', 'control-text');
  control.id = 'job-control-text';
  const controlBox = h('details', null, el('summary', null, 'Control'), control);

  // --- entries ---
  const table = el('table', 'entries');
  table.id = 'entries-table';
  table.appendChild(h('thead', null, h('tr', null, ...['Host', 'Status', 'Queued', 'Started',
    'Finished', 'Reason', 'Waiting', 'Results', 'Files', ''].map((t) => el('th', null, t)))));
  const body = el('tbody');
  body.id = 'entries-body';
  table.appendChild(body);

  // --- log ---
  const logTitle = el('h3', null, 'Log');
  logTitle.id = 'log-title';
  const logState = el('span', 'hint');
  logState.id = 'log-state';
  const logDropped = el('p', 'hint', '');
  logDropped.id = 'log-dropped';
  logDropped.hidden = true;
  const logPre = el('pre', 'log');
  logPre.id = 'log';
  const follow = el('input');
  follow.type = 'checkbox';
  follow.checked = true;
  follow.id = 'log-follow';
  const followLabel = h('label', 'hint', follow, ' follow');
  const closeLog = button('Close', null, () => showLog(''));
  const logPanel = h('section', 'log-panel', h('div', 'log-head', logTitle, logState, followLabel, closeLog),
    logDropped, logPre);
  logPanel.id = 'log-panel';
  logPanel.hidden = true;

  const crumbs = h('p', 'crumbs', el('a', null, 'Jobs'), ' / ' + id);
  crumbs.firstChild.href = '#/jobs';
  ctx.container.append(crumbs, h('div', 'title-row', title, status, h('span', 'actions', abortJob, clone, saveTemplate, files)),
    settings, controlBox, h('h3', null, 'Hosts'), table, logPanel);

  async function abort(bodyJson) {
    const what = bodyJson.host ? 'the entry on ' + bodyJson.host : 'job ' + id;
    try {
      await post(path + '/abort', bodyJson);
      setError('abort', null);
      notice('aborting ' + what);
      refreshJob();
    } catch (e) {
      setError('abort', 'abort of ' + what + ': ' + e.message);
    }
  }

  function setting(term, value) {
    settings.append(el('dt', null, term), el('dd', null, value === '' || value === undefined ? '—' : value));
  }

  function entryRow(e) {
    const tr = el('tr');
    tr.dataset.entryHost = e.host || '';
    tr.dataset.entryId = String(e.id);
    tr.dataset.status = e.status;
    const hostCell = el('td', 'host');
    if (e.host) {
      const a = el('a', null, e.host);
      a.href = hostHref(e.host);
      hostCell.appendChild(a);
    } else {
      hostCell.textContent = 'any ' + e.meta_label;
      hostCell.classList.add('muted');
    }
    tr.appendChild(hostCell);
    tr.appendChild(h('td', 'status', badge(e.status)));
    tr.appendChild(whenCell(e.queued_us / 1000));
    tr.appendChild(whenCell(e.started_us / 1000));
    const finished = whenCell(e.finished_us / 1000);
    if (e.finished_us && e.started_us) finished.title += ' (ran ' + formatDuration((e.finished_us - e.started_us) / 1000) + ')';
    tr.appendChild(finished);
    const reason = [e.reason,
      e.fault ? 'fault: ' + e.fault : '',
      e.exit_code !== null && e.exit_code !== undefined && e.exit_code !== 0 ? 'exit ' + e.exit_code : '',
      e.signal ? 'signal ' + e.signal : '',
      e.retries ? 'retried ' + e.retries + '×' : '',
      e.boot_count ? 'rebooted ' + e.boot_count + '×' : ''].filter(Boolean).join('; ');
    const reasonCell = el('td', 'reason', reason);
    if (e.crash) {
      // The kernel crashed under it (docs/kernel-lab.md): the panic line its crashinfo/ holds.
      tr.classList.add('crashed');
      reasonCell.appendChild(el('div', 'crash', 'crash: ' + (e.crash_line || 'the host rebooted unexpectedly')));
    }
    tr.appendChild(reasonCell);
    // A queued entry: its place in the queue and what holds the hosts it could run on; a
    // running one: the barrier or value its control waits for.
    const waiting = e.waiting_for
      ? e.queue_position + ' of ' + e.queue_length + ' in the queue; ' + e.waiting_for
      : (e.waiting_in || '');
    tr.appendChild(el('td', 'waiting', waiting));
    const results = el('td', 'results', countsText(e.result_counts) || (FINAL.has(e.status) ? 'none' : ''));
    if ((e.parse_warnings || []).length) {
      results.appendChild(el('div', 'failed-checks', e.parse_warnings.join('\n')));
    }
    tr.appendChild(results);
    const filesCell = el('td', 'files');
    if (e.results_path) {
      const a = el('a', 'results-link', 'files');
      a.href = resultsHref(e.results_path);
      a.target = '_blank';
      a.rel = 'noopener';
      filesCell.appendChild(a);
    }
    tr.appendChild(filesCell);
    const actions = el('td', 'actions');
    if (e.host && e.status !== 'Queued') {
      const logButton = button(e.host === logHost ? 'Log ▾' : 'Log', 'log', () => showLog(e.host === logHost ? '' : e.host));
      actions.appendChild(logButton);
    }
    if (!FINAL.has(e.status) && e.host) {
      actions.appendChild(confirmButton('Abort', 'abort danger', () => abort({ host: e.host }), armed, 'host:' + e.host));
    }
    tr.appendChild(actions);
    if (e.host && e.host === logHost) tr.classList.add('selected');
    return tr;
  }

  function renderJob(j) {
    job = j;
    title.textContent = 'Job ' + j.id + ': ' + j.name;
    status.replaceChildren(badge(j.status, j.abort_reason));
    abortJob.hidden = FINAL.has(j.status);
    settings.replaceChildren();
    setting('Owner', j.owner);
    setting('Priority', j.priority);
    setting('Hosts', jobTargets(j));
    setting('Depends', (j.depends || []).join(', '));
    setting('Synch count', String(j.synch_count));
    setting('Run verify', j.run_verify ? 'yes' : 'no');
    setting('Timeout', j.timeout_ms ? formatDuration(j.timeout_ms) : 'none');
    setting('Max runtime', j.max_runtime_ms ? formatDuration(j.max_runtime_ms) : 'none');
    setting('Cleanup', j.cleanup);
    setting('Retry', String(j.retry || 0));
    if ((j.after || []).length) setting('After', 'jobs ' + j.after.join(', ') + (j.after_any ? ' (whatever they end as)' : ' (all Completed)'));
    if ((j.notify || []).length) setting('Notify', j.notify.join(', ') + ' (on ' + j.notify_on + ')');
    if (j.reserve_on_failure_ms) {
      setting('Reserve on failure', durationText(j.reserve_on_failure_ms) +
        ' (a host whose entry fails stays reserved to ' + j.owner + ')');
    }
    for (const n of j.notifications || []) {
      const dd = notificationText(n);
      setting('Notification', dd);
    }
    setting('Created', formatTime(j.created_us / 1000));
    setting('Finished', j.finished_us ? formatTime(j.finished_us / 1000) : '—');
    if (j.abort_reason) setting('Aborted', j.abort_reason);
    setting('Runs', j.control_kind === 'test' ? 'catalog test ' + j.test_name : j.control_kind);
    if (control.textContent !== (j.control || '')) control.textContent = j.control || '';
    const withPath = (j.entries || []).find((e) => e.results_path);
    if (withPath) {
      files.href = resultsHref(withPath.results_path.split('/')[0]);
      files.hidden = false;
    }
    const rows = document.createDocumentFragment();
    for (const e of j.entries || []) rows.appendChild(entryRow(e));
    if (!(j.entries || []).length) rows.appendChild(emptyRow(10, 'No entries.'));
    body.replaceChildren(rows);
    markUpdated();
  }

  // --- the log tail: text kept to LOG_CAP_CHARS, offsets as the server counts them ---
  let logText = '';
  let logNext = 0;
  let logComplete = false;

  function appendLog(chunk) {
    if (chunk.host !== undefined && chunk.host !== logHost) return;
    const offset = Number(chunk.offset) || 0;
    let data = chunk.data || '';
    if (offset > logNext) {
      data = '\n[… ' + (offset - logNext) + ' bytes not shown …]\n' + data;
    } else if (offset < logNext) {
      // Bytes we already have (a reconnect that started earlier): skip them (by length; the
      // server counts bytes, this counts UTF-16 units, which match for ASCII logs).
      data = data.slice(Math.min(data.length, logNext - offset));
    }
    logNext = Math.max(logNext, Number(chunk.next_offset) || logNext);
    logComplete = !!chunk.complete;
    if (data) {
      const atBottom = logPre.scrollHeight - logPre.scrollTop - logPre.clientHeight < 40;
      logText += data;
      if (logText.length > LOG_CAP_CHARS) {
        let cut = logText.length - LOG_CAP_CHARS;
        const newline = logText.indexOf('\n', cut);
        if (newline >= 0 && newline - cut < 4096) cut = newline + 1;
        logText = logText.slice(cut);
        logDropped.textContent = 'Only the last ' + Math.round(LOG_CAP_CHARS / 1024) +
          ' KiB are shown; the whole output is in the result files.';
        logDropped.hidden = false;
      }
      logPre.textContent = logText;
      if (follow.checked && (atBottom || logText.length === data.length)) logPre.scrollTop = logPre.scrollHeight;
    }
    logState.textContent = (chunk.status ? chunk.status + ' · ' : '') + logNext + ' bytes' +
      (logComplete ? ' · complete' : ' · live');
    logPre.dataset.complete = logComplete ? '1' : '0';
  }

  function showLog(hostname) {
    if (hostname !== logHost) setError('log', null);
    logHost = hostname;
    logText = '';
    logNext = 0;
    logComplete = false;
    logPre.textContent = '';
    logPre.dataset.host = hostname;
    logPre.dataset.complete = '0';
    logDropped.hidden = true;
    logPanel.hidden = !hostname;
    logTitle.textContent = hostname ? 'Log of ' + hostname : 'Log';
    logState.textContent = hostname ? 'waiting for output…' : '';
    const hash = '#/jobs/' + id + (hostname ? '?' + query({ log: hostname }) : '');
    if (window.location.hash !== hash) history.replaceState(null, '', hash);
    if (job) renderJob(job);
    openLive();
  }

  function refreshJob() {
    return ctx.guard('job', async () => {
      const j = await get(path);
      if (ctx.alive) renderJob(j);
    });
  }

  // Without a stream: the job and the log's new bytes by plain GETs.
  async function fallback() {
    await refreshJob();
    if (!logHost || logComplete) return;
    const host = logHost;
    await ctx.guard('log', async () => {
      const chunk = await get(path + '/log?' + query({ host: host, offset: logNext }));
      if (ctx.alive && host === logHost) appendLog(Object.assign({ host: host }, chunk));
    });
  }

  function openLive() {
    const handlers = { job: renderJob };
    if (logHost) handlers.log = appendLog;
    // A log the server cannot give (no entry on that host) ends the stream: the job's own
    // updates go on without it.
    const onEnd = (body) => {
      if (!logHost) return false;
      const host = logHost;
      showLog('');
      setError('log', 'no log of ' + host + ': ' + body.error);
      return true;
    };
    ctx.live(query({ job: id, log: logHost, log_offset: logHost && logNext ? logNext : '' }), handlers,
      fallback, onEnd);
  }

  refreshJob();
  showLog(logHost);
}
