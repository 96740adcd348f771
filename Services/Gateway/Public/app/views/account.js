// Account: who is signed in, sign out everywhere, the activity log, webhooks, export everything, delete the account.
import * as auth from '../lib/auth.js';
import { api } from '../lib/api.js';
import { h, render, toast, confirmDialog, when } from '../lib/dom.js';
import { webhooksCard } from './webhooks.js';

export async function accountView(main) {
  document.title = 'Account · Contexo';
  const email = auth.session()?.user?.email || '';
  const exportState = h('p.hint', { role: 'status' });

  async function exportData(button) {
    button.disabled = true;
    try {
      exportState.textContent = 'Preparing the export…';
      const started = await api('POST', '/account/export');
      exportState.textContent = 'Downloading…';
      const response = await api('GET', started.download_url.replace(/^\/v1/, ''), undefined, { raw: true });
      const blob = await response.blob();
      const link = h('a', { href: URL.createObjectURL(blob), download: `contexo-export-${new Date().toISOString().slice(0, 10)}.jsonl` });
      document.body.append(link);
      link.click();
      link.remove();
      setTimeout(() => URL.revokeObjectURL(link.href), 10000);
      exportState.textContent = `Done: ${Math.round(blob.size / 1024)} KB, one JSON object per line.`;
    } catch (error) {
      exportState.textContent = error.message;
    } finally {
      button.disabled = false;
    }
  }

  async function deleteAccount() {
    const confirmText = email || 'delete my account';
    if (!await confirmDialog('Delete your account?', 'Your widgets, documents, conversations and billing records are erased for good, and any subscription is cancelled.', 'Delete my account', confirmText)) return;
    try {
      await api('DELETE', '/account', { confirm: 'delete my account' });
      auth.forget();
      toast('Your account was deleted.');
    } catch (error) {
      toast(error.message);
    }
  }

  // What changed, by whom and when (GET /v1/account/audit): text only, never HTML.
  const activity = h('div', { 'aria-live': 'polite' }, h('p.hint', {}, 'Loading…'));
  const labels = {
    'widget.created': 'Widget created', 'widget.updated': 'Widget changed', 'widget.deleted': 'Widget deleted',
    'document.added': 'Document added', 'document.deleted': 'Document deleted', 'checkout.started': 'Checkout started',
    'account.exported': 'Data exported',
  };
  function label(entry) {
    if (labels[entry.action]) return labels[entry.action];
    if (entry.action.startsWith('billing.')) return `Payment provider: ${entry.action.slice(8).replaceAll('_', ' ')}`;
    return entry.action;
  }
  function describe(entry) {
    const detail = entry.detail || {};
    const list = (domains) => (domains || []).join(', ') || 'none';
    const parts = [];
    if (Array.isArray(detail.allowed_domains)) parts.push(`domains: ${list(detail.allowed_domains)}`);
    else if (detail.allowed_domains) parts.push(`domains: ${list(detail.allowed_domains.before)} → ${list(detail.allowed_domains.after)}`);
    if (detail.retention_days) parts.push(`kept ${detail.retention_days.before} → ${detail.retention_days.after} days`);
    if (detail.fields && !detail.allowed_domains) parts.push(`changed: ${detail.fields.join(', ')}`);
    for (const key of ['title', 'name', 'status']) if (detail[key]) parts.push(detail[key]);
    return parts.join('; ');
  }
  async function loadActivity() {
    try {
      const { entries, missing } = await api('GET', '/account/audit?limit=50');
      render(activity, entries.length ? h('table.docs', {},
        h('caption.sr-only', {}, 'Activity on this account'),
        h('thead', {}, h('tr', {}, ['When', 'What', 'Details'].map((title) => h('th', { scope: 'col' }, title)))),
        h('tbody', {}, entries.map((entry) => h('tr', {},
          h('td', {}, when(entry.at)), h('td', {}, label(entry)), h('td', {}, describe(entry)))))) :
        h('p', {}, 'Nothing yet.'),
      missing.length ? h('p.hint', {}, `Not shown: ${missing.map((part) => part.service).join(', ')} did not answer.`) : null);
    } catch (error) {
      render(activity, h('p.hint', {}, error.message));
    }
  }

  render(main, h('h1', {}, 'Account'),
    h('section.card', { 'aria-labelledby': 'who-title' }, h('h2', { id: 'who-title' }, 'Signed in'),
      h('p', {}, email || 'Unknown e-mail'),
      h('button', { type: 'button', onclick: async () => { await auth.signOut(); } }, 'Sign out everywhere')),
    h('section.card', { 'aria-labelledby': 'activity-title' }, h('h2', { id: 'activity-title' }, 'Activity'),
      h('p', {}, 'Widgets and their allowed domains changed, documents added or removed, purchases and data exports, newest first.'),
      activity),
    webhooksCard(),
    h('section.card', { 'aria-labelledby': 'export-title' }, h('h2', { id: 'export-title' }, 'Export your data'),
      h('p', {}, 'Everything Contexo holds about you: widgets, documents with their text, conversations, usage and billing records.'),
      h('button', { type: 'button', onclick: (event) => exportData(event.currentTarget) }, 'Export my data'), exportState),
    h('section.card.danger-zone', { 'aria-labelledby': 'delete-title' }, h('h2', { id: 'delete-title' }, 'Delete your account'),
      h('p', {}, 'This cannot be undone.'),
      h('button.danger', { type: 'button', onclick: deleteAccount }, 'Delete my account')));
  loadActivity();
}
