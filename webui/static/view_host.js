// #/hosts/NAME: one host — status, facts, health now and over the last hour (Chart.js, or a
// table without it), labels (admin labels can be added and removed), lock / unlock with a
// reason, reserve (for how long, why) / release, verify / repair, protection, and its history
// of special tasks and job entries; its power method (on / off / cycle / status buttons, the
// output of the last one) and a live tail of its serial console (docs/power-console.md).
// Live: host=NAME on /api/v1/events; the history is asked again when the host changes; the
// console is asked for what it holds after the last offset once a second.

import { badge, button, el, field, formatAgo, formatBytes, formatTime, h, input, jobHref,
  markUpdated, parseDuration, select, whenCell } from './dom.js';
import { get, loadChart, notice, post, setError, timeLineChart } from './api.js';
import { heartbeatCell, loadText, lockText, memoryText, reservationText } from './view_hosts.js';

const PROTECTIONS = ['none', 'repair-software-only', 'do-not-repair', 'do-not-verify'];

// A definition list of [term, text, class of the value] rows.
function dl(pairs) {
  const list = el('dl', 'facts');
  for (const [term, value, className] of pairs) {
    list.appendChild(el('dt', null, term));
    list.appendChild(el('dd', className || null, value === '' || value === undefined ? '—' : value));
  }
  return list;
}

export function historyTable(items) {
  const table = el('table');
  table.id = 'history-table';
  table.appendChild(h('thead', null, h('tr', null, ...['Queued', 'Type', 'ID', 'Job', 'Name', 'Status',
    'Finished', 'Reason'].map((t) => el('th', t === 'ID' || t === 'Job' ? 'num' : null, t)))));
  const body = el('tbody');
  body.id = 'history-body';
  for (const item of items) {
    const tr = el('tr');
    tr.dataset.type = item.type;
    tr.dataset.id = String(item.id);
    tr.appendChild(whenCell(item.queued_ms));
    tr.appendChild(el('td', null, item.type));
    tr.appendChild(el('td', 'num', item.id));
    const jobCell = el('td', 'num');
    if (item.job_id) {
      const a = el('a', null, item.job_id);
      a.href = jobHref(item.job_id);
      jobCell.appendChild(a);
    } else {
      jobCell.textContent = '—';
    }
    tr.appendChild(jobCell);
    tr.appendChild(el('td', null, item.name));
    tr.appendChild(h('td', null, badge(item.status)));
    tr.appendChild(whenCell(item.finished_ms));
    const reason = el('td', 'reason', item.reason || '');
    if (item.crash) {
      tr.classList.add('crashed');
      reason.appendChild(el('div', 'crash', 'crash: ' + (item.crash_line || 'the host rebooted unexpectedly')));
    }
    const failed = (item.checks || []).filter((c) => !c.passed);
    if (failed.length > 0) {
      reason.appendChild(el('div', 'failed-checks',
        'failed checks: ' + failed.map((c) => c.name).join(', ')));
    }
    tr.appendChild(reason);
    body.appendChild(tr);
  }
  table.appendChild(body);
  table.hidden = items.length === 0;
  return table;
}

// "6.0 (suspect)", "0.0", or "not computed yet".
function healthText(host) {
  if (host.health_score === null || host.health_score === undefined) return 'not computed yet';
  return Number(host.health_score).toFixed(1) + (host.suspect ? ' (suspect: see labmesh host flaky)' : '');
}

// The package mesh (docs/mesh.md): the peer socket, and bad-peer reports when there are any.
function meshText(host) {
  const mesh = host.mesh || {};
  const socket = mesh.peer_endpoint ? 'serves chunks on ' + mesh.peer_endpoint : 'no peer socket';
  if (!mesh.bad_reports) return socket;
  return socket + '; ' + mesh.bad_reports + ' bad-peer report(s)' + (mesh.avoided ? ', avoided now' : '') +
    ' — latest: ' + mesh.last_bad;
}

