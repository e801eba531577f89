// The page's dialogs: the tag chooser that starts a download, the delete confirmation and the
// side panel with an image's details (with its export as an archive file).

import { api, ApiError } from './api.js';
import { h, icon, humanBytes, formatDate, wireDialog } from './dom.js';
import { errorBlock } from './errors.js';

const OTHER = '__other__';
const MAX_TAGS_SHOWN = 300;

function showError(el, message) {
  el.textContent = message || '';
  el.hidden = !message;
}

// Where a catalog or search entry is downloaded from, as the download path names it.
function downloadSource(entry) {
  if (entry.type === 'lxc') {
    return entry.repository && entry.repository !== 'dockerhub' ? entry.repository : 'appcenter';
  }
  return 'dockerhub';
}

export class DownloadDialog {
  constructor({ onStarted }) {
    this.onStarted = onStarted;
    this.dialog = document.getElementById('download-dialog');
    this.form = document.getElementById('download-form');
    this.title = document.getElementById('download-title');
    this.desc = document.getElementById('download-desc');
    this.filter = document.getElementById('tag-filter');
    this.state = document.getElementById('tag-state');
    this.list = document.getElementById('tag-list');
    this.otherRadio = document.getElementById('tag-other-radio');
    this.other = document.getElementById('tag-other');
    this.error = document.getElementById('download-error');
    this.submit = document.getElementById('download-submit');
    this.entry = null;
    this.token = 0;
    wireDialog(this.dialog);
    this.form.addEventListener('submit', (e) => {
      e.preventDefault();
      this.start();
    });
    this.filter.addEventListener('input', () => this.applyFilter());
    this.other.addEventListener('focus', () => { this.otherRadio.checked = true; });
    this.other.addEventListener('input', () => { this.otherRadio.checked = true; });
    this.dialog.addEventListener('close', () => {
      this.token += 1;
      if (this.opener?.isConnected) this.opener.focus();
    });
  }

  async open(entry, opener) {
    this.entry = entry;
    this.opener = opener;
    const token = ++this.token;
    const name = entry.title && entry.title !== entry.name ? `${entry.title} (${entry.name})`
                                                           : entry.name;
    this.title.textContent = `Download ${name}`;
    this.desc.textContent = entry.type === 'lxc'
      ? 'LXC images are downloaded as their latest build.'
      : 'Choose the tag to download. Installed tags are marked.';
    showError(this.error, '');
    this.list.replaceChildren();
    this.filter.value = '';
    this.filter.hidden = true;
    this.other.value = '';
    this.otherRadio.checked = false;
    this.submit.disabled = false;
    this.submit.hidden = false;
    const otherBox = this.other.closest('.tag-other');

    if (entry.type === 'lxc') {
      otherBox.hidden = true;
      this.state.textContent = '';
      this.renderTags(['latest'], [], 'latest');
      this.dialog.showModal();
      this.submit.focus();
      return;
    }
    otherBox.hidden = false;
    const fallback = entry.depot === 'dockerhub' ? 'latest' : (entry.version || 'latest');
    this.state.textContent = 'Loading tags…';
    this.list.setAttribute('aria-busy', 'true');
    this.submit.disabled = true;
    this.dialog.showModal();
    const official = entry.depot === 'official' || Boolean(entry.is_official);
    try {
      const result = await api.tags(entry.name, official);
      if (token !== this.token) return;
      const tags = result?.tags || [];
      const installed = result?.installed || [];
      this.state.textContent = tags.length === 1 ? '1 tag' : `${tags.length} tags`;
      this.filter.hidden = tags.length <= 8;
      this.renderTags(tags, installed, fallback);
    } catch (err) {
      if (token !== this.token) return;
      if (err instanceof ApiError && err.status === 401) return;
      this.state.textContent = '';
      if (err instanceof ApiError && err.status === 404) {
        // Its registry has no such repository: a download could only fail.
        otherBox.hidden = true;
        this.submit.hidden = true;
        showError(this.error, `${err.message}. This image cannot be downloaded from its ` +
                              'registry.');
        this.dialog.querySelector('[data-close]').focus();
        return;
      }
      this.error.replaceChildren(h('p', {}, 'Cannot list the tags.'),
                                 errorBlock(err.message, { fallback: err.message }));
      this.error.hidden = false;
      this.renderTags([], [], fallback);
    } finally {
      if (token === this.token) {
        this.list.setAttribute('aria-busy', 'false');
        this.submit.disabled = false;
      }
    }
    const checked = this.form.querySelector('input[name="tag"]:checked');
    if (checked === this.otherRadio) this.other.focus();
    else if (checked) checked.focus();
  }

