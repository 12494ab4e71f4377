// #/jobs/new[?clone=ID|?template=NAME]: the create form, with everything `labmesh job create`
// takes: name; control text, a command or a catalog test; named hosts picked from a searchable
// list and/or N hosts carrying a label; depends, synch count, priority, run verify, timeouts,
// cleanup, retry, notifications, the jobs it waits for (--after), reserve on failure. ?clone=ID
// fills it from job ID, ?template=NAME (or the Template picker) from a template, whose name the
// job records.
// POST /api/v1/jobs, then off to the new job's page.

import { $, button, durationText, el, field, h, input, parseDuration, select, statusClass } from './dom.js';
import { get, post, setError } from './api.js';

const KINDS = [['control', 'control script'], ['command', 'command'], ['test', 'catalog test']];

export function mount(ctx) {
  const cloneId = ctx.params.query.get('clone') || '';
  const templateName = ctx.params.query.get('template') || '';
  const fromTemplate = select('job-template', [['', '(none)']], '');

  const name = input('job-name', 'text', '', 'e.g. kernel boot check');
  name.required = true;
  const kind = select('job-kind', KINDS, 'control');
  const control = el('textarea');
  control.id = 'job-control';
  control.rows = 8;
  control.spellcheck = false;
  control.placeholder = '#!/bin/sh\nlabmesh-test run boot -- true';
  const command = input('job-command', 'text', '', 'run with /bin/sh -c, e.g. make check');
  const test = select('job-test', [['', '(loading the catalog…)']], '');
  const testInfo = el('div', 'hint');
  const controlRow = h('div', 'kind-row', field('Control script', control,
    'a script run on each host; labmesh-test and labmesh-sync are on its PATH'));
  const commandRow = h('div', 'kind-row', field('Command', command));
  const testRow = h('div', 'kind-row', field('Catalog test', test), testInfo);
  controlRow.dataset.kind = 'control';
  commandRow.dataset.kind = 'command';
  testRow.dataset.kind = 'test';

  // Named hosts: a filterable list of checkboxes; the picked ones stay listed above it.
  const hostFilter = input('job-host-filter', 'search', '', 'filter hosts by name, label or status');
  const hostList = el('div', 'host-picker');
  hostList.id = 'job-host-list';
  const picked = el('div', 'picked');
  picked.id = 'job-hosts-picked';
  const chosen = new Set();
  let allHosts = [];

  const metaLabel = input('job-meta-label', 'text', '', 'label');
  metaLabel.setAttribute('list', 'job-labels');
  const labelList = el('datalist');
  labelList.id = 'job-labels';
  const metaCount = input('job-meta-count', 'number', '', 'how many');
  metaCount.min = '0';
  const depends = input('job-depends', 'text', '', 'label,label');
  depends.setAttribute('list', 'job-labels');
  const synch = input('job-synch-count', 'number', '1');
  synch.min = '1';
  const priority = select('job-priority', ['low', 'medium', 'high', 'urgent'], 'medium');
  const runVerify = input('job-run-verify', 'checkbox');
  const timeout = input('job-timeout', 'text', '', 'e.g. 2h (none if empty)');
  const maxRuntime = input('job-max-runtime', 'text', '', 'e.g. 30m (none if empty)');
  const cleanup = select('job-cleanup', ['on-failure', 'always', 'never'], 'on-failure');
  const retry = input('job-retry', 'number', '0');
  retry.min = '0';
  const notify = input('job-notify', 'text', '', 'email:you@example.org, webhook:https://...');
  const notifyOn = select('job-notify-on', [['', '(your default)'], 'always', 'failure'], '');
  const after = input('job-after', 'text', '', 'job ids, e.g. 12,13');
  const afterAny = input('job-after-any', 'checkbox');
  const reserveOnFailure = input('job-reserve-on-failure', 'text', '', 'e.g. 2h (not if empty)');

  const submit = button('Create job', 'primary');
  submit.type = 'submit';
  submit.id = 'job-submit';
  const formError = el('div', 'error inline-error');
  formError.id = 'job-form-error';
  formError.hidden = true;

  const form = h('form', 'form job-form',
    field('Template', fromTemplate, 'start from a saved definition (Schedules page); the job records its name'),
    field('Name', name),
    field('Run', kind),
    controlRow, commandRow, testRow,
    field('Hosts', h('div', null, picked, hostFilter, hostList),
      'named hosts; pick any number (or none when asking for hosts by label below)'),
    field('Or by label', h('span', 'inline', metaLabel, ' × ', metaCount), 'run on COUNT hosts carrying LABEL'),
    field('Depends', depends, 'labels every chosen host must carry'),
    field('Synch count', synch, '1: each host runs on its own; K > 1: K hosts start together'),
    field('Priority', priority),
    field('Run verify', runVerify, 'verify each host before the control'),
    field('Timeout', timeout, 'abort the job when not finished after this long'),
    field('Max runtime', maxRuntime, 'one host\'s running time limit'),
    field('Cleanup', cleanup, 'clean each host after its entry'),
    field('Retry', retry, 'queue an entry again, up to N times, when its host is lost'),
    field('Notify', notify, 'tell these targets when the job ends (comma-separated; empty: your defaults)'),
    field('Notify on', notifyOn, 'always or only on failure (empty: your default)'),
    field('After', after, 'queue it only when these jobs are final; aborted when one did not complete'),
    field('Run anyway', afterAny, 'with After: run whatever those jobs ended as'),
    field('Reserve on failure', reserveOnFailure,
      'a host whose entry fails stays reserved to you this long, to debug it (at most 7d)'),
    h('div', 'submit-row', submit), formError, labelList);
  form.id = 'job-form';
  form.noValidate = true;
  const heading = h('h2', null, cloneId ? 'New job (a copy of job ' + cloneId + ')'
    : templateName ? 'New job (from template ' + templateName + ')' : 'New job');
  ctx.container.append(h('section', null, heading, form));

  function showKind() {
    for (const row of [controlRow, commandRow, testRow]) row.hidden = row.dataset.kind !== kind.value;
  }
  kind.addEventListener('change', showKind);
  showKind();

  function drawPicked() {
    picked.replaceChildren();
    for (const hostname of [...chosen].sort()) {
      const chip = el('span', 'label removable', hostname);
      chip.dataset.host = hostname;
      chip.appendChild(button('×', 'remove-label', () => {
        chosen.delete(hostname);
        drawPicked();
        drawHosts();
      }));
      picked.appendChild(chip);
    }
    if (chosen.size === 0) picked.appendChild(el('span', 'muted', 'no host picked'));
  }

  function drawHosts() {
    const needle = hostFilter.value.trim().toLowerCase();
    const rows = document.createDocumentFragment();
    let shown = 0;
    for (const host of allHosts) {
      const text = [host.hostname, host.status, ...(host.labels || [])].join(' ').toLowerCase();
      if (needle && !text.includes(needle) && !chosen.has(host.hostname)) continue;
      shown += 1;
      const box = input(null, 'checkbox');
      box.dataset.host = host.hostname;
      box.checked = chosen.has(host.hostname);
      box.addEventListener('change', () => {
        if (box.checked) chosen.add(host.hostname); else chosen.delete(host.hostname);
        drawPicked();
      });
      const row = h('label', 'host-option', box, ' ', el('span', 'hostname', host.hostname), ' ',
        el('span', 'badge ' + statusClass(host.status), host.status),
        host.locked ? el('span', 'muted', ' locked') : null,
        ' ', el('span', 'muted small', (host.labels || []).join(', ')));
      rows.appendChild(row);
    }
    if (shown === 0) rows.appendChild(el('div', 'empty', allHosts.length ? 'no host matches' : 'no hosts'));
    hostList.replaceChildren(rows);
  }
  hostFilter.addEventListener('input', drawHosts);
  hostFilter.addEventListener('keydown', (e) => { if (e.key === 'Enter') e.preventDefault(); });

  function showFormError(message) {
    formError.textContent = message;
    formError.hidden = !message;
  }

  function body() {
    const job = { name: name.value.trim(), priority: priority.value, cleanup: cleanup.value,
      run_verify: runVerify.checked };
    if (!job.name) throw new Error('the job needs a name');
    if (kind.value === 'control') {
      if (!control.value.trim()) throw new Error('write the control script (or pick a command or test)');
      job.control = control.value.endsWith('\n') ? control.value : control.value + '\n';
    } else if (kind.value === 'command') {
      if (!command.value.trim()) throw new Error('give the command to run');
      job.command = command.value.trim();
    } else {
      if (!test.value) throw new Error('pick a test of the catalog');
      job.test = test.value;
    }
    job.hosts = [...chosen].sort();
    const label = metaLabel.value.trim();
    const count = metaCount.value.trim();
    if (label || count) {
      if (!label || !/^\d+$/.test(count) || Number(count) < 1) {
        throw new Error('hosts by label need both a label and a count of at least 1');
      }
      job.meta_label = label;
      job.meta_count = Number(count);
    }
    if (job.hosts.length === 0 && !job.meta_label) {
      throw new Error('pick at least one host, or ask for hosts by label');
    }
    const deps = depends.value.split(',').map((s) => s.trim()).filter(Boolean);
    if (deps.length) job.depends = deps;
    for (const [text, key, label2] of [[timeout.value, 'timeout_ms', 'timeout'],
      [maxRuntime.value, 'max_runtime_ms', 'max runtime'],
      [reserveOnFailure.value, 'reserve_on_failure_ms', 'reserve on failure']]) {
      const ms = parseDuration(text);
      if (Number.isNaN(ms)) throw new Error(label2 + ' "' + text + '" is not a duration like 90s, 30m, 2h');
      if (ms) job[key] = ms;
    }
    const targets = notify.value.split(',').map((s) => s.trim()).filter(Boolean);
    if (targets.length) job.notify = targets;
    if (notifyOn.value) job.notify_on = notifyOn.value;
    const ids = after.value.split(',').map((s) => s.trim()).filter(Boolean);
    for (const text of ids) {
      if (!/^\d+$/.test(text) || Number(text) < 1) throw new Error('after: "' + text + '" is not a job id');
    }
    if (ids.length) job.after = ids.map(Number);
    if (afterAny.checked) job.after_any = true;
    if (fromTemplate.value) job.template = fromTemplate.value;
    for (const [box, key, min] of [[synch, 'synch_count', 1], [retry, 'retry', 0]]) {
      const v = box.value.trim() === '' ? min : Number(box.value);
      if (!Number.isInteger(v) || v < min) throw new Error(key.replace('_', ' ') + ' must be a whole number ≥ ' + min);
      job[key] = v;
    }
    return job;
  }

  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    let job;
    try {
      job = body();
    } catch (e) {
      showFormError(e.message);
      return;
    }
    showFormError('');
    submit.disabled = true;
    try {
      const created = await post('/api/v1/jobs', job);
      setError('job-form', null);
      window.location.hash = '#/jobs/' + created.id;
    } catch (e) {
      showFormError(e.message);
      submit.disabled = false;
    }
  });

  // --- what the form offers, and a clone's values ---
  ctx.guard('hosts', async () => {
    allHosts = (await get('/api/v1/hosts')).sort((a, b) => a.hostname.localeCompare(b.hostname));
    if (!ctx.alive) return;
    drawHosts();
  });
  ctx.guard('labels', async () => {
    const labels = await get('/api/v1/labels');
    if (!ctx.alive) return;
    labelList.replaceChildren(...labels.map((l) => {
      const o = el('option');
      o.value = l.name;
      o.textContent = l.name + ' (' + (l.hosts || 0) + ')';
      return o;
    }));
  });
  let tests = [];
  const testsLoaded = ctx.guard('tests', async () => {
    tests = await get('/api/v1/tests');
    if (!ctx.alive) return;
    test.replaceChildren(...[['', tests.length ? '— pick a test —' : '(the catalog is empty: labmesh test add)'],
      ...tests.map((t) => [t.name, t.name])].map(([v, t]) => {
      const o = el('option', null, t);
      o.value = v;
      return o;
    }));
  });
  test.addEventListener('change', () => {
    const t = tests.find((x) => x.name === test.value);
    testInfo.textContent = t ? (t.description || 'no description') + ' — ' + t.control_bytes + ' bytes, by ' + (t.updated_by || t.created_by) : '';
  });
  drawPicked();
  drawHosts();

  // Fills the form from a job as /api/v1/jobs/ID shows it, or a template's definition (the
  // same keys, with command/test/control instead of control_kind).
  function fill(job) {
    if (job.control_kind === undefined) {
      job = Object.assign({}, job, { control_kind: job.test ? 'test' : job.command ? 'command' : 'control',
        test_name: job.test, control: job.command || job.control });
    }
    name.value = job.name;
    kind.value = job.control_kind === 'test' && tests.some((t) => t.name === job.test_name) ? 'test'
      : job.control_kind === 'command' ? 'command' : 'control';
    if (kind.value === 'test') test.value = job.test_name;
    else if (kind.value === 'command') command.value = job.control || '';
    else control.value = job.control || '';
    showKind();
    for (const hostname of job.hosts || []) chosen.add(hostname);
    metaLabel.value = job.meta_label || '';
    metaCount.value = job.meta_count ? String(job.meta_count) : '';
    depends.value = (job.depends || []).join(',');
    synch.value = String(job.synch_count || 1);
    priority.value = job.priority || 'medium';
    runVerify.checked = !!job.run_verify;
    timeout.value = durationText(job.timeout_ms);
    maxRuntime.value = durationText(job.max_runtime_ms);
    cleanup.value = job.cleanup || 'on-failure';
    retry.value = String(job.retry || 0);
    notify.value = (job.notify || []).join(', ');
    notifyOn.value = job.notify_on || '';
    reserveOnFailure.value = durationText(job.reserve_on_failure_ms);
    drawPicked();
    drawHosts();
  }

  let templates = [];
  const templatesLoaded = ctx.guard('templates', async () => {
    templates = await get('/api/v1/templates');
    if (!ctx.alive) return;
    fromTemplate.replaceChildren(...[['', templates.length ? '(none)' : '(no templates yet)'],
      ...templates.map((t) => [t.name, t.name + (t.description ? ' — ' + t.description : '')])].map(([v, t]) => {
      const o = el('option', null, t);
      o.value = v;
      return o;
    }));
  });
  async function useTemplate(tname) {
    const t = await get('/api/v1/templates/' + encodeURIComponent(tname));
    await testsLoaded;
    await templatesLoaded;
    if (!ctx.alive) return;
    chosen.clear();
    fill(t.job);
    fromTemplate.value = tname;
  }
  fromTemplate.addEventListener('change', () => {
    if (fromTemplate.value) ctx.guard('template', () => useTemplate(fromTemplate.value));
  });

  if (cloneId) {
    ctx.guard('clone', async () => {
      const job = await get('/api/v1/jobs/' + encodeURIComponent(cloneId));
      await testsLoaded;
      if (!ctx.alive) return;
      fill(job);
    });
  } else if (templateName) {
    ctx.guard('template', () => useTemplate(templateName));
  }
  $('job-name').focus();
}
