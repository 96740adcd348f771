// The Contexo API on the same origin (/v1/…), with the customer's token. Errors are the API's
// problem+json, kept whole so a page can show the detail next to what caused it.
import * as auth from './auth.js';

export class ApiError extends Error {
  constructor(status, problem) {
    super(problem?.detail || problem?.title || `Request failed (HTTP ${status}).`);
    this.status = status;
    this.problem = problem || {};
  }
}

let base = '/v1';
export function configure(settings) {
  const origin = (document.querySelector('meta[name="contexo-api"]')?.content || '').replace(/\/+$/, '');
  base = origin + (settings.api_base || '/v1');
}

/** The gateway's origin ('' when it is this page's). */
export function gatewayOrigin() { return base.replace(/\/v1$/, ''); }

async function send(method, path, body, headers) {
  const token = auth.session()?.access_token;
  const init = { method, headers: { ...headers } };
  if (token) init.headers.Authorization = `Bearer ${token}`;
  if (body instanceof FormData || body instanceof Blob) init.body = body;
  else if (body !== undefined) { init.headers['Content-Type'] = 'application/json'; init.body = JSON.stringify(body); }
  return fetch(base + path, init);
}

/** method, path under /v1, optional JSON body; resolves with the JSON answer (null for 204). */
export async function api(method, path, body, { raw = false, headers = {} } = {}) {
  let response = await send(method, path, body, headers);
  if (response.status === 401 && auth.session()) {
    try { await auth.refresh(); response = await send(method, path, body, headers); } catch { /* signed out below */ }
  }
  if (response.status === 401) {
    auth.forget();
  }
  if (raw && response.ok) return response;
  if (!response.ok) {
    let problem = null;
    try { problem = await response.json(); } catch { problem = null; }
    throw new ApiError(response.status, problem);
  }
  if (response.status === 204) return null;
  const text = await response.text();
  return text ? JSON.parse(text) : null;
}

/** Uploads a file with progress (fetch has no upload progress); resolves like api(). */
export function upload(path, form, onProgress) {
  return new Promise((resolve, reject) => {
    const request = new XMLHttpRequest();
    request.open('POST', base + path);
    const token = auth.session()?.access_token;
    if (token) request.setRequestHeader('Authorization', `Bearer ${token}`);
    request.upload.addEventListener('progress', (event) => { if (event.lengthComputable) onProgress(event.loaded / event.total); });
    request.addEventListener('load', () => {
      let json = null;
      try { json = JSON.parse(request.responseText); } catch { json = null; }
      if (request.status >= 200 && request.status < 300) resolve(json);
      else reject(new ApiError(request.status, json));
    });
    request.addEventListener('error', () => reject(new ApiError(0, { detail: 'The upload was interrupted.' })));
    request.send(form);
  });
}
