// The Import dialog: an image archive (docker save, podman save, skopeo; Docker or OCI layout,
// plain, gzip or zstd) uploaded as the raw body of POST /api/v1/image/import, with its upload
// progress, a Cancel, and then the images it added or the server's error. The upload goes on
// when the dialog is closed (wharfd lists it in Downloads as "importing"); reopening the
// dialog shows it again, and its end is a toast then.

import { api, ApiError, importLabel } from './api.js';
import { h, humanBytes, humanSpeed, humanDuration, toast, wireDialog } from './dom.js';

const SPEED_WINDOW_MS = 4000;
// NAME:TAG for ?tag=, roughly: wharfd checks the reference grammar and names what is wrong.
const NAME_TAG = /^[^\s:][^\s]*:[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$/;

function show(el, text) {
  el.textContent = text || '';
  el.hidden = !text;
}

export class ImportDialog {
  constructor({ onImported, announce }) {
    this.onImported = onImported;  // (images) after a successful import
    this.announce = announce;
    const $ = (id) => document.getElementById(id);
    this.dialog = $('import-dialog');
    this.form = $('import-form');
    this.file = $('import-file');
    this.tag = $('import-tag');
    this.box = $('import-progress');
    this.name = $('import-name');
    this.state = $('import-state');
    this.bar = $('import-bar');
    this.bytes = $('import-bytes');
    this.speed = $('import-speed');
    this.percent = $('import-percent');
    this.result = $('import-result');
    this.error = $('import-error');
    this.submit = $('import-submit');
    this.cancelButton = $('import-cancel');
    this.upload = null;  // the running upload: {file, label, job, abort, samples, cancelled}
    wireDialog(this.dialog);
    this.form.addEventListener('submit', (e) => {
      e.preventDefault();
      this.start();
    });
    this.cancelButton.addEventListener('click', () => {
      if (this.upload) this.cancel();
      else this.dialog.close('cancel');
    });
    this.file.addEventListener('change', () => {
      show(this.error, '');
      if (this.file.files.length) show(this.result, '');
    });
    this.dialog.addEventListener('close', () => {
      if (this.upload) {
        toast(`The import of ${this.upload.file.name} goes on; Downloads shows its progress.`);
      }
      if (this.opener?.isConnected) this.opener.focus();
    });
    window.addEventListener('beforeunload', (e) => {
      if (this.upload) e.preventDefault();  // leaving the page would end the upload
    });
  }

  open(opener) {
    this.opener = opener;
    if (!this.upload) {
      show(this.error, '');
      show(this.result, '');
      this.box.hidden = true;
    }
    this.dialog.showModal();
    (this.upload ? this.cancelButton : this.file).focus();
  }

  // A "job" event or a downloadstatus entry: finds the server's job of the running upload, so
  // that Cancel can cancel it there (it then ends "cancelled", not "failed").
  jobEvent(data) {
    const up = this.upload;
    if (!up || up.job || data?.status !== 'importing' || data.name !== up.label) return;
    if (up.before.has(data.tag)) return;
    up.job = { type: data.type, name: data.name, tag: data.tag };
  }

  start() {
    if (this.upload) return;
    const file = this.file.files[0];
    if (!file) {
      show(this.error, 'Choose an archive file to import.');
      this.file.focus();
      return;
    }
    const tag = this.tag.value.trim();
    if (tag && !NAME_TAG.test(tag)) {
      show(this.error, `“${tag}” is not a NAME:TAG (for example myapp:1.0).`);
      this.tag.focus();
      return;
    }
    show(this.error, '');
    show(this.result, '');
    const label = importLabel(file.name);
    const before = new Set([...document.querySelectorAll(
      `#job-list li.job[data-name="${CSS.escape(label)}"]`)].map((li) => li.dataset.tag));
    const up = { file, label, before, job: null, samples: [], cancelled: false };
    this.upload = up;
    this.setBusy(true);
    this.name.textContent = file.name;
    this.bar.setAttribute('aria-label', `Upload of ${file.name}`);
    this.progress(0, file.size);
    const { done, abort } = api.importArchive(file, {
      tag,
      onProgress: (sent, total) => this.progress(sent, total),
    });
    up.abort = abort;
    this.announce(`Uploading ${file.name}.`);
    done.then((data) => this.succeeded(up, data), (err) => this.failed(up, err));
  }

  setBusy(busy) {
    this.file.disabled = busy;
    this.tag.disabled = busy;
    this.submit.disabled = busy;
    this.cancelButton.textContent = busy ? 'Cancel import' : 'Close';
    this.box.hidden = false;
    // The focused Import button is now disabled: the keyboard goes to the one that acts.
    if (busy) this.cancelButton.focus();
  }

  progress(sent, total) {
    const up = this.upload;
    if (!up) return;
    const now = performance.now();
    up.samples.push([now, sent]);
    while (up.samples.length > 2 && now - up.samples[0][0] > SPEED_WINDOW_MS) up.samples.shift();
    const [t0, b0] = up.samples[0];
    const speed = now - t0 > 250 ? ((sent - b0) * 1000) / (now - t0) : 0;
    const percent = total > 0 ? Math.min(100, Math.floor((sent * 100) / total)) : 0;
    const checking = total > 0 && sent >= total;
    this.setBar(percent, checking ? 'Checking' : 'Uploading');
    this.bytes.textContent = `${humanBytes(sent)} of ${humanBytes(total)}`;
    let text = checking ? 'Checking the archive…' : humanSpeed(speed);
    const left = !checking && speed > 0 ? humanDuration((total - sent) / speed) : '';
    if (left) text += ` · ${left} left`;
    this.speed.textContent = text;
  }

  sentPercent() {
    return Number(this.bar.getAttribute('aria-valuenow')) || 0;
  }

  setBar(percent, state) {
    this.bar.querySelector('.progress-bar').style.width = `${percent}%`;
    this.bar.setAttribute('aria-valuenow', String(percent));
    this.bar.setAttribute('aria-valuetext', `${percent}%, ${state.toLowerCase()}`);
    this.percent.textContent = `${percent}%`;
    this.state.textContent = state;
    this.box.dataset.state = state.toLowerCase();
  }

  async cancel() {
    const up = this.upload;
    if (!up || up.cancelled) return;
    up.cancelled = true;
    this.setBar(this.sentPercent(), 'Cancelling');
    // Cancelled on the server first, so that it ends the job as cancelled; then the upload.
    if (up.job) await api.cancel(up.job.type, up.job.name, up.job.tag).catch(() => {});
    up.abort();
  }

  finish(up) {
    this.upload = null;
    this.setBusy(false);
    this.speed.textContent = '';
  }

  succeeded(up, data) {
    const images = (data?.images || []).map((i) => `${i.name}:${i.tag}`);
    this.finish(up);
    this.form.reset();  // a failed import keeps its file and name, to try again
    this.setBar(100, 'Imported');
    const what = images.length ? images.join(', ') : 'no images';
    const text = `Imported ${what} from ${up.file.name}.`;
    this.result.classList.remove('form-result-note');
    this.result.replaceChildren(
      h('strong', {}, images.length === 1 ? 'Imported 1 image' : `Imported ${images.length} images`),
      h('ul', { class: 'value-list mono' }, images.map((i) => h('li', {}, i))));
    this.result.hidden = false;
    this.announce(text);
    if (!this.dialog.open) toast(text, 'success');
    this.onImported(data?.images || []);
  }

  async failed(up, err) {
    if (err instanceof ApiError && err.status === 0 && !up.cancelled && up.job) {
      // wharfd answers a bad archive as soon as it shows, and closes; a browser still sending
      // may see only the broken connection. The failed job holds the reason.
      try {
        const jobs = await api.downloadStatus();
        const job = jobs.find((j) => j.tag === up.job.tag && j.name === up.job.name);
        if (job?.error) err = new ApiError(0, job.error);
      } catch { /* the connection's error stands */ }
    }
    this.finish(up);
    const cancelled = up.cancelled || (err instanceof ApiError && err.status === 409);
    if (err instanceof ApiError && err.status === 401) {
      this.dialog.close();
      return;
    }
    if (cancelled) {
      const text = `The import of ${up.file.name} was cancelled; nothing was added.`;
      this.setBar(this.sentPercent(), 'Cancelled');
      this.result.replaceChildren(text);
      this.result.classList.add('form-result-note');
      this.result.hidden = false;
      this.announce(`Import of ${up.file.name} cancelled.`);
      if (!this.dialog.open) toast(text);
      return;
    }
    this.setBar(this.sentPercent(), 'Failed');
    const status = err.status ? ` (HTTP ${err.status})` : '';
    const message = `Cannot import ${up.file.name}: ${err.message}${status}`;
    show(this.error, message);
    if (!this.dialog.open) toast(message, 'error');
  }
}
