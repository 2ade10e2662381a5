// Settings: create an analyst key through the UI, see its secret once,
// find it in GET /api/v1/keys, revoke it through the UI (confirm dialog)
// and see it gone; the sources table lists GET /api/v1/sources.
import { settle } from '../lib.js';

export default async function check({ page, api, locale, width, assert }) {
  // The page component loads asynchronously: wait for it, then for its data.
  await page.waitForSelector('[data-table="settings-keys"]', { timeout: 30000 });
  await settle(page);
  const sources = await api('GET', '/sources');
  assert.equal(await page.locator('[data-table="settings-sources"] tr[data-row="source"]').count(),
    sources.sources.length, 'source rows = API sources');

  const name = `e2e_${locale.replace(/\W/g, '')}_${width}_${Date.now().toString(36)}${Math.random().toString(36).slice(2, 6)}`;
  await page.fill('[data-field="key-name"]', name);
  await page.selectOption('[data-field="key-role"]', 'analyst');
  await page.click('[data-action="create-key"]');
  await page.waitForSelector('[data-secret] [data-value="secret"]', { timeout: 15000 });
  const secret = (await page.innerText('[data-secret] [data-value="secret"]')).trim();
  assert.match(secret, /^qk_[A-Za-z0-9]+_[0-9a-f]{40}$/, 'the new secret is shown');

  const keys = await api('GET', '/keys');
  const mine = keys.keys.find((k) => k.name === name);
  assert.ok(mine, 'GET /keys lists the new key');
  assert.equal(mine.role, 'analyst');
  assert.ok(secret.startsWith(`qk_${mine.id}_`), 'the secret belongs to the new key');
  const row = page.locator(`[data-table="settings-keys"] tr[data-row="key"][data-id="${mine.id}"]`);
  await row.waitFor({ timeout: 10000 });

  // Shown once: dismissed, it is nowhere on the page.
  await page.click('[data-action="dismiss-secret"]');
  assert.equal(await page.locator('[data-secret]').count(), 0, 'secret panel dismissed');
  assert.ok(!(await page.content()).includes(secret), 'the secret is no longer in the page');

  page.once('dialog', (d) => d.accept());
  await row.locator('[data-action="revoke-key"]').click();
  await row.waitFor({ state: 'detached', timeout: 10000 });
  const after = await api('GET', '/keys');
  assert.ok(!after.keys.some((k) => k.id === mine.id), 'GET /keys no longer lists the revoked key');
}