  renderTags(tags, installed, preferred) {
    const installedSet = new Set(installed);
    const rows = tags.slice(0, MAX_TAGS_SHOWN).map((tag, i) => {
      const id = `tag-opt-${i}`;
      return h('div', { class: 'tag-option', dataset: { tag } },
        h('input', { type: 'radio', name: 'tag', id, value: tag }),
        h('label', { for: id },
          h('span', { class: 'mono' }, tag),
          installedSet.has(tag) ? h('span', { class: 'badge badge-installed' }, 'Installed')
                                : null));
    });
    this.list.replaceChildren(...rows);
    this.list.hidden = rows.length === 0;
    const match = this.list.querySelector(`input[value="${CSS.escape(preferred)}"]`);
    if (this.otherRadio.checked && this.other.value.trim()) {
      // The user typed a tag while the list was loading: their choice stands.
    } else if (match) {
      match.checked = true;
    } else if (this.entry.type !== 'lxc' && tags.length === 0) {
      this.otherRadio.checked = true;
      this.other.value = preferred;
    } else if (rows.length > 0) {
      this.list.querySelector('input').checked = true;
    }
  }

  applyFilter() {
    const q = this.filter.value.trim().toLowerCase();
    let shown = 0;
    for (const row of this.list.children) {
      const hit = !q || row.dataset.tag.toLowerCase().includes(q);
      row.hidden = !hit;
      if (hit) shown += 1;
    }
    this.state.textContent = q ? `${shown} matching` : this.state.textContent;
  }

  selectedTag() {
    const checked = this.form.querySelector('input[name="tag"]:checked');
    if (!checked) return '';
    if (checked.value === OTHER) return this.other.value.trim();
    return checked.value;
  }

  async start() {
    const entry = this.entry;
    const tag = this.selectedTag();
    if (!tag) {
      showError(this.error, 'Choose a tag or type one.');
      return;
    }
    if (!/^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$/.test(tag)) {
      showError(this.error, `“${tag}” is not a valid tag.`);
      return;
    }
    this.submit.disabled = true;
    showError(this.error, '');
    try {
      await api.download(downloadSource(entry), entry.type, entry.name, tag, {
        description: entry.description || '',
        location: entry.location || '',
        icon: entry.icon || '',
      });
      this.onStarted(entry.type, entry.name, tag);
      this.dialog.close('started');
    } catch (err) {
      if (!(err instanceof ApiError) || err.status !== 401) showError(this.error, err.message);
    } finally {
      this.submit.disabled = false;
    }
  }
}

export class ConfirmDialog {
  constructor() {
    this.dialog = document.getElementById('confirm-dialog');
    this.form = document.getElementById('confirm-form');
    this.title = document.getElementById('confirm-title');
    this.text = document.getElementById('confirm-text');
    this.error = document.getElementById('confirm-error');
    this.submit = document.getElementById('confirm-submit');
    this.action = null;
    wireDialog(this.dialog);
    this.form.addEventListener('submit', async (e) => {
      e.preventDefault();
      if (!this.action) return;
      this.submit.disabled = true;
      showError(this.error, '');
      try {
        await this.action();
        this.dialog.close('confirmed');
      } catch (err) {
        if (err instanceof ApiError && err.status === 401) this.dialog.close('cancel');
        else showError(this.error, err.message);
      } finally {
        this.submit.disabled = false;
      }
    });
    this.dialog.addEventListener('close', () => {
      this.action = null;
      if (this.opener?.isConnected) this.opener.focus();
    });
  }

  // Asks, then runs `action` (async); its error is shown in the dialog.
  ask({ title, text, confirm = 'Delete', opener }, action) {
    this.title.textContent = title;
    this.text.textContent = text;
    this.submit.textContent = confirm;
    this.opener = opener;
    this.action = action;
    showError(this.error, '');
    this.dialog.showModal();
    // The safe choice has the focus.
    this.dialog.querySelector('[data-close]').focus();
  }
}

