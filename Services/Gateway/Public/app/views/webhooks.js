// Webhooks: the customer's own endpoints (POST /v1/webhooks …): add one for the events they pick,
// see its signing secret once, send a test event, read every delivery and attempt, rotate the
// secret, switch it off or on, delete it. Every value from the API goes in as text.
import { api } from '../lib/api.js';
import { h, render, field, toast, confirmDialog, when } from '../lib/dom.js';

const EVENTS = [
  ['handoff.requested', 'A visitor asks to talk to a person (with the conversation)'],
  ['question.unanswered', 'A question your documents could not answer'],
  ['feedback.received', 'A visitor rates an answer 👍 or 👎'],
  ['conversation.ended', 'A conversation ends (30 minutes without a message)'],
  ['document.ready', 'A document is ready to answer from'],
  ['document.failed', 'A document could not be read'],
];

/** The Webhooks card of the Account page. */
export function webhooksCard() {
  const list = h('div', { 'aria-live': 'polite' }, h('p.hint', {}, 'Loading…'));
  const secretBox = h('div');

  function showSecret(endpoint, what) {
    render(secretBox, h('div.notice', { role: 'status' },
      h('p', {}, `${what} Copy the signing secret now: it is not shown again.`),
      h('pre.snippet', {}, h('code', {}, endpoint.secret)),
      h('button', {
        type: 'button',
        onclick: async () => {
          try { await navigator.clipboard.writeText(endpoint.secret); toast('Copied.'); } catch { toast('Select the secret and copy it.'); }
        },
      }, 'Copy secret')));
  }

  function deliveriesTable(deliveries) {
    if (!deliveries.length) return h('p.hint', {}, 'No deliveries yet.');
    return h('table.docs', {},
      h('caption.sr-only', {}, 'Deliveries, newest first'),
      h('thead', {}, h('tr', {}, ['When', 'Event', 'Status', 'Attempts'].map((title) => h('th', { scope: 'col' }, title)))),
      h('tbody', {}, deliveries.map((delivery) => {
        const last = delivery.attempts[delivery.attempts.length - 1];
        const outcome = last ? (last.status_code ? `HTTP ${last.status_code}` : last.error || 'no answer') : 'waiting';
        return h('tr', {},
          h('td', {}, when(delivery.created_at)), h('td', {}, delivery.event_type),
          h(`td.status.${delivery.status === 'delivered' ? 'ready' : delivery.status === 'failed' ? 'failed' : 'queued'}`, {}, delivery.status),
          h('td', {}, `${delivery.attempts.length}, last: ${outcome}`));
      })));
  }

  function endpointRow(endpoint) {
    const deliveries = h('div');
    const act = (label, action) => h('button', {
      type: 'button',
      onclick: async (event) => {
        const button = event.currentTarget;
        button.disabled = true;
        try { await action(); } catch (error) { toast(error.message); } finally { button.disabled = false; }
      },
    }, label);
    return h('li.card', {},
      h('p', {}, h('strong', {}, endpoint.url)),
      endpoint.description ? h('p.hint', {}, endpoint.description) : null,
      h('p.hint', {}, `Events: ${endpoint.events.join(', ')}`),
      endpoint.enabled ? h('p.status.ready', {}, 'On') :
        h('p.status.failed', {}, `Off${endpoint.disabled_reason ? `: ${endpoint.disabled_reason}` : ''}`),
      h('div.actions', {},
        act('Send test event', async () => {
          await api('POST', `/webhooks/${endpoint.id}/test`);
          toast('Test event queued.');
          setTimeout(async () => render(deliveries, deliveriesTable((await api('GET', `/webhooks/${endpoint.id}/deliveries`)).deliveries)), 1500);
        }),
        act('Deliveries', async () => render(deliveries, deliveriesTable((await api('GET', `/webhooks/${endpoint.id}/deliveries`)).deliveries))),
        act('Rotate secret', async () => {
          const rotated = await api('POST', `/webhooks/${endpoint.id}/rotate-secret`, { previous_secret_hours: 24 });
          showSecret(rotated, 'New secret made; the old one keeps signing for 24 hours.');
        }),
        act(endpoint.enabled ? 'Switch off' : 'Switch on', async () => {
          await api('PATCH', `/webhooks/${endpoint.id}`, { enabled: !endpoint.enabled });
          await load();
        }),
        h('button.danger', {
          type: 'button',
          onclick: async () => {
            if (!await confirmDialog('Delete this endpoint?', `${endpoint.url} gets no more events.`, 'Delete endpoint')) return;
            try { await api('DELETE', `/webhooks/${endpoint.id}`); await load(); } catch (error) { toast(error.message); }
          },
        }, 'Delete')),
      deliveries);
  }

  async function load() {
    try {
      const { endpoints } = await api('GET', '/webhooks');
      render(list, endpoints.length ? h('ul.plain', {}, endpoints.map(endpointRow)) : h('p', {}, 'No endpoints yet.'));
    } catch (error) {
      render(list, h('p.hint', {}, error.message));
    }
  }

  const url = h('input', { type: 'url', placeholder: 'https://example.com/contexo-webhooks', autocomplete: 'url' });
  const description = h('input', { type: 'text', maxlength: 200 });
  const boxes = EVENTS.map(([name]) => h('input', { type: 'checkbox', value: name, id: `webhook-event-${name.replace('.', '-')}`, checked: name === 'handoff.requested' }));
  const problem = h('p.form-error', { role: 'alert' });
  const form = h('form', { novalidate: true },
    h('h3', {}, 'Add an endpoint'),
    field('Address (https)', url),
    h('fieldset', {}, h('legend', {}, 'Events'),
      EVENTS.map(([, label], index) => h('div.field.inline', {}, boxes[index], h('label', { for: boxes[index].id }, label)))),
    field('Description (optional)', description),
    problem, h('button', { type: 'submit' }, 'Add endpoint'));
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    problem.textContent = '';
    const events = boxes.filter((box) => box.checked).map((box) => box.value);
    try {
      const endpoint = await api('POST', '/webhooks', { url: url.value.trim(), events, description: description.value });
      showSecret(endpoint, 'Endpoint added.');
      url.value = '';
      description.value = '';
      await load();
    } catch (error) {
      problem.textContent = error.message;
    }
  });
  load();
  return h('section.card', { 'aria-labelledby': 'webhooks-title' }, h('h2', { id: 'webhooks-title' }, 'Webhooks'),
    h('p', {}, 'Contexo sends the events you pick to your own systems, signed (the Contexo-Signature header: see the API documentation), and retries for a day when they fail.'),
    secretBox, list, form);
}
