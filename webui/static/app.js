// labmesh web page: polls the JSON API every 2 s and redraws the hosts and pending tables; a
// click on a host shows its history (special tasks and job entries) under the table.
// No framework and no build step; everything the page shows comes from /api/v1, the same JSON
// scripts and `labmesh --json` use. Text from the API is only ever set with textContent.
// Signing in: the page asks /api/v1/whoami first; 401 (no session, or it expired) sends it to
// /login. The session itself is an HttpOnly cookie this script never sees; the CSRF token from
// whoami goes as the X-CSRF-Token header with every POST/PUT/PATCH/DELETE (send()).
'use strict';

(function () {
  const REFRESH_MS = 2000;
  // A host whose last heartbeat is older than this is shown in red even before it is Dead.
  const STALE_MS = 30000;

  // Server wall clock minus browser wall clock, from the X-Labmesh-Now-Ms response header, so
  // that "3 s ago" is right even when the browser's clock is not.
  let clockOffsetMs = 0;

  // The host whose history is shown under the hosts table (a click on its row); null = none.
  let selectedHost = null;

  // Who is signed in ({user, admin, acl_groups, csrf, ...} from /api/v1/whoami); null = not yet
  // known. csrf is "" unless this is a web session.
  let me = null;
  let leaving = false;  // on the way to /login or out: stop drawing and polling

  const STATUS_CLASS = {
    'Ready': 'ok',
    'Running': 'busy',
    'Pending': 'work',
    'Verifying': 'work',
    'Repairing': 'work',
    'Cleaning': 'work',
    'Updating': 'work',
    'Repair Failed': 'bad',
    'Dead': 'bad',
  };

  function $(id) { return document.getElementById(id); }

  function el(tag, className, text) {
    const node = document.createElement(tag);
    if (className) node.className = className;
    if (text !== undefined && text !== null) node.textContent = String(text);
    return node;
  }

  function serverNow() { return Date.now() + clockOffsetMs; }

  function formatBytes(bytes) {
    if (!bytes) return '—';
    const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB', 'PiB'];
    let value = Number(bytes);
    let unit = 0;
    while (value >= 1024 && unit < units.length - 1) {
      value /= 1024;
      unit += 1;
    }
    return (unit === 0 ? value.toFixed(0) : value.toFixed(1)) + ' ' + units[unit];
  }

  function formatAgo(wallMs) {
    if (!wallMs) return 'never';
    const seconds = Math.max(0, Math.round((serverNow() - wallMs) / 1000));
    if (seconds < 60) return seconds + ' s ago';
    const minutes = Math.floor(seconds / 60);
    if (minutes < 60) return minutes + ' min ago';
    const hours = Math.floor(minutes / 60);
    if (hours < 48) return hours + ' h ago';
    return Math.floor(hours / 24) + ' d ago';
  }

  // Task statuses (Queued, Running, Completed, Failed, Aborted) as badge colours.
  const TASK_CLASS = {
    'Queued': 'work',
    'Running': 'work',
    'Completed': 'ok',
    'Failed': 'bad',
    'Aborted': 'bad',
  };

  // When a task or history item last changed: finished, else started, else queued (ms).
  function lastChangeMs(item) {
    return item.finished_ms || item.started_ms || item.queued_ms || 0;
  }

  function hasHealth(host) {
    return host.last_heartbeat_ms > 0 && host.health;
  }

  function statusCell(host) {
    const td = el('td');
    const badge = el('span', 'badge ' + (STATUS_CLASS[host.status] || ''), host.status || '?');
    if (host.status_reason) badge.title = host.status_reason;
    td.appendChild(badge);
    // The protection level only when it limits the lifecycle ("none" is the usual case).
    if (host.protection && host.protection !== 'none') {
      const protection = el('span', 'protection', host.protection);
      protection.title = 'protection: ' + host.protection;
      td.appendChild(protection);
    }
    return td;
  }

  // "Verify Failed · 3 min ago", the reason as tooltip; "—" when the host never had a task.
  function lastTaskCell(host) {
    const task = host.last_task;
    if (!task) return el('td', 'last-task muted', '—');
    const td = el('td', 'last-task ' + (TASK_CLASS[task.status] || ''));
    const when = lastChangeMs(task);
    td.textContent = task.kind + ' ' + task.status + (when ? ' · ' + formatAgo(when) : '');
    const tip = [task.reason, task.requested_by ? 'requested by ' + task.requested_by : '']
      .filter(Boolean).join('\n');
    if (tip) td.title = tip;
    return td;
  }

  function labelsCell(labels) {
    const td = el('td');
    for (const label of labels || []) td.appendChild(el('span', 'label', label));
    return td;
  }

  function hostRow(host) {
    const tr = el('tr');
    tr.dataset.hostname = host.hostname;
    tr.appendChild(el('td', 'hostname', host.hostname));
    tr.appendChild(statusCell(host));
    tr.appendChild(lastTaskCell(host));
    tr.appendChild(labelsCell(host.labels));

    const health = host.health || {};
    tr.appendChild(el('td', 'num', hasHealth(host)
      ? [health.load1, health.load5, health.load15].map((x) => Number(x).toFixed(2)).join(' ')
      : '—'));
    tr.appendChild(el('td', 'num', hasHealth(host) && health.mem_total_bytes
      ? formatBytes(health.mem_available_bytes) + ' / ' + formatBytes(health.mem_total_bytes)
      : '—'));
    const disk = el('td', 'num', hasHealth(host) && health.disk_total_bytes
      ? formatBytes(health.disk_free_bytes) : '—');
    if (hasHealth(host) && health.disk_total_bytes) {
      disk.title = formatBytes(health.disk_free_bytes) + ' free of ' +
        formatBytes(health.disk_total_bytes);
    }
    tr.appendChild(disk);
    tr.appendChild(el('td', null, host.agent_version || '—'));

    const beat = el('td', 'when', formatAgo(host.last_heartbeat_ms));
    if (host.last_heartbeat) beat.title = host.last_heartbeat;
    if (!host.last_heartbeat_ms || serverNow() - host.last_heartbeat_ms > STALE_MS) {
      beat.classList.add('stale');
    }
    tr.appendChild(beat);

    const locked = el('td', host.locked ? null : 'muted', host.locked ? 'yes' : 'no');
    if (host.locked) {
      const who = host.locked_by ? 'by ' + host.locked_by : '';
      const why = host.lock_reason ? host.lock_reason : '';
      locked.textContent = 'yes' + (who || why ? ' (' + [who, why].filter(Boolean).join(': ') + ')' : '');
    }
    tr.appendChild(locked);
    if (host.hostname === selectedHost) tr.classList.add('selected');
    tr.addEventListener('click', () => selectHost(host.hostname));
    return tr;
  }

  function renderHosts(hosts) {
    const body = $('hosts-body');
    const rows = document.createDocumentFragment();
    const sorted = hosts.slice().sort((a, b) => String(a.hostname).localeCompare(String(b.hostname)));
    for (const host of sorted) rows.appendChild(hostRow(host));
    body.replaceChildren(rows);
    if (selectedHost !== null && !hosts.some((h) => h.hostname === selectedHost)) {
      selectedHost = null;  // the host went away (deleted): so does its history
      $('history').hidden = true;
    }
    $('hosts-empty').hidden = hosts.length > 0;
    $('hosts-table').hidden = hosts.length === 0;

    const counts = {};
    for (const host of hosts) counts[host.status] = (counts[host.status] || 0) + 1;
    const parts = [hosts.length + (hosts.length === 1 ? ' host' : ' hosts')];
    for (const status of Object.keys(counts).sort()) parts.push(counts[status] + ' ' + status);
    $('summary').textContent = parts.join(' · ');
    renderVersions(hosts);
  }

  // How many hosts run each agent version (self-update moves them; docs/update.md).
  function renderVersions(hosts) {
    const versions = {};
    for (const host of hosts) {
      const v = host.agent_version || 'unknown';
      versions[v] = (versions[v] || 0) + 1;
    }
    const items = document.createDocumentFragment();
    const names = Object.keys(versions).sort();
    names.forEach((v, i) => {
      if (i > 0) items.appendChild(document.createTextNode(' · '));
      const item = el('span', 'version', v + ': ' + versions[v] + (versions[v] === 1 ? ' host' : ' hosts'));
      item.dataset.version = v;
      item.dataset.hosts = String(versions[v]);
      items.appendChild(item);
    });
    $('versions-list').replaceChildren(items);
    $('versions').hidden = names.length === 0;
  }

  function renderPending(pending) {
    const body = $('pending-body');
    const rows = document.createDocumentFragment();
    for (const host of pending) {
      const tr = el('tr');
      tr.dataset.hostname = host.hostname;
      tr.appendChild(el('td', 'hostname', host.hostname));
      tr.appendChild(el('td', null, host.agent_version || '—'));
      const f = host.facts || {};
      const machine = [f.arch, [f.os, f.os_version].filter(Boolean).join(' '),
        f.cpus ? f.cpus + ' CPUs' : '', f.memory_bytes ? formatBytes(f.memory_bytes) : '']
        .filter(Boolean).join(', ');
      tr.appendChild(el('td', null, machine || '—'));
      tr.appendChild(el('td', null, f.address || '—'));
      const asked = host.registered ? Date.parse(host.registered) : 0;
      const when = el('td', 'when', asked ? formatAgo(asked) : '—');
      if (host.registered) when.title = host.registered;
      tr.appendChild(when);
      rows.appendChild(tr);
    }
    body.replaceChildren(rows);
    $('pending-table').hidden = pending.length === 0;
    $('pending-empty').hidden = pending.length > 0;
  }

  function renderHistory(hostname, items) {
    $('history-title').textContent = 'History of ' + hostname;
    const body = $('history-body');
    const rows = document.createDocumentFragment();
    for (const item of items) {
      const tr = el('tr');
      const queued = el('td', 'when', item.queued_ms ? formatAgo(item.queued_ms) : '—');
      if (item.queued) queued.title = item.queued;
      tr.appendChild(queued);
      tr.appendChild(el('td', null, item.type));
      tr.appendChild(el('td', 'num', item.id));
      tr.appendChild(el('td', 'num', item.job_id ? item.job_id : '—'));
      tr.appendChild(el('td', null, item.name));
      const status = el('td');
      status.appendChild(el('span', 'badge ' + (TASK_CLASS[item.status] || ''), item.status));
      tr.appendChild(status);
      const reason = el('td', 'reason', item.reason || '');
      const failed = (item.checks || []).filter((c) => !c.passed);
      if (failed.length > 0) {
        reason.appendChild(el('div', 'failed-checks',
          'failed checks: ' + failed.map((c) => c.name).join(', ')));
      }
      tr.appendChild(reason);
      rows.appendChild(tr);
    }
    body.replaceChildren(rows);
    $('history-empty').hidden = items.length > 0;
    $('history-table').hidden = items.length === 0;
    $('history').hidden = false;
  }

  async function refreshHistory() {
    if (selectedHost === null) return;
    const hostname = selectedHost;
    const items = await fetchJson('/api/v1/hosts/' + encodeURIComponent(hostname) + '/history');
    if (hostname === selectedHost) renderHistory(hostname, items);
  }

  function selectHost(hostname) {
    selectedHost = selectedHost === hostname ? null : hostname;
    for (const tr of $('hosts-body').children) {
      tr.classList.toggle('selected', tr.dataset.hostname === selectedHost);
    }
    if (selectedHost === null) {
      $('history').hidden = true;
      return;
    }
    refreshHistory().catch((e) => showErrors([e.message]));
  }

  // Off to the login page, which comes back here afterwards.
  function toLogin() {
    if (leaving) return;
    leaving = true;
    window.location.replace('/login?next=' +
      encodeURIComponent(window.location.pathname + window.location.search));
  }

  // One API request; the parsed JSON body, or an Error. A 401 (not signed in, or the session
  // expired) goes to the login page. Mutating methods carry the session's CSRF token.
  async function api(method, url, body) {
    const headers = { Accept: 'application/json' };
    if (method !== 'GET' && method !== 'HEAD') {
      if (me && me.csrf) headers['X-CSRF-Token'] = me.csrf;
      if (body !== undefined) headers['Content-Type'] = 'application/json';
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
      throw new Error('cannot reach the labmesh web server (' + e.message + ')');
    }
    const now = Number(response.headers.get('X-Labmesh-Now-Ms'));
    if (now > 0) clockOffsetMs = now - Date.now();
    let parsed = null;
    try {
      parsed = await response.json();
    } catch (e) {
      parsed = null;
    }
    if (response.status === 401) toLogin();
    if (!response.ok) {
      const detail = parsed && parsed.error ? parsed.error : response.statusText;
      const error = new Error(url + ' failed: HTTP ' + response.status + (detail ? ' — ' + detail : ''));
      error.status = response.status;
      throw error;
    }
    return parsed;
  }

  // POST/PUT/PATCH/DELETE `url` with an optional JSON body (and the CSRF token).
  function send(method, url, body) { return api(method, url, body); }

  async function fetchJson(url) {
    const body = await api('GET', url);
    if (!Array.isArray(body)) throw new Error(url + ' did not return a JSON array');
    return body;
  }

  async function loadMe() {
    const who = await api('GET', '/api/v1/whoami');
    if (!who || typeof who.user !== 'string') throw new Error('/api/v1/whoami did not say who');
    me = who;
    $('user-name').textContent = me.user + (me.admin ? ' (admin)' : '');
    if (me.expires) $('user').title = 'session until ' + me.expires;
    $('user').hidden = false;
    $('logout').hidden = false;
  }

  async function logout() {
    $('logout').disabled = true;
    try {
      try {
        await send('POST', '/api/v1/logout');
      } catch (e) {
        if (e.status !== 403) throw e;
        // Perhaps a stale CSRF token (a login in another tab made a new session): once more
        // with the current one.
        await loadMe();
        await send('POST', '/api/v1/logout');
      }
    } catch (e) {
      if (e.status !== 401) {  // 401: the session was already gone, which is what we wanted
        $('logout').disabled = false;
        showErrors(['log out failed: ' + e.message]);
        return;
      }
    }
    leaving = true;
    window.location.replace('/login');
  }

  function showErrors(messages) {
    const banner = $('error');
    if (messages.length === 0) {
      banner.hidden = true;
      banner.textContent = '';
      return;
    }
    banner.textContent = messages.join('\n') + ' (retrying every ' + REFRESH_MS / 1000 + ' s)';
    banner.hidden = false;
  }

  async function refresh() {
    const [hosts, pending, history] = await Promise.allSettled([
      fetchJson('/api/v1/hosts'),
      fetchJson('/api/v1/pending'),
      refreshHistory(),
    ]);
    const errors = [];
    if (hosts.status === 'fulfilled') renderHosts(hosts.value); else errors.push(hosts.reason.message);
    if (pending.status === 'fulfilled') renderPending(pending.value); else errors.push(pending.reason.message);
    if (history.status === 'rejected') errors.push(history.reason.message);
    showErrors(errors);
    if (errors.length === 0) $('updated').textContent = 'updated ' + new Date().toLocaleTimeString();
  }

  async function loop() {
    try {
      if (me === null) await loadMe();
      if (!leaving) await refresh();
    } catch (e) {
      showErrors([e.status ? e.message : 'page error: ' + e.message]);
    }
    if (!leaving) setTimeout(loop, REFRESH_MS);
  }

  document.addEventListener('DOMContentLoaded', () => {
    $('logout').addEventListener('click', logout);
    loop();
  });
})();