function dl(pairs) {
  const items = [];
  for (const [key, value] of pairs) {
    if (value === undefined || value === null || value === '' ||
        (Array.isArray(value) && value.length === 0)) continue;
    items.push(h('dt', {}, key), h('dd', {}, value));
  }
  return items.length ? h('dl', { class: 'props' }, items) : null;
}

function listValue(values, mono = true) {
  if (!Array.isArray(values) || values.length === 0) return null;
  return h('ul', { class: `value-list${mono ? ' mono' : ''}` }, values.map((v) => h('li', {}, String(v))));
}

// A command in a read-only field with a Copy button. The clipboard API needs a secure
// context (HTTPS or localhost); on a plain-HTTP LAN address the field's text is selected and
// copied the old way.
function pullCommand(command) {
  const field = h('input', { class: 'mono command', type: 'text', readonly: true, value: command,
                             'aria-label': 'Pull command', onfocus: (e) => e.target.select() });
  const status = h('span', { class: 'muted small', role: 'status' });
  const copy = async () => {
    let copied = false;
    try {
      if (navigator.clipboard && window.isSecureContext) {
        await navigator.clipboard.writeText(command);
        copied = true;
      }
    } catch { /* falls back below */ }
    if (!copied) {
      field.select();
      copied = document.execCommand('copy');
    }
    status.textContent = copied ? 'Copied' : 'Select the command and copy it';
  };
  return h('div', { class: 'command-row' }, field,
           h('button', { type: 'button', class: 'btn btn-small', onclick: copy }, 'Copy'), status);
}

const EXPORT_FORMATS = [
  ['docker', 'Docker archive', 'docker load, podman load and skopeo (docker-archive:)'],
  ['oci', 'OCI archive', 'skopeo (oci-archive:), podman load and docker load'],
];

// The image as an archive file: a plain link with a download attribute, so that the browser
// streams it to disk with the session cookie (an image can be gigabytes); the server's
// Content-Disposition names the file.
function exportChooser(name, tag) {
  const link = h('a', { class: 'btn btn-secondary btn-small', href: api.exportUrl(name, tag),
                        download: true, 'aria-describedby': 'export-hint' },
                 icon('download'), 'Export');
  const hint = h('p', { class: 'muted small', id: 'export-hint' });
  const choose = (format) => {
    link.href = api.exportUrl(name, tag, format);
    hint.textContent = `Read by ${EXPORT_FORMATS.find(([f]) => f === format)[2]}.`;
  };
  const radios = EXPORT_FORMATS.map(([format, label], i) => h('label', {},
    h('input', { type: 'radio', name: 'export-format', value: format, checked: i === 0,
                 onchange: () => choose(format) }), label));
  choose('docker');
  return [h('div', { class: 'export-row' },
            h('fieldset', {}, h('legend', { class: 'visually-hidden' }, 'Archive format'), radios),
            link),
          hint];
}

function section(title, ...content) {
  const body = content.filter(Boolean);
  if (body.length === 0) return null;
  return h('section', { class: 'sheet-section' }, h('h3', {}, title), body);
}

export class InspectPanel {
  constructor() {
    this.dialog = document.getElementById('inspect-dialog');
    this.title = document.getElementById('inspect-title');
    this.sub = document.getElementById('inspect-sub');
    this.body = document.getElementById('inspect-body');
    this.token = 0;
    wireDialog(this.dialog);
    this.dialog.addEventListener('close', () => {
      this.token += 1;
      if (this.opener?.isConnected) this.opener.focus();
    });
  }

