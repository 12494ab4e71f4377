// #/hosts[?status=S&label=L]: the hosts table (status, last task, labels, health, version,
// heartbeat, lock, reservation with a Release button), filters by status and label, the agent
// versions line and the hosts waiting for approval (accept / reject). Live: hosts=1&pending=1 on /api/v1/events.

import { $, HOST_STATUSES, badge, button, el, field, formatAgo, formatBytes, formatTime, h,
  hostHref, markUpdated, query, select, serverNow, statusClass, whenCell } from './dom.js';
import { get, notice, post, setError } from './api.js';
import { historyTable as historyTableOf } from './view_host.js';

// A host whose last heartbeat is older than this is shown in red even before it is Dead.
const STALE_MS = 30000;

const TASK_CLASS = { Queued: 'work', Running: 'work', Completed: 'ok', Failed: 'bad', Aborted: 'bad' };

function lastChangeMs(item) {
  return item.finished_ms || item.started_ms || item.queued_ms || 0;
}

function hasHealth(host) {
  return host.last_heartbeat_ms > 0 && host.health;
}

function statusCell(host) {
  const td = el('td', 'status-cell');
  td.appendChild(badge(host.status, host.status_reason));
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

export function labelsCell(labels) {
  const td = el('td', 'labels');
  for (const label of labels || []) td.appendChild(el('span', 'label', label));
  return td;
}

export function loadText(host) {
  const health = host.health || {};
  return hasHealth(host)
    ? [health.load1, health.load5, health.load15].map((x) => Number(x).toFixed(2)).join(' ')
    : '—';
}

export function memoryText(host) {
  const health = host.health || {};
  return hasHealth(host) && health.mem_total_bytes
    ? formatBytes(health.mem_available_bytes) + ' / ' + formatBytes(health.mem_total_bytes)
    : '—';
}

export function lockText(host) {
  if (!host.locked) return 'no';
  const who = host.locked_by ? 'by ' + host.locked_by : '';
  const why = host.lock_reason ? host.lock_reason : '';
  return 'yes' + (who || why ? ' (' + [who, why].filter(Boolean).join(': ') + ')' : '');
}

// "alice until 2026-12-06 17:30 (kernel bisect)"; "no" when the host is not reserved (the
// coordinator leaves an expired reservation out: docs/reservations.md).
export function reservationText(host) {
  const r = host.reservation;
  if (!r) return 'no';
  return r.by + ' until ' + formatTime(r.until_ms) + (r.reason ? ' (' + r.reason + ')' : '');
}

// The Reserved cell: who and until when, and a Release button (the coordinator decides who may).
function reservationCell(host, release) {
  const td = el('td', 'reserved' + (host.reservation ? '' : ' muted'), reservationText(host));
  if (host.reservation) {
    td.dataset.reservedBy = host.reservation.by;
    td.appendChild(document.createTextNode(' '));
    const b = button('Release', 'release', (event) => {
      event.stopPropagation();  // not a click on the row (which opens its history)
      release(host.hostname);
    });
    b.title = 'end ' + host.reservation.by + "'s reservation of " + host.hostname;
    td.appendChild(b);
  }
  return td;
}

export function heartbeatCell(host) {
  const beat = el('td', 'when heartbeat', formatAgo(host.last_heartbeat_ms));
  if (host.last_heartbeat) beat.title = host.last_heartbeat;
  if (!host.last_heartbeat_ms || serverNow() - host.last_heartbeat_ms > STALE_MS) {
    beat.classList.add('stale');
  }
  return beat;
}

let onRowClick = () => {};
let onRelease = () => {};

function hostRow(host) {
  const tr = el('tr');
  tr.dataset.hostname = host.hostname;
  tr.dataset.status = host.status;
  const name = el('td', 'hostname');
  const a = el('a', null, host.hostname);
  a.href = hostHref(host.hostname);
  name.appendChild(a);
  tr.appendChild(name);
  tr.appendChild(statusCell(host));
  tr.appendChild(lastTaskCell(host));
  tr.appendChild(labelsCell(host.labels));
  tr.appendChild(el('td', 'num load', loadText(host)));
  tr.appendChild(el('td', 'num memory', memoryText(host)));
  const health = host.health || {};
  const disk = el('td', 'num disk', hasHealth(host) && health.disk_total_bytes
    ? formatBytes(health.disk_free_bytes) : '—');
  if (hasHealth(host) && health.disk_total_bytes) {
    disk.title = formatBytes(health.disk_free_bytes) + ' free of ' +
      formatBytes(health.disk_total_bytes);
  }
  tr.appendChild(disk);
  tr.appendChild(el('td', 'version', host.agent_version || '—'));
  tr.appendChild(heartbeatCell(host));
  tr.appendChild(el('td', 'locked' + (host.locked ? '' : ' muted'), lockText(host)));
  tr.appendChild(reservationCell(host, onRelease));
  // A click on the row shows its history under the table; the name opens the host page.
  tr.addEventListener('click', (event) => {
    if (!event.target.closest('a')) onRowClick(host.hostname);
  });
  return tr;
}

// How many hosts run each agent version (self-update moves them; docs/update.md), as
// `#versions` / `#versions-list .version[data-version][data-hosts]`.
export function versionsLine(hosts) {
  const p = el('p', 'versions');
  p.id = 'versions';
  p.appendChild(document.createTextNode('Agent versions: '));
  const list = el('span');
  list.id = 'versions-list';
  const versions = {};
  for (const host of hosts) {
    const v = host.agent_version || 'unknown';
    versions[v] = (versions[v] || 0) + 1;
  }
  Object.keys(versions).sort().forEach((v, i) => {
    if (i > 0) list.appendChild(document.createTextNode(' · '));
    const item = el('span', 'version', v + ': ' + versions[v] + (versions[v] === 1 ? ' host' : ' hosts'));
    item.dataset.version = v;
    item.dataset.hosts = String(versions[v]);
    list.appendChild(item);
  });
  p.appendChild(list);
  p.hidden = hosts.length === 0;
  return p;
}

// The pending enrollments table with accept / reject buttons; `after` runs after a click
// succeeded (the live stream redraws anyway; this makes it immediate).
export function pendingSection(ctx, after) {
  const section = h('section', 'pending', h('h2', null, 'Waiting for approval'));
  section.id = 'pending';
  const table = el('table');
  table.id = 'pending-table';
  table.appendChild(h('thead', null, h('tr', null, h('th', null, 'Hostname'), h('th', null, 'Agent'),
    h('th', null, 'Machine'), h('th', null, 'Address'), h('th', null, 'Asked'), h('th', null, ''))));
  const body = el('tbody');
  body.id = 'pending-body';
  table.appendChild(body);
  const empty = el('p', 'empty', 'No hosts are waiting for approval.');
  empty.id = 'pending-empty';
  section.append(table, empty);

  async function act(hostname, action) {
    let reason;
    if (action === 'reject') {
      reason = window.prompt('Reject ' + hostname + '? Reason (optional):', '');
      if (reason === null) return;
    }
    try {
      await post('/api/v1/hosts/' + encodeURIComponent(hostname) + '/' + action,
        reason ? { reason: reason } : {});
      setError('pending', null);
      notice(hostname + (action === 'accept' ? ' accepted' : ' rejected'));
      if (after) after();
    } catch (e) {
      setError('pending', e.message);
    }
  }

  function render(pending) {
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
      tr.appendChild(whenCell(host.registered_ms || (host.registered ? Date.parse(host.registered) : 0)));
      const actions = el('td', 'actions');
      actions.append(button('Accept', 'accept', () => act(host.hostname, 'accept')),
        button('Reject', 'reject danger', () => act(host.hostname, 'reject')));
      tr.appendChild(actions);
      rows.appendChild(tr);
    }
    body.replaceChildren(rows);
    table.hidden = pending.length === 0;
    empty.hidden = pending.length > 0;
  }
  render([]);
  return { section, render };
}

