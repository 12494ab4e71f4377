// #/results[?test=&host=&label=&status=&since=&from=&to=&key=&by=]: one query form for three
// answers — the matching test results (links into the result files), the pass-rate matrix
// (tests × hosts or labels, coloured by pass rate, /api/v1/results/summary) and, given a key,
// the trend of that keyval over time (/api/v1/results/series, Chart.js with a linear x axis of
// ms). The form's values live in the hash, so a plot is a link.

import { badge, button, el, emptyRow, field, formatDuration, formatTime, h, input, jobHref,
  markUpdated, query, select } from './dom.js';
import { get, loadChart, timeLineChart } from './api.js';

const STATUSES = ['', 'GOOD', 'FAIL', 'ERROR', 'ABORT', 'WARN', 'TEST_NA'];

// "2026-11-29T14:03" (datetime-local) → µs since the epoch; "" → "".
function localToUs(value) {
  if (!value) return '';
  const ms = new Date(value).getTime();
  return Number.isNaN(ms) ? '' : ms * 1000;
}

// Red (0) through amber to green (1).
function rateColor(rate) {
  const hue = Math.round(120 * Math.max(0, Math.min(1, rate)));
  return 'hsl(' + hue + ', 65%, 80%)';
}

export function mount(ctx) {
  const q = ctx.params.query;
  const v = (k) => q.get(k) || '';

  const test = input('results-test', 'text', v('test'), 'full name, e.g. boot or kernel/boot');
  test.setAttribute('list', 'results-tests');
  const testList = el('datalist');
  testList.id = 'results-tests';
  const host = input('results-host', 'text', v('host'), 'any host');
  host.setAttribute('list', 'results-hosts');
  const hostList = el('datalist');
  hostList.id = 'results-hosts';
  const label = input('results-label', 'text', v('label'), 'any label');
  label.setAttribute('list', 'results-labels');
  const labelList = el('datalist');
  labelList.id = 'results-labels';
  const status = select('results-status', STATUSES.map((s) => [s, s || 'any status']), v('status'));
  const since = input('results-since', 'text', v('since'), 'e.g. 2h, 7d');
  const from = input('results-from', 'datetime-local', v('from'));
  const to = input('results-to', 'datetime-local', v('to'));
  const key = input('results-key', 'text', v('key'), 'keyval or perf key to plot');
  key.setAttribute('list', 'results-keys');
  const keyList = el('datalist');
  keyList.id = 'results-keys';
  const by = select('results-by', [['', 'host (label when one is given)'], ['host', 'host'], ['label', 'label']], v('by'));
  const submit = button('Show', 'primary');
  submit.type = 'submit';
  submit.id = 'results-submit';
  const filesLink = el('a', null, 'browse all result files');
  filesLink.href = '/results/';
  filesLink.target = '_blank';
  filesLink.rel = 'noopener';

  since.title = 'how long back: 90s, 30m, 2h, 7d (From/to override it)';
  from.title = 'from (local time)';
  to.title = 'until (local time)';
  key.title = 'a keyval or perf key of the test: plotted over time';
  const form = h('form', 'form results-form',
    field('Test', test), field('Host', host), field('Label', label), field('Status', status),
    field('Since', since), field('From / to', h('span', 'inline', from, ' – ', to)),
    field('Plot key', key), field('Matrix by', by),
    h('div', 'submit-row', submit, ' ', filesLink), testList, hostList, labelList, keyList);
  form.id = 'results-form';

  // --- the three answers ---
  const chartState = el('p', 'hint');
  chartState.id = 'series-state';
  const chartBox = el('div', 'chart-box tall');
  const canvas = el('canvas');
  canvas.id = 'series-chart';
  chartBox.appendChild(canvas);
  const seriesTable = el('div');
  const plot = h('section', null, h('h2', null, 'Trend'), chartState, chartBox, seriesTable);
  plot.id = 'series';

  const matrixState = el('p', 'hint');
  const matrix = el('div', 'matrix-wrap');
  matrix.id = 'matrix';
  const matrixSection = h('section', null, h('h2', null, 'Pass rate'), matrixState, matrix);

  const resultsTable = el('table', 'results');
  resultsTable.id = 'results-table';
  resultsTable.appendChild(h('thead', null, h('tr', null, ...['Started', 'Test', 'Host', 'Status',
    'Duration', 'Job', 'Keyvals', 'Reason', 'File'].map((t) => el('th', null, t)))));
  const resultsBody = el('tbody');
  resultsBody.id = 'results-body';
  resultsTable.appendChild(resultsBody);
  const pager = el('div', 'pager');
  const listSection = h('section', null, h('h2', null, 'Results'), resultsTable, pager);

  ctx.container.append(h('section', null, h('h2', null, 'Query'), form), plot, matrixSection, listSection);

  function params() {
    return { test: test.value.trim(), host: host.value.trim(), label: label.value.trim(),
      status: status.value, since: since.value.trim(), from: from.value, to: to.value,
      key: key.value.trim(), by: by.value };
  }
  // The window as the API takes it: since/since_us and until_us.
  function windowOf(p) {
    const w = {};
    if (p.from) w.since_us = localToUs(p.from); else if (p.since) w.since = p.since;
    if (p.to) w.until_us = localToUs(p.to);
    return w;
  }

  form.addEventListener('submit', (event) => {
    event.preventDefault();
    const qs = query(params());
    const hash = '#/results' + (qs ? '?' + qs : '');
    if (window.location.hash === hash) run(); else window.location.hash = hash;
  });

  // --- the trend plot ---
  let chart = null;
  ctx.onDispose(() => { if (chart) chart.destroy(); chart = null; });

  function seriesAsTable(points) {
    const table = el('table', 'compact');
    table.appendChild(h('thead', null, h('tr', null, ...['Time', 'Value', 'Host', 'Job'].map((t) => el('th', null, t)))));
    const body = el('tbody');
    for (const p of points.slice(-50).reverse()) {
      const a = el('a', null, p.job_id);
      a.href = jobHref(p.job_id);
      body.appendChild(h('tr', null, el('td', 'when', formatTime(p.time_us / 1000)), el('td', 'num', p.value),
        el('td', null, p.host), h('td', null, a)));
    }
    table.appendChild(body);
    seriesTable.replaceChildren(table);
  }

  async function drawSeries(p) {
    if (chart) {
      chart.destroy();
      chart = null;
    }
    seriesTable.replaceChildren();
    if (!p.test || !p.key) {
      chartBox.hidden = true;
      chartState.textContent = 'Give a test and a key to plot a keyval over time.';
      return;
    }
    const points = (await get('/api/v1/results/series?' + query(Object.assign({ test: p.test, key: p.key,
      host: p.host, label: p.label }, windowOf(p))))).points || [];
    if (!ctx.alive) return;
    chartState.textContent = points.length + (points.length === 1 ? ' point' : ' points') + ' of ' +
      p.key + ' for ' + p.test + (p.host ? ' on ' + p.host : '') + (p.label ? ' on ' + p.label : '') +
      (points.length ? '' : ' (results appear once the job\'s files are parsed)');
    chartState.dataset.points = String(points.length);
    // One line per host, so hosts can be told apart.
    const byHost = new Map();
    for (const point of points) {
      if (!byHost.has(point.host)) byHost.set(point.host, []);
      byHost.get(point.host).push(point);
    }
    const colors = ['#0969da', '#cf222e', '#1a7f37', '#9a6700', '#8250df', '#bf3989', '#0a3069', '#6e7781'];
    const datasets = [...byHost.entries()].map(([hostname, list], i) => ({
      label: hostname,
      data: list.map((pt) => ({ x: pt.time_us / 1000, y: pt.value, link: pt.link, job: pt.job_id })),
      borderColor: colors[i % colors.length],
      backgroundColor: colors[i % colors.length],
      pointRadius: 3,
      borderWidth: 1.5,
    }));
    if (datasets.length === 0) datasets.push({ label: p.key, data: [] });
    let Chart;
    try {
      Chart = await loadChart();
    } catch (e) {
      chartBox.hidden = true;
      chartState.textContent += ' — ' + e.message;
      seriesAsTable(points);
      return;
    }
    if (!ctx.alive) return;
    chartBox.hidden = false;
    if (chart) chart.destroy();
    chart = timeLineChart(Chart, canvas, datasets,
      { y: { type: 'linear', title: { display: true, text: p.key } } },
      { afterLabel: (item) => 'job ' + item.raw.job + ' (click for its files)' },
      (event, elements) => {
        if (!elements.length) return;
        const point = datasets[elements[0].datasetIndex].data[elements[0].index];
        if (point && point.link) window.open(point.link, '_blank', 'noopener');
      });
  }

  // --- the matrix ---
  async function drawMatrix(p) {
    const summaryQuery = Object.assign({ host: p.host, label: p.label, by: p.by }, windowOf(p));
    if (p.test) summaryQuery.test = p.test;
    const rows = (await get('/api/v1/results/summary?' + query(summaryQuery))).rows || [];
    if (!ctx.alive) return;
    const tests = [...new Set(rows.map((r) => r.test))].sort();
    const groups = [...new Set(rows.map((r) => r.group))].sort();
    testList.replaceChildren(...tests.map((t) => Object.assign(el('option'), { value: t })));
    matrixState.textContent = rows.length
      ? tests.length + ' tests × ' + groups.length + ' ' + (p.by || (p.label ? 'label' : 'host')) + 's' +
        (p.since || p.from ? '' : ', last 7 days')
      : 'No results in this window.';
    if (!rows.length) {
      matrix.replaceChildren();
      return;
    }
    const cell = new Map(rows.map((r) => [r.test + '\u0000' + r.group, r]));
    // Tests that both passed and failed on one host with one build (docs/quarantine.md).
    const flaky = new Set(rows.filter((r) => r.flaky).map((r) => r.test));
    const groupKind = p.by || (p.label ? 'label' : 'host');
    const table = el('table', 'matrix');
    table.appendChild(h('thead', null, h('tr', null, el('th', null, 'test'), ...groups.map((g) => el('th', 'num', g)))));
    const body = el('tbody');
    for (const t of tests) {
      const tr = el('tr');
      const name = el('td', 'test');
      const a = el('a', null, t);
      a.href = '#/results?' + query({ test: t, since: p.since, from: p.from, to: p.to });
      name.appendChild(a);
      if (flaky.has(t)) {
        const mark = el('span', 'flaky', ' flaky');
        mark.title = 'passed and failed on one host with one build in the health window';
        name.appendChild(mark);
        tr.dataset.flaky = '1';
      }
      tr.appendChild(name);
      for (const g of groups) {
        const r = cell.get(t + '\u0000' + g);
        const td = el('td', 'rate num');
        td.dataset.test = t;
        td.dataset.group = g;
        if (r) {
          const rate = r.pass_rate;
          // The cell opens the results behind it.
          const a = el('a', null, rate === null || rate === undefined ? 'n/a' : Math.round(rate * 100) + '%');
          a.href = '#/results?' + query(Object.assign({ test: t, since: p.since, from: p.from, to: p.to,
            by: p.by }, groupKind === 'label' ? { label: g, host: p.host } : { host: g, label: p.label }));
          td.appendChild(a);
          td.appendChild(el('span', 'small', ' (' + ((r.counts || {}).GOOD || 0) + '/' + r.total + ')'));
          if (rate !== null && rate !== undefined) td.style.backgroundColor = rateColor(rate);
          td.dataset.rate = rate === null || rate === undefined ? '' : String(rate);
          td.title = Object.entries(r.counts || {}).map(([s, n]) => n + ' ' + s).join(', ') +
            (r.last_us ? '\nlast ' + formatTime(r.last_us / 1000) : '');
        } else {
          td.classList.add('muted');
          td.textContent = '—';
        }
        tr.appendChild(td);
      }
      body.appendChild(tr);
    }
    table.appendChild(body);
    matrix.replaceChildren(table);
  }

  // --- the result list, a page at a time ---
  async function drawList(p, cursor) {
    const listQuery = Object.assign({ test: p.test, host: p.host, label: p.label, status: p.status,
      limit: 50, cursor: cursor }, windowOf(p));
    const page = await get('/api/v1/results?' + query(listQuery));
    if (!ctx.alive) return;
    const rows = document.createDocumentFragment();
    const keys = new Set();
    for (const r of page.results || []) {
      const tr = el('tr');
      tr.dataset.resultId = String(r.id);
      tr.appendChild(el('td', 'when', formatTime(r.start_us / 1000)));
      const t = el('a', null, r.test);
      t.href = '#/results?' + query({ test: r.test, host: p.host, label: p.label, since: p.since, from: p.from, to: p.to });
      const testCell = h('td', 'test', t);
      if (r.flaky) testCell.appendChild(el('span', 'flaky', ' flaky'));
      tr.appendChild(testCell);
      tr.appendChild(el('td', null, r.host));
      tr.appendChild(h('td', null, badge(r.status)));
      tr.appendChild(el('td', 'num', formatDuration(r.duration_us / 1000)));
      const j = el('a', null, r.job_id);
      j.href = jobHref(r.job_id);
      tr.appendChild(h('td', 'num', j));
      const kv = Object.assign({}, r.keyvals || {}, r.perf || {});
      for (const k of Object.keys(kv)) keys.add(k);
      tr.appendChild(el('td', 'keyvals small', Object.entries(kv).map(([k, x]) => k + '=' + x).join(' ')));
      tr.appendChild(el('td', 'reason', r.reason || ''));
      const fileCell = el('td');
      if (r.link) {
        const a = el('a', 'result-file', r.file || 'file');
        a.href = r.link;
        a.target = '_blank';
        a.rel = 'noopener';
        fileCell.appendChild(a);
      }
      tr.appendChild(fileCell);
      rows.appendChild(tr);
    }
    if (!(page.results || []).length) rows.appendChild(emptyRow(9, 'No results match.'));
    resultsBody.replaceChildren(rows);
    if (p.test) keyList.replaceChildren(...[...keys].sort().map((k) => Object.assign(el('option'), { value: k })));
    pager.replaceChildren();
    if (cursor) pager.appendChild(button('« first page', null, () => ctx.guard('results', () => drawList(p, ''))));
    if (page.next_cursor) {
      const next = button('next page »', 'next');
      next.addEventListener('click', () => ctx.guard('results', () => drawList(p, page.next_cursor)));
      pager.appendChild(next);
    }
    markUpdated();
  }

  function run() {
    const p = params();
    ctx.guard('results', () => drawList(p, ''));
    ctx.guard('summary', () => drawMatrix(p));
    ctx.guard('series', () => drawSeries(p));
  }

  ctx.guard('hosts', async () => {
    const hosts = await get('/api/v1/hosts');
    if (ctx.alive) hostList.replaceChildren(...hosts.map((x) => Object.assign(el('option'), { value: x.hostname })));
  });
  ctx.guard('labels', async () => {
    const labels = await get('/api/v1/labels');
    if (ctx.alive) labelList.replaceChildren(...labels.map((x) => Object.assign(el('option'), { value: x.name })));
  });
  run();
}
