// #/: the fleet at a glance — hosts by status (each a link to the filtered host list), hosts
// waiting for approval, the suspect hosts (health score at the threshold, or quarantined:
// docs/quarantine.md), jobs running / queued / finished today, the latest jobs, recent
// failures and the agent versions. Live: hosts=1&pending=1&jobs=1 on /api/v1/events; a change
// of the jobs list also asks again for the counts.

import { HOST_STATUSES, el, emptyRow, h, localMidnightUs, markUpdated, query, statusClass } from './dom.js';
import { get } from './api.js';
import { versionsLine } from './view_hosts.js';
import { jobRow, jobsTable } from './view_jobs.js';

const COUNT_LIMIT = 1000;

function stat(id, label, value, href, className) {
  const a = el('a', 'stat ' + (className || ''));
  a.id = id;
  if (href) a.href = href;
  a.append(el('span', 'stat-value', value), el('span', 'stat-label', label));
  return a;
}

export function mount(ctx) {
  const hostStats = el('div', 'stats');
  hostStats.id = 'dash-hosts';
  const jobStats = el('div', 'stats');
  jobStats.id = 'dash-jobs';
  const recent = jobsTable('dash-recent');
  recent.body.id = 'dash-recent-body';
  const failures = jobsTable('dash-failures');
  failures.body.id = 'dash-failures-body';
  let versions = versionsLine([]);
  const suspects = el('ul', 'suspects');
  suspects.id = 'dash-suspects';
  const suspectsEmpty = el('p', 'empty', 'No suspect hosts: every health score is below the threshold.');
  suspectsEmpty.id = 'dash-suspects-empty';
  const all = (text, href) => { const a = el('a', 'more', text); a.href = href; return a; };
  ctx.container.append(
    h('section', null, h('h2', null, 'Hosts ', all('all hosts »', '#/hosts')), hostStats, versions),
    h('section', null, h('h2', null, 'Suspect hosts ', all('scores »', '#/hosts?status=Quarantined')),
      suspects, suspectsEmpty),
    h('section', null, h('h2', null, 'Jobs ', all('all jobs »', '#/jobs')), jobStats),
    h('section', null, h('h2', null, 'Latest jobs'), recent.table),
    h('section', null, h('h2', null, 'Recent failures ', all('all failed »', '#/jobs?status=Failed')),
      failures.table));

  let pendingCount = 0;
  let lastHosts = null;

  function renderHosts(hosts) {
    lastHosts = hosts;
    const counts = {};
    for (const host of hosts) counts[host.status] = (counts[host.status] || 0) + 1;
    const cards = [stat('dash-hosts-total', 'hosts', hosts.length, '#/hosts')];
    const statuses = HOST_STATUSES.filter((s) => counts[s]).concat(
      Object.keys(counts).filter((s) => !HOST_STATUSES.includes(s)));
    for (const s of statuses) {
      const card = stat('', s, counts[s], '#/hosts?' + query({ status: s }), statusClass(s));
      card.removeAttribute('id');
      card.dataset.status = s;
      cards.push(card);
    }
    cards.push(stat('dash-pending', 'waiting for approval', pendingCount, '#/hosts',
      pendingCount ? 'work' : ''));
    hostStats.replaceChildren(...cards);
    renderSuspects(hosts);
    const next = versionsLine(hosts);
    versions.replaceWith(next);
    versions = next;
    markUpdated();
  }

  // Hosts whose score reached the threshold, and quarantined ones: worst first.
  function renderSuspects(hosts) {
    const list = hosts.filter((host) => host.suspect || host.quarantine)
      .sort((a, b) => (b.health_score || 0) - (a.health_score || 0));
    suspects.replaceChildren(...list.map((host) => {
      const a = el('a', 'hostname', host.hostname);
      a.href = '#/hosts/' + encodeURIComponent(host.hostname);
      const score = host.health_score === null || host.health_score === undefined
        ? '' : ' score ' + Number(host.health_score).toFixed(1);
      const li = h('li', null, a, ' ', el('span', 'badge status ' + statusClass(host.status), host.status),
        el('span', 'num', score),
        el('span', 'muted', host.quarantine ? ' — quarantined: ' + host.quarantine.reason : ''));
      li.dataset.host = host.hostname;
      return li;
    }));
    suspectsEmpty.hidden = list.length > 0;
  }

  function renderPending(list) {
    pendingCount = list.length;
    if (lastHosts) renderHosts(lastHosts);
  }

  function renderRecent(jobs) {
    const rows = document.createDocumentFragment();
    for (const job of jobs.slice(0, 8)) rows.appendChild(jobRow(job));
    if (!jobs.length) rows.appendChild(emptyRow(9, 'No jobs yet.'));
    recent.body.replaceChildren(rows);
  }

  const count = (list) => list.length >= COUNT_LIMIT ? COUNT_LIMIT + '+' : String(list.length);
  let countsBusy = false;
  let countsAgain = false;
  async function refreshCounts() {
    if (countsBusy) {
      countsAgain = true;
      return;
    }
    countsBusy = true;
    await ctx.guard('job-counts', async () => {
      const [running, queued, today, failed] = await Promise.all([
        get('/api/v1/jobs?' + query({ status: 'Running', limit: COUNT_LIMIT })),
        get('/api/v1/jobs?' + query({ status: 'Queued', limit: COUNT_LIMIT })),
        get('/api/v1/jobs?' + query({ finished_since_us: localMidnightUs(), limit: COUNT_LIMIT })),
        get('/api/v1/jobs?' + query({ status: 'Failed', limit: 8 })),
      ]);
      if (!ctx.alive) return;
      const failedToday = today.filter((j) => j.status === 'Failed').length;
      jobStats.replaceChildren(
        stat('dash-running', 'running', count(running), '#/jobs?status=Running', 'busy'),
        stat('dash-queued', 'queued', count(queued), '#/jobs?status=Queued', 'work'),
        stat('dash-finished-today', 'finished today', count(today), '#/jobs', 'ok'),
        stat('dash-failed-today', 'failed today', failedToday, '#/jobs?status=Failed', failedToday ? 'bad' : ''));
      const rows = document.createDocumentFragment();
      for (const job of failed) rows.appendChild(jobRow(job));
      if (!failed.length) rows.appendChild(emptyRow(9, 'No failed jobs.'));
      failures.body.replaceChildren(rows);
    });
    countsBusy = false;
    if (countsAgain && ctx.alive) {
      countsAgain = false;
      refreshCounts();
    }
  }

  function refresh() {
    ctx.guard('hosts', async () => {
      const [hosts, pending, jobs] = await Promise.all([get('/api/v1/hosts'), get('/api/v1/pending'),
        get('/api/v1/jobs?limit=8')]);
      if (!ctx.alive) return;
      pendingCount = pending.length;
      renderHosts(hosts);
      renderRecent(jobs);
    });
    refreshCounts();
  }

  refresh();
  ctx.live(query({ hosts: 1, pending: 1, jobs: 1, limit: 8 }), {
    hosts: renderHosts,
    pending: renderPending,
    jobs: (jobs) => {
      renderRecent(jobs);
      refreshCounts();
    },
  }, refresh);
  // "Finished today" moves at midnight and a job can finish without the latest 8 changing.
  ctx.interval(refreshCounts, 30000);
}
