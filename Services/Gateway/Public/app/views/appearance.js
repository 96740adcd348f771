// A widget's appearance: colour, theme, side, title, initials, suggested questions, language.
// The server checks every field again; its 422 names the field, shown beside the form.
import { api } from '../lib/api.js';
import { h, field, toast } from '../lib/dom.js';

const LANGUAGES = [['auto', 'The visitor’s browser'], ['en', 'English'], ['de', 'Deutsch'], ['fr', 'Français'],
  ['es', 'Español'], ['it', 'Italiano'], ['nl', 'Nederlands'], ['pt', 'Português']];

const select = (value, options) => h('select', {},
  options.map(([key, label]) => h('option', { value: key, selected: key === value }, label)));

/** The "Appearance" card of a widget's settings; `widget` is updated in place when saved. */
export function appearanceCard(widget) {
  const a = widget.appearance || {};
  const color = h('input', { type: 'color', value: a.accent_color || '#1d4ed8' });
  const theme = select(a.theme || 'light', [['light', 'Light'], ['dark', 'Dark'], ['auto', 'Follow the visitor’s system']]);
  const position = select(a.position || 'right', [['right', 'Bottom right'], ['left', 'Bottom left']]);
  const title = h('input', { type: 'text', maxlength: 60, value: a.title || '', placeholder: widget.name });
  const initials = h('input', { type: 'text', maxlength: 3, value: a.avatar_initials || '', size: 4 });
  const questions = h('textarea', { rows: 4 });
  questions.value = (a.suggested_questions || []).join('\n');
  const language = select(a.language || 'auto', LANGUAGES);
  const handoff = h('input', { type: 'checkbox', checked: a.handoff === true, id: 'appearance-handoff' });
  const problem = h('p.form-error', { role: 'alert' });
  const form = h('form.card', { novalidate: true, 'aria-labelledby': 'appearance-title' },
    h('h2', { id: 'appearance-title' }, 'Appearance'),
    field('Accent colour', color, 'The launcher, the header and the visitor’s messages.'),
    field('Theme', theme), field('Position', position),
    field('Title', title, 'Shown in the header; empty: the widget’s name.'),
    field('Initials', initials, 'Up to 3 letters in a circle beside the title; empty: none.'),
    field('Suggested questions', questions, 'One per line, at most 4, offered before the first message.'),
    field('Language of the widget’s texts', language),
    h('div.field.inline', {}, handoff, h('label', { for: handoff.id },
      'Offer “Talk to a person”: visitors leave an email address, with their consent, listed under Conversations')),
    problem,
    h('button.primary', { type: 'submit' }, 'Save appearance'));
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    problem.textContent = '';
    const suggested = questions.value.split('\n').map((q) => q.trim()).filter(Boolean);
    if (suggested.length > 4) { problem.textContent = 'At most 4 suggested questions.'; return; }
    try {
      const saved = await api('PATCH', `/widgets/${widget.id}`, {
        appearance: {
          accent_color: color.value, theme: theme.value, position: position.value, title: title.value.trim(),
          avatar_initials: initials.value.trim(), suggested_questions: suggested, language: language.value,
          handoff: handoff.checked,
        },
      });
      Object.assign(widget, saved);
      toast('Appearance saved. Reload a page with the widget to see it.');
    } catch (error) {
      problem.textContent = error.message;
    }
  });
  return form;
}
