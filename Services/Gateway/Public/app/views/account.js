// Account: who is signed in, sign out everywhere, export everything, delete the account.
import * as auth from '../lib/auth.js';
import { api } from '../lib/api.js';
import { h, render, toast, confirmDialog } from '../lib/dom.js';

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

  render(main, h('h1', {}, 'Account'),
    h('section.card', { 'aria-labelledby': 'who-title' }, h('h2', { id: 'who-title' }, 'Signed in'),
      h('p', {}, email || 'Unknown e-mail'),
      h('button', { type: 'button', onclick: async () => { await auth.signOut(); } }, 'Sign out everywhere')),
    h('section.card', { 'aria-labelledby': 'export-title' }, h('h2', { id: 'export-title' }, 'Export your data'),
      h('p', {}, 'Everything Contexo holds about you: widgets, documents with their text, conversations, usage and billing records.'),
      h('button', { type: 'button', onclick: (event) => exportData(event.currentTarget) }, 'Export my data'), exportState),
    h('section.card.danger-zone', { 'aria-labelledby': 'delete-title' }, h('h2', { id: 'delete-title' }, 'Delete your account'),
      h('p', {}, 'This cannot be undone.'),
      h('button.danger', { type: 'button', onclick: deleteAccount }, 'Delete my account')));
}
