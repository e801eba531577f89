// End-to-end test of wharf's web page in Debian's chromium, driven by playwright-core.
// tests/web/run_e2e.py starts the docker-registry, the throttling proxy and wharfd, then runs
// this with WHARF_URL, WHARF_PASSWORD, WHARF_ARTIFACTS (where the screenshots go) and
// WHARF_ARCHIVES (the archive files the import steps upload; the exported one is saved there)
// and WHARF_VIEWER_PASSWORD (of the user "viewer", who is not an admin) and WHARF_REGISTRY (the
// docker-registry behind wharfd's Docker Hub, where the update steps push a new team/fresh).

import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { chromium } from 'playwright-core';

const BASE = process.env.WHARF_URL;
const PASSWORD = process.env.WHARF_PASSWORD;
const ARTIFACTS = process.env.WHARF_ARTIFACTS || path.resolve('tests/artifacts/web');
const ARCHIVES = process.env.WHARF_ARCHIVES;
const VIEWER_PASSWORD = process.env.WHARF_VIEWER_PASSWORD;  // of "viewer", not an admin
const REGISTRY = process.env.WHARF_REGISTRY;  // host:port of the docker-registry
assert.ok(BASE && PASSWORD && ARCHIVES && VIEWER_PASSWORD && REGISTRY,
          'WHARF_URL, WHARF_PASSWORD, WHARF_ARCHIVES, WHARF_VIEWER_PASSWORD and WHARF_REGISTRY ' +
          'must be set (run run_e2e.py)');

const CHROMIUM_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic',
  '--no-first-run', '--disable-background-networking', '--disable-component-update',
  '--disable-sync'];

fs.mkdirSync(ARTIFACTS, { recursive: true });
for (const f of fs.readdirSync(ARTIFACTS)) if (f.endsWith('.png')) fs.rmSync(path.join(ARTIFACTS, f));

// The same rule as share/web/dom.js: decimal units, three significant digits.
function humanBytes(n) {
  if (n < 1000) return `${n} B`;
  const units = ['kB', 'MB', 'GB', 'TB', 'PB'];
  let value = n;
  let unit = -1;
  do { value /= 1000; unit += 1; } while (value >= 999.95 && unit < units.length - 1);
  return `${value.toFixed(value >= 100 ? 0 : value >= 10 ? 1 : 2)} ${units[unit]}`;
}

// The entries of a tar archive, name → contents (ustar names with their prefix, pax paths).
function tarEntries(buf) {
  const entries = new Map();
  let pax = {};
  for (let off = 0; off + 512 <= buf.length;) {
    const header = buf.subarray(off, off + 512);
    if (header.every((b) => b === 0)) break;
    const field = (at, n) => header.subarray(at, at + n).toString('latin1').replace(/\0[^]*$/, '');
    const size = parseInt(field(124, 12).trim() || '0', 8);
    const type = field(156, 1);
    const body = buf.subarray(off + 512, off + 512 + size);
    off += 512 + Math.ceil(size / 512) * 512;
    if (type === 'x') {
      pax = Object.fromEntries(body.toString('utf8').split('\n').filter(Boolean)
        .map((r) => r.slice(r.indexOf(' ') + 1).split(/=(.*)/s).slice(0, 2)));
      continue;
    }
    const prefix = field(345, 155);
    const name = pax.path || (prefix ? `${prefix}/${field(0, 100)}` : field(0, 100));
    pax = {};
    if (type === '0' || type === '') entries.set(name.replace(/^\.\//, ''), body);
  }
  return entries;
}

// The job label wharfd gives an upload of `file` (ASCII names: every other byte becomes _).
const importLabel = (file) => path.basename(file).replace(/[^A-Za-z0-9._-]/g, '_');

const userDataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'wharf-chromium-'));
const context = await chromium.launchPersistentContext(userDataDir, {
  executablePath: '/usr/bin/chromium',
  headless: true,
  args: CHROMIUM_ARGS,
  viewport: { width: 1360, height: 860 },
  colorScheme: 'light',
});
context.setDefaultTimeout(15000);
const page = context.pages()[0] || await context.newPage();

// Anything the page logs as an error (a CSP violation, an exception) fails the test. Images
// from the catalogs' remote hosts cannot load here: those fall back, by design.
const pageErrors = [];
page.on('pageerror', (e) => pageErrors.push(`exception: ${e.message}`));
page.on('console', (m) => {
  if (m.type() !== 'error') return;
  const text = m.text();
  if (/Failed to load resource/.test(text)) return;  // expected 4xx/5xx answers, remote icons
  pageErrors.push(`console: ${text}`);
});

let shot = 0;
async function screenshot(name, target = page) {
  shot += 1;
  const file = path.join(ARTIFACTS, `${String(shot).padStart(2, '0')}-${name}.png`);
  await target.screenshot({ path: file, animations: 'disabled' });
}

async function api(method, url, data) {
  const res = await context.request.fetch(BASE + url, { method, data });
  return { status: res.status(), body: await res.json().catch(() => null) };
}

const results = [];
async function step(name, fn) {
  const started = Date.now();
  try {
    await fn();
    results.push([name, null]);
    console.log(`ok ${results.length} - ${name} (${Date.now() - started} ms)`);
  } catch (err) {
    results.push([name, err]);
    console.log(`not ok ${results.length} - ${name}\n${err.stack || err}`);
    await screenshot(`FAILED-${name.replace(/\W+/g, '-')}`).catch(() => {});
    throw err;
  }
}

const tab = (name) => page.getByRole('tab', { name });
const search = () => page.getByRole('searchbox', { name: 'Search images' });
const card = (title) => page.locator('article.card').filter({
  has: page.getByRole('heading', { name: title, exact: true }) });
