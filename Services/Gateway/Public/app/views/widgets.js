// Widgets: the list and a new one; one widget's settings, embed snippet, knowledge and conversations.
import { api, gatewayOrigin } from '../lib/api.js';
import { h, render, field, toast, confirmDialog } from '../lib/dom.js';
import { knowledgePanel } from './knowledge.js';
import { conversationsPanel } from './conversations.js';
import { appearanceCard } from './appearance.js';

/** The server's rules for an allowed domain (Chat's AllowedOrigin), checked as the customer types. */
export function validOrigin(text) {
  let rest = text.trim().toLowerCase();
  let scheme = 'https';
  const separator = rest.indexOf('://');
  if (separator >= 0) { scheme = rest.slice(0, separator); rest = rest.slice(separator + 3); }
  if (rest.endsWith('/')) rest = rest.slice(0, -1);
  if (!['http', 'https'].includes(scheme) || !rest || /[/?#@ \\]/.test(rest)) return false;
  let host = rest;
  const colon = rest.lastIndexOf(':');
  if (colon >= 0) {
    const port = rest.slice(colon + 1);
    if (!/^\d+$/.test(port) || Number(port) < 1 || Number(port) > 65535) return false;
    host = rest.slice(0, colon);
  }
  if (host.startsWith('*.')) host = host.slice(2);
  const labels = host.split('.');
  if (host.length > 253 || !labels.every((label) => label && label.length <= 63 && /^[\p{L}\p{N}-]+$/u.test(label))) return false;
  const local = host === 'localhost' || host === '127.0.0.1';
  return (labels.length >= 2 || local) && (scheme === 'https' || local);
}

export function checkDomains(text) {
  const lines = text.split('\n').map((line) => line.trim()).filter(Boolean);
  return { domains: lines, bad: lines.filter((line) => !validOrigin(line)) };
}

function domainsField(initial) {
  const area = h('textarea', { rows: 3, spellcheck: 'false', autocapitalize: 'off' });
  area.value = initial.join('\n');
  const wrapper = field('Allowed domains (one per line)', area,
    'Pages on these origins may show the widget, e.g. https://shop.example.com or https://*.example.org.');
  const problem = h('p.field-error', { role: 'status' });
  wrapper.append(problem);
  area.addEventListener('input', () => {
    const { bad } = checkDomains(area.value);
    problem.textContent = bad.length ? `Not an origin: ${bad.join(', ')}` : '';
    area.setAttribute('aria-invalid', bad.length ? 'true' : 'false');
  });
  return { wrapper, area };
}

export async function widgetsView(main) {
  document.title = 'Widgets · Contexo';
  const { widgets } = await api('GET', '/widgets');
  const name = h('input', { type: 'text', maxlength: 120, required: true });
  const domains = domainsField([]);
  const problem = h('p.form-error', { role: 'alert' });
  const form = h('form.card', { novalidate: true },
    h('h2', {}, 'New widget'), field('Name', name), domains.wrapper, problem,
    h('button.primary', { type: 'submit' }, 'Create widget'));
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    problem.textContent = '';
    const { domains: list, bad } = checkDomains(domains.area.value);
    if (!name.value.trim()) { problem.textContent = 'Give the widget a name.'; name.focus(); return; }
    if (bad.length) { problem.textContent = `Not an origin: ${bad.join(', ')}`; domains.area.focus(); return; }
    try {
      const widget = await api('POST', '/widgets', { name: name.value.trim(), allowed_domains: list });
      location.hash = `#/widgets/${widget.id}/settings`;
    } catch (error) {
      problem.textContent = /quota/.test(error.problem?.type || '') ? `${error.message} Upgrade your plan for more widgets.` : error.message;
    }
  });
  render(main, h('h1', {}, 'Widgets'),
    widgets.length ? h('ul.list', {}, widgets.map((widget) => h('li', {},
      h('a', { href: `#/widgets/${widget.id}/settings` }, widget.name),
      h('span.muted', {}, ` · ${widget.allowed_domains.join(', ') || 'no domains yet'}`))))
      : h('p', {}, 'No widget yet. Create one, add documents, and put its script tag on your site.'),
    form);
}

export async function widgetView(main, [id, tab = 'settings']) {
  const widget = await api('GET', `/widgets/${id}`);
  document.title = `${widget.name} · Contexo`;
  const tabs = [['settings', 'Settings'], ['knowledge', 'Knowledge'], ['conversations', 'Conversations']];
  const panel = h('div.panel');
  render(main, h('p', {}, h('a', { href: '#/widgets' }, '← All widgets')), h('h1', {}, widget.name),
    h('nav.tabs', { 'aria-label': 'Widget' }, tabs.map(([key, label]) =>
      h('a', { href: `#/widgets/${id}/${key}`, 'aria-current': key === tab ? 'page' : null }, label))),
    panel);
  if (tab === 'knowledge') return knowledgePanel(panel, widget);
  if (tab === 'conversations') return conversationsPanel(panel, widget);
  return settingsPanel(panel, widget);
}

