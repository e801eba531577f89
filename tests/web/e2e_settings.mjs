// The Settings view (issue 22): users, my password, the last admin, disk usage, and the
// registries when this wharfd has their routes. Run by e2e.mjs after e2e_page.mjs, with the
// helpers in `t`; it ends signed in as admin on the Local tab.

import assert from 'node:assert/strict';
import { loginAs } from './e2e_page.mjs';

const NEW_USER = 'carol';
const FIRST_PASSWORD = 'carol-first-pass';
const SECOND_PASSWORD = 'carol-second-pass';

export async function run(t) {
  const { page, step, api, screenshot, humanBytes } = t;
  const openSettings = async () => {
    await page.getByRole('link', { name: 'Settings' }).click();
    await page.getByRole('heading', { name: 'Settings', level: 1 }).waitFor();
  };
  const users = () => page.locator('#settings-users');
  const userRow = (name) => users().locator(`li[data-user="${name}"]`);

  await step('settings: an admin adds a user', async () => {
    await loginAs(page, 'admin', t.PASSWORD);
    await openSettings();
    await userRow('admin').waitFor();
    assert.match(await page.evaluate(() => location.hash), /^#settings/);
    const form = users().getByRole('form', { name: 'Add a user' });
    await form.getByLabel('Username').fill(NEW_USER);
    await form.getByLabel('Password').fill(FIRST_PASSWORD);
    await form.getByRole('button', { name: 'Add user' }).click();
    await userRow(NEW_USER).waitFor();
    await users().getByRole('status').filter({ hasText: `Added ${NEW_USER}.` }).waitFor();
    assert.equal(await userRow(NEW_USER).locator('.badge').count(), 0, 'not an admin');
    const listed = (await api('GET', '/api/v1/users')).body;
    assert.deepEqual(listed.find((u) => u.username === NEW_USER), { username: NEW_USER, admin: false });
    // A name already taken: the server's 409, in the form.
    await form.getByLabel('Username').fill(NEW_USER);
    await form.getByLabel('Password').fill(FIRST_PASSWORD);
    await form.getByRole('button', { name: 'Add user' }).click();
    await users().getByRole('alert').filter({ hasText: /./ }).waitFor();
    await screenshot('settings-users');
  });

  await step('settings: the new user signs in and sees no admin parts', async () => {
    await loginAs(page, NEW_USER, FIRST_PASSWORD);
    // The address still says #settings: the view opens again, for this user.
    await page.getByRole('heading', { name: 'Settings', level: 1 }).waitFor();
    assert.equal(await page.locator('#pull-form').getAttribute('hidden'), '',
                 'no Download by reference');
    await page.locator('#settings-password').waitFor();
    await page.locator('#settings-disk .df-total, #settings-disk p').first().waitFor();
    assert.equal(await users().count(), 0, 'no Users section');
    assert.equal(await page.getByRole('form', { name: 'Add or change a registry' }).count(), 0);
    assert.equal((await api('GET', '/api/v1/users')).status, 403, 'wharfd refuses it too');
    await screenshot('settings-not-admin');
  });

  await step('settings: change my own password', async () => {
    const box = page.locator('#settings-password');
    await box.getByLabel('Current password').fill(FIRST_PASSWORD);
    await box.getByLabel('New password', { exact: true }).fill(SECOND_PASSWORD);
    await box.getByLabel('New password again').fill('something-else');
    await box.getByRole('button', { name: 'Change password' }).click();
    await box.getByRole('alert').filter({ hasText: 'The new passwords differ.' }).waitFor();
    await box.getByLabel('New password again').fill(SECOND_PASSWORD);
    await box.getByRole('button', { name: 'Change password' }).click();
    await box.getByRole('status').filter({ hasText: 'Password changed.' }).waitFor();
    // Still signed in (a new session), and only the new password works now.
    assert.equal((await api('GET', '/api/v1/login_refresh')).body.username, NEW_USER);
    const old = await t.context.request.fetch(`${t.BASE}/api/v1/login`, {
      method: 'POST', data: { username: NEW_USER, password: FIRST_PASSWORD } });
    assert.equal(old.status(), 401);
    await loginAs(page, NEW_USER, SECOND_PASSWORD);
    assert.equal(await page.locator('#user-name').textContent(), NEW_USER);
  });

  await step('settings: the last admin cannot be removed; another user can', async () => {
    await loginAs(page, 'admin', t.PASSWORD);
    await openSettings();
    await userRow('admin').getByRole('button', { name: 'Remove admin' }).click();
    const confirm = page.getByRole('dialog', { name: 'Remove admin?' });
    await confirm.getByRole('button', { name: 'Remove' }).click();
    const error = confirm.getByRole('alert');
    await error.waitFor();
    const res = await api('DELETE', '/api/v1/users/admin');
    assert.equal(res.status, 409);
    assert.equal(await error.textContent(), res.body.error.message);
    await screenshot('settings-last-admin');
    await page.keyboard.press('Escape');
    await confirm.waitFor({ state: 'hidden' });
    await userRow(NEW_USER).getByRole('button', { name: `Remove ${NEW_USER}` }).click();
    const again = page.getByRole('dialog', { name: `Remove ${NEW_USER}?` });
    await again.getByRole('button', { name: 'Remove' }).click();
    await userRow(NEW_USER).waitFor({ state: 'detached' });
    const listed = (await api('GET', '/api/v1/users')).body.map((u) => u.username);
    assert.ok(!listed.includes(NEW_USER), JSON.stringify(listed));
  });

  await step('settings: disk usage, a bar per image with the API\'s sizes', async () => {
    const df = (await api('GET', '/api/v1/system/df')).body;
    assert.ok(df.images.length >= 2, JSON.stringify(df));
    const box = page.locator('#settings-disk');
    await box.locator('.df-row').first().waitFor();
    assert.equal(await box.locator('.df-row').count(), df.images.length);
    const total = box.locator('.df-total [data-bytes]').first();
    assert.equal(Number(await total.getAttribute('data-bytes')), df.total_bytes);
    assert.equal(await total.textContent(), humanBytes(df.total_bytes));
    for (const img of df.images) {
      const row = box.locator(`li.df-row[data-image="${img.name}:${img.tag}"]`);
      const stored = row.locator('.df-stored [data-bytes]');
      assert.equal(Number(await stored.getAttribute('data-bytes')), img.stored_bytes);
      assert.equal(await stored.textContent(), humanBytes(img.stored_bytes));
      const frees = row.locator('.df-unique-text [data-bytes]');
      assert.equal(await frees.textContent(), humanBytes(img.unique_bytes));
      const [bar, unique] = await row.evaluate((el) => [
        el.querySelector('.df-bar').getBoundingClientRect().width,
        el.querySelector('.df-unique').getBoundingClientRect().width]);
      const want = (bar * img.unique_bytes) / df.total_bytes;
      assert.ok(Math.abs(unique - want) <= 1.5, `${img.name}: ${unique} px, want ${want}`);
    }
    await box.scrollIntoViewIfNeeded();
    await screenshot('settings-disk-usage');
    // On a phone, in the dark, nothing is wider than the screen.
    await page.setViewportSize({ width: 390, height: 844 });
    await page.emulateMedia({ colorScheme: 'dark' });
    await box.scrollIntoViewIfNeeded();
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth - innerWidth);
    assert.ok(overflow <= 0, `the settings are ${overflow}px wider than the phone`);
    await screenshot('settings-phone-dark');
    await page.emulateMedia({ colorScheme: 'light' });
    await page.setViewportSize({ width: 1360, height: 860 });
  });

  await step('settings: a registry added, tested and removed (when wharfd has the routes)',
    async () => {
      const listed = await api('GET', '/api/v1/registries');
      if (listed.status === 404) {
        console.log('# wharfd has no /api/v1/registries: the registry steps are skipped');
        return;
      }
      const box = page.locator('#settings-registries');
      const form = box.getByRole('form', { name: 'Add or change a registry' });
      await form.waitFor();
      await form.getByLabel('Registry host').fill(t.REGISTRY);
      await form.getByLabel('Insecure (plain HTTP or an unchecked certificate)').check();
      await form.getByRole('button', { name: 'Save registry' }).click();
      const row = box.locator(`li[data-host="${t.REGISTRY}"]`);
      await row.waitFor();
      assert.equal(await row.getAttribute('data-source'), 'api');
      await row.getByRole('button', { name: `Test ${t.REGISTRY}` }).click();
      const steps = row.getByRole('list', { name: `Steps of the test of ${t.REGISTRY}` });
      await steps.waitFor({ timeout: 30000 });
      const truth = (await api('POST', `/api/v1/registries/${t.REGISTRY}/test`, {})).body;
      assert.equal(await steps.locator('li').count(), truth.steps.length);
      assert.equal(await row.locator('.test-ok').count(), truth.ok ? 1 : 0);
      await screenshot('settings-registry-tested');
      await row.getByRole('button', { name: `Remove ${t.REGISTRY}` }).click();
      await page.getByRole('dialog', { name: `Remove ${t.REGISTRY}?` })
        .getByRole('button', { name: 'Remove' }).click();
      await row.waitFor({ state: 'detached' });
      const after = (await api('GET', '/api/v1/registries')).body;
      assert.ok(!JSON.stringify(after).includes(t.REGISTRY), JSON.stringify(after));

      // Docker Hub's mirrors: one saved, then none again (later downloads go to Docker Hub).
      const mirrors = page.locator('#settings-mirrors');
      const text = mirrors.getByLabel(/^Mirror URLs/);
      const mirror = `http://${t.REGISTRY}`;
      await text.fill(mirror);
      await mirrors.getByRole('button', { name: 'Save mirrors' }).click();
      await mirrors.getByRole('status').filter({ hasText: 'Mirrors saved.' }).waitFor();
      let saved = (await api('GET', '/api/v1/registries/docker.io/mirrors')).body.mirrors;
      assert.deepEqual(saved.filter((m) => m.source !== 'config').map((m) => m.url), [mirror]);
      await text.fill('');
      const put = page.waitForResponse((r) => r.request().method() === 'PUT' &&
                                              r.url().endsWith('/docker.io/mirrors'));
      await mirrors.getByRole('button', { name: 'Save mirrors' }).click();
      assert.equal((await put).status(), 200);
      saved = (await api('GET', '/api/v1/registries/docker.io/mirrors')).body.mirrors;
      assert.deepEqual(saved.filter((m) => m.source !== 'config'), []);
    });

  await step('settings: Back to images', async () => {
    await page.getByRole('link', { name: 'Back to images' }).click();
    await page.locator('#tabs').waitFor();
    assert.doesNotMatch(await page.evaluate(() => location.hash), /settings/);
  });
}