const job = (name, tag) => page.locator(`#job-list li.job[data-name="${name}"][data-tag="${tag}"]`);

async function searchFor(text) {
  await search().fill(text);  // the page searches after a short pause in typing
  await page.waitForFunction((q) => document.getElementById('result-status').textContent
    .includes(`“${q}”`), text);
}

async function startDownload(name, { tag, other } = {}) {
  await card(name).getByRole('button', { name: `Download ${name}` }).click();
  const dialog = page.getByRole('dialog', { name: `Download ${name}` });
  await dialog.waitFor();
  if (other) {
    await dialog.getByRole('textbox', { name: 'Other tag' }).fill(other);
    await assert.ok(await dialog.getByRole('radio', { name: 'Other tag' }).isChecked());
  } else {
    await dialog.getByRole('radio', { name: tag }).check();
  }
  await dialog.getByRole('button', { name: 'Download', exact: true }).click();
  await dialog.waitFor({ state: 'hidden' });
}

let exitCode = 0;
try {
  await step('the page is served with its security headers', async () => {
    const res = await page.goto(BASE + '/');
    const headers = res.headers();
    assert.match(headers['content-security-policy'], /default-src 'self'/);
    assert.equal(headers['x-content-type-options'], 'nosniff');
    assert.equal(headers['x-frame-options'], 'DENY');
    assert.equal(headers['referrer-policy'], 'no-referrer');
    await page.getByRole('heading', { name: 'Sign in to wharf' }).waitFor();
    await screenshot('login');
  });

  await step('a wrong password shows the error', async () => {
    await page.getByLabel('Username').fill('admin');
    await page.getByLabel('Password').fill('not-the-password');
    await page.getByRole('button', { name: 'Sign in' }).click();
    const alert = page.locator('#login-error');
    await alert.waitFor();
    assert.match(await alert.textContent(), /Sign-in failed: .+/);
    assert.equal(await page.locator('#main').isHidden(), true);
    await screenshot('login-wrong-password');
  });

  await step('log in', async () => {
    await page.getByLabel('Password').fill(PASSWORD);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await tab('Local').waitFor();
    assert.equal(await tab('Local').getAttribute('aria-selected'), 'true');
    await page.getByRole('heading', { name: 'No local images yet' }).waitFor();
    assert.equal(await page.locator('#user-name').textContent(), 'admin');
    await screenshot('local-empty');
  });

  await step('App Center lists its catalog with fallback icons', async () => {
    await tab('App Center').click();
    await page.locator('article.card').first().waitFor();
    assert.equal(await tab('App Center').getAttribute('aria-selected'), 'true');
    const icons = await page.locator('article.card img.image-icon').evaluateAll(
      (imgs) => imgs.map((i) => i.getAttribute('src')));
    assert.ok(icons.length > 0 && icons.every((s) => s.startsWith('/icons/') || /^https?:/.test(s)),
              JSON.stringify(icons));
    // Keyboard: arrows move between tabs and select them.
    await tab('App Center').focus();
    await page.keyboard.press('ArrowRight');
    assert.equal(await tab('Official').getAttribute('aria-selected'), 'true');
    await page.keyboard.press('ArrowLeft');
    await page.locator('article.card').first().waitFor();
    await page.waitForFunction(() => !document.querySelector('#results[aria-busy="true"]'));
    await screenshot('appcenter');
  });

  await step('search the Docker Hub tab (the registry catalog)', async () => {
    await tab('Docker Hub').click();
    await searchFor('diamond');
    await card('lgsd/diamond').waitFor();
    assert.equal(await card('team/slow').count(), 0);
    assert.match(await page.evaluate(() => location.hash), /^#dockerhub\?q=diamond/);
    await screenshot('dockerhub-search');
  });

  await step('the tag chooser lists the tags', async () => {
    await card('lgsd/diamond').getByRole('button', { name: 'Download lgsd/diamond' }).click();
    const dialog = page.getByRole('dialog', { name: 'Download lgsd/diamond' });
    await dialog.getByRole('radio', { name: '1.0' }).waitFor();
    assert.ok(await dialog.getByRole('radio', { name: 'latest' }).isChecked());
    await screenshot('tag-chooser');
    await page.keyboard.press('Escape');
    await dialog.waitFor({ state: 'hidden' });
  });

  let slowSize = 0;
  await step('download: the progress bar reaches 100%', async () => {
    await searchFor('slow');
    await startDownload('team/slow', { tag: 'latest' });
    const bar = job('team/slow', 'latest').getByRole('progressbar',
                                                      { name: 'Download of team/slow:latest' });
    await bar.waitFor();
    await page.waitForFunction(() => {
      const b = document.querySelector('li.job[data-name="team/slow"] [role="progressbar"]');
      const v = Number(b?.getAttribute('aria-valuenow'));
      return v >= 15 && v <= 85;
    }, null, { timeout: 20000 });
    assert.match(await job('team/slow', 'latest').locator('.job-bytes').textContent(),
                 /[\d.]+ [kMG]?B of [\d.]+ MB/);
    await page.waitForFunction(() => /\/s/.test(
      document.querySelector('li.job[data-name="team/slow"] .job-speed')?.textContent || ''));
    await screenshot('download-progress');
    await page.waitForFunction(() => document.querySelector(
      'li.job[data-name="team/slow"] [role="progressbar"]')?.getAttribute('aria-valuenow') === '100',
    null, { timeout: 30000 });
    // Every byte is in at 100%; the job is done once the image is verified and committed.
    await job('team/slow', 'latest').locator('.job-status', { hasText: 'Completed' })
      .waitFor({ timeout: 10000 });
    await card('team/slow').locator('.badge-installed').waitFor();
    await screenshot('download-complete');
  });

  await step('a failed download shows its error', async () => {
    await searchFor('diamond');
    await startDownload('lgsd/diamond', { other: 'no-such-tag' });
    const failed = job('lgsd/diamond', 'no-such-tag');
    await failed.locator('.job-status', { hasText: 'Failed' }).waitFor({ timeout: 20000 });
    // A plain sentence first, the registry's own message behind Details.
    const lead = (await failed.locator('.job-error-lead').textContent()).trim();
    assert.ok(lead.length > 5, `error sentence shown: "${lead}"`);
    const status = await api('GET', '/api/v1/image/downloadstatus');
    const entry = status.body.find((j) => j.name === 'lgsd/diamond' && j.tag === 'no-such-tag');
    assert.equal(entry.status, 'failed');
    assert.notEqual(lead, entry.error);
    const raw = failed.locator('.error-detail .error-raw');
    assert.equal(await raw.isVisible(), false);
    await failed.locator('.error-detail summary').click();
    await raw.waitFor();
    assert.equal(await raw.textContent(), entry.error);
    await screenshot('download-failed');
    await failed.getByRole('button', { name: 'Dismiss lgsd/diamond:no-such-tag' }).click();
    await failed.waitFor({ state: 'detached' });
  });

  await step('Cancel stops a download', async () => {
    await searchFor('cancel');
    await startDownload('team/cancel', { tag: 'latest' });
    await page.waitForFunction(() => Number(document.querySelector(
      'li.job[data-name="team/cancel"] [role="progressbar"]')?.getAttribute('aria-valuenow')) >= 3,
    null, { timeout: 20000 });
    await card('team/cancel').locator('.badge-busy').waitFor();
    await job('team/cancel', 'latest')
      .getByRole('button', { name: 'Cancel download of team/cancel:latest' }).click();
    await job('team/cancel', 'latest').locator('.job-status', { hasText: 'Cancelled' }).waitFor();
    await screenshot('download-cancelled');
    const status = await api('GET', '/api/v1/image/downloadstatus');
    assert.equal(status.body.filter((j) => j.name === 'team/cancel').length, 0);
    await card('team/cancel').locator('.badge-busy').waitFor({ state: 'detached' });
    const local = await api('GET', '/api/v1/image/?from=local');
    assert.ok(!local.body.results.some((e) => e.name === 'team/cancel'));
  });

  await step('a download started elsewhere shows in the panel', async () => {
    const res = await api('POST', '/api/v1/image/dockerhub/docker/lgsd/diamond/1.0/download', {});
    assert.equal(res.status, 200);
    await job('lgsd/diamond', '1.0').waitFor();
    await page.waitForFunction(() => document.querySelector(
      'li.job[data-name="lgsd/diamond"][data-tag="1.0"] .job-status')?.textContent === 'Completed',
    null, { timeout: 20000 });
  });

  await step('the image is under Local with the right size', async () => {
    await tab('Local').click();
    await card('team/slow').waitFor();
    const local = await api('GET', '/api/v1/image/?from=local');
    const entry = local.body.results.find((e) => e.name === 'team/slow');
    slowSize = entry.size[entry.tags.indexOf('latest')];
    assert.ok(slowSize > 9 * 1024 * 1024, `unpacked size ${slowSize}`);
    const row = card('team/slow').locator('li.tag-row[data-tag="latest"]');
    assert.equal(await row.locator('.tag-size').textContent(), humanBytes(slowSize));
    assert.equal(Number(await row.locator('.tag-size').getAttribute('data-bytes')), slowSize);
    await card('lgsd/diamond').locator('li.tag-row[data-tag="1.0"]').waitFor();
    await screenshot('local');
  });

  await step('inspect it', async () => {
    const truth = (await api('GET', '/api/v1/image/docker/team/slow/latest/inspect')).body;
    await card('team/slow').getByRole('button', { name: 'Details of team/slow:latest' }).click();
    const sheet = page.getByRole('dialog', { name: 'team/slow:latest' });
    await sheet.getByRole('heading', { name: 'Config' }).waitFor();
    const props = await sheet.locator('dl.props').first().evaluate((dl) => {
      const out = {};
      for (const dt of dl.querySelectorAll('dt')) out[dt.textContent] = dt.nextElementSibling.textContent;
      return out;
    });
    assert.equal(props.Architecture, truth.Architecture);
    assert.equal(props.Os, truth.Os);
    assert.ok(props.Created && props.Created !== '—');
    assert.ok(props.Size.startsWith(humanBytes(truth.Size)), props.Size);
    assert.equal(await sheet.locator('ol.layer-list li').count(), truth.RootFS.Layers.length);
    assert.ok((await sheet.getByRole('heading', { name: /^Layers/ }).textContent())
      .includes(String(truth.RootFS.Layers.length)));
    // The pull command names this server, and what it names is served there.
    const host = new URL(BASE).host;
    const command = sheet.getByRole('textbox', { name: 'Pull command' });
    assert.equal(await command.inputValue(), `docker pull ${host}/team/slow:latest`);
    await sheet.getByRole('button', { name: 'Copy' }).click();
    await sheet.getByRole('status').filter({ hasText: /Copied|copy it/ }).waitFor();
    const basic = 'Basic ' + Buffer.from(`admin:${PASSWORD}`).toString('base64');
    const served = await context.request.fetch(`${BASE}/v2/team/slow/manifests/latest`,
                                               { headers: { Authorization: basic } });
    assert.equal(served.status(), 200);
    assert.equal(`team/slow@${served.headers()['docker-content-digest']}`,
                 truth.RepoDigests[0]);
    await screenshot('inspect');
    await page.keyboard.press('Escape');
    await sheet.waitFor({ state: 'hidden' });
  });

  let slowArchive = '';
  let slowId = '';
  await step('export: the details link to a Docker or an OCI archive', async () => {
    slowId = (await api('GET', '/api/v1/image/docker/team/slow/latest/inspect')).body.Id;
    await card('team/slow').getByRole('button', { name: 'Details of team/slow:latest' }).click();
    const sheet = page.getByRole('dialog', { name: 'team/slow:latest' });
    const link = sheet.getByRole('link', { name: 'Export' });
    await link.waitFor();
    const href = '/api/v1/image/docker/team/slow/latest/export';
    assert.equal(await link.getAttribute('href'), `${href}?format=docker`);
    assert.equal(await link.getAttribute('download'), '');
    assert.ok(await sheet.getByRole('radio', { name: 'Docker archive' }).isChecked());
    await sheet.getByRole('radio', { name: 'OCI archive' }).check();
    assert.equal(await link.getAttribute('href'), `${href}?format=oci`);
    await screenshot('export');
    // What the OCI link names is an OCI layout tar of this image, as an attachment.
    const oci = await context.request.fetch(BASE + await link.getAttribute('href'));
    assert.equal(oci.status(), 200);
    assert.match(oci.headers()['content-disposition'], /^attachment; filename="[^"/]+"/);
    const ociEntries = tarEntries(await oci.body());
    assert.ok(ociEntries.has('oci-layout') && ociEntries.has('index.json'),
              [...ociEntries.keys()].join(' '));
    // The Docker one, downloaded by the browser as a click on the link does.
    await sheet.getByRole('radio', { name: 'Docker archive' }).check();
    assert.equal(await link.getAttribute('href'), `${href}?format=docker`);
    const [download] = await Promise.all([page.waitForEvent('download'), link.click()]);
    const filename = download.suggestedFilename();
    assert.match(filename, /^[A-Za-z0-9._-]+\.tar$/);
    slowArchive = path.join(ARCHIVES, filename);
    await download.saveAs(slowArchive);
    const entries = tarEntries(fs.readFileSync(slowArchive));
    const manifest = JSON.parse(entries.get('manifest.json'));
    assert.deepEqual(manifest.map((m) => m.RepoTags), [['docker.io/team/slow:latest']]);
    assert.ok(manifest[0].Config.includes(slowId.replace(/^sha256:/, '')), manifest[0].Config);
    assert.equal(manifest[0].Layers.length, 2);
    for (const layer of manifest[0].Layers) assert.ok(entries.has(layer), layer);
    await page.keyboard.press('Escape');
    await sheet.waitFor({ state: 'hidden' });
  });

  await step('delete one tag, then the image, with confirmation', async () => {
    await card('lgsd/diamond').getByRole('button', { name: 'Delete lgsd/diamond:1.0' }).click();
    let confirm = page.getByRole('dialog', { name: 'Delete lgsd/diamond:1.0?' });
    await confirm.waitFor();
    await confirm.getByRole('button', { name: 'Delete' }).click();
    await confirm.waitFor({ state: 'hidden' });
    await card('lgsd/diamond').waitFor({ state: 'detached' });

    await card('team/slow').getByRole('button', { name: 'Delete team/slow:latest' }).click();
    confirm = page.getByRole('dialog', { name: 'Delete team/slow:latest?' });
    await confirm.waitFor();
    await screenshot('delete-confirm');
    await confirm.getByRole('button', { name: 'Delete' }).click();
    await confirm.waitFor({ state: 'hidden' });
    await card('team/slow').waitFor({ state: 'detached' });
    const local = await api('GET', '/api/v1/image/?from=local');
    assert.equal(local.body.results.length, 0);
    await page.getByRole('heading', { name: 'No local images yet' }).waitFor();
    await screenshot('deleted');
  });

  const importDialog = () => page.getByRole('dialog', { name: 'Import images' });
  async function importFile(file, { name } = {}) {
    await page.getByRole('button', { name: 'Import', exact: true }).click();
    const dialog = importDialog();
    await dialog.waitFor();
    assert.equal(await page.evaluate(() => document.activeElement.id), 'import-file');
    await dialog.getByLabel('Archive file').setInputFiles(file);
    await dialog.getByRole('textbox', { name: 'Name an untagged image as' }).fill(name || '');
    await dialog.getByRole('button', { name: 'Import', exact: true }).click();
    return dialog;
  }
  async function closeImport() {
    await importDialog().getByRole('button', { name: 'Close', exact: true }).last().click();
    await importDialog().waitFor({ state: 'hidden' });
    // The keyboard is back on the button that opened the dialog.
    await page.waitForFunction(() => document.activeElement?.id === 'import-open');
  }
  const importBar = () => importDialog().getByRole('progressbar');

  await step('import: the exported archive comes back through the file picker', async () => {
    assert.ok(slowArchive, 'the export step saved the archive');
    await tab('Local').click();
    await page.getByRole('heading', { name: 'No local images yet' }).waitFor();
    const dialog = await importFile(slowArchive);
    const result = dialog.getByRole('status').filter({ hasText: 'Imported' });
    await result.waitFor({ timeout: 30000 });
    assert.deepEqual(await result.locator('li').allTextContents(), ['team/slow:latest']);
    assert.equal(await importBar().getAttribute('aria-valuenow'), '100');
    assert.equal(await dialog.locator('#import-error').isHidden(), true);
    const size = fs.statSync(slowArchive).size;
    assert.equal(await dialog.locator('#import-bytes').textContent(),
                 `${humanBytes(size)} of ${humanBytes(size)}`);
    await screenshot('import-done');
    await closeImport();
    await card('team/slow').locator('li.tag-row[data-tag="latest"]').waitFor();
    const truth = (await api('GET', '/api/v1/image/docker/team/slow/latest/inspect')).body;
    assert.equal(truth.Id, slowId);
  });

  await step('import: an untagged archive takes the name given', async () => {
    const dialog = await importFile(path.join(ARCHIVES, 'hello-untagged.tar'),
                                    { name: 'imported/hello:1.0' });
    const result = dialog.getByRole('status').filter({ hasText: 'Imported' });
    await result.waitFor({ timeout: 30000 });
    assert.deepEqual(await result.locator('li').allTextContents(), ['imported/hello:1.0']);
    await closeImport();
    await card('imported/hello').locator('li.tag-row[data-tag="1.0"]').waitFor();
  });

  await step('import: a file that is not a tar shows the 400 message', async () => {
    const notes = path.join(ARCHIVES, 'notes.txt');
    const dialog = await importFile(notes);
    const error = dialog.getByRole('alert');
    await error.waitFor({ timeout: 30000 });
    assert.match(await importBar().getAttribute('aria-valuetext'), /^\d+%, failed$/);
    // The same bytes, sent without the page: the page shows the server's own message.
    const res = await context.request.fetch(`${BASE}/api/v1/image/import?file=notes.txt`, {
      method: 'POST', data: fs.readFileSync(notes),
      headers: { 'Content-Type': 'application/octet-stream' } });
    assert.equal(res.status(), 400);
    const message = (await res.json()).error.message;
    assert.match(message, /^not a tar archive: ./);
    assert.equal(await error.textContent(), `Cannot import notes.txt: ${message} (HTTP 400)`);
    await screenshot('import-not-a-tar');
    await closeImport();
    // Its job failed with that error; an upload cannot be retried from the panel.
    const failed = page.locator('#job-list li.job[data-name="notes.txt"]').first();
    await failed.locator('.job-status', { hasText: 'Failed' }).waitFor();
    assert.equal(await failed.locator('.job-error .error-raw').textContent(), message);
    assert.equal(await failed.getByRole('button', { name: /^Retry/ }).isHidden(), true);
    const dismiss = page.getByRole('button', { name: 'Dismiss notes.txt' });
    for (let left = await dismiss.count(); left > 0; left -= 1) {
      await dismiss.first().click();
      await dismiss.nth(left - 1).waitFor({ state: 'detached' });
    }
    const local = await api('GET', '/api/v1/image/?from=local');
    assert.deepEqual(local.body.results.map((e) => e.name).sort(), ['imported/hello', 'team/slow']);
  });

  await step('import: Cancel stops an upload', async () => {
    assert.equal((await api('DELETE', '/api/v1/image/local/docker/team/slow')).status, 200);
    await card('team/slow').waitFor({ state: 'detached' });
    const label = importLabel(slowArchive);
    const cdp = await context.newCDPSession(page);
    await cdp.send('Network.enable');
    // 512 kB/s: the upload of the ~9 MB archive lasts about 18 s, long enough to be watched.
    await cdp.send('Network.emulateNetworkConditions', {
      offline: false, latency: 0, downloadThroughput: -1, uploadThroughput: 512 * 1024 });
    try {
      const dialog = await importFile(slowArchive);
      await page.waitForFunction(() => Number(document.getElementById('import-bar')
        .getAttribute('aria-valuenow')) >= 3, null, { timeout: 10000 });
      assert.match(await dialog.locator('#import-bytes').textContent(),
                   /^[\d.]+ [kM]?B of [\d.]+ MB$/);
      // wharfd lists the upload as an import job, its bytes received as they come. (The
      // first import of this file may still be listed as completed.)
      const importing = page.locator(`#job-list li.job-importing[data-name="${label}"]`);
      await importing.waitFor();
      const job = page.locator(`#job-list li.job[data-name="${label}"]` +
                               `[data-tag="${await importing.getAttribute('data-tag')}"]`);
      assert.match(await job.getByRole('progressbar').getAttribute('aria-label'),
                   new RegExp(`^Import of ${label.replace(/\./g, '\\.')}$`));
      await screenshot('import-uploading');
      await dialog.getByRole('button', { name: 'Cancel import' }).click();
      await dialog.getByRole('status').filter({ hasText: 'cancelled' }).waitFor();
      assert.equal(await dialog.getByRole('button', { name: 'Close', exact: true }).last()
        .isEnabled(), true);
      await closeImport();
      // Cancelled jobs leave the list (failed ones stay), and nothing was recorded.
      await job.waitFor({ state: 'detached', timeout: 10000 });
      const status = await api('GET', '/api/v1/image/downloadstatus');
      assert.deepEqual(status.body.filter((j) => j.name === label), []);
      const local = await api('GET', '/api/v1/image/?from=local');
      assert.ok(!local.body.results.some((e) => e.name === 'team/slow'));
    } finally {
      await cdp.send('Network.emulateNetworkConditions', {
        offline: false, latency: 0, downloadThroughput: -1, uploadThroughput: -1 });
      await cdp.detach();
    }
    assert.equal((await api('DELETE', '/api/v1/image/local/docker/imported/hello')).status, 200);
    await page.getByRole('heading', { name: 'No local images yet' }).waitFor();
  });

  // --- update checks --------------------------------------------------------------------

  // The registry's manifest of repo:ref, {digest, type, bytes}; `put` pushes bytes to a tag.
  async function registryManifest(repo, ref) {
    const res = await fetch(`http://${REGISTRY}/v2/${repo}/manifests/${ref}`, { headers: {
      Accept: 'application/vnd.oci.image.manifest.v1+json, ' +
              'application/vnd.docker.distribution.manifest.v2+json' } });
    assert.equal(res.status, 200, `GET ${repo}:${ref} from the registry`);
    return { digest: res.headers.get('docker-content-digest'),
             type: res.headers.get('content-type'), bytes: Buffer.from(await res.arrayBuffer()) };
  }
  async function pushManifest(repo, tag, manifest) {
    const res = await fetch(`http://${REGISTRY}/v2/${repo}/manifests/${tag}`, {
      method: 'PUT', headers: { 'Content-Type': manifest.type }, body: manifest.bytes });
    assert.equal(res.status, 201, `PUT ${repo}:${tag}: ${await res.text()}`);
    assert.equal(res.headers.get('docker-content-digest'), manifest.digest);
    assert.equal((await registryManifest(repo, tag)).digest, manifest.digest);
  }
  const updatesOf = async (name, tag) =>
    (await api('GET', '/api/v1/image/updates')).body.find((u) => u.name === name && u.tag === tag);
  const localFlags = async (name) => {
    const entry = (await api('GET', '/api/v1/image/?from=local')).body.results
      .find((e) => e.name === name);
    return Object.fromEntries(entry.tags.map((t, i) => [t, entry.update_available[i]]));
  };
  const freshRow = () => card('team/fresh').locator('li.tag-row[data-tag="latest"]');
  const freshBadge = () => freshRow().locator('.badge-update');
  const freshUpdate = () => card('team/fresh').getByRole('button', { name: 'Update team/fresh:latest' });
  const updateStatus = () => page.locator('#update-status');
  const checkButton = () => page.locator('#update-check-button');
  const waitStatus = (re) => page.waitForFunction(
    (src) => new RegExp(src).test(document.getElementById('update-status').textContent), re.source);

  // Starts "Check for updates" (with the keyboard, or a click) and waits for its answer and
  // the listing after it; true when the button showed the check running meanwhile.
  async function checkForUpdates({ keyboard = false } = {}) {
    await page.evaluate(() => {
      const b = document.getElementById('update-check-button');
      window.sawChecking = false;
      window.checkObserver?.disconnect();
      window.checkObserver = new MutationObserver(() => {
        if (b.textContent === 'Checking…' && b.getAttribute('aria-disabled') === 'true') {
          window.sawChecking = true;
        }
      });
      window.checkObserver.observe(b, { childList: true, characterData: true, subtree: true,
                                        attributes: true });
    });
    assert.equal(await checkButton().textContent(), 'Check for updates');
    let checked = false;
    const answered = page.waitForResponse((r) => {
      checked ||= r.url().endsWith('/api/v1/image/updates/check');
      return checked;
    });
    const listed = page.waitForResponse((r) => checked &&
                                               r.url().includes('/api/v1/image/?from=local'));
    if (keyboard) {
      await checkButton().focus();
      await page.keyboard.press('Enter');
    } else {
      await checkButton().click();
    }
    const answer = await answered;
    assert.equal(answer.status(), 200);
    await listed;
    await page.waitForFunction(() => document.getElementById('update-check-button')
      .textContent === 'Check for updates');
    return page.evaluate(() => window.sawChecking);
  }

  await step('updates: "Check for updates", the time of the last check, a check that failed',
    async () => {
      await tab('Local').click();
      await page.getByRole('heading', { name: 'No local images yet' }).waitFor();
      assert.equal(await updateStatus().isHidden(), true, 'no Docker tag to check');
      assert.equal(await checkButton().isHidden(), true);
      const res = await api('POST', '/api/v1/image/dockerhub/docker/team/fresh/latest/download',
                            {});
      assert.equal(res.status, 200);
      await freshRow().waitFor({ timeout: 20000 });
      // An image its registry does not hold: its check fails.
      const imported = await context.request.fetch(
        `${BASE}/api/v1/image/import?file=hello-untagged.tar&tag=gone/hello:1.0`, {
          method: 'POST', data: fs.readFileSync(path.join(ARCHIVES, 'hello-untagged.tar')),
          headers: { 'Content-Type': 'application/octet-stream' } });
      assert.equal(imported.status(), 200, await imported.text());
      const goneRow = card('gone/hello').locator('li.tag-row[data-tag="1.0"]');
      await goneRow.waitFor();
      await waitStatus(/^Not checked yet$/);
      assert.equal(await checkButton().isVisible(), true);

      assert.equal(await checkForUpdates({ keyboard: true }), true, 'shown as running');
      await waitStatus(/^Checked just now · 1 check failed$/);
      const fresh = await updatesOf('team/fresh', 'latest');
      const gone = await updatesOf('gone/hello', '1.0');
      assert.equal(fresh.update_available, false);
      assert.equal(fresh.error, '');
      assert.ok(gone.error, 'the check of gone/hello failed');
      const newest = Math.max(fresh.checked_at, gone.checked_at);
      assert.equal(await updateStatus().locator('time').getAttribute('datetime'),
                   new Date(newest * 1000).toISOString());
      // The failed check's error, behind a disclosure the keyboard opens (the listing after
      // the check shows it; the rest of that listing with it).
      const details = goneRow.locator('details.check-error');
      const summary = details.locator('summary');
      assert.equal((await summary.textContent()).trim(), 'Check failed');
      assert.equal(await freshBadge().count(), 0);
      assert.equal(await freshUpdate().count(), 0);
      assert.equal(await freshRow().locator('.check-error').count(), 0);
      assert.equal(await summary.getAttribute('title'), gone.error);
      const message = details.locator('p').first();
      assert.equal(await message.isVisible(), false);
      await summary.focus();
      await page.keyboard.press('Enter');
      await message.waitFor();
      assert.equal(await message.textContent(), gone.error);
      await screenshot('update-check-failed');
    });

  let fresh1 = null;
  let fresh2 = null;
  await step('updates: a tag pushed again gets the badge; Update takes the new image', async () => {
    fresh1 = await registryManifest('team/fresh', 'latest');
    fresh2 = await registryManifest('team/fresh', 'next');
    assert.notEqual(fresh1.digest, fresh2.digest);
    await pushManifest('team/fresh', 'latest', fresh2);
    assert.equal(await freshBadge().count(), 0, 'no badge before a check');

    assert.equal(await checkForUpdates(), true, 'shown as running');
    await freshBadge().waitFor();
    assert.equal(await freshBadge().textContent(), 'update available');
    await waitStatus(/^Checked just now · 1 update available · 1 check failed$/);
    const entry = await updatesOf('team/fresh', 'latest');
    assert.equal(entry.update_available, true);
    assert.equal(entry.remote_digest, fresh2.digest);
    assert.equal(entry.local_digest, fresh1.digest);
    assert.deepEqual(await localFlags('team/fresh'), { latest: true });
    assert.equal(await freshUpdate().isVisible(), true);
    assert.equal(await card('gone/hello').getByRole('button', { name: /^Update/ }).count(), 0);
    await screenshot('update-available');
    await page.setViewportSize({ width: 390, height: 844 });
    await page.emulateMedia({ colorScheme: 'dark' });
    await freshRow().scrollIntoViewIfNeeded();
    await screenshot('update-available-phone-dark');
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth - innerWidth);
    assert.ok(overflow <= 0, `page is ${overflow}px wider than the phone`);
    await page.emulateMedia({ colorScheme: 'light' });
    await page.setViewportSize({ width: 1360, height: 860 });

    // Update with the keyboard: it waits (aria-disabled, keeping the focus) while the download
    // runs, shows in Downloads like any download, and the badge goes once it is done.
    await page.evaluate(() => {
      window.sawWaiting = false;
      const b = [...document.querySelectorAll('[data-update-button]')]
        .find((x) => x.getAttribute('aria-label') === 'Update team/fresh:latest');
      new MutationObserver(() => {
        if (b.getAttribute('aria-disabled') === 'true') window.sawWaiting = true;
      }).observe(b, { attributes: true });
    });
    // The states the panel shows for team/fresh:latest from now on (the first download's job
    // may still be shown as completed: the Update's starts it over).
    await page.evaluate(() => {
      window.freshStates = [];
      const list = document.getElementById('job-list');
      new MutationObserver(() => {
        const s = list.querySelector('li.job[data-name="team/fresh"][data-tag="latest"] ' +
                                     '.job-status')?.textContent;
        if (s && s !== window.freshStates.at(-1)) window.freshStates.push(s);
      }).observe(list, { subtree: true, childList: true, characterData: true });
    });
    await freshUpdate().focus();
    await page.keyboard.press('Enter');
    const bar = job('team/fresh', 'latest').getByRole('progressbar',
                                                      { name: 'Download of team/fresh:latest' });
    // The old job's "Completed" may be recorded first (a mutation of the list before the new
    // job replaces it): the Update's own states are those from its first other state on.
    await page.waitForFunction(() => {
      const s = window.freshStates;
      const start = s.findIndex((x) => x !== 'Completed');
      return start >= 0 && s.length > start + 1 && s.at(-1) === 'Completed';
    }, null, { timeout: 30000 });
    const all = await page.evaluate(() => window.freshStates);
    const states = all.slice(all.findIndex((x) => x !== 'Completed'));
    assert.ok(states.length >= 2 && states.at(-1) === 'Completed', JSON.stringify(all));
    assert.equal(await bar.getAttribute('aria-valuenow'), '100');
    await freshBadge().waitFor({ state: 'detached' });
    assert.equal(await freshUpdate().count(), 0);
    assert.equal(await page.evaluate(() => window.sawWaiting), true, 'Update waited meanwhile');
    await waitStatus(/^Checked \S.* · 1 check failed$/);
    assert.doesNotMatch(await updateStatus().textContent(), /update available/);
    // The keyboard is on the tag's row still.
    await page.waitForFunction(() => document.activeElement?.getAttribute('aria-label') ===
                               'Details of team/fresh:latest');
    assert.deepEqual(await localFlags('team/fresh'), { latest: false });
    const inspect = (await api('GET', '/api/v1/image/docker/team/fresh/latest/inspect')).body;
    assert.ok(inspect.RepoDigests.includes(`team/fresh@${fresh2.digest}`),
              JSON.stringify(inspect.RepoDigests));
    await screenshot('updated');
  });

  await step('updates: a check made elsewhere sets and clears the badge live', async () => {
    assert.ok(fresh1 && fresh2, 'the previous step read both manifests');
    // The same card element throughout: the badge follows the "update" events, not a reload.
    await card('team/fresh').evaluate((el) => { el.dataset.marked = 'yes'; });
    const marked = page.locator('article.card[data-marked="yes"]');
    await pushManifest('team/fresh', 'latest', fresh1);  // the tag moves back
    const one = { name: 'team/fresh', tag: 'latest' };
    let res = await api('POST', '/api/v1/image/updates/check', one);
    assert.equal(res.status, 200);
    await freshBadge().waitFor();
    await waitStatus(/· 1 update available/);
    assert.equal(await marked.locator('.badge-update').count(), 1);
    assert.equal(await freshUpdate().isVisible(), true);
    await pushManifest('team/fresh', 'latest', fresh2);  // and forward again: nothing to do
    res = await api('POST', '/api/v1/image/updates/check', one);
    assert.equal(res.status, 200);
    await freshBadge().waitFor({ state: 'detached' });
    assert.equal(await freshUpdate().count(), 0);
    assert.equal(await marked.count(), 1, 'the card was not rebuilt');
  });

  await step('updates: a user who is not an admin sees the badge, no Update or Check', async () => {
    await pushManifest('team/fresh', 'latest', fresh1);
    assert.equal(await checkForUpdates(), true);
    await freshBadge().waitFor();
    await page.getByRole('button', { name: 'Log out' }).click();
    await page.getByLabel('Username').fill('viewer');
    await page.getByLabel('Password').fill(VIEWER_PASSWORD);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await freshBadge().waitFor();
    await waitStatus(/· 1 update available/);
    assert.equal(await page.locator('#user-name').textContent(), 'viewer');
    assert.equal(await checkButton().isHidden(), true);
    assert.equal(await freshUpdate().count(), 0);
    // Hidden because wharfd would refuse them: this session's check is a 403.
    const res = await api('POST', '/api/v1/image/updates/check', {});
    assert.equal(res.status, 403);
    await page.getByRole('button', { name: 'Log out' }).click();
    await page.getByLabel('Username').fill('admin');
    await page.getByLabel('Password').fill(PASSWORD);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await freshUpdate().waitFor();
    for (const name of ['team/fresh', 'gone/hello']) {
      assert.equal((await api('DELETE', `/api/v1/image/local/docker/${name}`)).status, 200);
    }
    await page.getByRole('heading', { name: 'No local images yet' }).waitFor();
    assert.equal(await updateStatus().isHidden(), true);
    assert.equal(await checkButton().isHidden(), true);
  });

  await step('an ended session returns to the login form and keeps the tab', async () => {
    await tab('Official').click();
    await page.locator('article.card').first().waitFor();
    await searchFor('mongo');
    await api('PUT', '/api/v1/logout');  // the session ends behind the page's back
    // The next request the page makes meets the 401; the event stream may meet it first,
    // in which case the filter is already hidden behind the login form.
    await page.locator('label[for="type-docker"]').click({ timeout: 3000 }).catch(() => {});
    await page.locator('#login-error', { hasText: 'session' }).waitFor();
    assert.match(await page.evaluate(() => location.hash), /^#official\?q=mongo/);
    await screenshot('session-ended');
    await page.getByLabel('Password').fill(PASSWORD);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await tab('Official').waitFor();
    assert.equal(await tab('Official').getAttribute('aria-selected'), 'true');
    assert.equal(await search().inputValue(), 'mongo');
  });

  await step('dark mode and phone width', async () => {
    await page.emulateMedia({ colorScheme: 'dark' });
    await tab('Docker Hub').click();
    await search().fill('');
    await search().press('Enter');
    await card('team/slow').waitFor();
    await screenshot('dockerhub-dark');
    await page.setViewportSize({ width: 390, height: 844 });
    await screenshot('phone-dark');
    await page.emulateMedia({ colorScheme: 'light' });
    await tab('Local').click();
    await page.getByRole('heading', { name: 'No local images yet' }).waitFor();
    await tab('App Center').click();
    await page.locator('article.card').first().waitFor();
    await screenshot('phone-light');
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth - innerWidth);
    assert.ok(overflow <= 0, `page is ${overflow}px wider than the phone`);
  });

  await step('a user who is not an admin has no Import button', async () => {
    await page.setViewportSize({ width: 1360, height: 860 });
    await tab('Local').click();
    await page.getByRole('heading', { name: 'No local images yet' }).waitFor();
    assert.equal(await page.getByRole('button', { name: 'Import', exact: true }).isVisible(), true);
    await page.getByRole('button', { name: 'Log out' }).click();
    await page.getByLabel('Username').fill('viewer');
    await page.getByLabel('Password').fill(VIEWER_PASSWORD);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('heading', { name: 'No local images yet' }).waitFor();
    assert.equal(await page.locator('#user-name').textContent(), 'viewer');
    assert.equal(await page.locator('#import-open').isHidden(), true);
    // Hidden because wharfd would refuse it: the same upload from this session is a 403.
    const res = await context.request.fetch(`${BASE}/api/v1/image/import?file=notes.txt`, {
      method: 'POST', data: fs.readFileSync(path.join(ARCHIVES, 'notes.txt')) });
    assert.equal(res.status(), 403);
  });

  // The page's later scenarios, in files of their own (each exports run(t)).
  const t = { page, context, step, api, screenshot, tab, search, card, job, searchFor,
              startDownload, humanBytes, BASE, PASSWORD, VIEWER_PASSWORD, REGISTRY };
  for (const file of ['./e2e_page.mjs', './e2e_settings.mjs']) {
    await (await import(file)).run(t);
  }

  await step('the page logged no errors', async () => {
    assert.deepEqual(pageErrors, []);
  });
} catch {
  exitCode = 1;
} finally {
  await context.close();
  fs.rmSync(userDataDir, { recursive: true, force: true });
}

const failed = results.filter(([, e]) => e).length;
console.log(`screenshots in ${ARTIFACTS}`);
console.log(`${results.length - failed} passed, ${failed} failed`);
process.exit(exitCode);