export function mount(ctx) {
  const name = ctx.params.arg;
  const path = '/api/v1/hosts/' + encodeURIComponent(name);
  const title = h('h2', null, 'Host ', el('span', 'hostname', name), ' ');
  const statusSlot = el('span');
  statusSlot.id = 'host-status';
  title.appendChild(statusSlot);

  // --- actions ---
  const lockReason = input('lock-reason', 'text', '', 'why (required to lock)');
  const lockButton = button('Lock', 'lock');
  lockButton.id = 'lock-button';
  const unlockButton = button('Unlock', 'unlock');
  unlockButton.id = 'unlock-button';
  const lockState = el('span', 'lock-state');
  lockState.id = 'lock-state';
  const reserveFor = input('reserve-for', 'text', '', 'for how long: 4h, 2d (at most 7d)');
  const reserveReason = input('reserve-reason', 'text', '', 'why (optional)');
  const reserveButton = button('Reserve', 'reserve');
  reserveButton.id = 'reserve-button';
  const releaseButton = button('Release', 'release');
  releaseButton.id = 'release-button';
  const reserveState = el('span', 'reserve-state');
  reserveState.id = 'reserve-state';
  const quarantineReason = input('quarantine-reason', 'text', '', 'why (optional)');
  const quarantineButton = button('Quarantine', 'quarantine');
  quarantineButton.id = 'quarantine-button';
  const unquarantineButton = button('Release from quarantine', 'unquarantine');
  unquarantineButton.id = 'unquarantine-button';
  const verifyButton = button('Verify', 'verify');
  verifyButton.id = 'verify-button';
  const repairButton = button('Repair', 'repair');
  repairButton.id = 'repair-button';
  const protection = select('host-protection', PROTECTIONS, 'none');
  const protectionButton = button('Set protection');
  protectionButton.id = 'protection-button';
  const labelInput = input('label-add', 'text', '', 'label[,label…]');
  const labelButton = button('Add label');
  labelButton.id = 'label-add-button';
  const adminLabels = el('span', 'admin-labels');
  adminLabels.id = 'admin-labels';
  const otherLabels = el('span', 'other-labels');

  const actions = h('section', 'host-actions',
    h('h3', null, 'Actions'),
    h('div', 'form',
      field('Lock', h('span', 'inline', lockState, lockReason, lockButton, unlockButton),
        'a locked host takes no new work'),
      field('Reservation', h('span', 'inline', reserveState, reserveFor, reserveReason, reserveButton,
        releaseButton), 'only your jobs run on a host you reserved, until it ends or you release it'),
      field('Special tasks', h('span', 'inline', verifyButton, repairButton)),
      field('Quarantine', h('span', 'inline', quarantineReason, quarantineButton, unquarantineButton),
        'admins: a quarantined host gets only its probe jobs until it is released'),
      field('Protection', h('span', 'inline', protection, protectionButton)),
      field('Admin labels', h('span', 'inline', adminLabels, labelInput, labelButton),
        'the agent\'s own and automatic labels cannot be removed here'),
      field('Other labels', otherLabels)));
  actions.id = 'host-actions';

  async function act(key, what, fn) {
    try {
      const value = await fn();
      setError(key, null);
      notice(what);
      refreshHost();
      refreshHistory();
      return value;
    } catch (e) {
      setError(key, e.message);
      return undefined;
    }
  }
  lockButton.addEventListener('click', () => {
    const reason = lockReason.value.trim();
    if (!reason) {
      setError('lock', 'say why the host is locked (the reason is required)');
      lockReason.focus();
      return;
    }
    act('lock', name + ' locked', () => post(path + '/lock', { reason: reason }))
      .then(() => { lockReason.value = ''; });
  });
  lockReason.addEventListener('input', () => setError('lock', null));
  lockReason.addEventListener('keydown', (e) => { if (e.key === 'Enter') lockButton.click(); });
  unlockButton.addEventListener('click', () => act('lock', name + ' unlocked', () => post(path + '/unlock')));
  reserveButton.addEventListener('click', () => {
    const ms = parseDuration(reserveFor.value);
    if (!ms || Number.isNaN(ms)) {
      setError('reserve', 'say for how long, like 4h or 2d');
      reserveFor.focus();
      return;
    }
    act('reserve', name + ' reserved', () => post(path + '/reserve',
      { duration_ms: ms, reason: reserveReason.value.trim() }))
      .then((host) => { if (host) { reserveFor.value = ''; reserveReason.value = ''; } });
  });
  reserveFor.addEventListener('input', () => setError('reserve', null));
  reserveFor.addEventListener('keydown', (e) => { if (e.key === 'Enter') reserveButton.click(); });
  releaseButton.addEventListener('click', () => act('reserve', name + ' released', () => post(path + '/release', {})));
  quarantineButton.addEventListener('click', () => act('quarantine', name + ' quarantined',
    () => post(path + '/quarantine', { reason: quarantineReason.value.trim() }))
    .then((host) => { if (host) quarantineReason.value = ''; }));
  unquarantineButton.addEventListener('click', () => act('quarantine', name + ' released from quarantine',
    () => post(path + '/unquarantine', { reason: quarantineReason.value.trim() }))
    .then((host) => { if (host) quarantineReason.value = ''; }));
  verifyButton.addEventListener('click', () => act('task', 'verify queued on ' + name, () => post(path + '/verify')));
  repairButton.addEventListener('click', () => act('task', 'repair queued on ' + name, () => post(path + '/repair')));
  protectionButton.addEventListener('click', () => act('protection', 'protection of ' + name + ' set to ' +
    protection.value, () => post(path + '/protection', { protection: protection.value })));
  function addLabels() {
    const add = labelInput.value.split(',').map((s) => s.trim()).filter(Boolean);
    if (add.length === 0) return;
    act('labels', 'labels added to ' + name, () => post(path + '/labels', { add: add }))
      .then((host) => { if (host) labelInput.value = ''; });
  }
  labelButton.addEventListener('click', addLabels);
  labelInput.addEventListener('keydown', (e) => { if (e.key === 'Enter') addLabels(); });

  // --- facts and health ---
  const facts = el('div', 'host-facts');
  facts.id = 'host-facts';
  const chartBox = el('div', 'chart-box');
  const canvas = el('canvas');
  canvas.id = 'health-chart';
  chartBox.appendChild(canvas);
  const healthTable = el('div', 'health-table');
  const healthNote = el('p', 'hint', 'Health over the last hour (one sample per 30 s of heartbeats, ' +
    'kept in the coordinator\'s memory).');
  const health = h('section', 'health', h('h3', null, 'Health'), healthNote, chartBox, healthTable);
  health.id = 'health';

  const history = h('section', null, h('h3', null, 'History'));
  history.id = 'history';
  const historyTitle = el('p', 'hint', 'Special tasks and job entries on ' + name + ', newest first.');
  historyTitle.id = 'history-title';
  let historyBody = historyTable([]);
  const historyEmpty = el('p', 'empty', 'No special tasks or job entries on this host yet.');
  historyEmpty.id = 'history-empty';
  historyEmpty.hidden = true;
  history.append(historyTitle, historyBody, historyEmpty);
  history.hidden = true;

  // --- power and console (docs/power-console.md) ---
  const powerFacts = el('div', 'power-facts');
  powerFacts.id = 'power-facts';
  const powerButtons = el('span', 'inline');
  powerButtons.id = 'power-buttons';
  const powerOutput = el('pre', 'log');
  powerOutput.id = 'power-output';
  powerOutput.hidden = true;
  const consolePre = el('pre', 'log');
  consolePre.id = 'console';
  const consoleState = el('span', 'hint');
  consoleState.id = 'console-state';
  const power = h('section', 'power-console', h('h3', null, 'Power and console'), powerFacts,
    powerButtons, powerOutput, h('h4', null, 'Console ', consoleState), consolePre);
  power.id = 'power-console';
  power.hidden = true;

  ctx.container.append(h('p', 'crumbs', h('a', null, 'Hosts'), ' / ', name), title,
    h('div', 'columns', facts, actions), health, power, history);
  ctx.container.querySelector('.crumbs a').href = '#/hosts';

  // --- drawing ---
  let chart = null;
  let chartFailed = false;
  let lastHistoryKey = '';
  ctx.onDispose(() => { if (chart) chart.destroy(); chart = null; });

  function renderLabels(host) {
    const admin = host.admin_labels || [];
    adminLabels.replaceChildren(...admin.map((label) => {
      const chip = el('span', 'label removable', label);
      chip.dataset.label = label;
      const x = button('×', 'remove-label', () => act('labels', label + ' removed from ' + name,
        () => post(path + '/labels', { remove: [label] })));
      x.title = 'remove ' + label;
      chip.appendChild(x);
      return chip;
    }));
    if (admin.length === 0) adminLabels.appendChild(el('span', 'muted', 'none '));
    const others = (host.labels || []).filter((l) => !admin.includes(l));
    otherLabels.replaceChildren(...others.map((l) => el('span', 'label', l)));
  }

  function renderHost(host) {
    statusSlot.replaceChildren(badge(host.status, host.status_reason));
    const f = host.facts || {};
    const hh = host.health || {};
    const beat = heartbeatCell(host);
    facts.replaceChildren(dl([
      ['Status', host.status + (host.status_reason ? ' — ' + host.status_reason : ''), 'status-text'],
      ['Locked', lockText(host), 'locked'],
      ['Reserved', reservationText(host), 'reserved'],
      ['Protection', host.protection || 'none', 'protection-text'],
      ['Health score', healthText(host), 'health-score'],
      ['Quarantine', host.quarantine ? host.quarantine.reason + ' (by ' + host.quarantine.by + ', ' +
        formatAgo(host.quarantine.since_ms) + ', ' + host.quarantine.probes_passed + ' probe(s) passed)' : 'no',
        'quarantine-text'],
      ['Agent', (host.agent_version || '—') + (host.connected ? ', connected' : ', not connected') +
        (host.update_failed_version ? ' (update to ' + host.update_failed_version + ' failed)' : '')],
      ['Last heartbeat', beat.textContent + (host.last_heartbeat ? ' (' + host.last_heartbeat + ')' : '')],
      ['Machine', [f.arch, [f.os, f.os_version].filter(Boolean).join(' '), f.kernel,
        f.cpus ? f.cpus + ' CPUs' : '', f.memory_bytes ? formatBytes(f.memory_bytes) : '']
        .filter(Boolean).join(', ')],
      ['Address', f.address || ''],
      ['Package mesh', meshText(host), 'mesh-text'],
      ['Load (1/5/15)', loadText(host)],
      ['Memory available', memoryText(host)],
      ['Disk free', hh.disk_total_bytes ? formatBytes(hh.disk_free_bytes) + ' of ' +
        formatBytes(hh.disk_total_bytes) : '—'],
      ['Uptime', hh.uptime_s ? Math.floor(hh.uptime_s / 3600) + ' h ' + Math.floor(hh.uptime_s % 3600 / 60) + ' min' : '—'],
      ['ACL groups', (host.acl_groups || []).join(', ')],
      ['Registered', host.registered_ms ? formatTime(host.registered_ms) : ''],
      ['Last task', host.last_task ? host.last_task.kind + ' ' + host.last_task.status + ' · ' +
        formatAgo(host.last_task.finished_ms || host.last_task.started_ms || host.last_task.queued_ms) : '—'],
    ]));
    lockState.textContent = host.locked ? 'locked' + (host.lock_reason ? ': ' + host.lock_reason : '') : 'not locked';
    lockState.className = 'lock-state ' + (host.locked ? 'is-locked' : 'muted');
    lockState.dataset.locked = host.locked ? '1' : '0';
    lockButton.hidden = !!host.locked;
    lockReason.hidden = !!host.locked;
    unlockButton.hidden = !host.locked;
    // Reserving again (the same user) sets a new end; someone else is refused by the coordinator.
    reserveState.textContent = host.reservation ? 'reserved by ' + reservationText(host) : 'not reserved';
    reserveState.className = 'reserve-state ' + (host.reservation ? 'is-reserved' : 'muted');
    reserveState.dataset.reservedBy = host.reservation ? host.reservation.by : '';
    releaseButton.hidden = !host.reservation;
    quarantineButton.hidden = !!host.quarantine;
    unquarantineButton.hidden = !host.quarantine;
    if (document.activeElement !== protection) protection.value = host.protection || 'none';
    renderLabels(host);
    renderHealth(host.health_history || []);
    markUpdated();
    // The history changes when the host does (a task, an entry): ask again then.
    const key = host.status + '|' + (host.last_task ? host.last_task.id + host.last_task.status : '');
    if (key !== lastHistoryKey) {
      lastHistoryKey = key;
      refreshHistory();
    }
  }

  function renderHealthTable(samples) {
    const table = el('table', 'compact');
    table.appendChild(h('thead', null, h('tr', null, ...['Time', 'Load 1/5/15', 'Memory available',
      'Disk free'].map((t) => el('th', null, t)))));
    const body = el('tbody');
    for (const s of samples.slice(-20).reverse()) {
      body.appendChild(h('tr', null, el('td', 'when', formatTime(s.time_ms)),
        el('td', 'num', [s.load1, s.load5, s.load15].map((x) => Number(x).toFixed(2)).join(' ')),
        el('td', 'num', formatBytes(s.mem_available_bytes) + ' / ' + formatBytes(s.mem_total_bytes)),
        el('td', 'num', formatBytes(s.disk_free_bytes) + ' / ' + formatBytes(s.disk_total_bytes))));
    }
    table.appendChild(body);
    healthTable.replaceChildren(table);
  }

  function renderHealth(samples) {
    if (samples.length === 0) {
      chartBox.hidden = true;
      healthTable.replaceChildren(el('p', 'empty', 'No health samples yet (they come with the ' +
        'heartbeats; the coordinator keeps the last hour in memory).'));
      return;
    }
    if (chartFailed) {
      renderHealthTable(samples);
      return;
    }
    healthTable.replaceChildren();
    chartBox.hidden = false;
    const pct = (part, total) => total ? Math.round(1000 * part / total) / 10 : null;
    const series = [
      ['load 1 min', 'load1', '#0969da', 'y'],
      ['load 15 min', 'load15', '#8250df', 'y'],
      ['memory used %', (s) => s.mem_total_bytes ? 100 - pct(s.mem_available_bytes, s.mem_total_bytes) : null, '#9a6700', 'pct'],
      ['disk used %', (s) => s.disk_total_bytes ? 100 - pct(s.disk_free_bytes, s.disk_total_bytes) : null, '#cf222e', 'pct'],
    ];
    const datasets = series.map(([label, key, color, axis]) => ({
      label: label,
      data: samples.map((s) => ({ x: s.time_ms, y: typeof key === 'function' ? key(s) : Number(s[key]) })),
      borderColor: color,
      backgroundColor: color,
      pointRadius: 1,
      borderWidth: 1.5,
      yAxisID: axis,
    }));
    if (chart) {
      chart.data.datasets.forEach((d, i) => { d.data = datasets[i].data; });
      chart.update('none');
      return;
    }
    loadChart().then((Chart) => {
      if (!ctx.alive || chart) return;
      chart = timeLineChart(Chart, canvas, datasets, {
        y: { type: 'linear', position: 'left', beginAtZero: true, title: { display: true, text: 'load' } },
        pct: { type: 'linear', position: 'right', min: 0, max: 100, grid: { drawOnChartArea: false },
          title: { display: true, text: '% used' } },
      });
    }).catch((e) => {
      chartFailed = true;
      chartBox.hidden = true;
      healthNote.textContent = e.message;
      renderHealthTable(samples);
    });
  }

  function refreshHost() {
    return ctx.guard('host', async () => {
      const host = await get(path);
      if (ctx.alive) renderHost(host);
    });
  }

  let historyBusy = false;
  function refreshHistory() {
    if (historyBusy) return;
    historyBusy = true;
    ctx.guard('history', async () => {
      try {
        const items = await get(path + '/history?limit=50');
        if (!ctx.alive) return;
        const next = historyTable(items);
        historyBody.replaceWith(next);
        historyBody = next;
        historyEmpty.hidden = items.length > 0;
        history.hidden = false;
      } finally {
        historyBusy = false;
      }
    });
  }

  function renderPower(config) {
    power.hidden = false;
    const commands = ['on', 'off', 'cycle', 'status'].filter((a) => config[a]);
    const attributes = Object.entries(config.attributes || {}).map(([k, v]) => k + '=' + v).join(' ');
    powerFacts.replaceChildren(dl([
      ['Power method', commands.length ? commands.join(', ') : 'none (labmesh host power-config ' + name + ' --cycle CMD)'],
      ['Console', config.console ? (config.console_reading ? 'reading' : 'not running') : 'none'],
      ['Attributes', attributes],
      ['Last panic', config.last_panic ? formatTime(config.last_panic_ms) + ' ' + config.last_panic : '', config.last_panic ? 'crash' : null],
      ['Automatic cycles', (config.power_cycles_ms || []).map((t) => formatAgo(t)).join(', ')],
    ]));
    powerButtons.replaceChildren(...commands.map((action) => {
      const b = button('Power ' + action, 'power-' + action, () => {
        act('power', 'power ' + action + ' of ' + name + ' ran', () => post(path + '/power', { action: action }))
          .then((reply) => {
            if (!reply) return;
            powerOutput.hidden = false;
            powerOutput.textContent = 'power ' + action + ': ' + (reply.passed ? 'passed' : 'failed: ' + reply.reason) +
              '\n' + (reply.output || '');
          });
      });
      b.id = 'power-' + action + '-button';
      return b;
    }));
  }
  function refreshPower() {
    return ctx.guard('power', async () => {
      const config = await get(path + '/power');
      if (ctx.alive) renderPower(config);
    });
  }
  const CONSOLE_CAP_CHARS = 256 * 1024;
  let consoleNext = -1;
  let consoleBusy = false;
  function refreshConsole() {
    if (consoleBusy) return;
    consoleBusy = true;
    ctx.guard('console', async () => {
      try {
        const piece = await get(path + '/console?offset=' + consoleNext);
        if (!ctx.alive) return;
        consoleState.textContent = piece.configured ? (piece.reading ? '(live)' : '(not reading)') : '(none)';
        if (piece.data) {
          const atBottom = consolePre.scrollTop + consolePre.clientHeight >= consolePre.scrollHeight - 4;
          let text = consolePre.textContent + piece.data;
          if (text.length > CONSOLE_CAP_CHARS) text = text.slice(text.length - CONSOLE_CAP_CHARS);
          consolePre.textContent = text;
          if (atBottom) consolePre.scrollTop = consolePre.scrollHeight;
        }
        consoleNext = Number(piece.next_offset);
      } finally {
        consoleBusy = false;
      }
    });
  }

  refreshHost();
  refreshHistory();
  refreshPower();
  refreshConsole();
  ctx.interval(refreshConsole, 1000);
  ctx.interval(refreshPower, 10000);
  ctx.live('host=' + encodeURIComponent(name), { host: renderHost }, refreshHost);
  // Also now and then: a job entry can finish without the host's status changing.
  ctx.interval(refreshHistory, 10000);
}

