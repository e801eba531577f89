// Settings: the registries wharfd knows (GET /api/v1/registries: its configuration file's,
// read-only, and those added here), each with a Test that shows the steps of the check (ping,
// the auth challenge, the login, one read), for admins; for them also an add/change form (PUT:
// insecure, CA, username, password; the password is never shown again), Remove for the entries
// added here, and Docker Hub's mirrors (GET/PUT /api/v1/registries/docker.io/mirrors: those of
// the configuration file shown read-only, the API's edited). A server without these routes
// (404) shows the sections as unavailable.

import { api, ApiError } from './api.js';
import { h } from './dom.js';
import { errorBlock } from './errors.js';
import { field, outcome, passwordInput, readInto, section, submitting } from './forms.js';

const is401 = (err) => err instanceof ApiError && err.status === 401;
const yes = (v) => v === true;

// An entry's flags under the names the server gives them.
function flags(e) {
  return {
    host: String(e.host || ''),
    insecure: yes(e.insecure),
    ca: yes(e.ca),
    credentials: yes(e.credentials),
    username: e.username || '',
    source: e.source || 'config',
  };
}

const unavailable = (err) => (err instanceof ApiError && err.status === 404
  ? 'This server does not manage these settings from the page.' : err.message);

export class RegistrySettings {
  constructor({ confirm }) {
    this.confirm = confirm;
    this.admin = false;
  }

  sections(admin) {
    this.admin = admin;
    this.box = section('settings-registries', 'Registries');
    this.mirrorBox = section('settings-mirrors', 'Docker Hub mirrors');
    return [this.box, this.mirrorBox];
  }

  load() {
    return Promise.all([this.loadRegistries(), this.loadMirrors()]);
  }

  async loadRegistries(message = '') {
    const answer = await readInto(this.box, () => api.registries(), unavailable);
    if (!answer) return;
    const list = (Array.isArray(answer) ? answer : answer?.registries || []).map(flags);
    const rows = list.map((e) => this.row(e));
    this.box.replaceChildren(this.box.firstChild,
      rows.length ? h('ul', { class: 'settings-list', 'aria-label': 'Registries' }, rows)
                  : h('p', { class: 'muted' }, 'No registry settings: every registry is used ' +
                      'anonymously over HTTPS.'),
      this.admin ? this.form(message) : null);
  }

  row(e) {
    const marks = [
      e.insecure ? 'insecure' : null, e.ca ? 'own CA' : null,
      e.credentials ? `signs in${e.username ? ` as ${e.username}` : ''}` : null,
      e.source === 'config' ? 'from the configuration file' : 'added here',
    ].filter(Boolean);
    const steps = h('div', { class: 'registry-test', 'aria-live': 'polite' });
    const test = this.admin ? h('button', { type: 'button', class: 'btn btn-secondary btn-small',
                                            'aria-label': `Test ${e.host}` }, 'Test') : null;
    test?.addEventListener('click', () => this.test(e.host, test, steps));
    let remove = null;
    if (this.admin && e.source !== 'config') {
      remove = h('button', { type: 'button', class: 'btn btn-ghost btn-small btn-danger-text',
                             'aria-label': `Remove ${e.host}` }, 'Remove');
      remove.addEventListener('click', () => this.confirm.ask({
        title: `Remove ${e.host}?`, confirm: 'Remove', opener: remove,
        text: `Its settings and credentials are forgotten; downloads from ${e.host} are ` +
              'anonymous again.',
      }, async () => {
        await api.removeRegistry(e.host);
        await this.loadRegistries();
      }));
    }
    return h('li', { class: 'settings-row', dataset: { host: e.host, source: e.source } },
      h('span', { class: 'row-name mono' }, e.host),
      h('span', { class: 'muted small row-marks' }, marks.join(' · ')),
      h('span', { class: 'row-actions' }, test, remove), steps);
  }

