// Home: the plan, what is used of each limit, twelve months of messages, and what needs attention.
import { api } from '../lib/api.js';
import { h, render, meter, bytes } from '../lib/dom.js';

export async function homeView(main) {
  document.title = 'Home · Contexo';
  const account = await api('GET', '/account');
  const usage = account.usage || {};
  const plan = account.plan;
  const attention = [];
  if ((account.documents?.failed || 0) > 0) {
    attention.push(h('li', {}, `${account.documents.failed} document(s) failed to process. `, h('a', { href: '#/widgets' }, 'See the widgets')));
  }
  for (const [name, part] of [['Widgets', usage.widgets], ['Messages this month', usage.messages && { used: usage.messages.used, limit: usage.messages.allowance }],
    ['Knowledge storage', usage.knowledge_bytes]]) {
    if (part && part.limit > 0 && part.used / part.limit >= 0.8) {
      attention.push(h('li', {}, `${name}: ${Math.round((part.used / part.limit) * 100)} % of your plan is used. `, h('a', { href: '#/billing' }, 'Upgrade')));
    }
  }
  const widgets = await api('GET', '/widgets').catch(() => ({ widgets: [] }));
  for (const widget of (widgets.widgets || []).slice(0, 10)) {
    const open = await api('GET', `/widgets/${widget.id}/unanswered`).catch(() => ({ questions: [] }));
    if (open.questions?.length) {
      attention.push(h('li', {}, `${open.questions.length} unanswered question(s) on “`, widget.name, '”. ',
        h('a', { href: `#/widgets/${widget.id}/conversations` }, 'Answer them')));
    }
  }
  render(main,
    h('h1', {}, 'Home'),
    account.missing?.length ? h('p.notice', { role: 'status' }, `Some numbers are missing right now (${account.missing.map((m) => m.service).join(', ')} did not answer).`) : null,
    h('section.card', { 'aria-labelledby': 'plan-title' },
      h('h2', { id: 'plan-title' }, 'Plan'),
      plan ? h('p.plan', {}, h('strong', {}, plan.id), ` · ${plan.status}`, plan.period_end ? ` · renews or ends ${new Date(plan.period_end).toLocaleDateString()}` : '') : h('p', {}, 'Unknown right now.'),
      h('a', { href: '#/billing' }, 'Plans and billing')),
    h('section.card', { 'aria-labelledby': 'usage-title' },
      h('h2', { id: 'usage-title' }, 'Usage'),
      usage.widgets ? meter('Widgets', usage.widgets.used, usage.widgets.limit) : null,
      usage.messages ? meter(`Messages in ${usage.messages.period}`, usage.messages.used, usage.messages.allowance) : null,
      usage.messages?.credits_remaining ? h('p.hint', {}, `${usage.messages.credits_remaining} add-on credits left.`) : null,
      usage.knowledge_bytes ? meter('Knowledge storage', usage.knowledge_bytes.used, usage.knowledge_bytes.limit, bytes) : null),
    h('section.card', { 'aria-labelledby': 'attention-title' },
      h('h2', { id: 'attention-title' }, 'Needs attention'),
      attention.length ? h('ul.attention', {}, attention) : h('p', {}, 'Nothing right now.')),
    history(account.message_history || []));
}

function history(months) {
  const most = Math.max(1, ...months.map((m) => m.plan + m.credits));
  const table = h('table.sr-only', {}, h('caption', {}, 'Messages per month'),
    h('tr', {}, h('th', { scope: 'col' }, 'Month'), h('th', { scope: 'col' }, 'From the plan'), h('th', { scope: 'col' }, 'From credits')),
    months.map((m) => h('tr', {}, h('td', {}, m.period), h('td', {}, m.plan), h('td', {}, m.credits))));
  const chart = h('div.chart', { 'aria-hidden': 'true' }, months.map((m) => {
    const column = h('div.column', { title: `${m.period}: ${m.plan + m.credits} messages` },
      h('div.stack', {}, h('div.credits'), h('div.planbar')), h('span', {}, m.period.slice(5)));
    column.querySelector('.planbar').style.height = `${(m.plan / most) * 100}%`;
    column.querySelector('.credits').style.height = `${(m.credits / most) * 100}%`;
    return column;
  }));
  return h('section.card', { 'aria-labelledby': 'history-title' }, h('h2', { id: 'history-title' }, 'Messages, last 12 months'), chart, table);
}
