// Privacy: the coverage bars equal GET /api/v1/consent/coverage, the
// request table has as many rows as GET /api/v1/privacy/requests, an access
// request made through the form lands in the queue, and the audit log shows
// entries once the range is lifted.
import { chartOption, settle } from '../lib.js';

// The purposes in docs/privacy.md's order, as the page draws them.
const PURPOSES = ['analytics', 'marketing', 'personalization', 'sensitive', 'third_party_sharing', 'cross_border_transfer'];

export default async function check({ page, api, width, assert }) {
  // The page component loads asynchronously: wait for it, then for its data.
  await page.waitForSelector('[data-table="privacy-requests"]', { timeout: 30000 });
  await settle(page);
  // Consent coverage: per purpose, series granted / withdrawn / denied (a
  // refusal without an earlier grant: the API's denied minus withdrawn) /
  // unknown, each bar adding up to the persons.
  const coverage = await api('GET', '/consent/coverage');
  assert.deepEqual(Object.keys(coverage.purposes).sort(), [...PURPOSES].sort());
  const opt = await chartOption(page, 'privacy-coverage');
  assert.ok(opt, 'privacy-coverage chart is drawn');
  const want = [
    PURPOSES.map((p) => coverage.purposes[p].granted),
    PURPOSES.map((p) => coverage.purposes[p].withdrawn),
    PURPOSES.map((p) => coverage.purposes[p].denied - coverage.purposes[p].withdrawn),
    PURPOSES.map((p) => coverage.purposes[p].unknown),
  ];
  assert.deepEqual(opt.series.map((x) => x.data.map(Number)), want);
  PURPOSES.forEach((p, i) => assert.equal(want.reduce((a, d) => a + d[i], 0), coverage.persons, `${p} adds up to the persons`));

  // The request queue.
  const rowsNow = async () => page.locator('[data-table="privacy-requests"] tr[data-row="request"]').count();
  let q = await api('GET', '/privacy/requests');
  assert.equal(await rowsNow(), q.requests.length, 'request table rows = API requests');

  if (width === 1440) {
    // An access request for an identifier nobody holds, through the form.
    const ident = `user_id:e2e_nobody_${Date.now().toString(36)}${Math.random().toString(36).slice(2, 6)}`;
    await page.selectOption('[data-field="dsr-kind"]', 'access');
    await page.fill('[data-field="dsr-identifier"]', ident);
    await page.click('[data-action="dsr-submit"]');
    await page.waitForSelector('[data-msg="dsr"]', { timeout: 15000 });
    await page.waitForFunction((n) => document.querySelectorAll('[data-table="privacy-requests"] tr[data-row="request"]').length === n,
      q.requests.length + 1, { timeout: 15000 });
    q = await api('GET', '/privacy/requests');
    assert.equal(await rowsNow(), q.requests.length, 'after an access request: rows = API requests');
    assert.ok(q.requests.some((r) => r.type === 'access' && r.status === 'completed'), 'the access request is completed');

    // Delete needs the identifier typed again before it can be sent.
    await page.selectOption('[data-field="dsr-kind"]', 'delete');
    assert.ok(await page.isDisabled('[data-action="dsr-submit"]'), 'delete is disabled until confirmed');
    await page.fill('[data-field="dsr-confirm"]', 'something else');
    assert.ok(await page.isDisabled('[data-action="dsr-submit"]'), 'delete stays disabled on a wrong confirmation');
    await page.selectOption('[data-field="dsr-kind"]', 'access');
  }

  // Audit log: lift the range (entries carry the request's time) and see entries.
  const box = page.locator('[data-field="audit-use-range"]');
  if (await box.isChecked()) {
    await box.uncheck();
    await settle(page);
  }
  await page.waitForSelector('[data-table="privacy-audit"] tr[data-row="audit"]', { timeout: 15000 });
  const audit = await api('GET', '/audit?limit=100');
  const shown = await page.locator('[data-table="privacy-audit"] tr[data-row="audit"]').count();
  assert.ok(shown > 0 && shown <= 100, 'audit rows shown, one page at most');
  assert.ok(audit.entries.length >= shown, 'the API has at least the rows shown');
  const firstPath = await page.locator('[data-table="privacy-audit"] tr[data-row="audit"] td.path').first().innerText();
  assert.equal(firstPath.trim(), audit.entries[0].path, 'first audit row is the oldest entry');
}
