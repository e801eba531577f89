// The Settings view (#settings): my password, for everyone; the users (list, add, remove,
// reset a password) for admins only, as wharfd refuses the others; the disk usage with a bar
// per image (GET /api/v1/system/df); the registries and Docker Hub's mirrors
// (settings_registries.js). What the server refuses (the last admin, a wrong current
// password, a taken name) is shown in its own words where it was asked.

import { api } from './api.js';
import { h, humanBytes } from './dom.js';
import { field, outcome, passwordInput, readInto, section, submitting } from './forms.js';
import { RegistrySettings } from './settings_registries.js';

// Through the CSSOM: the page's Content-Security-Policy refuses style attributes.
function widthOf(el, width) {
  el.style.width = width;
  return el;
}

export class Settings {
  constructor({ confirm, renewSession }) {
    this.confirm = confirm;  // the ConfirmDialog
    this.renewSession = renewSession;  // (username, password): a new session after a change
    this.root = document.getElementById('settings-body');
    this.registries = new RegistrySettings({ confirm });
    this.session = null;
  }

  async open(session) {
    this.session = session;
    const admin = session.isAdmin === true;
    this.usersBox = admin ? section('settings-users', 'Users') : null;
    this.dfBox = section('settings-disk', 'Disk usage');
    this.root.replaceChildren(...[
      this.passwordSection(), this.usersBox, this.dfBox,
      ...this.registries.sections(admin),
    ].filter(Boolean));
    await Promise.all([admin ? this.loadUsers() : null, this.loadDiskUsage(),
                       this.registries.load()]);
  }

  passwordSection() {
    const current = passwordInput('current-password');
    const next = passwordInput('new-password', { minlength: 8 });
    const again = passwordInput('new-password', { minlength: 8 });
    const button = h('button', { type: 'submit', class: 'btn btn-primary' }, 'Change password');
    const out = outcome();
    const form = h('form', { class: 'settings-form', novalidate: true },
      field('Current password', current), field('New password', next, 'At least 8 characters.'),
      field('New password again', again), out.els, h('div', { class: 'form-actions' }, button));
    form.addEventListener('submit', (e) => {
      e.preventDefault();
      if (!current.value || !next.value) return out.error('Enter your current and new password.');
      if (next.value !== again.value) return out.error('The new passwords differ.');
      const me = this.session.username;
      return submitting(button, out, async () => {
        await api.setPassword(me, next.value, current.value);
        await this.renewSession(me, next.value);  // the change ended every session of mine
        form.reset();
        out.ok('Password changed. Other sessions of yours have ended.');
      });
    });
    return section('settings-password', 'My password',
                   h('p', { class: 'muted' }, `Signed in as ${this.session.username}.`), form);
  }

  // The users, then the add form (with `added`'s success line after an add).
  async loadUsers(added = '') {
    const box = this.usersBox;
    const users = await readInto(box, () => api.users());
    if (!users) return;
    const rows = users.map((u) => this.userRow(u));
    box.replaceChildren(box.firstChild,
      h('ul', { class: 'settings-list', 'aria-label': 'Users' }, rows), this.addUserForm(added));
  }

  userRow(user) {
    const name = user.username;
    const reset = h('button', { type: 'button', class: 'btn btn-secondary btn-small',
                                'aria-label': `Reset the password of ${name}` }, 'Reset password');
    const remove = h('button', { type: 'button', class: 'btn btn-ghost btn-small btn-danger-text',
                                 'aria-label': `Remove ${name}` }, 'Remove');
    const input = passwordInput('new-password', { 'aria-label': `New password of ${name}`,
                                                  minlength: 8 });
    const save = h('button', { type: 'submit', class: 'btn btn-primary btn-small' }, 'Set');
    const out = outcome();
    const form = h('form', { class: 'inline-form', hidden: true, novalidate: true },
                   input, save);
    reset.addEventListener('click', () => {
      form.hidden = !form.hidden;
      if (!form.hidden) input.focus();
    });
    form.addEventListener('submit', (e) => {
      e.preventDefault();
      submitting(save, out, async () => {
        await api.setPassword(name, input.value);
        if (name === this.session.username) await this.renewSession(name, input.value);
        form.reset();
        form.hidden = true;
        out.ok(`The password of ${name} is set; their sessions have ended.`);
      });
    });
    remove.addEventListener('click', () => {
      this.confirm.ask({ title: `Remove ${name}?`, confirm: 'Remove', opener: remove,
                         text: `${name} can no longer sign in; their sessions end now.` },
      async () => {
        await api.removeUser(name);
        await this.loadUsers();
      });
    });
    return h('li', { class: 'settings-row', dataset: { user: name } },
      h('span', { class: 'row-name' }, name),
      user.admin ? h('span', { class: 'badge badge-installed' }, 'Admin') : null,
      h('span', { class: 'row-actions' }, reset, remove), form, out.els);
  }

