// Privacy: the coverage bars equal GET /api/v1/consent/coverage, the
// request table has as many rows as GET /api/v1/privacy/requests, an access
// request made through the form lands in the queue, and the audit log shows
// entries once the range is lifted.
import { chartOption, settle } from '../lib.js';

const STATUS_ORDER = ['granted', 'withdrawn', 'denied', 'unknown'];
const NOT_COUNTS = new Set(['total', 'persons', 'purpose', 'channel', 'name', 'topic']);
const counts = (o) => Object.fromEntries(Object.entries(o || {})
  .filter(([k, v]) => !NOT_COUNTS.has(k) && typeof v === 'number'));
// The same reading of the answer as the page: [{name, counts}].
function normGroup(g) {
  if (!g || typeof g !== 'object') return [];
  if (Array.isArray(g)) return g.map((x) => ({ name: x.purpose ?? x.channel ?? x.name ?? x.topic ?? '', counts: counts(x.counts || x.statuses || x) }));
  return Object.entries(g).map(([name, v]) => ({ name, counts: counts(v && (v.counts || v.statuses) ? v.counts || v.statuses : v) }));
}

// "denied" counts every refusal, withdrawals included: the page draws
// denied - withdrawn so the bar adds up to the persons.
function unnest(groups, persons) {
  for (const g of groups) {
    const c = g.counts;
    if (typeof c.withdrawn !== 'number' || typeof c.denied !== 'number' || c.denied < c.withdrawn) continue;
    const sum = (c.granted || 0) + c.denied + (c.unknown || 0);
    if (typeof persons !== 'number' || sum === persons) c.denied -= c.withdrawn;
  }
  return groups;
}

const PURPOSE_ORDER = ['analytics', 'marketing', 'personalization', 'sensitive', 'third_party_sharing', 'cross_border_transfer'];
const rank = (n) => (PURPOSE_ORDER.includes(n) ? PURPOSE_ORDER.indexOf(n) : PURPOSE_ORDER.length);

export default async function check({ page, api, width, assert }) {
  // The page component loads asynchronously: wait for it, then for its data.
  await page.waitForSelector('[data-table="privacy-requests"]', { timeout: 30000 });
  await settle(page);
  // Consent coverage.
  let coverage = null;
  try {
    coverage = await api('GET', '/consent/coverage');
  } catch (e) {
    if (!/→ 404/.test(String(e.message))) throw e;
  }
  if (coverage === null) {
    assert.ok(await page.isVisible('[data-chart="privacy-coverage"] .state-error'), 'coverage route missing: the card shows the error');
  } else {
    const groups = unnest(normGroup(Array.isArray(coverage) ? coverage : coverage.purposes ?? coverage.coverage), coverage.persons)
      .sort((a, b) => rank(a.name) - rank(b.name) || String(a.name).localeCompare(String(b.name)));
    assert.ok(groups.length > 0, 'coverage answers purposes');
    const answered = groups.some((g) => STATUS_ORDER.filter((s) => s !== 'unknown').some((s) => g.counts[s] > 0));
    if (!answered) {
      assert.ok(await page.isVisible('[data-chart="privacy-coverage"] .state-empty'), 'no decisions: empty state');
    } else {
      const opt = await chartOption(page, 'privacy-coverage');
      assert.ok(opt, 'privacy-coverage chart is drawn');
      assert.equal(opt.yAxis[0].data.length, groups.length, 'one bar per purpose');
      const statuses = new Set(groups.flatMap((g) => Object.keys(g.counts)));
      assert.equal(opt.series.length, statuses.size, 'one stacked series per status');
      // Match series to statuses by the sum of their values (labels are translated).
      const apiByStatus = [...statuses].map((s) => groups.map((g) => g.counts[s] || 0));
      const drawn = opt.series.map((s) => s.data.map(Number));
      if (typeof coverage.persons === 'number') {
        groups.forEach((g, i) => assert.equal(drawn.reduce((a, d) => a + d[i], 0), coverage.persons,
          `the bar of ${g.name} adds up to the persons`));
      }
      for (const want of apiByStatus) {
        assert.ok(drawn.some((d) => JSON.stringify(d) === JSON.stringify(want)),
          `a series draws ${JSON.stringify(want)} (drawn: ${JSON.stringify(drawn)})`);
      }
    }
  }

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
