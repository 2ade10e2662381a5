// Attribution: the grouped bars (channel × model) draw the credited
// conversions, then the value, and the ROAS the API answers for the same
// range; the totals in the DOM match.
import { chartOption, nextDay, settle } from '../lib.js';

const round2 = (v) => (v === null || v === undefined ? null : Math.round(v * 100) / 100);
const near = (a, b) => (a === null || b === null ? a === b : Math.abs(a - b) <= 0.011);

export default async function check({ page, api, assert }) {
  await page.waitForSelector('[data-chart="attribution-models"], .content .state-error, .content .state-empty', { timeout: 30000 });
  await settle(page);
  const from = await page.inputValue('[data-filter="from"]');
  const to = nextDay(await page.inputValue('[data-filter="to"]'));
  let ans;
  try {
    ans = await api('POST', '/attribution', { from, to, models: 'all' });
  } catch (e) {
    // No conversion with a touch in range: the page must say so.
    assert.match(String(e.message), /400/);
    assert.equal(await page.locator('.state-empty').count() > 0, true);
    return;
  }
  const compare = async (id, field, opts = {}) => {
    const opt = await chartOption(page, id);
    assert.ok(opt, `${id} is drawn`);
    const ids = opt.series.map((s) => s.id).sort();
    assert.deepEqual(ids, Object.keys(ans.models).sort(), `${id}: every model the API ran`);
    for (const s of opt.series) {
      const chans = ans.models[s.id].channels;
      for (const d of s.data) {
        const x = chans[d.channel];
        const exp = x ? round2(x[field] ?? null) : opts.missing;
        assert.ok(near(d.value, exp), `${id} ${s.id} ${d.channel} ${field}: drawn ${d.value}, API ${exp}`);
      }
    }
    return opt;
  };

  const opt = await compare('attribution-models', 'conversions', { missing: 0 });
  const every = new Set(Object.values(ans.models).flatMap((m) => Object.keys(m.channels)));
  assert.deepEqual(opt.series[0].data.map((d) => d.channel).sort(), [...every].sort(), 'one bar group per channel');
  const total = Number((await page.textContent('[data-value="total-conversions"]')).replace(/\D/g, ''));
  assert.equal(total, Math.round(ans.total_conversions));

  await page.click('[data-action="metric-value"]');
  await settle(page);
  await compare('attribution-models', 'value', { missing: 0 });

  if (ans.spend && Object.values(ans.spend).some((v) => v > 0)) {
    await compare('attribution-efficiency', 'roas', { missing: null });
  }
  await page.click('[data-action="metric-conversions"]');
}