export function mount(ctx) {
  const q = ctx.params.query;
  const status = q.get('status') || '';
  const label = q.get('label') || '';

  const statusSelect = select('hosts-status', [['', 'any status'], ...HOST_STATUSES], status);
  const labelSelect = select('hosts-label', [['', 'any label']], label);
  if (label) labelSelect.appendChild(Object.assign(el('option', null, label), { value: label, selected: true }));
  const filters = h('form', 'filters', field('Status', statusSelect), field('Label', labelSelect));
  filters.id = 'hosts-filters';
  const apply = () => {
    window.location.hash = '#/hosts' + (query({ status: statusSelect.value, label: labelSelect.value })
      ? '?' + query({ status: statusSelect.value, label: labelSelect.value }) : '');
  };
  statusSelect.addEventListener('change', apply);
  labelSelect.addEventListener('change', apply);

  const table = el('table');
  table.id = 'hosts-table';
  table.appendChild(h('thead', null, h('tr', null, ...['Hostname', 'Status', 'Last task', 'Labels',
    'Load (1/5/15 min)', 'Memory available / total', 'Disk free', 'Agent', 'Last heartbeat', 'Locked',
    'Reserved']
    .map((t, i) => el('th', i >= 4 && i <= 6 ? 'num' : null, t)))));
  const body = el('tbody');
  body.id = 'hosts-body';
  table.appendChild(body);
  const empty = el('p', 'empty', status || label ? 'No host matches these filters.'
    : 'No hosts yet. Start an agent to see it here.');
  empty.id = 'hosts-empty';
  empty.hidden = true;
  const summary = el('p', 'summary');
  summary.id = 'summary';
  let versions = versionsLine([]);

  const pending = pendingSection(ctx, () => refresh());
  ctx.container.append(h('section', null, h('h2', null, 'Hosts'), filters, summary, table, empty),
    versions, pending.section);

  function renderHosts(hosts) {
    const rows = document.createDocumentFragment();
    const sorted = hosts.slice().sort((a, b) => String(a.hostname).localeCompare(String(b.hostname)));
    for (const host of sorted) rows.appendChild(hostRow(host));
    body.replaceChildren(rows);
    empty.hidden = hosts.length > 0;
    table.hidden = hosts.length === 0;
    const counts = {};
    for (const host of hosts) counts[host.status] = (counts[host.status] || 0) + 1;
    summary.replaceChildren(document.createTextNode(hosts.length + (hosts.length === 1 ? ' host' : ' hosts')));
    for (const s of Object.keys(counts).sort()) {
      summary.append(' · ', el('span', 'count ' + statusClass(s), counts[s] + ' ' + s));
    }
    const next = versionsLine(hosts);
    versions.replaceWith(next);
    versions = next;
    // The label filter offers the labels the hosts carry (no request of its own).
    const labels = new Set(label ? [label] : []);
    for (const host of hosts) for (const l of host.labels || []) labels.add(l);
    const names = [...labels].sort();
    if (names.join('\n') !== labelNames) {
      labelNames = names.join('\n');
      labelSelect.replaceChildren(...[['', 'any label'], ...names.map((n) => [n, n])].map(([v, t]) => {
        const o = el('option', null, t);
        o.value = v;
        o.selected = v === label;
        return o;
      }));
    }
    if (selected !== null && !hosts.some((x) => x.hostname === selected)) selectHost(null);
    for (const tr of body.children) tr.classList.toggle('selected', tr.dataset.hostname === selected);
    markUpdated();
  }

  // A click on a row shows that host's history under the table (the name opens its page).
  let labelNames = '';
  let selected = null;
  const history = h('section', 'history', h('h2', null, ''));
  history.id = 'history';
  history.hidden = true;
  const historyTitle = history.firstChild;
  historyTitle.id = 'history-title';
  let historyTable = historyTableOf([]);
  const historyEmpty = el('p', 'empty', 'No special tasks or job entries on this host yet.');
  historyEmpty.id = 'history-empty';
  const historyMore = el('a', 'more', '');
  history.append(historyTable, historyEmpty, historyMore);
  table.after(history);
  function selectHost(hostname) {
    selected = selected === hostname ? null : hostname;
    for (const tr of body.children) tr.classList.toggle('selected', tr.dataset.hostname === selected);
    if (selected === null) {
      history.hidden = true;
      setError('history', null);
      return;
    }
    refreshHistory();
  }
  function refreshHistory() {
    if (selected === null) return;
    const hostname = selected;
    ctx.guard('history', async () => {
      const items = await get('/api/v1/hosts/' + encodeURIComponent(hostname) + '/history?limit=20');
      if (!ctx.alive || hostname !== selected) return;
      historyTitle.textContent = 'History of ' + hostname;
      const next = historyTableOf(items);
      historyTable.replaceWith(next);
      historyTable = next;
      historyEmpty.hidden = items.length > 0;
      historyMore.textContent = 'all of ' + hostname + ' »';
      historyMore.href = hostHref(hostname);
      history.hidden = false;
    });
  }
  onRowClick = selectHost;
  onRelease = async (hostname) => {
    try {
      await post('/api/v1/hosts/' + encodeURIComponent(hostname) + '/release', {});
      setError('hosts', null);
      notice(hostname + ' released');
      refresh();
    } catch (e) {
      setError('hosts', e.message);
    }
  };

  const filter = { status: status, label: label };
  function refresh() {
    ctx.guard('hosts', async () => {
      const hosts = await get('/api/v1/hosts?' + query(filter));
      if (ctx.alive) renderHosts(hosts);
    });
    ctx.guard('pending', async () => {
      const list = await get('/api/v1/pending');
      if (ctx.alive) pending.render(list);
    });
  }
  ctx.interval(refreshHistory, 5000);

  refresh();
  ctx.live(query({ hosts: 1, status: status, label: label, pending: 1 }), {
    hosts: renderHosts,
    pending: (list) => pending.render(list),
  }, refresh);
}
