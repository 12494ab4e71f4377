// #/schedules: templates (saved job definitions) and the schedules that make jobs from them on a
// cron expression's times (docs/schedules.md). Lists both, creates a schedule, pauses, resumes
// and deletes one, deletes a template, and starts a job from a template (the job form with
// ?template=NAME). Refreshed every 10 s: schedules change on the minute, not faster.

import { button, el, emptyRow, field, h, input, jobHref, markUpdated, select, whenCell } from './dom.js';
import { get, notice, post } from './api.js';

const enc = encodeURIComponent;

export function mount(ctx) {
  // --- schedules ---
  const schedTable = el('table', 'schedules');
  schedTable.id = 'schedules-table';
  schedTable.appendChild(h('thead', null, h('tr', null, ...['Name', 'Owner', 'Template', 'When',
    'Next run', 'Last job', 'Jobs', 'State', ''].map((t) => el('th', null, t)))));
  const schedBody = el('tbody');
  schedBody.id = 'schedules-body';
  schedTable.appendChild(schedBody);

  // --- a new schedule ---
  const name = input('schedule-name', 'text', '', 'e.g. nightly');
  const template = select('schedule-template', [['', '(loading…)']], '');
  const cron = input('schedule-cron', 'text', '0 2 * * *', 'minute hour day month weekday');
  const zone = input('schedule-timezone', 'text', '', 'UTC, or e.g. Europe/Berlin');
  const description = input('schedule-description', 'text', '', 'what it is for');
  const create = button('Create schedule', 'primary');
  create.type = 'submit';
  create.id = 'schedule-submit';
  const formError = el('div', 'error inline-error');
  formError.id = 'schedule-form-error';
  formError.hidden = true;
  const form = h('form', 'form', field('Name', name), field('Template', template),
    field('Cron', cron, 'five fields (0 2 * * * = 02:00 every day) or @daily, @hourly, @weekly'),
    field('Time zone', zone, 'an IANA name; empty: UTC'), field('Description', description),
    h('div', 'submit-row', create), formError);
  form.id = 'schedule-form';
  form.noValidate = true;

  // --- templates ---
  const tmplTable = el('table', 'templates');
  tmplTable.id = 'templates-table';
  tmplTable.appendChild(h('thead', null, h('tr', null, ...['Name', 'Owner', 'Job name', 'Runs',
    'Hosts', 'Description', ''].map((t) => el('th', null, t)))));
  const tmplBody = el('tbody');
  tmplBody.id = 'templates-body';
  tmplTable.appendChild(tmplBody);

  ctx.container.append(
    h('section', null, h('h2', null, 'Schedules'), schedTable, h('h3', null, 'New schedule'), form),
    h('section', null, h('h2', null, 'Templates'),
      el('p', 'hint', 'Save a job as a template from its page ("Save as template"), or with '
        + '`labmesh template create NAME [job create flags]`.'), tmplTable));

  function showFormError(message) {
    formError.textContent = message;
    formError.hidden = !message;
  }

  async function act(url, what) {
    try {
      await post(url, {});
      notice(what);
      refresh();
    } catch (e) {
      showFormError(e.message);
    }
  }

  function scheduleRow(s) {
    const tr = el('tr');
    tr.dataset.schedule = s.name;
    tr.appendChild(el('td', 'name', s.name));
    tr.appendChild(el('td', 'owner', s.owner));
    tr.appendChild(el('td', null, s.template));
    tr.appendChild(el('td', 'cron', s.cron + ' (' + s.timezone + ')'));
    tr.appendChild(s.paused ? el('td', 'muted', 'paused') : whenCell(s.next_run_us / 1000));
    const last = el('td', 'last-job');
    if (s.last_job_id) {
      const a = el('a', null, String(s.last_job_id));
      a.href = jobHref(s.last_job_id);
      last.appendChild(a);
    } else {
      last.textContent = '—';
    }
    if (s.last_error) last.appendChild(el('div', 'error small', s.last_error));
    tr.appendChild(last);
    const jobs = el('a', null, String(s.jobs_created));
    jobs.href = '#/jobs?schedule=' + enc(s.name);
    tr.appendChild(h('td', 'num', jobs));
    tr.appendChild(el('td', 'state', s.paused ? 'paused' : 'active'));
    const toggle = button(s.paused ? 'Resume' : 'Pause', null,
      () => act('/api/v1/schedules/' + enc(s.name) + (s.paused ? '/resume' : '/pause'),
        'schedule ' + s.name + (s.paused ? ' resumed' : ' paused')));
    toggle.dataset.action = s.paused ? 'resume' : 'pause';
    const remove = button('Delete', 'danger', () => {
      if (window.confirm('Delete schedule ' + s.name + '? Its jobs stay.')) {
        act('/api/v1/schedules/' + enc(s.name) + '/delete', 'schedule ' + s.name + ' deleted');
      }
    });
    remove.dataset.action = 'delete';
    tr.appendChild(h('td', 'actions', toggle, ' ', remove));
    return tr;
  }

  function templateRow(t) {
    const tr = el('tr');
    tr.dataset.template = t.name;
    tr.appendChild(el('td', 'name', t.name));
    tr.appendChild(el('td', 'owner', t.owner));
    tr.appendChild(el('td', null, t.job.name));
    tr.appendChild(el('td', null, t.job.command ? 'command: ' + t.job.command
      : t.job.test ? 'test: ' + t.job.test : 'control script'));
    const where = [...(t.job.hosts || [])];
    if (t.job.meta_count) where.push(t.job.meta_count + ' × ' + t.job.meta_label);
    tr.appendChild(el('td', null, where.join(', ') || '—'));
    tr.appendChild(el('td', null, t.description || ''));
    const use = el('a', 'button-link', 'New job from it');
    use.href = '#/jobs/new?template=' + enc(t.name);
    const remove = button('Delete', 'danger', () => {
      if (window.confirm('Delete template ' + t.name + '?')) {
        act('/api/v1/templates/' + enc(t.name) + '/delete', 'template ' + t.name + ' deleted');
      }
    });
    remove.dataset.action = 'delete';
    tr.appendChild(h('td', 'actions', use, ' ', remove));
    return tr;
  }

  function render(schedules, templates) {
    const rows = document.createDocumentFragment();
    for (const s of schedules) rows.appendChild(scheduleRow(s));
    if (!schedules.length) rows.appendChild(emptyRow(9, 'No schedules yet.'));
    schedBody.replaceChildren(rows);
    const trows = document.createDocumentFragment();
    for (const t of templates) trows.appendChild(templateRow(t));
    if (!templates.length) trows.appendChild(emptyRow(7, 'No templates yet.'));
    tmplBody.replaceChildren(trows);
    const picked = template.value;
    template.replaceChildren(...[['', templates.length ? '— pick a template —' : '(no templates yet)'],
      ...templates.map((t) => [t.name, t.name])].map(([v, text]) => {
      const o = el('option', null, text);
      o.value = v;
      return o;
    }));
    if (templates.some((t) => t.name === picked)) template.value = picked;
    markUpdated();
  }

  const refresh = () => ctx.guard('schedules', async () => {
    const [schedules, templates] = await Promise.all([get('/api/v1/schedules'), get('/api/v1/templates')]);
    if (ctx.alive) render(schedules, templates);
  });

  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    const body = { name: name.value.trim(), template: template.value, cron: cron.value.trim(),
      timezone: zone.value.trim(), description: description.value.trim() };
    if (!body.name) return showFormError('the schedule needs a name');
    if (!body.template) return showFormError('pick the template its jobs are made from');
    showFormError('');
    create.disabled = true;
    try {
      const made = await post('/api/v1/schedules', body);
      notice('schedule ' + made.name + ' created; next run ' + (made.upcoming[0] || '—'));
      name.value = '';
      description.value = '';
      refresh();
    } catch (e) {
      showFormError(e.message);
    } finally {
      create.disabled = false;
    }
  });

  refresh();
  ctx.interval(refresh, 10000);
}
