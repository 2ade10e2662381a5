// The REST API client. The dashboard reads and writes only through
// /api/v1 with the API key the user logged in with (kept in this tab's
// sessionStorage, never in a cookie or localStorage).
import { reactive } from 'vue';

export const session = reactive({
  key: sessionStorage.getItem('quanyu.key') || '',
  role: '',
  keyId: '',
  pages: [],
  sources: [], // source names, for the source filter
  ready: false,
});

export class ApiError extends Error {
  constructor(status, code, message) {
    super(message);
    this.status = status; // HTTP status; 0 when the server could not be reached
    this.code = code; // the API's error code ("invalid_argument"...) or "network"
  }
}

async function request(method, path, body, { query, raw } = {}) {
  let url = `/api/v1${path}`;
  if (query) {
    const q = new URLSearchParams();
    for (const [k, v] of Object.entries(query)) {
      if (v !== undefined && v !== null && v !== '') q.set(k, v);
    }
    const s = q.toString();
    if (s) url += `?${s}`;
  }
  const headers = { Authorization: `Bearer ${session.key}` };
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  let resp;
  try {
    resp = await fetch(url, {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
    });
  } catch (e) {
    throw new ApiError(0, 'network', String(e && e.message ? e.message : e));
  }
  const text = await resp.text();
  if (!resp.ok) {
    let code = 'http_' + resp.status;
    let message = text.slice(0, 300);
    try {
      const j = JSON.parse(text);
      if (j && j.error) {
        code = j.error.code || code;
        message = j.error.message || message;
      }
    } catch {
      /* not JSON: keep the text */
    }
    if (resp.status === 401 && session.key) logout();
    throw new ApiError(resp.status, code, message);
  }
  if (raw) return text;
  if (!text) return null;
  try {
    return JSON.parse(text);
  } catch {
    throw new ApiError(resp.status, 'bad_json', 'the server answered something that is not JSON');
  }
}

export const api = {
  get: (path, query, opts = {}) => request('GET', path, undefined, { ...opts, query }),
  post: (path, body = {}, opts = {}) => request('POST', path, body, opts),
  put: (path, body = {}, opts = {}) => request('PUT', path, body, opts),
  del: (path, opts = {}) => request('DELETE', path, undefined, opts),
};

// Checks `key` against GET /api/v1/session and keeps it for this tab.
export async function login(key) {
  session.key = key.trim();
  try {
    const s = await api.get('/session');
    session.role = s.role;
    session.keyId = s.key_id;
    session.pages = s.pages || [];
    session.sources = s.sources || [];
    session.ready = true;
    sessionStorage.setItem('quanyu.key', session.key);
    return s;
  } catch (e) {
    session.key = '';
    session.ready = false;
    sessionStorage.removeItem('quanyu.key');
    throw e;
  }
}

export function logout() {
  session.key = '';
  session.role = '';
  session.keyId = '';
  session.pages = [];
  session.sources = [];
  session.ready = false;
  sessionStorage.removeItem('quanyu.key');
}

export function may(page) {
  return session.pages.includes(page);
}
