// #/jobs[?owner=U&status=S&name=N&schedule=S&before_id=ID]: the job list, newest first, filtered
// by owner, status, name and the schedule that made them, PAGE jobs at a time (older pages by
// before_id). The first page is live (jobs=1 on /api/v1/events); an older page, or a schedule's
// jobs, are asked again every 10 s.

import { JOB_STATUSES, badge, button, el, emptyRow, field, h, input, jobHref, markUpdated,
  query, select, whenCell } from './dom.js';
import { get, session } from './api.js';

const PAGE = 25;

// "3 Completed, 1 Running" from the entries' statuses.
export function entrySummary(job) {
  const counts = {};
  for (const e of job.entries || []) counts[e.status] = (counts[e.status] || 0) + 1;
  return Object.entries(counts).map(([s, n]) => n + ' ' + s).join(', ') || '—';
}

export function jobTargets(job) {
  const parts = [];
  if ((job.hosts || []).length) parts.push(job.hosts.join(', '));
  if (job.meta_label) parts.push(job.meta_count + ' × ' + job.meta_label);
  return parts.join('; ') || '—';
}

export function jobRow(job) {
  const tr = el('tr');
  tr.dataset.jobId = String(job.id);
  tr.dataset.status = job.status;
  const idCell = el('td', 'num');
  const a = el('a', null, job.id);
  a.href = jobHref(job.id);
  idCell.appendChild(a);
  tr.appendChild(idCell);
  const nameCell = el('td', 'name');
  const b = el('a', null, job.name);
  b.href = jobHref(job.id);
  nameCell.appendChild(b);
  tr.appendChild(nameCell);
  tr.appendChild(el('td', 'owner', job.owner));
  tr.appendChild(h('td', 'status', badge(job.status, job.abort_reason)));
  tr.appendChild(el('td', 'priority', job.priority));
  tr.appendChild(el('td', 'targets', jobTargets(job)));
  tr.appendChild(el('td', 'entries', entrySummary(job)));
  tr.appendChild(whenCell(job.created_us / 1000));
  tr.appendChild(whenCell(job.finished_us / 1000));
  tr.addEventListener('click', (event) => {
    if (!event.target.closest('a')) window.location.hash = jobHref(job.id);
  });
  return tr;
}

export function jobsTable(id) {
  const table = el('table', 'jobs');
  if (id) table.id = id;
  table.appendChild(h('thead', null, h('tr', null, ...['ID', 'Name', 'Owner', 'Status', 'Priority',
    'Hosts', 'Entries', 'Created', 'Finished'].map((t) => el('th', t === 'ID' ? 'num' : null, t)))));
  const body = el('tbody');
  table.appendChild(body);
  return { table, body };
}

export function mount(ctx) {
  const q = ctx.params.query;
  const filter = {
    owner: q.get('owner') || '',
    status: q.get('status') || '',
    name: q.get('name') || '',
    schedule: q.get('schedule') || '',
  };
  const beforeId = q.get('before_id') || '';

  const owner = input('jobs-owner', 'text', filter.owner, 'user');
  const status = select('jobs-status', [['', 'any status'], ...JOB_STATUSES], filter.status);
  const name = input('jobs-name', 'search', filter.name, 'part of the name');
  const apply = button('Filter', 'primary');
  apply.type = 'submit';
  const mine = button('My jobs');
  const form = h('form', 'filters', field('Owner', owner), field('Status', status), field('Name', name),
    h('div', 'inline', apply, mine));
  form.id = 'jobs-filters';
  const go = (extra) => {
    const qs = query(Object.assign({ owner: owner.value.trim(), status: status.value, name: name.value.trim(),
      schedule: filter.schedule }, extra || {}));
    window.location.hash = '#/jobs' + (qs ? '?' + qs : '');
  };
  form.addEventListener('submit', (e) => { e.preventDefault(); go(); });
  status.addEventListener('change', () => go());
  mine.addEventListener('click', () => {
    owner.value = session.me ? session.me.user : '';
    go();
  });

  const { table, body } = jobsTable('jobs-table');
  body.id = 'jobs-body';
  const pager = el('div', 'pager');
  pager.id = 'jobs-pager';
  const newJob = el('a', 'button-link', 'New job');
  newJob.href = '#/jobs/new';
  const scheduleNote = filter.schedule
    ? el('p', 'hint', 'Only the jobs schedule ' + filter.schedule + ' created.') : null;
  ctx.container.append(h('section', null, h('h2', null, 'Jobs ', newJob), form, scheduleNote, table, pager));

  function render(jobs) {
    const rows = document.createDocumentFragment();
    for (const job of jobs.slice(0, PAGE)) rows.appendChild(jobRow(job));
    if (jobs.length === 0) rows.appendChild(emptyRow(9, 'No jobs match.'));
    body.replaceChildren(rows);
    pager.replaceChildren();
    if (beforeId) {
      const first = el('a', null, '« newest');
      first.href = '#/jobs' + (query(filter) ? '?' + query(filter) : '');
      pager.append(first, ' ');
    }
    if (jobs.length > PAGE) {
      const last = jobs[PAGE - 1].id;
      const older = el('a', 'older', 'older »');
      older.id = 'jobs-older';
      older.href = '#/jobs?' + query(Object.assign({}, filter, { before_id: last }));
      pager.appendChild(older);
    }
    markUpdated();
  }

  // One more than a page, to know whether there is an older page.
  const listQuery = query({ owner: filter.owner, status: filter.status, name: filter.name,
    schedule: filter.schedule, before_id: beforeId, limit: PAGE + 1 });
  const refresh = () => ctx.guard('jobs', async () => {
    const jobs = await get('/api/v1/jobs?' + listQuery);
    if (ctx.alive) render(jobs);
  });
  refresh();
  if (beforeId || filter.schedule) {
    ctx.interval(refresh, 10000);
  } else {
    ctx.live(query({ jobs: 1, owner: filter.owner, job_status: filter.status, name: filter.name,
      limit: PAGE + 1 }), { jobs: render }, refresh);
  }
}
