// wharf's web page: login, the four depots, downloads with live progress (and of any
// reference typed), local images, their import from and export to archive files, their update
// checks and updates, the Settings view, and whether wharfd is reachable.
// The state that matters across a reload or an expired session (tab, search, type, page)
// lives in location.hash: #dockerhub?q=redis&type=docker&page=2, or #settings

import { api, ApiError, onReachability, onUnauthorized } from './api.js';
import { debounce, icon, toast } from './dom.js';
import { ResultsView, DEPOT_LABELS } from './views.js';
import { Downloads, familiarName } from './downloads.js';
import { DownloadDialog, ConfirmDialog, InspectPanel } from './dialogs.js';
import { ImportDialog } from './imports.js';
import { UpdateChecks } from './updates.js';
import { PullForm } from './pullref.js';
import { LocalSort } from './localsort.js';
import { CatalogIcons } from './catalogicons.js';
import { Settings } from './settings.js';

const DEPOTS = ['local', 'appcenter', 'official', 'dockerhub'];
const HUB_PAGE_SIZE = 24;
const STARTED_TOAST_MS = 60000;  // a "Downloading" toast goes when its job ends, at the latest then
const $ = (id) => document.getElementById(id);

const state = {
  depot: 'local',
  filters: Object.fromEntries(DEPOTS.map((d) => [d, { q: '', type: '', page: 1 }])),
  user: null,
  session: null,
  view: 'depots',  // or 'settings'
  renewing: false,  // a password change is replacing the session: its 401s are expected
  loadToken: 0,
  lastData: null,
};

// --- location.hash ------------------------------------------------------------------------

