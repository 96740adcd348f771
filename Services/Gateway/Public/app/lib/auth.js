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

// Refresh 90 seconds before the access token expires, as supabase-js does.
function schedule() {
  clearTimeout(refreshTimer);
  const current = session();
  if (!current) return;
  const wait = Math.max((current.expires_at - 90) * 1000 - Date.now(), 5000);
  refreshTimer = setTimeout(() => refresh().catch(() => schedule()), wait);
}
schedule();
