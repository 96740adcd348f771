// The Contexo dashboard: a single page, hash routes (#/home, #/widgets/<id>/knowledge, …), plain
// modules, no build step, no third-party code.
import * as auth from './lib/auth.js';
import * as apiClient from './lib/api.js';
import { h, render } from './lib/dom.js';
import { signInView } from './views/signin.js';
import { homeView } from './views/home.js';
import { widgetsView, widgetView } from './views/widgets.js';
import { billingView } from './views/billing.js';
import { accountView } from './views/account.js';

const main = document.getElementById('main');

/** The gateway's origin: this page's, unless the page says otherwise (hosted on another origin). */
export function apiOrigin() {
  return (document.querySelector('meta[name="contexo-api"]')?.content || '').replace(/\/+$/, '');
}
let settings = null;

const routes = [
  [/^#\/home$/, () => homeView],
  [/^#\/widgets$/, () => widgetsView],
  [/^#\/widgets\/([0-9a-fA-F-]{36})(?:\/(settings|knowledge|conversations))?$/, () => widgetView],
  [/^#\/billing$/, () => billingView],
  [/^#\/account$/, () => accountView],
];

async function route() {
  const signedIn = Boolean(auth.session());
  document.getElementById('top').hidden = !signedIn;
  if (!signedIn) {
    document.title = 'Sign in · Contexo';
    return signInView(main, settings);
  }
  const hash = location.hash || '#/home';
  const match = routes.find(([pattern]) => pattern.test(hash));
  if (!match) { location.hash = '#/home'; return; }
  const parameters = hash.match(match[0]).slice(1);
  for (const link of document.querySelectorAll('[data-nav]')) {
    const current = hash.startsWith(`#/${link.dataset.nav}`);
    if (current) link.setAttribute('aria-current', 'page'); else link.removeAttribute('aria-current');
  }
  // A widget previewed on one page does not follow the customer to the next.
  if (!/^#\/widgets\/[^/]+(\/settings)?$/.test(hash)) {
    for (const element of document.querySelectorAll('contexo-widget, script[data-widget-id]')) element.remove();
  }
  render(main, h('p.loading', {}, 'Loading…'));
  try {
    await match[1]()(main, parameters, settings);
  } catch (error) {
    if (!auth.session()) return route();
    render(main, h('div.error', { role: 'alert' }, h('h1', {}, 'Something went wrong'), h('p', {}, error.message),
      h('button', { type: 'button', onclick: route }, 'Try again')));
  }
  main.focus({ preventScroll: true });
}

async function start() {
  try {
    settings = await (await fetch(`${apiOrigin()}/app/config.json`)).json();
  } catch {
    settings = { api_base: '/v1', auth: null, environment: 'production' };
  }
  auth.configure(settings);
  apiClient.configure(settings);
  let notice = '';
  try {
    await auth.completeRedirect();
  } catch (error) {
    notice = error.message;
  }
  auth.onChange((value) => { if (!value) route(); });
  if (notice && !auth.session()) {
    document.getElementById('top').hidden = true;
    signInView(main, settings, 'signin', notice);
    window.addEventListener('hashchange', route);
    return;
  }
  window.addEventListener('hashchange', route);
  await route();
}

start();
