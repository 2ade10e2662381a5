// Overview: the tiles and the trend chart show what the API answers for the
// page's range, and the channel filter narrows them.
import { chartOption, nextDay, settle } from '../lib.js';

const digits = (s) => Number(String(s).replace(/[^\d.-]/g, ''));

async function trends(api, from, to, where) {
  return api('POST', '/query/trends', {
    from, to: nextDay(to), interval: 'day', series: [
      { event: '$any', measure: 'persons', where },
      { event: '$any', measure: 'count', where },
      { event: 'Order Completed', measure: 'count', where },
      { event: 'Order Completed', measure: 'sum', property: 'revenue', where },
    ],
  });
}

export default async function check({ page, api, assert, width }) {
  const from = await page.inputValue('[data-filter="from"]');
  const to = await page.inputValue('[data-filter="to"]');
  const want = await trends(api, from, to, []);
  assert.ok(want.series[1].total > 0, 'the demo has events in the default range');
  assert.equal(digits(await page.textContent('[data-kpi="persons"] [data-value]')), want.series[0].total);
  assert.equal(digits(await page.textContent('[data-kpi="events"] [data-value]')), want.series[1].total);
  assert.equal(digits(await page.textContent('[data-kpi="conversions"] [data-value]')), want.series[2].total);
  const opt = await chartOption(page, 'overview-trend');
  assert.deepEqual(opt.xAxis[0].data, want.buckets);
  assert.deepEqual(opt.series[1].data, want.series[1].values);
  if (width < 600) return;
  // Narrow to one channel: the tiles follow the API's filtered answer.
  await page.selectOption('[data-filter="channel"]', 'wechat');
  await settle(page);
  const w = await trends(api, from, to, [{ property: 'channel', op: '=', value: 'wechat' }]);
  assert.equal(digits(await page.textContent('[data-kpi="events"] [data-value]')), w.series[1].total);
  assert.ok(w.series[1].total < want.series[1].total);
  await page.selectOption('[data-filter="channel"]', '');
  await settle(page);
}