function settingsPanel(panel, widget) {
  const name = h('input', { type: 'text', maxlength: 120, value: widget.name });
  const domains = domainsField(widget.allowed_domains || []);
  const greeting = h('input', { type: 'text', maxlength: 500, value: widget.greeting ?? '' });
  const prompt = h('textarea', { rows: 4, maxlength: 4000 });
  prompt.value = widget.system_prompt ?? '';
  const history = h('input', { type: 'checkbox', checked: widget.include_history });
  const retention = h('input', { type: 'number', min: 1, max: 3650, value: widget.retention_days ?? 90 });
  const problem = h('p.form-error', { role: 'alert' });
  const form = h('form.card', { novalidate: true }, h('h2', {}, 'Settings'),
    field('Name', name), domains.wrapper, field('Greeting', greeting, 'The first thing visitors read.'),
    field('Instructions for the assistant', prompt, 'Optional: tone, what to avoid. Answers always come from your documents.'),
    h('div.field.inline', {}, history, h('label', { for: history.id = 'include-history' }, 'Send the last turns of the conversation to the model')),
    field('Keep conversations for (days)', retention), problem,
    h('button.primary', { type: 'submit' }, 'Save'));
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    problem.textContent = '';
    const { domains: list, bad } = checkDomains(domains.area.value);
    if (bad.length) { problem.textContent = `Not an origin: ${bad.join(', ')}`; return; }
    try {
      const saved = await api('PATCH', `/widgets/${widget.id}`, {
        name: name.value.trim(), allowed_domains: list, greeting: greeting.value, system_prompt: prompt.value,
        include_history: history.checked, retention_days: Number(retention.value),
      });
      Object.assign(widget, saved);
      toast('Saved.');
    } catch (error) {
      problem.textContent = error.message;
    }
  });
  const snippet = `<script src="${gatewayOrigin() || location.origin}/widget.js" data-widget-id="${widget.id}" async></script>`;
  const code = h('pre.snippet', {}, h('code', {}, snippet));
  const embed = h('section.card', { 'aria-labelledby': 'embed-title' }, h('h2', { id: 'embed-title' }, 'Put it on your site'),
    h('p', {}, 'Paste this tag into the pages of an allowed domain:'), code,
    h('button', {
      type: 'button',
      onclick: async () => {
        try { await navigator.clipboard.writeText(snippet); toast('Copied.'); } catch { toast('Select the tag and copy it.'); }
      },
    }, 'Copy'));
  const danger = h('section.card.danger-zone', { 'aria-labelledby': 'danger-title' }, h('h2', { id: 'danger-title' }, 'Delete this widget'),
    h('p', {}, 'Its documents and conversations go with it.'),
    h('button.danger', {
      type: 'button',
      onclick: async () => {
        if (!await confirmDialog(`Delete “${widget.name}”?`, 'This cannot be undone.', 'Delete widget')) return;
        await api('DELETE', `/widgets/${widget.id}`);
        toast('Widget deleted.');
        location.hash = '#/widgets';
      },
    }, 'Delete widget'));
  render(panel, form, appearanceCard(widget), embed, previewSection(widget), danger);
}

/** The real widget.js against the real API, on this page: the dashboard's origin must be allowed. */
function previewSection(widget) {
  const section = h('section.card', { 'aria-labelledby': 'preview-title' }, h('h2', { id: 'preview-title' }, 'Try it'));
  const allowed = (widget.allowed_domains || []).some((domain) => domain.replace(/\/$/, '') === location.origin);
  function start() {
    if (!document.querySelector(`script[data-widget-id="${widget.id}"]`)) {
      document.body.append(h('script', { src: `${gatewayOrigin()}/widget.js`, 'data-widget-id': widget.id, async: true }));
    }
    render(section, h('h2', { id: 'preview-title' }, 'Try it'),
      h('p', {}, 'The widget is live on this page (bottom right), answering from this widget’s documents. Conversations here count like any other.'));
  }
  if (allowed) { start(); return section; }
  section.append(h('p', {}, `To try the widget here, this dashboard (${location.origin}) must be one of its allowed domains.`),
    h('button', {
      type: 'button',
      onclick: async () => {
        const saved = await api('PATCH', `/widgets/${widget.id}`, { allowed_domains: [...(widget.allowed_domains || []), location.origin] });
        Object.assign(widget, saved);
        toast('This dashboard may now show the widget.');
        start();
      },
    }, 'Allow this dashboard and try it'));
  return section;
}
