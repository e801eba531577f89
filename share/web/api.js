// The wharf HTTP API, as the page uses it. Every call resolves with the parsed JSON body or
// rejects with an ApiError carrying the server's {"error": {"code", "message"}}. A 401 from
// any call but login also notifies the handler set with onUnauthorized (the session is gone).
// Whether wharfd answered at all goes to the handler set with onReachability (true, false).

export class ApiError extends Error {
  constructor(status, message) {
    super(message);
    this.name = 'ApiError';
    this.status = status;
  }
}

let unauthorizedHandler = () => {};
let reachabilityHandler = () => {};

export function onReachability(handler) {
  reachabilityHandler = handler;
}

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
    reachabilityHandler(false);
    throw new ApiError(0, 'Cannot reach wharfd. Check that the server is running.');
  }
  reachabilityHandler(true);
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

// The job label wharfd gives an import of `file` (service::ImportLabel): the base name, every
// byte outside [A-Za-z0-9._-] as '_', at most 100 bytes, "archive.tar" when empty.
export function importLabel(file) {
  const base = String(file || '').split(/[/\\]/).pop();
  const bytes = new TextEncoder().encode(base).slice(0, 100);
  let out = '';
  for (const b of bytes) {
    const c = String.fromCharCode(b);
    out += /[A-Za-z0-9._-]/.test(c) ? c : '_';
  }
  return out === '' || out === '.' || out === '..' ? 'archive.tar' : out;
}

// Uploads an image archive as the raw body of POST /api/v1/image/import, with XMLHttpRequest
// for its upload progress (fetch has none). onProgress(sent, total) follows the upload.
// Returns {done, abort}: `done` resolves with {"images": [...]} or rejects with an ApiError
// (status 0 when the connection failed; `aborted` set when abort() stopped it).
function uploadImport(file, { tag = '', onProgress = () => {} } = {}) {
  const q = new URLSearchParams({ file: file.name });
  if (tag) q.set('tag', tag);
  const xhr = new XMLHttpRequest();
  let aborted = false;
  const done = new Promise((resolve, reject) => {
    xhr.open('POST', `/api/v1/image/import?${q}`);
    xhr.setRequestHeader('Accept', 'application/json');
    xhr.setRequestHeader('Content-Type', 'application/octet-stream');
    xhr.upload.addEventListener('progress', (e) => {
      onProgress(e.loaded, e.lengthComputable ? e.total : file.size);
    });
    xhr.addEventListener('load', () => {
      let data = null;
      try {
        data = xhr.responseText ? JSON.parse(xhr.responseText) : null;
      } catch {
        data = null;
      }
      if (xhr.status >= 200 && xhr.status < 300) {
        resolve(data || { images: [] });
        return;
      }
      const message = data?.error?.message || `${xhr.status} ${xhr.statusText || 'error'}`;
      const err = new ApiError(xhr.status, message);
      if (xhr.status === 401) unauthorizedHandler(err);
      reject(err);
    });
    xhr.addEventListener('error', () => {
      reject(new ApiError(0, 'The connection to wharfd broke off during the upload.'));
    });
    xhr.addEventListener('abort', () => {
      const err = new ApiError(0, 'The import was cancelled.');
      err.aborted = aborted;
      reject(err);
    });
    xhr.send(file);
  });
  return { done, abort: () => { aborted = true; xhr.abort(); } };
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
  // The archive of a local image, for a link with a download attribute: the browser streams it
  // to disk with the session cookie, never into the page's memory. format: docker or oci.
  exportUrl: (name, tag, format = 'docker') =>
    `/api/v1/image/docker/${namePath(name)}/${encodeURIComponent(tag)}/export?` +
    new URLSearchParams({ format }),
  importArchive: uploadImport,
  // Every local Docker tag's update state: [{type, name, tag, update_available, local_digest,
  // remote_digest, checked_at (epoch s or null), error}].
  updates: () => request('GET', '/api/v1/image/updates'),
  // Checks every local Docker tag now ({name, tag}: one) and resolves with the same list when
  // done; admins only.
  checkUpdates: (target) => request('POST', '/api/v1/image/updates/check', target),
  remove: (type, name, tag) =>
    request('DELETE', `/api/v1/image/local/${type}/${namePath(name)}` +
                      (tag ? `:${encodeURIComponent(tag)}` : '')),
  // Settings. Users (admins): [{username, admin}]; a user changes their own password with
  // the current one, an admin anyone's without it.
  users: () => request('GET', '/api/v1/users'),
  addUser: (username, password, admin) =>
    request('POST', '/api/v1/users', { username, password, admin }),
  removeUser: (username) => request('DELETE', `/api/v1/users/${encodeURIComponent(username)}`),
  setPassword: (username, password, current) =>
    request('PUT', `/api/v1/users/${encodeURIComponent(username)}/password`,
            current === undefined ? { password } : { current_password: current, password }),
  // {total_bytes, unique_bytes, shared_bytes, unreferenced_bytes, partial_bytes, images: [{type,
  // name, tag, stored_bytes, unpacked_bytes, shared_bytes, unique_bytes}]}
  diskUsage: () => request('GET', '/api/v1/system/df'),
  registries: () => request('GET', '/api/v1/registries'),
  setRegistry: (host, entry) =>
    request('PUT', `/api/v1/registries/${encodeURIComponent(host)}`, entry),
  removeRegistry: (host) => request('DELETE', `/api/v1/registries/${encodeURIComponent(host)}`),
  testRegistry: (host) =>
    request('POST', `/api/v1/registries/${encodeURIComponent(host)}/test`, {}),
  mirrors: () => request('GET', '/api/v1/registries/docker.io/mirrors'),
  setMirrors: (mirrors) => request('PUT', '/api/v1/registries/docker.io/mirrors', { mirrors }),
};
