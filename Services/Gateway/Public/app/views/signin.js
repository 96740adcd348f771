// Sign in, sign up, and ask for a password reset, against the configured Supabase project.
import * as auth from '../lib/auth.js';
import { h, render, field } from '../lib/dom.js';

export function signInView(main, settings, mode = 'signin', notice = '') {
  const email = h('input', { type: 'email', name: 'email', autocomplete: 'email', required: true });
  const password = h('input', {
    type: 'password', name: 'password', autocomplete: mode === 'signup' ? 'new-password' : 'current-password',
    required: mode !== 'reset', minlength: 6,
  });
  const message = h('p.form-error', { role: 'alert' });
  const submit = h('button.primary', { type: 'submit' }, { signin: 'Sign in', signup: 'Create account', reset: 'Send reset link' }[mode]);
  const form = h('form.card.narrow', { novalidate: true },
    h('h1', {}, { signin: 'Sign in to Contexo', signup: 'Create your Contexo account', reset: 'Reset your password' }[mode]),
    settings?.environment === 'development'
      ? h('p.dev-note', {}, 'Development stack: sign-in runs against a local stand-in, and any e-mail and password creates an account.')
      : null,
    settings?.auth ? null : h('p.form-error', {}, 'Sign-in is not configured on this server (CONTEXO_SUPABASE_AUTH_URL).'),
    notice ? h('p.notice', { role: 'status' }, notice) : null,
    field('E-mail', email),
    mode === 'reset' ? null : field('Password', password, mode === 'signup' ? 'At least 6 characters.' : null),
    message, submit,
    h('p.switch', {},
      mode === 'signin' ? [h('a', { href: '#signup', onclick: swap('signup') }, 'Create an account'), ' · ',
        h('a', { href: '#reset', onclick: swap('reset') }, 'Forgot your password?')]
        : h('a', { href: '#signin', onclick: swap('signin') }, 'Back to sign in')));

  function swap(next) {
    return (event) => { event.preventDefault(); signInView(main, settings, next); };
  }

  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    message.textContent = '';
    if (!email.value.includes('@')) { message.textContent = 'Enter your e-mail address.'; email.focus(); return; }
    if (mode !== 'reset' && password.value.length < 6) { message.textContent = 'The password needs at least 6 characters.'; password.focus(); return; }
    submit.disabled = true;
    try {
      if (mode === 'reset') {
        await auth.requestReset(email.value.trim());
        return signInView(main, settings, 'signin', 'If an account exists for that address, a reset link is on its way.');
      }
      const result = mode === 'signup' ? await auth.signUp(email.value.trim(), password.value) : await auth.signIn(email.value.trim(), password.value);
      if (!result) return signInView(main, settings, 'signin', 'Check your e-mail to confirm your address, then sign in.');
      location.hash = '#/home';
      window.dispatchEvent(new HashChangeEvent('hashchange'));
    } catch (error) {
      message.textContent = error.message;
    } finally {
      submit.disabled = false;
    }
  });
  render(main, form);
  email.focus();
  if (mode === 'signin' && settings?.auth) {
    auth.providers().then((external) => {
      if (!external.google || !form.isConnected) return;
      const google = h('button', {
        type: 'button',
        onclick: () => auth.signInWithGoogle().catch((error) => { message.textContent = error.message; }),
      }, 'Continue with Google');
      form.querySelector('.switch').before(h('p.or', {}, 'or'), google);
    });
  }
}
