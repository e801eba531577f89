// The page's rough edges (issue 24) and "Download by reference", run by e2e.mjs after its own
// steps with its helpers in `t`. WHARF_LONG_NAME: a 40-character image of the registry, big
// enough to watch downloading; WHARF_CONTROL: run_e2e.py's server that stops and starts
// wharfd. Every wait is for a condition, never for a time.

import assert from 'node:assert/strict';

const LONG = process.env.WHARF_LONG_NAME;
const CONTROL = process.env.WHARF_CONTROL;
const SIZES = [{ width: 1280, height: 800 }, { width: 390, height: 844 }];
const DESKTOP = { width: 1360, height: 860 };

// Signs out whoever is signed in, then in as `user`.
export async function loginAs(page, user, password) {
  const logout = page.getByRole('button', { name: 'Log out' });
  if (await logout.isVisible()) {
    await logout.click();
    await page.getByRole('heading', { name: 'Sign in to wharf' }).waitFor();
  }
  await page.locator('#login-username').fill(user);
  await page.locator('#login-password').fill(password);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.locator('#user-name', { hasText: user }).waitFor({ state: 'attached' });
  await page.locator('#main').waitFor();
}

// What of the Downloads panel is wider than its box, or outside the panel: [] when all fits.
function panelOverflow(page) {
  return page.evaluate(() => {
    const panel = document.getElementById('downloads');
    const box = panel.getBoundingClientRect();
    const bad = [];
    const label = (el) => `${el.tagName.toLowerCase()}.${el.className}`;
    for (const el of [panel, ...panel.querySelectorAll('*')]) {
      if (el.getClientRects().length === 0 || el.clientWidth === 0) continue;
      if (el.scrollWidth > el.clientWidth) {
        bad.push(`${label(el)}: scrollWidth ${el.scrollWidth} > clientWidth ${el.clientWidth}`);
      }
    }
    const musts = '.job-status, .job-percent, .job-cancel, .job-retry, .job-dismiss';
    for (const el of panel.querySelectorAll(musts)) {
      if (el.getClientRects().length === 0) continue;
      const r = el.getBoundingClientRect();
      if (r.left < box.left - 0.5 || r.right > box.right + 0.5) {
        bad.push(`${label(el)} outside the panel: ${r.left}-${r.right} of ${box.left}-${box.right}`);
      }
    }
    return bad;
  });
}

async function pullReference(page, text) {
  const box = page.getByRole('textbox', { name: 'Download by reference' });
  await box.fill(text);
  await page.locator('#pull-form').getByRole('button', { name: 'Download' }).click();
}

const toastOf = (page, text) => page.locator('#toasts .toast', { hasText: text });

