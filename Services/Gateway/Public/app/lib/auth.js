// Supabase Auth through its REST API (no SDK): sign-up, password sign-in, refresh before expiry,
// password reset request, sign-out everywhere. The session lives in sessionStorage (this tab
// only, gone when it closes) and never in a URL.

const KEY = 'contexo.session';
let config = null;
let refreshTimer = null;
const listeners = new Set();

export function configure(settings) { config = settings; }
export function onChange(listener) { listeners.add(listener); }

export function session() {
  try { return JSON.parse(sessionStorage.getItem(KEY) || 'null'); } catch { return null; }
}

function save(value) {
  if (value) sessionStorage.setItem(KEY, JSON.stringify(value));
  else sessionStorage.removeItem(KEY);
  schedule();
  for (const listener of listeners) listener(value);
}

/** An error the sign-in page can show as it is. */
export class AuthError extends Error {
  constructor(code, message, status) { super(message); this.code = code; this.status = status; }
}

const FRIENDLY = {
  invalid_credentials: 'Wrong e-mail or password.',
  email_not_confirmed: 'Confirm your e-mail address first: open the link we sent you.',
  user_already_exists: 'An account with this e-mail already exists. Sign in instead.',
  over_request_rate_limit: 'Too many attempts. Wait a minute and try again.',
  over_email_send_rate_limit: 'Too many e-mails sent. Wait a minute and try again.',
  email_address_invalid: 'That e-mail address is not valid.',
  signup_disabled: 'New sign-ups are closed.',
  validation_failed: null,
  weak_password: null,
};

async function call(path, { method = 'POST', body, token } = {}) {
  if (!config?.auth) throw new AuthError('not_configured', 'Sign-in is not configured on this server.', 0);
  const headers = { apikey: config.auth.public_key, 'Content-Type': 'application/json', 'X-Supabase-Api-Version': '2024-01-01' };
  if (token) headers.Authorization = `Bearer ${token}`;
  let response;
  try {
    response = await fetch(config.auth.url.replace(/\/$/, '') + path, { method, headers, body: body ? JSON.stringify(body) : undefined });
  } catch {
    throw new AuthError('network', 'The sign-in service cannot be reached. Check your connection and try again.', 0);
  }
  const text = await response.text();
  let json = null;
  try { json = text ? JSON.parse(text) : null; } catch { json = null; }
  if (!response.ok) {
    const code = typeof json?.code === 'string' ? json.code : json?.error_code || json?.error || 'unexpected_failure';
    const message = FRIENDLY[code] || json?.msg || json?.message || json?.error_description || `Sign-in failed (HTTP ${response.status}).`;
    throw new AuthError(code, message, response.status);
  }
  return json;
}

function adopt(result) {
  if (!result?.access_token) return null;
  const value = {
    access_token: result.access_token, refresh_token: result.refresh_token,
    expires_at: result.expires_at || Math.floor(Date.now() / 1000) + (result.expires_in || 3600),
    user: { id: result.user?.id, email: result.user?.email },
  };
  save(value);
  return value;
}

/** Creates an account; null when the e-mail must be confirmed first. */
export async function signUp(email, password) { return adopt(await call('/signup', { body: { email, password } })); }
export async function signIn(email, password) { return adopt(await call('/token?grant_type=password', { body: { email, password } })); }
export async function requestReset(email) { await call('/recover', { body: { email } }); }

/** Gets a fresh access token; drops the session when the provider refuses the refresh token. */
export async function refresh() {
  const current = session();
  if (!current) return null;
  try {
    return adopt(await call('/token?grant_type=refresh_token', { body: { refresh_token: current.refresh_token } }));
  } catch (error) {
    if (error.status >= 400 && error.status < 500) save(null);
    throw error;
  }
}

/** Signs out of every session of this account (scope=global), then forgets this one. */
export async function signOut() {
  const current = session();
  if (current) {
    try { await call('/logout?scope=global', { token: current.access_token }); } catch { /* gone already */ }
  }
  save(null);
}

export function forget() { save(null); }

// --- Google with PKCE (no token ever in a URL: only a one-time code, exchanged and removed) ------
const VERIFIER = 'contexo.pkce';

function base64url(bytes) {
  return btoa(String.fromCharCode(...new Uint8Array(bytes))).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
}

/** Leaves for the provider's consent page; it comes back to /app/?code=… */
export async function signInWithGoogle() {
  const random = crypto.getRandomValues(new Uint8Array(56));
  const verifier = Array.from(random, (byte) => byte.toString(16).padStart(2, '0')).join('');
  const challenge = base64url(await crypto.subtle.digest('SHA-256', new TextEncoder().encode(verifier)));
  sessionStorage.setItem(VERIFIER, verifier);
  const query = new URLSearchParams({
    provider: 'google', redirect_to: `${location.origin}${location.pathname}`, code_challenge: challenge, code_challenge_method: 's256',
  });
  location.assign(`${config.auth.url.replace(/\/$/, '')}/authorize?${query}`);
}

/** Back from the provider: exchanges ?code= for a session and takes the code out of the URL. */
export async function completeRedirect() {
  const query = new URLSearchParams(location.search);
  const code = query.get('code');
  const failure = query.get('error_description') || query.get('error');
  if (!code && !failure) return null;
  history.replaceState(null, '', `${location.pathname}#/home`);
  if (failure) throw new AuthError(query.get('error_code') || 'oauth', failure, 400);
  const verifier = sessionStorage.getItem(VERIFIER);
  sessionStorage.removeItem(VERIFIER);
  if (!verifier) throw new AuthError('bad_code_verifier', 'The sign-in started in another tab or expired. Try again.', 400);
  return adopt(await call('/token?grant_type=pkce', { body: { auth_code: code, code_verifier: verifier } }));
}

/** Which providers the project has turned on (GET /settings). */
export async function providers() {
  try { return (await call('/settings', { method: 'GET' }))?.external || {}; } catch { return {}; }
}

// Refresh 90 seconds before the access token expires, as supabase-js does.
function schedule() {
  clearTimeout(refreshTimer);
  const current = session();
  if (!current) return;
  const wait = Math.max((current.expires_at - 90) * 1000 - Date.now(), 5000);
  refreshTimer = setTimeout(() => refresh().catch(() => schedule()), wait);
}
schedule();
