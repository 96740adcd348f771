// Building the page without ever parsing HTML: every text goes in as a text node, so a widget
// name, a document title or a visitor's message is always shown as text (no XSS).

/** h('tag.class', {attr: value, onclick: fn}, ...children) */
export function h(spec, attributes = {}, ...children) {
  const [tag, ...classes] = spec.split('.');
  const element = document.createElement(tag || 'div');
  if (classes.length) element.className = classes.join(' ');
  for (const [name, value] of Object.entries(attributes || {})) {
    if (value === undefined || value === null || value === false) continue;
    if (name.startsWith('on') && typeof value === 'function') element.addEventListener(name.slice(2), value);
    else if (name === 'dataset') Object.assign(element.dataset, value);
    else if (name === 'value') element.value = value;
    else if (name === 'checked') element.checked = Boolean(value);
    else element.setAttribute(name, value === true ? '' : String(value));
  }
  append(element, children);
  return element;
}

function append(element, children) {
  for (const child of children.flat(Infinity)) {
    if (child === undefined || child === null || child === false) continue;
    element.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
}

/** Replaces everything in `element` with `children`. */
export function render(element, ...children) {
  element.replaceChildren();
  append(element, children);
  return element;
}

let fieldCounter = 0;
/** A labelled form field; `control` is an input, select or textarea built with h(). */
export function field(label, control, hint) {
  const id = control.id || `f${++fieldCounter}`;
  control.id = id;
  const hintElement = hint ? h('p.hint', { id: `${id}-hint` }, hint) : null;
  if (hintElement) control.setAttribute('aria-describedby', hintElement.id);
  return h('div.field', {}, h('label', { for: id }, label), control, hintElement);
}

/** Bytes in decimal units, as the plans state them (5 MB = 5,000,000 bytes). */
export function bytes(count) {
  if (count < 1000) return `${count} B`;
  if (count < 1e6) return `${(count / 1e3).toFixed(1)} kB`;
  if (count < 1e9) return `${(count / 1e6).toFixed(1)} MB`;
  return `${(count / 1e9).toFixed(2)} GB`;
}

export function when(iso) {
  if (!iso) return '';
  const date = new Date(iso);
  return Number.isNaN(date.getTime()) ? iso : date.toLocaleString();
}

/** A short message for everyone, read out by screen readers. */
export function toast(message) {
  const element = document.getElementById('toast');
  element.textContent = message;
  element.classList.add('shown');
  clearTimeout(toast.timer);
  toast.timer = setTimeout(() => element.classList.remove('shown'), 4000);
}

/** A used/limit bar with its numbers in words. */
export function meter(label, used, limit, format = (n) => String(n)) {
  const ratio = limit > 0 ? Math.min(used / limit, 1) : 0;
  // role=progressbar rather than ARIA 1.2's meter, which older screen readers (and axe) do not know.
  const bar = h('div.bar', {
    role: 'progressbar', 'aria-label': label, 'aria-valuemin': 0, 'aria-valuemax': Math.max(limit, used), 'aria-valuenow': used,
    'aria-valuetext': `${format(used)} of ${format(limit)}`,
  },
    h('div.fill' + (ratio >= 0.9 ? '.high' : ratio >= 0.75 ? '.warn' : '')));
  bar.firstChild.style.width = `${Math.round(ratio * 100)}%`;
  return h('div.meter', {}, h('div.meter-head', {}, h('span', {}, label), h('span', {}, `${format(used)} of ${format(limit)}`)), bar);
}

/** Asks before something that cannot be undone; resolves true when confirmed. */
export function confirmDialog(title, text, action = 'Delete', typed = null) {
  return new Promise((resolve) => {
    const input = typed ? h('input', { type: 'text', autocomplete: 'off', spellcheck: 'false' }) : null;
    const confirmButton = h('button.danger', { type: 'submit', disabled: Boolean(typed) }, action);
    if (input) input.addEventListener('input', () => { confirmButton.disabled = input.value.trim() !== typed; });
    const dialog = h('dialog', { 'aria-labelledby': 'dialog-title' },
      h('form', { method: 'dialog' },
        h('h2', { id: 'dialog-title' }, title),
        h('p', {}, text),
        input ? field(`Type ${typed} to confirm`, input) : null,
        h('div.actions', {}, h('button', { type: 'button', value: 'cancel', onclick: () => dialog.close('cancel') }, 'Cancel'), confirmButton)));
    dialog.addEventListener('close', () => { dialog.remove(); resolve(dialog.returnValue === 'confirm'); });
    confirmButton.addEventListener('click', (event) => { event.preventDefault(); dialog.close('confirm'); });
    document.body.append(dialog);
    dialog.showModal();
    (input || confirmButton).focus();
  });
}

/**
 * An answer's Markdown subset as elements (what the widget shows too): paragraphs, lists, `code`,
 * fenced code, **bold**, and links only for http(s) addresses, opening apart. Built with h(), so
 * every piece of the text is a text node.
 */
export function markdown(text) {
  const blocks = [];
  let paragraph = null, list = null, code = null;
  for (const line of String(text || '').split('\n')) {
    if (code) {
      if (/^\s*```/.test(line)) code = null; else code.append(`${line}\n`);
      continue;
    }
    if (/^\s*```/.test(line)) {
      paragraph = list = null;
      code = h('code');
      blocks.push(h('pre', {}, code));
      continue;
    }
    const item = /^\s*(?:[-*+]|(\d{1,3})\.)\s+(.*)$/.exec(line);
    if (item) {
      const kind = item[1] ? 'ol' : 'ul';
      if (!list || list.tagName.toLowerCase() !== kind) { paragraph = null; list = h(kind); blocks.push(list); }
      list.append(h('li', {}, inline(item[2])));
      continue;
    }
    list = null;
    if (!line.trim()) { paragraph = null; continue; }
    if (paragraph) paragraph.append(h('br')); else { paragraph = h('p'); blocks.push(paragraph); }
    paragraph.append(...inline(line));
  }
  return blocks;
}

function inline(text) {
  const parts = [];
  const pattern = /`([^`]+)`|\*\*([^*]+)\*\*|\[([^\]]+)\]\(([^)\s]+)\)|(https?:\/\/[^\s<>()[\]]*[^\s<>()[\].,;:!?'"])/g;
  let last = 0, match;
  while ((match = pattern.exec(text))) {
    parts.push(text.slice(last, match.index));
    last = pattern.lastIndex;
    if (match[1] != null) parts.push(h('code', {}, match[1]));
    else if (match[2] != null) parts.push(h('strong', {}, match[2]));
    else {
      const href = match[4] || match[5], label = match[3] || match[5];
      parts.push(/^https?:\/\//i.test(href) ? h('a', { href, target: '_blank', rel: 'noopener noreferrer' }, label) : label);
    }
  }
  parts.push(text.slice(last));
  return parts.map((part) => (typeof part === 'string' ? document.createTextNode(part) : part));
}