export async function run(t) {
  const { page, step, api, screenshot, tab, card, job, humanBytes } = t;
  assert.ok(LONG && LONG.length === 40 && CONTROL, 'WHARF_LONG_NAME and WHARF_CONTROL are set');

  await step('download by reference: a typed reference starts a job, with a toast', async () => {
    await page.setViewportSize(SIZES[0]);
    await loginAs(page, 'admin', t.PASSWORD);
    await tab('Local').click();
    await pullReference(page, `${LONG}:latest`);
    const running = job(LONG, 'latest');
    await running.waitFor();
    assert.equal(await page.getByRole('textbox', { name: 'Download by reference' }).inputValue(), '');
    await toastOf(page, `Downloading ${LONG}:latest`).waitFor();
    await running.locator('.job-status', { hasText: 'Downloading' }).waitFor({ timeout: 20000 });
    // The toast stays while the job runs.
    assert.equal(await toastOf(page, `Downloading ${LONG}:latest`).count(), 1);
    // One that fails: a tag the registry does not have.
    await pullReference(page, `${LONG}:no-such-tag`);
    await job(LONG, 'no-such-tag').locator('.job-status', { hasText: 'Failed' })
      .waitFor({ timeout: 20000 });
    await toastOf(page, `Downloading ${LONG}:no-such-tag`).waitFor({ state: 'detached' });
    // By digest: the one the registry gives lgsd/diamond:latest.
    const head = await fetch(`http://${t.REGISTRY}/v2/lgsd/diamond/manifests/latest`, {
      method: 'HEAD', headers: { Accept: 'application/vnd.oci.image.manifest.v1+json, ' +
                                         'application/vnd.docker.distribution.manifest.v2+json' } });
    const digest = head.headers.get('docker-content-digest');
    assert.match(digest || '', /^sha256:[0-9a-f]{64}$/);
    await pullReference(page, `lgsd/diamond@${digest}`);
    await page.locator(`#job-list li.job[data-name="lgsd/diamond"][data-tag="${digest}"]`)
      .locator('.job-status', { hasText: 'Completed' }).waitFor({ timeout: 20000 });
  });

  await step('an invalid reference shows the API\'s 400 message', async () => {
    await pullReference(page, 'team/App:1.0');
    const error = page.locator('#pull-error');
    await error.waitFor();
    const res = await api('POST', '/api/v1/image/dockerhub/docker/team/App/1.0/download', {});
    assert.equal(res.status, 400);
    assert.equal(await error.textContent(), res.body.error.message);
    assert.equal(await job('team/App', '1.0').count(), 0);
    await pullReference(page, '  ');
    assert.match(await error.textContent(), /^Type an image reference/);
    await page.getByRole('textbox', { name: 'Download by reference' }).fill('');
    await error.waitFor({ state: 'hidden' });
  });

  await step('the Downloads panel never overflows with a 40-character name', async () => {
    const running = job(LONG, 'latest');
    await page.waitForFunction((name) => /\d%/.test(document.querySelector(
      `li.job[data-name="${name}"][data-tag="latest"] .job-percent`)?.textContent || ''), LONG);
    assert.equal(await running.locator('.job-name').getAttribute('title'), `${LONG}:latest`);
    for (const size of SIZES) {
      for (const colorScheme of ['light', 'dark']) {
        await page.setViewportSize(size);
        await page.emulateMedia({ colorScheme });
        await page.locator('#downloads').scrollIntoViewIfNeeded();
        assert.deepEqual(await panelOverflow(page), [], `${size.width}px ${colorScheme}`);
        for (const name of ['Cancel download', 'Retry download', 'Dismiss']) {
          const target = name === 'Cancel download' ? running : job(LONG, 'no-such-tag');
          const which = name === 'Dismiss' ? `Dismiss ${LONG}:no-such-tag`
            : `${name} of ${LONG}:${name === 'Cancel download' ? 'latest' : 'no-such-tag'}`;
          assert.equal(await target.getByRole('button', { name: which }).isVisible(), true, which);
        }
        await screenshot(`downloads-long-name-${size.width}-${colorScheme}`);
      }
    }
    await page.emulateMedia({ colorScheme: 'light' });
  });

  await step('phone: search and results come first, the tabs fit, a failed job is short',
    async () => {
      await page.setViewportSize(SIZES[1]);
      await page.evaluate(() => window.scrollTo(0, 0));
      const top = (sel) => page.locator(sel).evaluate((el) => el.getBoundingClientRect().top);
      assert.ok(await top('#search') < SIZES[1].height, 'the search box is on the first screen');
      assert.ok(await top('#results') < await top('#downloads'), 'results before Downloads');
      const tabs = await page.locator('#tabs').evaluate((el) => [el.scrollWidth, el.clientWidth]);
      assert.ok(tabs[0] <= tabs[1], `tabs ${tabs[0]} px in ${tabs[1]} px`);
      const failed = job(LONG, 'no-such-tag');
      assert.equal(await failed.locator('.progress').isVisible(), false);
      assert.equal(await failed.locator('.error-raw').isVisible(), false, 'the detail is folded');
      await screenshot('phone-first-screen');
      await page.setViewportSize(DESKTOP);
    });

  await step('toasts go away when their job ends', async () => {
    const running = job(LONG, 'latest');
    await running.locator('.job-status', { hasText: 'Completed' }).waitFor({ timeout: 60000 });
    await toastOf(page, `Downloading ${LONG}:latest`).waitFor({ state: 'detached' });
    await job(LONG, 'no-such-tag').getByRole('button', { name: `Dismiss ${LONG}:no-such-tag` })
      .click();
    await job(LONG, 'no-such-tag').waitFor({ state: 'detached' });
  });

  await step('the tag dialog offers no Download for a repository its registry lacks', async () => {
    await tab('Official').click();
    await t.search().fill('');  // an earlier step searched Official for mongo
    await t.search().press('Enter');
    await card('Nginx').getByRole('button', { name: 'Download Nginx' }).click();
    const dialog = page.getByRole('dialog', { name: 'Download Nginx (nginx)' });
    await dialog.getByRole('alert').filter({ hasText: /not found/i }).waitFor();
    assert.equal(await dialog.getByRole('button', { name: 'Download', exact: true }).isVisible(),
                 false);
    assert.equal(await dialog.getByRole('textbox', { name: 'Other tag' }).isVisible(), false);
    await screenshot('tag-dialog-not-found');
    await page.keyboard.press('Escape');
    await dialog.waitFor({ state: 'hidden' });
  });

  await step('a local image keeps its catalog icon', async () => {
    await card('BusyBox').getByRole('button', { name: 'Download BusyBox' }).click();
    const dialog = page.getByRole('dialog', { name: 'Download BusyBox (busybox)' });
    await dialog.getByRole('radio', { name: 'latest' }).check();
    await dialog.getByRole('button', { name: 'Download', exact: true }).click();
    await job('busybox', 'latest').locator('.job-status', { hasText: 'Completed' })
      .waitFor({ timeout: 20000 });
    const official = (await api('GET', '/api/v1/image/?from=official')).body.results
      .find((e) => e.name === 'busybox');
    await tab('Local').click();
    const img = card('busybox').locator('img.image-icon');
    await img.waitFor();
    assert.equal(new URL(await img.getAttribute('src'), t.BASE).pathname, official.icon_local);
    // The download's request named the catalog's icon, and wharfd kept it.
    const local = (await api('GET', '/api/v1/image/?from=local')).body.results
      .find((e) => e.name === 'busybox');
    assert.equal(local.icon, official.icon);
    await screenshot('local-catalog-icon');
  });

  await step('Local: sorted by name, size and date, with the total size', async () => {
    assert.equal((await api('POST', '/api/v1/image/dockerhub/docker/lgsd/diamond/latest/download',
                            {})).status, 200);
    await card('lgsd/diamond').locator('li.tag-row[data-tag="latest"]').waitFor({ timeout: 20000 });
    const listing = (await api('GET', '/api/v1/image/?from=local')).body.results;
    const sizeOf = (e) => e.size.reduce((a, b) => a + Number(b), 0);
    const total = listing.reduce((a, e) => a + sizeOf(e), 0);
    await page.locator('#local-total', { hasText: `Total ${humanBytes(total)}` }).waitFor();
    const shown = () => page.locator('#results article.card h3').allTextContents();
    const sort = async (value, expected) => {
      await page.getByLabel('Sort by').selectOption(value);
      await page.waitForFunction((want) => JSON.stringify([...document.querySelectorAll(
        '#results article.card h3')].map((x) => x.textContent)) === want, JSON.stringify(expected))
        .catch(async () => assert.deepEqual(await shown(), expected, value));
    };
    await sort('size', [...listing].sort((a, b) => sizeOf(b) - sizeOf(a)).map((e) => e.name));
    const created = {};
    for (const e of listing) {
      const dates = await Promise.all(e.tags.map(async (tag) => Date.parse((await api(
        'GET', `/api/v1/image/docker/${e.name}/${encodeURIComponent(tag)}/inspect`)).body?.Created)));
      created[e.name] = Math.max(-Infinity, ...dates.filter(Number.isFinite));
    }
    await sort('date', [...listing].sort((a, b) => created[b.name] - created[a.name] ||
                                           a.name.localeCompare(b.name)).map((e) => e.name));
    await sort('name', listing.map((e) => e.name));
    assert.equal(sizeOf(listing.find((e) => e.name === LONG)), Math.max(...listing.map(sizeOf)));
    await screenshot('local-sorted');
  });

  await step('the connection indicator turns red while wharfd is down', async () => {
    const dot = page.locator('#connection');
    assert.equal(await dot.getAttribute('data-state'), 'online');
    const control = (what) => fetch(`${CONTROL}/wharfd/${what}`, { method: 'POST' });
    assert.equal((await control('stop')).status, 200);
    await page.locator('#connection[data-state="offline"]').waitFor({ timeout: 30000 });
    const colors = await dot.evaluate((el) => [getComputedStyle(el).backgroundColor,
      getComputedStyle(document.documentElement).getPropertyValue('--danger').trim()]);
    const probe = await page.evaluate((c) => {
      const el = document.createElement('span');
      el.style.color = c;
      document.body.append(el);
      const rgb = getComputedStyle(el).color;
      el.remove();
      return rgb;
    }, colors[1]);
    assert.equal(colors[0], probe, 'the dot is the danger colour');
    assert.equal(await page.getByRole('status').filter({ hasText: 'wharfd cannot be reached' })
      .count(), 1);
    await screenshot('wharfd-down');
    assert.equal((await control('start')).status, 200);
    await page.locator('#connection[data-state="online"]').waitFor({ timeout: 30000 });
    await tab('Official').click();
    await tab('Local').click();
    await card('busybox').waitFor();
  });
}
