// One widget's activity per day and its unanswered questions grouped by meaning; conversations,
// newest first and paged; a transcript with the citations the visitor saw and their votes;
// visitors' votes on answers; the questions the documents could not answer, each with a way to
// write the answer into the widget's knowledge.
import { api, gatewayOrigin } from '../lib/api.js';
import { h, render, field, when, toast, markdown } from '../lib/dom.js';

export async function conversationsPanel(panel, widget) {
  const listSection = h('section.card', { 'aria-labelledby': 'conv-title' }, h('h2', { id: 'conv-title' }, 'Conversations'));
  const list = h('ul.list');
  const more = h('button', { type: 'button', hidden: true }, 'Older conversations');
  const transcript = h('section.card', { 'aria-labelledby': 'transcript-title', hidden: true });
  const unanswered = h('section.card', { 'aria-labelledby': 'unanswered-title' });
  const feedback = h('section.card', { 'aria-labelledby': 'feedback-title' });
  const insight = h('section.card', { 'aria-labelledby': 'insight-title' });
  const handoffs = h('section.card', { 'aria-labelledby': 'handoff-title' });
  let before = null;
  const VOTES = { up: '👍 Helpful', down: '👎 Not helpful' };

  async function loadPage() {
    const query = before ? `?limit=20&before=${encodeURIComponent(before)}` : '?limit=20';
    const page = await api('GET', `/widgets/${widget.id}/conversations${query}`);
    for (const conversation of page.conversations) {
      list.append(h('li', {}, h('button.link', { type: 'button', onclick: () => show(conversation.session_id) },
        `${when(conversation.started_at)} · ${conversation.messages} messages`)));
    }
    if (!list.children.length) list.append(h('li', {}, 'No conversations yet.'));
    before = page.next_before;
    more.hidden = !before;
  }
  more.addEventListener('click', loadPage);

  async function show(session) {
    const { messages } = await api('GET', `/widgets/${widget.id}/conversations/${session}`);
    render(transcript, h('h2', { id: 'transcript-title' }, 'Transcript'),
      h('ol.transcript', {}, messages.map((message) => h(`li.${message.role}`, {},
        h('div.who', {}, message.role === 'visitor' ? 'Visitor' : 'Assistant', ' · ', when(message.created_at)),
        h('div.text', {}, message.role === 'assistant' ? markdown(message.text) : message.text),
        message.citations?.length ? h('ol.citations', {}, message.citations.map((citation) => h('li', {},
          citation.source_url ? h('a', { href: citation.source_url, rel: 'noopener noreferrer', target: '_blank' }, citation.title)
            : `${citation.title}${citation.page ? `, page ${citation.page}` : ''}`))) : null,
        message.unanswered && message.role === 'visitor' ? h('p.hint', {}, 'The documents had no answer to this.') : null,
        message.feedback ? h('p.hint', {}, `Visitor: ${VOTES[message.feedback.vote]}`,
          message.feedback.comment ? ` — “${message.feedback.comment}”` : '') : null))));
    transcript.hidden = false;
    transcript.querySelector('h2').focus?.();
  }

  async function loadInsight() {
    const data = await api('GET', `/widgets/${widget.id}/insights?days=14`);
    const columns = [['date', 'Day'], ['conversations', 'Conversations'], ['messages', 'Messages'], ['answered', 'Answered'],
      ['unanswered', 'Unanswered'], ['up', '👍'], ['down', '👎'], ['handoffs', 'Asked for a person']];
    render(insight, h('h2', { id: 'insight-title' }, 'Last 14 days'),
      h('div.table-scroll', {}, h('table.docs', {},
        h('thead', {}, h('tr', {}, columns.map(([, label]) => h('th', { scope: 'col' }, label)))),
        h('tbody', {}, data.days.slice().reverse().map((day) => h('tr', {}, columns.map(([key]) => h('td', {}, String(day[key])))))))),
      h('h3', {}, 'Most asked, not in your documents'),
      data.unanswered_topics.length ? h('ol', {}, data.unanswered_topics.map((topic) => h('li', {},
        h('strong', {}, topic.question), ` — asked ${topic.count} ${topic.count === 1 ? 'time' : 'times'}`,
        topic.examples.length ? h('p.hint', {}, 'Also: ', topic.examples.map((example) => `“${example}”`).join(', ')) : null)))
        : h('p.hint', {}, 'Nothing: every question in these days found an answer.'));
  }

  async function loadHandoffs() {
    const { requests } = await api('GET', `/widgets/${widget.id}/handoffs`);
    render(handoffs, h('h2', { id: 'handoff-title' }, 'Visitors asking for a person'),
      requests.length ? h('ul.list', {}, requests.map((request) => h('li', {},
        h('div', {}, h('a', { href: `mailto:${encodeURIComponent(request.email).replace(/%40/g, '@')}` }, request.email),
          ' · ', when(request.created_at), ' · ',
          h('button.link', { type: 'button', onclick: () => show(request.session_id) }, 'Conversation')),
        request.note ? h('p', {}, request.note) : null,
        h('p.hint', {}, `They agreed: “${request.consent}”`))))
        : h('p.hint', {}, (widget.appearance || {}).handoff ? 'No requests yet.'
          : 'Off: turn on “Talk to a person” under Settings › Appearance to let visitors ask.'));
  }

  async function loadFeedback() {
    const summary = await api('GET', `/widgets/${widget.id}/feedback`);
    render(feedback, h('h2', { id: 'feedback-title' }, 'Feedback on answers'),
      h('p', {}, `${VOTES.up}: ${summary.up} · ${VOTES.down}: ${summary.down}`),
      summary.entries.length ? h('ul.list', {}, summary.entries.map((entry) => h('li', {},
        h('div', {}, VOTES[entry.vote], ' · ', when(entry.updated_at), ' · ',
          h('button.link', { type: 'button', onclick: () => show(entry.session_id) }, 'Conversation')),
        h('p.question', {}, entry.question),
        entry.comment ? h('p', {}, `“${entry.comment}”`) : null)))
        : h('p.hint', {}, 'No votes yet: visitors can mark each answer as helpful or not.'));
  }

  async function loadUnanswered() {
    const { questions } = await api('GET', `/widgets/${widget.id}/unanswered`);
    render(unanswered, h('h2', { id: 'unanswered-title' }, 'Unanswered questions'),
      questions.length ? h('ul.unanswered', {}, questions.map((question) => answerItem(question)))
        : h('p', {}, 'None: every question found an answer in the documents.'));
  }

  function answerItem(question) {
    const answer = h('textarea', { rows: 3 });
    const state = h('p.hint', { role: 'status' });
    const form = h('form', { novalidate: true, hidden: true }, field('Your answer', answer), h('button.primary', { type: 'submit' }, 'Add to the knowledge'), state);
    form.addEventListener('submit', async (event) => {
      event.preventDefault();
      if (!answer.value.trim()) { state.textContent = 'Write the answer first.'; return; }
      try {
        const document = await api('POST', '/documents', {
          widget_id: widget.id, title: `Answer: ${question.question}`.slice(0, 500), format: 'markdown',
          text: `# ${question.question}\n\n${answer.value.trim()}\n`,
        });
        state.textContent = 'Added; indexing…';
        for (let attempt = 0; attempt < 60; attempt++) {
          const current = await api('GET', `/documents/${document.id}`);
          if (current.status === 'ready') { state.textContent = 'Ready. Asking the question again…'; await reAsk(question.question, state); return; }
          if (current.status === 'failed') { state.textContent = `Could not index it: ${current.failure_reason}`; return; }
          await new Promise((resolve) => setTimeout(resolve, 1000));
        }
      } catch (error) { state.textContent = error.message; }
    });
    return h('li', {}, h('p.question', {}, question.question), h('p.hint', {}, when(question.asked_at)),
      h('button', { type: 'button', onclick: () => { form.hidden = false; answer.focus(); } }, 'Write the answer'), form);
  }

  /** Asks `text` as a visitor would (the visitor API, from this page's origin) and shows the answer. */
  async function reAsk(text, state) {
    const headers = { 'Content-Type': 'application/json' };
    const base = `${gatewayOrigin()}/widget/v1/widgets/${widget.id}`;
    try {
      const opened = await fetch(`${base}/sessions`, { method: 'POST', headers, body: '{}' });
      if (opened.status === 403) {
        state.textContent = `Added and ready. To re-ask it here, allow this dashboard (${location.origin}) in the widget's settings.`;
        return;
      }
      if (!opened.ok) throw new Error(`the widget answered ${opened.status}`);
      const { token } = await opened.json();
      const asked = await fetch(`${base}/messages`, { method: 'POST', headers: { ...headers, 'X-Contexo-Session': token }, body: JSON.stringify({ message: text }) });
      if (!asked.ok) throw new Error(`the widget answered ${asked.status}`);
      const reply = await asked.json();
      render(state, reply.unanswered ? 'Asked again: still no answer in the documents. ' : 'Answered now: ',
        h('div.answer', {}, markdown(reply.text)));
      toast(reply.unanswered ? 'Still unanswered.' : 'Answered now.');
    } catch (error) {
      state.textContent = `Added and ready, but asking again failed: ${error.message}`;
    }
  }

  listSection.append(list, more);
  render(panel, insight, handoffs, listSection, transcript, feedback, unanswered);
  await Promise.all([loadInsight(), loadHandoffs(), loadPage(), loadFeedback(), loadUnanswered()]);
}
