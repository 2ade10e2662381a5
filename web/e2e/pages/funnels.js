// Funnels: the default funnel and a 3-step funnel built through the UI are
// drawn with the persons per step, channel conversion and times the API
// answers for the same request; the distribution adds up to the step counts.
import { chartOption, nextDay, settle } from '../lib.js';

const digits = (s) => String(s).replace(/\D/g, '');
const close = (a, b) => (a === null || b === null ? a === b : Math.abs(a - b) < 0.011);

export default async function check({ page, api, assert }) {
  await page.waitForSelector('[data-field="step-event"]', { timeout: 20000 });
  await page.waitForSelector('[data-chart="funnels-steps"] .chart, .content .state-error, .content .state-empty', { timeout: 20000 });
  await settle(page);
  const from = await page.inputValue('[data-filter="from"]');
  const to = nextDay(await page.inputValue('[data-filter="to"]'));
  const body = (events) => ({ from, to, window: '7d', mode: 'default', steps: events.map((event) => ({ event })), breakdown: 'channel' });

  // The default funnel, as the page opened it.
  const defaults = await page.$$eval('[data-field="step-event"]', (els) => els.map((e) => e.value));
  assert.ok(defaults.length >= 2, 'default steps from the catalog');
  const first = await api('POST', '/query/funnel', body(defaults));
  const opt0 = await chartOption(page, 'funnels-steps');
  assert.ok(opt0, 'the steps chart is drawn');
  assert.deepEqual(opt0.series[0].data, first.steps.map((s) => s.persons));

  // Build a 3-step funnel through the UI.
  const { events } = await api('GET', '/catalog/events');
  const names = events.filter((e) => e.name).map((e) => e.name);
  let want = ['Product Viewed', 'Product Added', 'Order Completed'].filter((n) => names.includes(n));
  if (want.length < 3) want = events.filter((e) => e.name).sort((a, b) => b.count - a.count).slice(0, 3).map((e) => e.name);
  for (let n = await page.locator('[data-field="step-event"]').count(); n > 3; n -= 1) {
    await page.locator('[data-action="remove-step"]').last().click();
  }
  for (let n = await page.locator('[data-field="step-event"]').count(); n < 3; n += 1) {
    await page.click('[data-action="add-step"]');
  }
  const selects = page.locator('[data-field="step-event"]');
  assert.equal(await selects.count(), 3);
  for (let i = 0; i < 3; i += 1) await selects.nth(i).selectOption(want[i]);
  await page.click('[data-action="run"]');
  await settle(page);

  const ans = await api('POST', '/query/funnel', body(want));
  const opt = await chartOption(page, 'funnels-steps');
  assert.deepEqual(opt.series[0].data, ans.steps.map((s) => s.persons), 'persons per step');
  assert.deepEqual(opt.series[1].data, ans.steps.map((s) => s.drop_off), 'drop-off per step');
  assert.equal(opt.xAxis[0].data.length, 3);
  want.forEach((w, i) => assert.ok(opt.xAxis[0].data[i].includes(w), `step ${i + 1} is ${w}`));
  assert.equal(digits(await page.textContent('[data-value="entered"]')), String(ans.steps[0].persons));
  assert.equal(digits(await page.textContent('[data-value="converted"]')), String(ans.steps[2].persons));

  if (ans.steps[0].persons > 0) {
    // Conversion by channel: the 10 largest groups, conversion from step 1 in %.
    const groups = ans.breakdown.filter((g) => g.steps[0].persons > 0).slice(0, 10);
    const ch = await chartOption(page, 'funnels-channels');
    assert.ok(ch, 'the channel chart is drawn');
    assert.equal(ch.xAxis[0].data.length, groups.length);
    for (let k = 1; k < 3; k += 1) {
      const exp = groups.map((g) => (g.steps[k].conversion_from_start === null ? null : +(g.steps[k].conversion_from_start * 100).toFixed(2)));
      ch.series[k - 1].data.forEach((v, i) => assert.ok(close(v, exp[i]), `channel ${i} step ${k + 1}: ${v} vs ${exp[i]}`));
    }
  }
  if (ans.steps[1].persons > 0) {
    const tm = await chartOption(page, 'funnels-time');
    assert.deepEqual(tm.series[0].data, ans.steps.slice(1).map((s) => s.median_seconds_to_convert));
    assert.deepEqual(tm.series[1].data, ans.steps.slice(1).map((s) => s.p90_seconds_to_convert));
    // The distribution's buckets add up to the persons at each step.
    const ds = await chartOption(page, 'funnels-time-dist');
    assert.ok(ds, 'the distribution is drawn');
    for (let k = 1; k < 3; k += 1) {
      const sum = ds.series[k - 1].data.reduce((a, b) => a + b, 0);
      assert.equal(sum, ans.steps[k].persons, `distribution of step ${k + 1}`);
    }
  }
}
