// Update checks on the Local tab: when each local Docker tag was last checked against its
// registry and what was found (GET /api/v1/image/updates), the "Check for updates" button of
// an admin (POST /api/v1/image/updates/check, answered when every tag is checked), and the
// line beside it: "Checked 5 minutes ago · 1 update available". The badges and the Update
// actions themselves are on the tag rows (views.js).

import { api, ApiError } from './api.js';
import { h, humanAgo, formatDate, toast } from './dom.js';
import { familiarName } from './downloads.js';

const TICK_MS = 30000;  // how often "5 minutes ago" is brought up to date

const key = (name, tag) => `${name}|${tag}`;

export class UpdateChecks {
  constructor({ announce, onChecked }) {
    this.announce = announce;
    this.onChecked = onChecked;  // after a check ended (the listing shows its flags)
    this.status = document.getElementById('update-status');
    this.button = document.getElementById('update-check-button');
    this.list = null;  // the last answer; null: not read yet, or checks are off
    this.admin = false;
    this.running = false;
    this.button.addEventListener('click', () => this.check());
    setInterval(() => { if (!this.running) this.render(); }, TICK_MS);
  }

  setAdmin(admin) {
    this.admin = admin;
    this.render();
  }

  reset() {
    this.list = null;
    this.render();
  }

  // "name|tag" → the tag's last check, for the tag rows.
  get checks() {
    const map = new Map();
    for (const u of this.list || []) map.set(key(familiarName(u.type, u.name), u.tag), u);
    return map;
  }

  // Reads the current state; never rejects (the Local listing does not wait on it failing).
  async refresh() {
    try {
      this.set(await api.updates());
    } catch (err) {
      // 404: this server runs no update checks; the rest keeps the last answer.
      if (err instanceof ApiError && err.status === 404) this.set(null);
    }
    return this.checks;
  }

  set(list) {
    this.list = Array.isArray(list) ? list : null;
    this.render();
  }

  // An "update" event: one tag's flag changed.
  changed(event) {
    const entry = (this.list || []).find((u) => u.type === event.type && u.tag === event.tag &&
                                              familiarName(u.type, u.name) === event.name);
    if (!entry) return;
    entry.update_available = event.update_available === true;
    if (event.local_digest) entry.local_digest = event.local_digest;
    if (event.remote_digest) entry.remote_digest = event.remote_digest;
    if (!this.running) this.render();
  }

  async check() {
    if (this.running || !this.admin) return;
    this.running = true;
    this.render();
    this.announce('Checking for updates…');
    try {
      this.list = await api.checkUpdates();
      const available = this.list.filter((u) => u.update_available).length;
      const failed = this.list.filter((u) => u.error).length;
      let text = available === 0 ? 'No updates available.'
        : available === 1 ? '1 update available.' : `${available} updates available.`;
      if (failed) text += ` ${failed === 1 ? '1 tag' : `${failed} tags`} could not be checked.`;
      this.announce(`Update check done. ${text}`);
    } catch (err) {
      if (!(err instanceof ApiError) || err.status !== 401) {
        toast(`Cannot check for updates: ${err.message}`, 'error');
      }
    } finally {
      this.running = false;
      this.render();
      this.onChecked();
    }
  }

  render() {
    const list = this.list;
    // Nothing to check without a local Docker tag (or when this server runs no checks).
    this.status.hidden = !list || list.length === 0;
    this.button.hidden = this.status.hidden || !this.admin;
    this.button.setAttribute('aria-disabled', String(this.running));
    this.button.textContent = this.running ? 'Checking…' : 'Check for updates';
    this.status.classList.toggle('running', this.running);
    if (!list) {
      this.status.replaceChildren();
      return;
    }
    if (this.running) {
      const n = list.length;
      const what = n === 1 ? '1 tag' : `${n} tags`;
      this.status.replaceChildren(`Checking ${what} at their registries…`);
      return;
    }
    const newest = Math.max(0, ...list.map((u) => Number(u.checked_at) || 0));
    if (newest === 0) {
      this.status.replaceChildren('Not checked yet');
      return;
    }
    const when = new Date(newest * 1000);
    const parts = ['Checked ', h('time', { datetime: when.toISOString(), title: formatDate(when) },
                                 humanAgo(newest))];
    const available = list.filter((u) => u.update_available).length;
    if (available) {
      parts.push(` · ${available === 1 ? '1 update' : `${available} updates`} available`);
    }
    const failed = list.filter((u) => u.error).length;
    if (failed) parts.push(` · ${failed === 1 ? '1 check' : `${failed} checks`} failed`);
    this.status.replaceChildren(...parts);
  }
}
