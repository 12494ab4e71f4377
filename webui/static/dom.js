// Small DOM and formatting helpers shared by every view. Text from the API only ever goes in
// with textContent (el's third argument), never as markup.

export function $(id) { return document.getElementById(id); }

export function el(tag, className, text) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined && text !== null) node.textContent = String(text);
  return node;
}

// el() with children appended (strings become text nodes; null/undefined are skipped).
export function h(tag, className, ...children) {
  const node = el(tag, className);
  for (const child of children) {
    if (child === null || child === undefined || child === false) continue;
    node.appendChild(typeof child === 'object' ? child : document.createTextNode(String(child)));
  }
  return node;
}

export function link(href, text, className) {
  const a = el('a', className, text);
  a.href = href;
  return a;
}

export function button(text, className, onClick) {
  const b = el('button', className, text);
  b.type = 'button';
  if (onClick) b.addEventListener('click', onClick);
  return b;
}

// A <select> of `options` (strings or [value, label] pairs) with `value` selected.
export function select(id, options, value) {
  const s = el('select');
  if (id) s.id = id;
  for (const option of options) {
    const [v, label] = Array.isArray(option) ? option : [option, option];
    const o = el('option', null, label);
    o.value = v;
    if (v === value) o.selected = true;
    s.appendChild(o);
  }
  return s;
}

export function input(id, type, value, placeholder) {
  const i = el('input');
  if (id) i.id = id;
  i.type = type || 'text';
  if (value !== undefined && value !== null) i.value = String(value);
  if (placeholder) i.placeholder = placeholder;
  return i;
}

// A <label for=id> text </label> followed by the control, as one grid row of a .form.
export function field(labelText, control, hint) {
  const frag = document.createDocumentFragment();
  const label = el('label', null, labelText);
  if (control.id) label.htmlFor = control.id;
  frag.appendChild(label);
  const wrap = el('div', 'control');
  wrap.appendChild(control);
  if (hint) wrap.appendChild(el('div', 'hint', hint));
  frag.appendChild(wrap);
  return frag;
}

// Server wall clock minus browser wall clock (X-Labmesh-Now-Ms), so "3 s ago" is right even
// when the browser's clock is not.
let clockOffsetMs = 0;
export function setServerNow(nowMs) { clockOffsetMs = nowMs - Date.now(); }
export function serverNow() { return Date.now() + clockOffsetMs; }

export function formatBytes(bytes) {
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

export function formatAgo(wallMs) {
  if (!wallMs) return 'never';
  const seconds = Math.max(0, Math.round((serverNow() - wallMs) / 1000));
  if (seconds < 60) return seconds + ' s ago';
  const minutes = Math.floor(seconds / 60);
  if (minutes < 60) return minutes + ' min ago';
  const hours = Math.floor(minutes / 60);
  if (hours < 48) return hours + ' h ago';
  return Math.floor(hours / 24) + ' d ago';
}

function pad(n) { return String(n).padStart(2, '0'); }

// Local "YYYY-MM-DD HH:MM:SS" of a wall time in ms; "—" for 0.
export function formatTime(wallMs) {
  if (!wallMs) return '—';
  const d = new Date(wallMs);
  return d.getFullYear() + '-' + pad(d.getMonth() + 1) + '-' + pad(d.getDate()) + ' ' +
    pad(d.getHours()) + ':' + pad(d.getMinutes()) + ':' + pad(d.getSeconds());
}

// A table cell with "3 min ago" and the full local time as tooltip.
export function whenCell(wallMs) {
  const td = el('td', 'when', wallMs ? formatAgo(wallMs) : '—');
  if (wallMs) td.title = formatTime(wallMs);
  return td;
}

export function formatDuration(ms) {
  if (!ms || ms < 0) return '—';
  if (ms < 1000) return Math.round(ms) + ' ms';
  const s = ms / 1000;
  if (s < 60) return s.toFixed(s < 10 ? 1 : 0) + ' s';
  const m = Math.floor(s / 60);
  if (m < 60) return m + ' min ' + Math.round(s % 60) + ' s';
  return Math.floor(m / 60) + ' h ' + (m % 60) + ' min';
}

// "500ms", "5s", "10m", "2h", "1d" or bare seconds → ms; "" → 0; anything else → NaN.
export function parseDuration(text) {
  const t = String(text || '').trim();
  if (t === '') return 0;
  const m = /^(\d+(?:\.\d+)?)\s*(ms|s|m|min|h|d)?$/.exec(t);
  if (!m) return NaN;
  const scale = { ms: 1, s: 1000, m: 60000, min: 60000, h: 3600000, d: 86400000 }[m[2] || 's'];
  return Math.round(Number(m[1]) * scale);
}

export function durationText(ms) {
  if (!ms) return '';
  for (const [unit, scale] of [['d', 86400000], ['h', 3600000], ['m', 60000], ['s', 1000]]) {
    if (ms % scale === 0) return ms / scale + unit;
  }
  return ms + 'ms';
}

export const HOST_STATUSES = ['Ready', 'Pending', 'Running', 'Verifying', 'Repairing', 'Cleaning',
  'Updating', 'Repair Failed', 'Dead', 'Quarantined'];
export const JOB_STATUSES = ['Waiting', 'Queued', 'Running', 'Completed', 'Failed', 'Aborted'];

const STATUS_CLASS = {
  // hosts
  'Ready': 'ok', 'Running': 'busy', 'Pending': 'work', 'Verifying': 'work', 'Repairing': 'work',
  'Cleaning': 'work', 'Updating': 'work', 'Repair Failed': 'bad', 'Dead': 'bad',
  'Quarantined': 'bad',
  'Pending Approval': 'work',
  // jobs, entries, special tasks
  'Waiting': 'work', 'Queued': 'work', 'Starting': 'work', 'Gathering': 'busy', 'Parsing': 'busy',
  'Rebooting': 'work',
  'Completed': 'ok', 'Failed': 'bad', 'Aborted': 'bad', 'Stopped': 'bad',
  // test results
  'GOOD': 'ok', 'FAIL': 'bad', 'ERROR': 'bad', 'ABORT': 'bad', 'WARN': 'work', 'TEST_NA': '',
};

export function statusClass(status) { return STATUS_CLASS[status] || ''; }

export function badge(status, title) {
  const b = el('span', 'badge status ' + statusClass(status), status || '?');
  if (title) b.title = title;
  return b;
}

// The µs of local midnight today (for "finished today").
export function localMidnightUs() {
  const d = new Date();
  d.setHours(0, 0, 0, 0);
  return d.getTime() * 1000;
}

// Builds "a=1&b=2" from an object, leaving out empty values.
export function query(params) {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) {
    if (v !== undefined && v !== null && v !== '' && v !== false) q.set(k, String(v));
  }
  return q.toString();
}

// "/results/<path>/" with each segment percent-encoded.
export function resultsHref(path) {
  return '/results/' + String(path).split('/').filter(Boolean).map(encodeURIComponent).join('/') + '/';
}

export function hostHref(name) { return '#/hosts/' + encodeURIComponent(name); }
export function jobHref(id) { return '#/jobs/' + id; }

export function emptyRow(columns, text) {
  const tr = el('tr', 'empty-row');
  const td = el('td', 'empty', text);
  td.colSpan = columns;
  tr.appendChild(td);
  return tr;
}

// "updated 14:03:07" in the header: when the view last got data.
export function markUpdated() {
  const span = $('updated');
  if (span) span.textContent = 'updated ' + new Date().toLocaleTimeString();
}
