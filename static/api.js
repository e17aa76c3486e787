// Talking to the adthread API: the signed-in session (kept in localStorage until the token
// expires), progress for every request, and the API's error messages.

const SESSION_KEY = 'adthread.session';

/** A failed request: `message` is the API's own words; `fields` maps a body field to its problem. */
export class ApiError extends Error {
  constructor(status, message, fields = {}) {
    super(message);
    this.status = status;
    this.fields = fields;
  }
}

let session = loadSession();
let inFlight = 0;
const busyListeners = new Set();
const signedOutListeners = new Set();

function loadSession() {
  try {
    const saved = JSON.parse(localStorage.getItem(SESSION_KEY));
    if (saved && saved.token && saved.expiresAt > Date.now()) return saved;
  } catch {
    // An unreadable session is no session.
  }
  localStorage.removeItem(SESSION_KEY);
  return null;
}

export function currentSession() {
  if (session && session.expiresAt <= Date.now()) endSession();
  return session;
}

function endSession() {
  session = null;
  localStorage.removeItem(SESSION_KEY);
}

/** Called with true when the first request starts and false when the last one ends. */
export function onBusy(listener) {
  busyListeners.add(listener);
}

/** Called when the server refuses the token (expired, revoked, account deactivated). */
export function onSignedOut(listener) {
  signedOutListeners.add(listener);
}

function setBusy(delta) {
  const wasBusy = inFlight > 0;
  inFlight += delta;
  if (wasBusy !== inFlight > 0) busyListeners.forEach((listener) => listener(inFlight > 0));
}

/** Counts `work` (such as reading a stream) as a request in progress. */
export async function busyWhile(work) {
  setBusy(1);
  try {
    return await work();
  } finally {
    setBusy(-1);
  }
}

/** The API's message for a failed answer, in each of the shapes it uses. */
export function errorFrom(status, body) {
  if (body && typeof body === 'object') {
    if (typeof body.detail === 'string') return new ApiError(status, body.detail);
    if (Array.isArray(body.detail)) {
      const fields = {};
      const lines = body.detail.map((issue) => {
        const where = (issue.loc || []).filter((part) => part !== 'body').join('.');
        if (where && !(where in fields)) fields[where] = issue.msg;
        return where ? `${where}: ${issue.msg}` : issue.msg;
      });
      return new ApiError(status, lines.join('\n'), fields);
    }
    if (body.error_description) return new ApiError(status, body.error_description);
  }
  return new ApiError(status, `The server answered ${status}${typeof body === 'string' && body ? `: ${body}` : ''}`);
}

async function readBody(response) {
  const text = await response.text();
  if (!text) return null;
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

/**
 * Sends a request. `json` is sent as a JSON body, `form` as a form; `raw` returns the Response
 * unread (for streams). Resolves to { body, headers, status }; rejects with an ApiError.
 */
export async function request(method, path, { json, form, raw = false } = {}) {
  const headers = { Accept: 'application/json' };
  const active = currentSession();
  if (active) headers.Authorization = `Bearer ${active.token}`;
  let body;
  if (json !== undefined) {
    headers['Content-Type'] = 'application/json';
    body = JSON.stringify(json);
  } else if (form) {
    body = new URLSearchParams(form);
  }
  setBusy(1);
  try {
    let response;
    try {
      response = await fetch(path, { method, headers, body });
    } catch (err) {
      throw new ApiError(0, `Cannot reach the server (${err.message}). Check that adthread is running.`);
    }
    if (response.status === 401 && active) {
      endSession();
      signedOutListeners.forEach((listener) => listener());
    }
    if (raw && response.ok) return response;
    const parsed = await readBody(response);
    if (!response.ok) throw errorFrom(response.status, parsed);
    return { body: parsed, headers: response.headers, status: response.status };
  } finally {
    setBusy(-1);
  }
}

export const get = (path) => request('GET', path).then((answer) => answer.body);
export const post = (path, json) => request('POST', path, { json }).then((answer) => answer.body);
export const patch = (path, json) => request('PATCH', path, { json }).then((answer) => answer.body);
export const remove = (path) => request('DELETE', path).then((answer) => answer.body);

/** Signs in through the OAuth 2.0 password grant and keeps the token until it expires. */
export async function signIn(email, password) {
  endSession();
  const { body } = await request('POST', '/api/v1/auth/token', {
    form: { grant_type: 'password', username: email, password },
  });
  session = { token: body.access_token, expiresAt: Date.now() + body.expires_in * 1000 };
  localStorage.setItem(SESSION_KEY, JSON.stringify(session));
  return session;
}

/** Revokes the token on the server, then forgets it here, whatever the server said. */
export async function signOut() {
  try {
    if (currentSession()) await request('POST', '/api/v1/auth/logout');
  } finally {
    endSession();
  }
}

/**
 * The path and query of the URL in a `Link: <url>; rel="next"` header, or null. The server
 * sends a reference relative to the page it answered (absolute with `server.public_url`):
 * resolved here, and kept to this origin, which is the one the page may call.
 */
export function nextLink(headers) {
  const link = headers.get('Link');
  if (!link) return null;
  for (const part of link.split(',')) {
    const match = part.match(/<([^>]*)>\s*;\s*rel="?next"?/);
    if (match) {
      const url = new URL(match[1], location.href);
      return url.pathname + url.search;
    }
  }
  return null;
}

/** `a/b` -> `a%2Fb`: a location's resource name as one path segment. */
export const segment = (id) => encodeURIComponent(id);
