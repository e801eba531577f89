// The downloads panel: every job wharfd runs (started here, in another tab or with the CLI),
// seeded from GET downloadstatus and then kept live by the events stream. Imports of image
// archives are jobs too ("importing", named by the file, tagged import-N): shown by their file
// name, cancellable, never retried (the upload is the browser's that sent it).
// The events stream also tells whether wharfd is reachable (onConnection), and a toast handed
// to attachToast goes when its job ends.

import { api, ApiError } from './api.js';
import { h, icon, humanBytes, humanSpeed, humanDuration, toast } from './dom.js';
import { errorBlock } from './errors.js';

const ACTIVE = new Set(['waiting', 'downloading', 'importing']);
const MOVING = new Set(['downloading', 'importing']);
const DONE_LINGER_MS = 10000;
const CANCELLED_LINGER_MS = 4000;
const SPEED_WINDOW_MS = 4000;

const STATUS_TEXT = {
  waiting: 'Waiting',
  downloading: 'Downloading',
  importing: 'Importing',
  done: 'Completed',
  failed: 'Failed',
  cancelled: 'Cancelled',
};

export function jobKey(type, name, tag) {
  return `${type}|${name}|${tag}`;
}

// The short form wharfd shows for a Docker name: docker.io/library/ubuntu → ubuntu.
export function familiarName(type, name) {
  if (type !== 'docker') return name;
  let n = String(name).replace(/^(?:docker\.io|index\.docker\.io|registry-1\.docker\.io)\//, '');
  if (n.startsWith('library/') && !n.slice(8).includes('/')) n = n.slice(8);
  return n;
}

// An import's job: its tag is the server's import-N.
function isImport(job) {
  return /^import-\d+$/.test(job.tag);
}

export class Downloads {
  constructor({ onImageEvent, onBusyChange, onJobEvent = () => {}, onUpdateEvent = () => {},
                onConnection = () => {}, announce }) {
    this.jobs = new Map();
    this.onImageEvent = onImageEvent;
    this.onUpdateEvent = onUpdateEvent;  // a local tag's update flag changed
    this.onJobEvent = onJobEvent;  // every job's state, as it comes (the import dialog's)
    this.onBusyChange = onBusyChange;
    this.onConnection = onConnection;  // (true) the stream is open, (false) it broke off
    this.announce = announce;
    this.list = document.getElementById('job-list');
    this.empty = document.getElementById('downloads-empty');
    this.count = document.getElementById('downloads-count');
    this.clearButton = document.getElementById('downloads-clear');
    this.panel = document.getElementById('downloads');
    this.source = null;
    this.retryTimer = 0;
    this.clearButton.addEventListener('click', () => this.clearFinished());
  }

  // Starts following wharfd: the current jobs, then the events stream.
  async start() {
    this.stop();
    this.connect();
    await this.reseed();
  }

  stop() {
    clearTimeout(this.retryTimer);
    if (this.source) {
      this.source.close();
      this.source = null;
    }
  }

  reset() {
    this.stop();
    for (const job of this.jobs.values()) clearTimeout(job.timer);
    this.jobs.clear();
    this.list.replaceChildren();
    this.updateSummary();
  }

  connect() {
    const source = new EventSource('/api/v1/events');
    this.source = source;
    let opened = false;
    source.addEventListener('open', () => {
      this.onConnection(true);
      if (opened) this.reseed();  // a reconnect: catch up on what was missed
      opened = true;
    });
    source.addEventListener('job', (e) => this.onJob(parse(e.data)));
    source.addEventListener('image', (e) => {
      const data = parse(e.data);
      if (data) this.onImageEvent(data);
    });
    source.addEventListener('update', (e) => {
      const data = parse(e.data);
      if (data?.name) this.onUpdateEvent({ ...data, name: familiarName(data.type, data.name) });
    });
    source.addEventListener('error', () => {
      if (this.source !== source) return;
      this.onConnection(false);  // the browser reconnects by itself while CONNECTING
      if (source.readyState !== EventSource.CLOSED) return;
      // The server refused the stream (an expired session answers 401): find out why.
      this.source = null;
      api.session().then(
        () => { this.retryTimer = setTimeout(() => this.start(), 3000); },
        (err) => {
          if (err instanceof ApiError && err.status === 401) {
            api.downloadStatus().catch(() => {});  // lets the 401 reach the app's handler
          } else {
            this.retryTimer = setTimeout(() => this.start(), 5000);
          }
        });
    });
  }

  async reseed() {
    let jobs;
    try {
      jobs = await api.downloadStatus();
    } catch (err) {
      if (!(err instanceof ApiError) || err.status !== 401) {
        toast(`Cannot read the downloads: ${err.message}`, 'error');
      }
      return;
    }
    const seen = new Set();
    for (const j of jobs || []) {
      seen.add(jobKey(j.type, j.name, j.tag));
      this.onJob(j, { quiet: true });
    }
    // Jobs that ended while the stream was away.
    for (const [key, job] of this.jobs) {
      if (ACTIVE.has(job.status) && !seen.has(key)) this.removeJob(key);
    }
  }

  // The page itself started a download: show it at once, before the first event. With `since`
  // (performance.now() before the request), a job of the same tag that had ended by then (an
  // Update right after a download) starts over; one that ended since is this one's end.
  started(type, rawName, tag, since = -Infinity) {
    const name = familiarName(type, rawName);
    const key = jobKey(type, name, tag);
    const shown = this.jobs.get(key);
    if (!shown || (!ACTIVE.has(shown.status) && shown.updatedAt < since)) {
      this.onJob({ type, name, tag, status: 'waiting', bytes_done: 0, bytes_total: -1,
                   percent: null, error: '' }, { quiet: true });
    }
    this.revealPanel();
  }

  // The toast that announced the job's start goes when the job ends (or is dismissed).
  attachToast(type, rawName, tag, el) {
    const job = this.jobs.get(jobKey(type, familiarName(type, rawName), tag));
    if (!job || !ACTIVE.has(job.status)) {
      el.remove();
      return;
    }
    job.toast?.remove();
    job.toast = el;
  }

  isBusy(type, rawName) {
    const name = familiarName(type, rawName);
    for (const job of this.jobs.values()) {
      if (job.type === type && job.name === name && ACTIVE.has(job.status)) return true;
    }
    return false;
  }

  onJob(data, { quiet = false } = {}) {
    if (!data || !data.name) return;
    this.onJobEvent(data);
    const key = jobKey(data.type, data.name, data.tag);
    let job = this.jobs.get(key);
    const previous = job ? job.status : null;
    if (!job) {
      // The end of a job this page never showed (or was dismissed) is not news.
      if (!ACTIVE.has(data.status) && data.status !== 'failed') return;
      job = { key, type: data.type, name: data.name, tag: data.tag, samples: [], timer: 0 };
      job.el = this.renderJob(job);
      this.jobs.set(key, job);
      this.list.prepend(job.el.root);
    }
    job.status = data.status;
    job.updatedAt = performance.now();
    job.bytesDone = Number(data.bytes_done) || 0;
    job.bytesTotal = Number.isFinite(Number(data.bytes_total)) ? Number(data.bytes_total) : -1;
    job.percent = data.percent === null || data.percent === undefined ? null
                                                                      : Number(data.percent);
    if (job.status === 'done') job.percent = 100;
    job.error = data.error || '';
    this.sample(job);
    this.updateJob(job);
    if (!ACTIVE.has(job.status) && job.toast) {
      job.toast.remove();
      job.toast = null;
    }
    clearTimeout(job.timer);
    if (job.status === 'done') {
      job.timer = setTimeout(() => this.removeJob(key), DONE_LINGER_MS);
    } else if (job.status === 'cancelled') {
      job.timer = setTimeout(() => this.removeJob(key), CANCELLED_LINGER_MS);
    }
    if (previous !== job.status) {
      if (!quiet || job.status === 'failed') this.announceStatus(job, previous);
      this.onBusyChange();
    }
    this.updateSummary();
  }

  sample(job) {
    const now = performance.now();
    if (!MOVING.has(job.status)) {
      job.samples = [];
      job.speed = 0;
      return;
    }
    job.samples.push([now, job.bytesDone]);
    while (job.samples.length > 2 && now - job.samples[0][0] > SPEED_WINDOW_MS) {
      job.samples.shift();
    }
    const [t0, b0] = job.samples[0];
    job.speed = now - t0 > 250 ? ((job.bytesDone - b0) * 1000) / (now - t0) : job.speed || 0;
  }

  renderJob(job) {
    const imported = isImport(job);
    const label = imported ? job.name : `${job.name}:${job.tag}`;
    const what = imported ? 'import' : 'download';
    const status = h('span', { class: 'chip job-status' });
    const bar = h('div', { class: 'progress-bar' });
    const progress = h('div', {
      class: 'progress', role: 'progressbar',
      'aria-label': `${imported ? 'Import' : 'Download'} of ${label}`,
      'aria-valuemin': 0, 'aria-valuemax': 100,
    }, bar);
    const bytes = h('span', { class: 'job-bytes' });
    const speed = h('span', { class: 'job-speed' });
    const percent = h('span', { class: 'job-percent' });
    const error = h('div', { class: 'job-error', hidden: true });
    const cancel = h('button', { type: 'button', class: 'btn btn-secondary btn-small job-cancel',
                                 'aria-label': `Cancel ${what} of ${label}` }, 'Cancel');
    const retry = h('button', { type: 'button', class: 'btn btn-secondary btn-small job-retry',
                                'aria-label': `Retry download of ${label}`, hidden: true },
                    icon('retry'), 'Retry');
    const dismiss = h('button', { type: 'button', class: 'btn btn-ghost btn-small job-dismiss',
                                  'aria-label': `Dismiss ${label}`, hidden: true }, 'Dismiss');
    cancel.addEventListener('click', () => this.cancel(job, cancel));
    retry.addEventListener('click', () => this.retry(job));
    dismiss.addEventListener('click', () => this.dismiss(job));
    const root = h('li', { class: 'job', dataset: { key: job.key, name: job.name, tag: job.tag } },
      h('div', { class: 'job-head' },
        h('span', { class: 'job-name', title: label },
          h('span', { class: 'job-repo' }, job.name),
          imported ? null : h('span', { class: 'job-tag' }, `:${job.tag}`)),
        status),
      progress,
      h('div', { class: 'job-meta' }, bytes, speed, percent),
      error,
      h('div', { class: 'job-actions' }, retry, dismiss, cancel));
    return { root, status, bar, progress, bytes, speed, percent, error, cancel, retry, dismiss };
  }

  updateJob(job) {
    const el = job.el;
    el.root.className = `job job-${job.status}`;
    el.status.textContent = STATUS_TEXT[job.status] || job.status;
    const known = job.percent !== null && Number.isFinite(job.percent);
    el.progress.classList.toggle('indeterminate', !known && MOVING.has(job.status));
    if (known) {
      el.bar.style.width = `${Math.max(0, Math.min(100, job.percent))}%`;
      el.progress.setAttribute('aria-valuenow', String(job.percent));
      el.progress.setAttribute('aria-valuetext', `${job.percent}%`);
      el.percent.textContent = `${job.percent}%`;
    } else {
      el.bar.style.width = job.status === 'failed' || job.status === 'cancelled' ? '0%' : '';
      el.progress.removeAttribute('aria-valuenow');
      el.progress.setAttribute('aria-valuetext', STATUS_TEXT[job.status] || job.status);
      el.percent.textContent = '';
    }
    if (job.bytesTotal > 0) {
      el.bytes.textContent = `${humanBytes(job.bytesDone)} of ${humanBytes(job.bytesTotal)}`;
    } else if (job.bytesDone > 0) {
      el.bytes.textContent = humanBytes(job.bytesDone);
    } else {
      el.bytes.textContent = job.status === 'waiting' ? 'Waiting for a free slot…'
                           : job.status === 'downloading' ? 'Resolving…'
                           : job.status === 'importing' ? 'Receiving…' : '';
    }
    let speed = '';
    if (MOVING.has(job.status) && job.speed > 0) {
      speed = humanSpeed(job.speed);
      if (job.bytesTotal > 0) {
        const left = humanDuration((job.bytesTotal - job.bytesDone) / job.speed);
        if (left) speed += ` · ${left} left`;
      }
    }
    el.speed.textContent = speed;
    el.error.hidden = job.status !== 'failed';
    const what = isImport(job) ? 'import' : 'download';
    if (job.status !== 'failed') el.error.replaceChildren();
    else if (el.error.dataset.raw !== job.error || !el.error.firstChild) {
      el.error.replaceChildren(errorBlock(job.error, { fallback: `The ${what} failed.` }));
    }
    el.error.dataset.raw = job.status === 'failed' ? job.error : '';
    el.cancel.hidden = !ACTIVE.has(job.status);
    el.retry.hidden = job.status !== 'failed' || isImport(job);
    el.dismiss.hidden = ACTIVE.has(job.status);
  }

  announceStatus(job, previous) {
    const label = isImport(job) ? job.name : `${job.name}:${job.tag}`;
    const what = isImport(job) ? 'Import' : 'Download';
    if (job.status === 'done') this.announce(`${what} of ${label} completed.`);
    else if (job.status === 'failed') this.announce(`${what} of ${label} failed: ${job.error}`);
    else if (job.status === 'cancelled') this.announce(`${what} of ${label} cancelled.`);
    else if (job.status === 'downloading' && previous !== 'downloading') {
      this.announce(`Downloading ${label}.`);
    } else if (job.status === 'importing' && previous !== 'importing') {
      this.announce(`Importing ${label}.`);
    }
  }

  async cancel(job, button) {
    button.disabled = true;
    try {
      await api.cancel(job.type, job.name, job.tag);
    } catch (err) {
      const label = isImport(job) ? job.name : `${job.name}:${job.tag}`;
      if (err.status !== 401) toast(`Cannot cancel ${label}: ${err.message}`, 'error');
    } finally {
      button.disabled = false;
    }
  }

  async retry(job) {
    const source = job.type === 'lxc' ? 'appcenter' : 'dockerhub';
    try {
      await api.download(source, job.type, job.name, job.tag);
      this.onJob({ type: job.type, name: job.name, tag: job.tag, status: 'waiting',
                   bytes_done: 0, bytes_total: -1, percent: null, error: '' });
    } catch (err) {
      if (err.status !== 401) toast(`Cannot download ${job.name}:${job.tag}: ${err.message}`, 'error');
    }
  }

  async dismiss(job) {
    if (job.status === 'failed') {
      // Forget the failed job on the server too, so it does not come back on reload.
      try {
        await api.cancel(job.type, job.name, job.tag);
      } catch (err) {
        if (err.status === 401) return;
      }
    }
    this.removeJob(job.key);
  }

  clearFinished() {
    for (const job of [...this.jobs.values()]) {
      if (!ACTIVE.has(job.status)) this.dismiss(job);
    }
  }

  removeJob(key) {
    const job = this.jobs.get(key);
    if (!job) return;
    clearTimeout(job.timer);
    job.toast?.remove();
    const hadFocus = job.el.root.contains(document.activeElement);
    job.el.root.remove();
    this.jobs.delete(key);
    if (hadFocus) this.panel.focus();
    this.onBusyChange();
    this.updateSummary();
  }

  revealPanel() {
    this.panel.classList.add('open');
    document.getElementById('downloads-toggle').setAttribute('aria-expanded', 'true');
  }

  updateSummary() {
    const active = [...this.jobs.values()].filter((j) => ACTIVE.has(j.status)).length;
    const finished = this.jobs.size - active;
    this.empty.hidden = this.jobs.size > 0;
    this.clearButton.hidden = finished === 0;
    this.count.hidden = active === 0;
    this.count.textContent = String(active);
    this.panel.classList.toggle('has-jobs', this.jobs.size > 0);
  }
}

function parse(text) {
  try {
    return JSON.parse(text);
  } catch {
    return null;
  }
}