  async show(name, tag, opener) {
    const token = ++this.token;
    this.opener = opener;
    this.ref = `${name}:${tag}`;
    this.name = name;
    this.tag = tag;
    this.title.textContent = `${name}:${tag}`;
    this.sub.textContent = '';
    this.body.replaceChildren(h('p', { class: 'muted' }, 'Loading details…'));
    this.body.setAttribute('aria-busy', 'true');
    if (!this.dialog.open) this.dialog.showModal();
    this.dialog.querySelector('[data-close]').focus();
    try {
      const info = await api.inspect(name, tag);
      if (token !== this.token) return;
      this.render(info);
      this.showEngine(name, tag, token);
    } catch (err) {
      if (token !== this.token) return;
      if (err instanceof ApiError && err.status === 401) {
        this.dialog.close();
        return;
      }
      this.body.replaceChildren(h('div', { class: 'state state-error', role: 'alert' },
        h('h3', {}, 'Cannot read the details'), h('p', { class: 'state-message' }, err.message)));
    } finally {
      if (token === this.token) this.body.setAttribute('aria-busy', 'false');
    }
  }

  // Whether the local engine of the hand-off holds the image; nothing without an engine.
  async showEngine(name, tag, token) {
    let text;
    try {
      const state = await api.engineState(name, tag);
      if (!state.engine) return;
      text = state.present ? 'Yes: docker images (or podman images) lists it'
        : 'No: not handed to the engine, or removed there';
    } catch (err) {
      text = `Unknown: ${err.message}`;
    }
    const pull = this.body.querySelector('.command-row');
    if (token !== this.token || !pull) return;
    pull.after(h('p', { class: 'engine-state small' }, h('strong', {}, 'In the local engine: '), text));
  }

  render(info) {
    const id = String(info.Id || '').replace(/^sha256:/, '');
    this.sub.textContent = id ? `ID ${id.slice(0, 12)}` : '';
    const cfg = info.Config || {};
    const platform = [info.Os, info.Architecture, info.Variant].filter(Boolean).join(' / ');
    const ports = cfg.ExposedPorts ? Object.keys(cfg.ExposedPorts) : [];
    const volumes = cfg.Volumes ? Object.keys(cfg.Volumes) : [];
    const labels = cfg.Labels ? Object.entries(cfg.Labels).map(([k, v]) => `${k}=${v}`) : [];
    const layers = info.RootFS?.Layers || [];
    const summary = dl([
      ['Size', Number.isFinite(Number(info.Size))
        ? h('span', { 'data-bytes': info.Size }, humanBytes(info.Size),
            h('span', { class: 'muted' }, ` (${Number(info.Size).toLocaleString()} bytes)`))
        : null],
      ['Architecture', info.Architecture],
      ['Os', info.Os],
      ['Platform', platform],
      ['Created', info.Created ? h('time', { datetime: info.Created }, formatDate(info.Created)) : null],
      ['Author', info.Author],
      ['Tags', listValue(info.RepoTags)],
      ['Digests', listValue(info.RepoDigests)],
      ['Image ID', id ? h('span', { class: 'mono break' }, id) : null],
    ]);
    const joinCmd = (v) => (Array.isArray(v) ? v.join(' ') : v) || null;
    const config = dl([
      ['Entrypoint', joinCmd(cfg.Entrypoint) && h('code', {}, joinCmd(cfg.Entrypoint))],
      ['Cmd', joinCmd(cfg.Cmd) && h('code', {}, joinCmd(cfg.Cmd))],
      ['WorkingDir', cfg.WorkingDir && h('code', {}, cfg.WorkingDir)],
      ['User', cfg.User && h('code', {}, cfg.User)],
      ['ExposedPorts', listValue(ports)],
      ['Volumes', listValue(volumes)],
      ['Env', listValue(cfg.Env)],
      ['Labels', listValue(labels)],
      ['StopSignal', cfg.StopSignal],
    ]);
    const layerList = layers.length
      ? h('ol', { class: 'layer-list mono' }, layers.map((l) => h('li', { title: l }, l)))
      : null;
    const raw = h('details', { class: 'raw' }, h('summary', {}, 'Raw JSON'),
                  h('pre', { class: 'mono' }, JSON.stringify(info, null, 2)));
    this.body.replaceChildren(...[
      section('Pull it from this server', pullCommand(`docker pull ${location.host}/${this.ref}`)),
      section('Export as a file', exportChooser(this.name, this.tag)),
      section('Summary', summary),
      section('Config', config || h('p', { class: 'muted' }, 'No configuration.')),
      section(`Layers (${layers.length})`, layerList),
      raw,
    ].filter(Boolean));
  }
}