  async test(host, button, box) {
    button.disabled = true;
    box.replaceChildren(h('p', { class: 'muted small' }, `Testing ${host}…`));
    try {
      const result = await api.testRegistry(host);
      const steps = (result.steps || []).map((s) => h('li', {
        class: s.ok ? 'step-ok' : 'step-failed', dataset: { step: s.step } },
        h('span', { class: 'step-mark', 'aria-hidden': 'true' }, s.ok ? '✓' : '✗'),
        h('span', { class: 'step-name' }, s.step), ' ',
        h('span', { class: 'step-message' }, s.message || '')));
      box.replaceChildren(
        h('p', { class: result.ok ? 'test-ok' : 'test-failed' },
          result.ok ? `${host} works.` : `${host} failed the test.`),
        h('ol', { class: 'test-steps', 'aria-label': `Steps of the test of ${host}` }, steps));
    } catch (err) {
      if (!is401(err)) box.replaceChildren(errorBlock(err.message, { fallback: err.message }));
    } finally {
      button.disabled = false;
    }
  }

  form(message) {
    const host = h('input', { type: 'text', autocomplete: 'off', autocapitalize: 'off',
                              spellcheck: 'false', placeholder: 'registry.example.com:5000' });
    const username = h('input', { type: 'text', autocomplete: 'off', autocapitalize: 'off',
                                  spellcheck: 'false' });
    const password = passwordInput('new-password', { required: false });
    const insecure = h('input', { type: 'checkbox' });
    const ca = h('textarea', { rows: 3, class: 'mono', spellcheck: 'false',
                               placeholder: '-----BEGIN CERTIFICATE-----' });
    const button = h('button', { type: 'submit', class: 'btn btn-primary' }, 'Save registry');
    const out = outcome();
    if (message) out.ok(message);
    const form = h('form', { class: 'settings-form', novalidate: true,
                             'aria-label': 'Add or change a registry' },
      h('h3', {}, 'Add or change a registry'),
      field('Registry host', host, 'HOST or HOST:PORT, as image names start with it.'),
      field('Username', username), field('Password', password, 'Stored, never shown again.'),
      h('label', { class: 'check' }, insecure, 'Insecure (plain HTTP or an unchecked certificate)'),
      field('CA certificate (PEM)', ca, 'Optional: the CA that signed its certificate.'),
      out.els, h('div', { class: 'form-actions' }, button));
    form.addEventListener('submit', (e) => {
      e.preventDefault();
      const name = host.value.trim();
      if (!name) return out.error('Type the registry host.');
      const entry = { insecure: insecure.checked, ca_pem: ca.value, username: username.value };
      if (password.value) entry.password = password.value;
      return submitting(button, out, async () => {
        await api.setRegistry(name, entry);
        await this.loadRegistries(`Saved ${name}.`);
      });
    });
    return form;
  }

  async loadMirrors() {
    const answer = await readInto(this.mirrorBox, () => api.mirrors(), unavailable);
    if (!answer) return;
    const mirrors = (answer?.mirrors || []).map((m) => (typeof m === 'string' ? { url: m } : m));
    const fixed = mirrors.filter((m) => m.source === 'config').map((m) => m.url);
    const own = mirrors.filter((m) => m.source !== 'config').map((m) => m.url);
    const text = h('textarea', { rows: 3, class: 'mono', spellcheck: 'false',
                                 readonly: !this.admin, placeholder: 'https://mirror.lan:5000' },
                   own.join('\n'));
    const out = outcome();
    const button = h('button', { type: 'submit', class: 'btn btn-primary' }, 'Save mirrors');
    const form = h('form', { class: 'settings-form', novalidate: true },
      fixed.length ? h('p', { class: 'muted small' }, 'From the configuration file: ',
                       h('span', { class: 'mono' }, fixed.join(', '))) : null,
      field('Mirror URLs, one a line (tried in order before Docker Hub)', text),
      out.els, this.admin ? h('div', { class: 'form-actions' }, button) : null);
    form.addEventListener('submit', (e) => {
      e.preventDefault();
      const list = text.value.split('\n').map((l) => l.trim()).filter(Boolean);
      submitting(button, out, async () => {
        const saved = (await api.setMirrors(list))?.mirrors;
        if (Array.isArray(saved)) {
          text.value = saved.filter((m) => m.source !== 'config').map((m) => m.url ?? m).join('\n');
        }
        out.ok('Mirrors saved.');
      });
    });
    this.mirrorBox.replaceChildren(this.mirrorBox.firstChild, form);
  }
}
