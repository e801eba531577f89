// The wharf HTTP API, as the page uses it. Every call resolves with the parsed JSON body or
// rejects with an ApiError carrying the server's {"error": {"code", "message"}}. A 401 from
// any call but login also notifies the handler set with onUnauthorized (the session is gone).

export class ApiError extends Error {
  constructor(status, message) {
    super(message);
    this.name = 'ApiError';
    this.status = status;
  }
}

let unauthorizedHandler = () => {};

export function onUnauthorized(handler) {
  unauthorizedHandler = handler;
}

// Encodes an image name for a path: each segment is encoded, the slashes between stay.
export function namePath(name) {
  return String(name).split('/').map(encodeURIComponent).join('/');
}

async function request(method, path, body, { silent401 = false } = {}) {
  const init = { method, headers: { Accept: 'application/json' }, credentials: 'same-origin' };
  if (body !== undefined) {
    init.headers['Content-Type'] = 'application/json';
    init.body = JSON.stringify(body);
  }
  let res;
  try {
    res = await fetch(path, init);
  } catch (e) {
    throw new ApiError(0, 'Cannot reach wharfd. Check that the server is running.');
  }
  const text = await res.text();
  let data = null;
  if (text) {
    try {
      data = JSON.parse(text);
    } catch {
      data = null;
    }
  }
  if (!res.ok) {
    const message = data?.error?.message || `${res.status} ${res.statusText || 'error'}`;
    const err = new ApiError(res.status, message);
    if (res.status === 401 && !silent401) unauthorizedHandler(err);
    throw err;
  }
  return data;
}

export const api = {
  login: (username, password) =>
    request('POST', '/api/v1/login', { username, password }, { silent401: true }),
  session: () => request('GET', '/api/v1/login_refresh', undefined, { silent401: true }),
  logout: () => request('PUT', '/api/v1/logout'),

  list({ from, type = '', filterText = '', page, n }) {
    const q = new URLSearchParams({ from, type, filter_text: filterText });
    if (page) q.set('page', String(page));
    if (n) q.set('n', String(n));
    return request('GET', `/api/v1/image/?${q}`);
  },
  tags: (name, official) =>
    request('GET', `/api/v1/image/dockerhub/docker/${official ? 1 : 0}/${namePath(name)}/tags`),
  download: (from, type, name, tag, meta) =>
    request('POST',
            `/api/v1/image/${from}/${type}/${namePath(name)}/${encodeURIComponent(tag)}/download`,
            meta || {}),
  downloadStatus: () => request('GET', '/api/v1/image/downloadstatus'),
  cancel: (type, name, tag) =>
    request('DELETE',
            `/api/v1/image/downloadstatus/${type}/${namePath(name)}/${encodeURIComponent(tag)}`),
  inspect: (name, tag) =>
    request('GET', `/api/v1/image/docker/${namePath(name)}/${encodeURIComponent(tag)}/inspect`),
  // {engine: is a hand-off engine configured, present: does it hold the image}
  engineState: (name, tag) =>
    request('GET', `/api/v1/image/docker/${namePath(name)}/${encodeURIComponent(tag)}/engine`),
  remove: (type, name, tag) =>
    request('DELETE', `/api/v1/image/local/${type}/${namePath(name)}` +
                      (tag ? `:${encodeURIComponent(tag)}` : '')),
};