function readHash() {
  const raw = location.hash.replace(/^#\/?/, '');
  const [depot, query = ''] = raw.split('?');
  state.view = depot === 'settings' ? 'settings' : 'depots';
  if (!DEPOTS.includes(depot)) return;
  state.depot = depot;
  const params = new URLSearchParams(query);
  const type = params.get('type') || '';
  state.filters[depot] = {
    q: params.get('q') || '',
    type: ['docker', 'lxc'].includes(type) ? type : '',
    page: Math.max(1, parseInt(params.get('page') || '1', 10) || 1),
  };
}

function writeHash() {
  if (state.view === 'settings') return;
  const f = state.filters[state.depot];
  const params = new URLSearchParams();
  if (f.q) params.set('q', f.q);
  if (f.type) params.set('type', f.type);
  if (state.depot === 'dockerhub' && f.page > 1) params.set('page', String(f.page));
  const query = params.toString();
  const hash = `#${state.depot}${query ? `?${query}` : ''}`;
  if (location.hash !== hash) history.replaceState(null, '', hash);
}

// --- views -------------------------------------------------------------------------------

const announcer = $('announcer');
function announce(message) {
  announcer.textContent = '';
  setTimeout(() => { announcer.textContent = message; }, 50);
}

const results = new ResultsView({
  onDownload: (entry, button) => downloadDialog.open(entry, button),
  onInspect: (entry, tag, button) => inspectPanel.show(entry.name, tag, button),
  onDelete: (entry, tag, button) => confirmDelete(entry, tag, button),
  onUpdate: (entry, tag) => startUpdate(entry, tag),
});

const isBusy = (type, name) => downloads.isBusy(type, name);
const downloads = new Downloads({
  announce,
  onBusyChange: () => results.updateBusy(isBusy),
  onImageEvent: (event) => imageChanged(event),
  onJobEvent: (job) => importDialog.jobEvent(job),
  onUpdateEvent: (event) => updateChanged(event),
  onConnection: (up) => setOnline(up),
});

// The dot beside the user's name: green while wharfd answers and the events stream is open,
// red from the first failed request or broken stream until it answers again.
function setOnline(up) {
  const dot = $('connection');
  const text = up ? 'Connected to wharfd' : 'wharfd cannot be reached';
  dot.dataset.state = up ? 'online' : 'offline';
  dot.title = text;
  $('connection-text').textContent = text;
}
onReachability(setOnline);

// A download the page started: shown in the panel at once, and a toast until its job ends.
function downloadStarted(type, name, tag, { since, verb = 'Downloading' } = {}) {
  downloads.started(type, name, tag, since);
  downloads.attachToast(type, name, tag, toast(`${verb} ${familiarName(type, name)}:${tag}`,
                                               'info', { timeout: STARTED_TOAST_MS }));
}

const catalogIcons = new CatalogIcons();
results.catalogIcons = catalogIcons;
const localSort = new LocalSort({ onChange: () => load({ quiet: true }) });
const pullForm = new PullForm({
  onStarted: (name, tag) => downloadStarted('docker', name, tag),
});

const updateChecks = new UpdateChecks({
  announce,
  onChecked: () => {
    if (state.depot === 'local') load({ quiet: true });
  },
});

const downloadDialog = new DownloadDialog({
  onStarted: (type, name, tag) => downloadStarted(type, name, tag),
});
const importDialog = new ImportDialog({
  announce,
  onImported: () => {
    if (state.depot === 'local') load({ quiet: true });
  },
});
const confirmDialog = new ConfirmDialog();
const inspectPanel = new InspectPanel();
const settings = new Settings({
  confirm: confirmDialog,
  // Changing my password ends my sessions, this one too: sign in again with the new one.
  renewSession: async (username, password) => {
    state.renewing = true;
    try {
      state.session = await api.login(username, password);
      downloads.start();
    } finally {
      state.renewing = false;
    }
  },
});

function confirmDelete(entry, tag, opener) {
  const what = tag ? `${entry.name}:${tag}` : entry.name;
  const text = tag
    ? `${what} will be removed from this server. Layers that other images use are kept.`
    : `Every tag of ${entry.name} (${entry.tags.join(', ')}) will be removed from this server.`;
  confirmDialog.ask({ title: `Delete ${what}?`, text, confirm: 'Delete', opener }, async () => {
    await api.remove(entry.type, entry.name, tag);
    toast(`Deleted ${what}`, 'success');
    announce(`Deleted ${what}.`);
    await load({ quiet: true });
  });
}

// Updating a tag is downloading it again: the new image replaces the old one once it is
// verified and committed, and the listing that follows that shows the flag gone.
async function startUpdate(entry, tag) {
  const what = `${entry.name}:${tag}`;
  const since = performance.now();
  try {
    await api.download('dockerhub', 'docker', entry.name, tag,
                       { description: entry.description || '', icon: entry.icon || '' });
    downloadStarted('docker', entry.name, tag, { since, verb: 'Updating' });
  } catch (err) {
    if (err.status !== 401) toast(`Cannot update ${what}: ${err.message}`, 'error');
  }
}

// A local tag's update flag changed (a check here, in another tab or in the background).
function updateChanged(event) {
  updateChecks.changed(event);
  if (state.depot !== 'local' || event.type !== 'docker') return;
  results.updateFlag(event.type, event.name, event.tag, event.update_available === true, isBusy);
}

// An image was added or removed (here, in another tab or by the CLI).
const refreshAfterImageEvent = debounce(async () => {
  if (!state.user || state.view === 'settings') return;
  if (state.depot === 'local') {
    await load({ quiet: true });
    return;
  }
  try {
    const local = await api.list({ from: 'local' });
    const installed = new Set(local.results.map((e) => `${e.type}|${e.name}`));
    results.updateInstalled(installed);
  } catch {
    // the next listing shows the truth
  }
}, 300);

function imageChanged() {
  localSort.forget();
  refreshAfterImageEvent();
}

// --- the listing -------------------------------------------------------------------------

function selectTab(depot, { focus = false } = {}) {
  for (const tab of document.querySelectorAll('[role="tab"]')) {
    const selected = tab.dataset.depot === depot;
    tab.setAttribute('aria-selected', String(selected));
    tab.tabIndex = selected ? 0 : -1;
    if (selected && focus) tab.focus();
  }
  $('panel').setAttribute('aria-labelledby', `tab-${depot}`);
  const f = state.filters[depot];
  $('search').value = f.q;
  $('search').placeholder = depot === 'dockerhub' ? 'Search Docker Hub'
                                                  : `Search ${DEPOT_LABELS[depot]} images`;
  const radio = document.querySelector(`#type-filter input[value="${f.type}"]`);
  if (radio) radio.checked = true;
  document.body.dataset.depot = depot;
}

async function load({ quiet = false } = {}) {
  const depot = state.depot;
  const f = state.filters[depot];
  const token = ++state.loadToken;
  writeHash();
  $('pager').hidden = depot !== 'dockerhub' || $('pager').hidden;
  if (!quiet) results.loading(depot);
  const focused = document.activeElement;
  const focusKey = focused?.getAttribute('aria-label');
  const focusRow = focused?.closest('#results li.tag-row');
  const focusCard = focusRow?.closest('article.card')?.dataset.imageKey;
  localSort.show(depot === 'local');
  try {
    const [listed, checks] = await Promise.all([
      api.list({
        from: depot, type: f.type, filterText: f.q,
        ...(depot === 'dockerhub' ? { page: f.page, n: HUB_PAGE_SIZE } : {}),
      }),
      depot === 'local' ? updateChecks.refresh() : null,
      depot === 'local' ? catalogIcons.load() : null,
    ]);
    let data = listed;
    if (depot === 'local') data = { ...listed, results: await localSort.sort(listed.results || []) };
    else if (depot !== 'dockerhub') catalogIcons.learn(listed.results);
    if (token !== state.loadToken) return;
    state.lastData = data;
    results.render(depot, data, { filterText: f.q, isBusy, checks: checks || undefined });
    updatePager(depot, data);
    if (focusKey && quiet) {
      // A quiet reload keeps the keyboard where it was, when that button still exists, else
      // on the same tag's row (an updated tag has no Update button any more).
      const again = [...document.querySelectorAll('#results button')]
        .find((b) => b.getAttribute('aria-label') === focusKey);
      const row = focusRow && [...document.querySelectorAll(
        `#results article.card[data-image-key="${CSS.escape(focusCard)}"] li.tag-row`)]
        .find((r) => r.dataset.tag === focusRow.dataset.tag);
      (again || row?.querySelector('button'))?.focus();
    }
  } catch (err) {
    if (token !== state.loadToken) return;
    if (err instanceof ApiError && err.status === 401) return;
    results.error(depot, err, () => load());
    $('pager').hidden = true;
  }
}

function updatePager(depot, data) {
  const pager = $('pager');
  if (depot !== 'dockerhub') {
    pager.hidden = true;
    return;
  }
  const page = Number(data.page) || 1;
  const pages = Number(data.num_pages) || 1;
  pager.hidden = pages <= 1;
  $('page-info').textContent = `Page ${page} of ${pages}`;
  $('page-prev').disabled = page <= 1;
  $('page-next').disabled = page >= pages;
}

function goToPage(delta) {
  const f = state.filters.dockerhub;
  f.page = Math.max(1, f.page + delta);
  load();
  $('panel').scrollIntoView({ block: 'start', behavior: 'smooth' });
}

function switchDepot(depot, opts) {
  if (!DEPOTS.includes(depot)) return;
  state.depot = depot;
  selectTab(depot, opts);
  load();
}

// The depots (tabs, results and Downloads) or the Settings view, as location.hash says.
function route() {
  const inSettings = state.view === 'settings';
  $('settings-view').hidden = !inSettings;
  $('tabs').hidden = inSettings;
  document.querySelector('.layout').hidden = inSettings;
  $('settings-link').toggleAttribute('aria-current', inSettings);
  if (inSettings) {
    $('settings-back').href = `#${state.depot}`;
    settings.open(state.session);
    return;
  }
  selectTab(state.depot);
  load();
}

// --- login and session -------------------------------------------------------------------

function showLogin(message) {
  state.user = null;
  state.session = null;
  catalogIcons.reset();
  $('settings-body').replaceChildren();  // the next user sees only what is theirs
  downloads.reset();
  updateChecks.reset();
  for (const d of document.querySelectorAll('dialog[open]')) d.close();
  $('main').hidden = true;
  $('session-bar').hidden = true;
  $('login-view').hidden = false;
  const error = $('login-error');
  error.textContent = message || '';
  error.hidden = !message;
  const user = $('login-username');
  (user.value ? $('login-password') : user).focus();
}

function showApp(session) {
  state.user = session.username;
  state.session = session;
  setOnline(true);
  // Only an admin may change the images (wharfd refuses the others with 403).
  $('import-open').hidden = session.isAdmin !== true;
  pullForm.setAdmin(session.isAdmin === true);
  results.canManage = session.isAdmin === true;
  updateChecks.setAdmin(session.isAdmin === true);
  $('user-name').textContent = session.username;
  $('login-view').hidden = true;
  $('login-form').reset();
  $('main').hidden = false;
  $('session-bar').hidden = false;
  readHash();
  route();
  downloads.start();
}

onUnauthorized(() => {
  if (state.user && !state.renewing) showLogin('Your session has ended. Sign in again to continue.');
});

$('login-form').addEventListener('submit', async (e) => {
  e.preventDefault();
  const username = $('login-username').value.trim();
  const password = $('login-password').value;
  const error = $('login-error');
  if (!username || !password) {
    error.textContent = 'Enter your username and password.';
    error.hidden = false;
    (!username ? $('login-username') : $('login-password')).focus();
    return;
  }
  const submit = $('login-submit');
  submit.disabled = true;
  submit.textContent = 'Signing in…';
  error.hidden = true;
  try {
    const session = await api.login(username, password);
    showApp(session);
  } catch (err) {
    error.textContent = err.status === 401 || err.status === 403
      ? `Sign-in failed: ${err.message}` : err.message;
    error.hidden = false;
    $('login-password').select();
    $('login-password').focus();
  } finally {
    submit.disabled = false;
    submit.textContent = 'Sign in';
  }
});

$('logout').addEventListener('click', async () => {
  try {
    await api.logout();
  } catch (err) {
    if (!(err instanceof ApiError) || err.status !== 401) {
      toast(`Cannot log out: ${err.message}`, 'error');
      return;
    }
  }
  showLogin('');
  $('login-hint').textContent = 'You have signed out.';
});

// --- controls ------------------------------------------------------------------------------

const tabs = [...document.querySelectorAll('[role="tab"]')];
for (const tab of tabs) {
  tab.addEventListener('click', () => switchDepot(tab.dataset.depot));
  tab.addEventListener('keydown', (e) => {
    const i = tabs.indexOf(tab);
    let next = null;
    if (e.key === 'ArrowRight') next = tabs[(i + 1) % tabs.length];
    else if (e.key === 'ArrowLeft') next = tabs[(i - 1 + tabs.length) % tabs.length];
    else if (e.key === 'Home') next = tabs[0];
    else if (e.key === 'End') next = tabs[tabs.length - 1];
    if (!next) return;
    e.preventDefault();
    switchDepot(next.dataset.depot, { focus: true });
  });
}

const searchNow = () => {
  const f = state.filters[state.depot];
  const q = $('search').value.trim();
  if (q === f.q) return;
  f.q = q;
  f.page = 1;
  load();
};
const searchLater = debounce(searchNow, 350);
$('search').addEventListener('input', searchLater);
$('toolbar').addEventListener('submit', (e) => {
  e.preventDefault();
  searchLater.cancel();
  searchNow();
});
for (const radio of document.querySelectorAll('#type-filter input')) {
  radio.addEventListener('change', () => {
    const f = state.filters[state.depot];
    f.type = radio.value;
    f.page = 1;
    load();
  });
}
$('import-open').prepend(icon('upload'));
$('settings-link').prepend(icon('gear'));
$('import-open').addEventListener('click', () => importDialog.open($('import-open')));
$('page-prev').addEventListener('click', () => goToPage(-1));
$('page-next').addEventListener('click', () => goToPage(1));

$('downloads-toggle').addEventListener('click', () => {
  const panel = $('downloads');
  if (state.view === 'settings') {  // the panel is beside the depots: go back to them
    state.view = 'depots';
    history.pushState(null, '', `#${state.depot}`);
    route();
    panel.classList.remove('open');
  }
  const open = !panel.classList.contains('open');
  panel.classList.toggle('open', open);
  $('downloads-toggle').setAttribute('aria-expanded', String(open));
  if (open) {
    panel.scrollIntoView({ block: 'nearest' });
    panel.focus();
  }
});

window.addEventListener('hashchange', () => {
  if (!state.user) return;
  const now = () => JSON.stringify([state.view, state.depot, state.filters[state.depot]]);
  const before = now();
  readHash();
  if (now() === before) return;
  route();
});

// --- start -------------------------------------------------------------------------------

readHash();
selectTab(state.depot);
api.session().then(showApp, (err) => {
  showLogin(err instanceof ApiError && err.status === 401 ? '' : err.message);
});