  addUserForm(added) {
    const name = h('input', { type: 'text', autocomplete: 'off', autocapitalize: 'off',
                              spellcheck: 'false', required: true });
    const password = passwordInput('new-password', { minlength: 8 });
    const admin = h('input', { type: 'checkbox' });
    const button = h('button', { type: 'submit', class: 'btn btn-primary' }, 'Add user');
    const out = outcome();
    const form = h('form', { class: 'settings-form', novalidate: true, 'aria-label': 'Add a user' },
      h('h3', {}, 'Add a user'),
      field('Username', name, 'Letters, digits, . _ and -.'),
      field('Password', password, 'At least 8 characters.'),
      h('label', { class: 'check' }, admin, 'Administrator (may change images and settings)'),
      out.els, h('div', { class: 'form-actions' }, button));
    if (added) out.ok(`Added ${added}.`);
    form.addEventListener('submit', (e) => {
      e.preventDefault();
      submitting(button, out, async () => {
        const username = name.value.trim();
        await api.addUser(username, password.value, admin.checked);
        await this.loadUsers(username);
        this.usersBox.querySelector(`li[data-user="${CSS.escape(username)}"] button`)?.focus();
      });
    });
    return form;
  }

  async loadDiskUsage() {
    const box = this.dfBox;
    const df = await readInto(box, () => api.diskUsage());
    if (!df) return;
    const total = Number(df.total_bytes) || 0;
    const pct = (n) => `${total > 0 ? Math.min(100, (100 * n) / total) : 0}%`;
    const bytes = (n) => h('span', { 'data-bytes': n }, humanBytes(n));
    const rows = (df.images || []).map((img) => h('li', {
      class: 'df-row', dataset: { image: `${img.name}:${img.tag}` } },
      h('span', { class: 'row-name mono', title: `${img.name}:${img.tag}` }, `${img.name}:${img.tag}`),
      h('span', { class: 'df-bar', role: 'img',
                  'aria-label': `${humanBytes(img.stored_bytes)} of ${humanBytes(total)}` },
        widthOf(h('span', { class: 'df-unique' }), pct(img.unique_bytes)),
        widthOf(h('span', { class: 'df-shared' }), pct(img.stored_bytes - img.unique_bytes))),
      h('span', { class: 'df-sizes small' },
        h('span', { class: 'df-stored' }, 'stored ', bytes(img.stored_bytes)), ' · ',
        h('span', { class: 'df-unique-text' }, 'frees ', bytes(img.unique_bytes)), ' · ',
        h('span', { class: 'df-unpacked' }, 'unpacked ', bytes(img.unpacked_bytes)))));
    box.replaceChildren(box.firstChild,
      h('p', { class: 'df-total' }, 'The store holds ', bytes(total), ': ',
        bytes(df.unique_bytes), ' only one image needs, ', bytes(df.shared_bytes),
        ' shared, ', bytes(df.unreferenced_bytes), ' no image needs, and ',
        bytes(df.partial_bytes), ' in downloads under way.'),
      h('p', { class: 'muted small' }, 'Each bar: what deleting the image frees (dark), and ' +
        'the layers it shares with other images (light), against the whole store.'),
      rows.length ? h('ul', { class: 'settings-list df-list', 'aria-label': 'Images' }, rows)
                  : h('p', { class: 'muted' }, 'No images stored.'));
  }
}
