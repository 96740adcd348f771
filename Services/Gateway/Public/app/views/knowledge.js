// One widget's knowledge: drop or pick several files (each with its own progress and its own
// error), paste text, add a web page or a crawl; statuses update live until every document settles.
import { api, upload } from '../lib/api.js';
import { h, render, field, meter, bytes, when, toast, confirmDialog } from '../lib/dom.js';

const SETTLED = new Set(['ready', 'failed']);

export async function knowledgePanel(panel, widget) {
  const list = h('div.documents', { 'aria-live': 'polite' });
  const storage = h('div');
  const uploads = h('ul.uploads', { 'aria-live': 'polite' });
  let timer = null;

  async function refresh() {
    if (!panel.isConnected) return;
    const { documents, usage } = await api('GET', `/documents?widget_id=${widget.id}`);
    render(storage, meter('Knowledge storage (all widgets)', usage.bytes_used, usage.bytes_limit, bytes));
    render(list, documents.length ? h('table.docs', {},
      h('caption.sr-only', {}, 'Documents'),
      h('thead', {}, h('tr', {}, ['Title', 'Status', 'Size', 'Added', ''].map((title) => h('th', { scope: 'col' }, title)))),
      h('tbody', {}, documents.map((document) => h('tr', {},
        h('td', {}, document.source_url ? h('a', { href: document.source_url, rel: 'noopener noreferrer', target: '_blank' }, document.title) : document.title),
        h('td', {}, h('span.status.' + document.status, {}, document.status),
          document.failure_reason ? h('div.reason', {}, document.failure_reason) : null,
          document.detail ? h('div.hint', {}, document.detail) : null),
        h('td', {}, bytes(document.byte_size || 0)),
        h('td', {}, when(document.created_at)),
        h('td.actions', {},
          h('button', { type: 'button', onclick: () => act('POST', `/documents/${document.id}/reindex`, 'Re-indexing.') }, 'Re-index'),
          h('button.danger', {
            type: 'button',
            onclick: async () => {
              if (await confirmDialog(`Delete “${document.title}”?`, 'The widget stops answering from it.')) act('DELETE', `/documents/${document.id}`, 'Deleted.');
            },
          }, 'Delete')))))) : h('p', {}, 'No documents yet: add some below.'));
    clearTimeout(timer);
    if (documents.some((document) => !SETTLED.has(document.status))) timer = setTimeout(refresh, 1500);
  }

  async function act(method, path, done) {
    try { await api(method, path); toast(done); } catch (error) { toast(error.message); }
    refresh();
  }

  function sendFiles(files) {
    for (const file of files) {
      const progress = h('progress', { max: 100, value: 0, 'aria-label': `Uploading ${file.name}` });
      const state = h('span.state', {}, 'uploading');
      uploads.append(h('li', {}, h('span.name', {}, file.name), progress, state));
      const form = new FormData();
      form.append('widget_id', widget.id);
      form.append('file', file, file.name);
      upload('/documents', form, (ratio) => { progress.value = Math.round(ratio * 100); })
        .then(() => { progress.value = 100; state.textContent = 'uploaded'; refresh(); })
        .catch((error) => {
          state.textContent = error.status === 413 ? 'too large' : error.status === 415 ? 'format not supported'
            : error.status === 403 ? 'over your storage limit' : 'failed';
          state.className = 'state failed';
          state.title = error.message;
          state.after(h('span.reason', {}, ` ${error.message}`));
        });
    }
  }

  const picker = h('input.sr-only', { type: 'file', multiple: true, tabindex: -1, 'aria-label': 'Files to upload', accept: '.pdf,.docx,.md,.markdown,.txt,.html,.htm,.csv,text/*,application/pdf' });
  picker.addEventListener('change', () => { sendFiles([...picker.files]); picker.value = ''; });
  const drop = h('div.drop', { tabindex: 0, role: 'button', 'aria-label': 'Drop files here, or press Enter to choose files' },
    h('p', {}, 'Drop PDF, Word, Markdown, HTML, CSV or text files here, or ', h('strong', {}, 'choose files'), '.'));
  drop.addEventListener('click', () => picker.click());
  drop.addEventListener('keydown', (event) => { if (event.key === 'Enter' || event.key === ' ') { event.preventDefault(); picker.click(); } });
  drop.addEventListener('dragover', (event) => { event.preventDefault(); drop.classList.add('over'); });
  drop.addEventListener('dragleave', () => drop.classList.remove('over'));
  drop.addEventListener('drop', (event) => { event.preventDefault(); drop.classList.remove('over'); sendFiles([...event.dataTransfer.files]); });

  const title = h('input', { type: 'text', maxlength: 500 });
  const text = h('textarea', { rows: 5 });
  const pasteProblem = h('p.form-error', { role: 'alert' });
  const paste = h('form.card', { novalidate: true }, h('h3', {}, 'Paste text'), field('Title', title), field('Text', text), pasteProblem,
    h('button', { type: 'submit' }, 'Add text'));
  paste.addEventListener('submit', async (event) => {
    event.preventDefault();
    pasteProblem.textContent = '';
    if (!text.value.trim()) { pasteProblem.textContent = 'Paste some text first.'; return; }
    try {
      await api('POST', '/documents', { widget_id: widget.id, title: title.value.trim() || 'Pasted text', text: text.value, format: 'markdown' });
      title.value = ''; text.value = '';
      toast('Text added.');
      refresh();
    } catch (error) { pasteProblem.textContent = error.message; }
  });

  const url = h('input', { type: 'url', placeholder: 'https://docs.example.com/' });
  const crawl = h('input', { type: 'checkbox', id: `crawl-${widget.id}` });
  const pages = h('input', { type: 'number', min: 1, max: 200, value: 50 });
  const depth = h('input', { type: 'number', min: 0, max: 5, value: 3 });
  const webProblem = h('p.form-error', { role: 'alert' });
  const web = h('form.card', { novalidate: true }, h('h3', {}, 'Add a web page or a whole site'), field('Address', url),
    h('div.field.inline', {}, crawl, h('label', { for: crawl.id }, 'Follow links on the same site (crawl)')),
    field('Most pages', pages), field('Most links deep', depth), webProblem, h('button', { type: 'submit' }, 'Add'));
  web.addEventListener('submit', async (event) => {
    event.preventDefault();
    webProblem.textContent = '';
    try {
      const body = { widget_id: widget.id, url: url.value.trim() };
      if (crawl.checked) body.crawl = { max_pages: Number(pages.value), max_depth: Number(depth.value) };
      await api('POST', '/documents', body);
      url.value = '';
      toast(crawl.checked ? 'Crawl queued.' : 'Page queued.');
      refresh();
    } catch (error) { webProblem.textContent = error.message; }
  });

  render(panel, h('section.card', { 'aria-labelledby': 'docs-title' }, h('h2', { id: 'docs-title' }, 'Documents'), storage, list),
    h('section.card', { 'aria-labelledby': 'add-title' }, h('h2', { id: 'add-title' }, 'Add knowledge'), drop, picker, uploads),
    paste, web);
  await refresh();
}
