// Billing: the plan, the catalog, upgrade through the Lemon Squeezy checkout (away and back), credit
// packs, the customer portal. Back from a checkout, the page watches for the new plan by itself.
import { api } from '../lib/api.js';
import { h, render, toast } from '../lib/dom.js';

const PENDING = 'contexo.checkout';

export async function billingView(main) {
  document.title = 'Billing · Contexo';
  const [account, catalog] = await Promise.all([api('GET', '/account'), api('GET', '/billing/plans')]);
  const plan = account.plan || { id: 'free', status: 'active' };
  const pending = JSON.parse(sessionStorage.getItem(PENDING) || 'null');
  const confirmed = pending && changed(pending, plan);
  if (confirmed) sessionStorage.removeItem(PENDING);
  const status = h('p.notice', { role: 'status', hidden: !pending },
    confirmed ? `Payment confirmed: you are on ${plan.id}.` : 'Waiting for the payment to be confirmed…');

  async function checkout(variant, button) {
    button.disabled = true;
    try {
      const started = await api('POST', '/billing/checkout', { variant_id: variant });
      sessionStorage.setItem(PENDING, JSON.stringify({ from: plan.id, credits: plan.credits?.granted || 0, at: Date.now() }));
      location.assign(started.checkout_url);
    } catch (error) {
      toast(error.message);
      button.disabled = false;
    }
  }

  const plans = [{ id: 'free', name: 'Free', limits: catalog.free, variant_ids: [] }, ...catalog.plans];
  render(main, h('h1', {}, 'Billing'), status,
    h('section.card', { 'aria-labelledby': 'current-title' }, h('h2', { id: 'current-title' }, 'Your plan'),
      h('p.plan', {}, h('strong', {}, plan.id), ` · ${plan.status}`),
      plan.credits ? h('p', {}, `Add-on credits: ${plan.credits.balance}`) : null,
      plan.portal_url ? h('p', {}, h('a', { href: plan.portal_url, rel: 'noopener noreferrer' }, 'Manage the subscription, invoices and payment method')) : null),
    h('section.plans', { 'aria-label': 'Plans' }, plans.map((offer) => h('div.card.offer' + (offer.id === plan.id ? '.current' : ''), {},
      h('h2', {}, offer.name),
      h('ul', {}, h('li', {}, `${offer.limits.widgets} widget(s)`), h('li', {}, `${offer.limits.messages_per_month} messages a month`),
        h('li', {}, `${Math.round(offer.limits.knowledge_bytes / 1e6)} MB of documents`)),
      offer.id === plan.id ? h('p', {}, 'Current plan')
        : offer.variant_ids.length ? h('button.primary', { type: 'button', onclick: (event) => checkout(offer.variant_ids[0], event.currentTarget) }, `Choose ${offer.name}`)
          : null))),
    catalog.credit_packs.length ? h('section.card', { 'aria-labelledby': 'credits-title' }, h('h2', { id: 'credits-title' }, 'Extra messages'),
      h('p', {}, 'Used once the month’s allowance is spent; they do not expire.'),
      h('ul.list', {}, catalog.credit_packs.map((pack) => h('li', {}, `${pack.name} `,
        h('button', { type: 'button', onclick: (event) => checkout(pack.variant_id, event.currentTarget) }, 'Buy'))))) : null);

  if (pending && !confirmed) watch(pending, main);
}

function changed(pending, plan) {
  return plan.id !== pending.from || (plan.credits?.granted || 0) !== pending.credits;
}

/** After a checkout: asks every 1.5 s (for two minutes) until the plan or the credits change. */
async function watch(pending, main) {
  for (let attempt = 0; attempt < 80 && main.isConnected; attempt++) {
    await new Promise((resolve) => setTimeout(resolve, 1500));
    const account = await api('GET', '/account').catch(() => null);
    if (!account?.plan) continue;
    if (changed(pending, account.plan)) {
      window.dispatchEvent(new HashChangeEvent('hashchange'));
      return;
    }
  }
  sessionStorage.removeItem(PENDING);
}
