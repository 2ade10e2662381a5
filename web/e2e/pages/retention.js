// Retention: the heatmap's cells are the API's cohort rates (cohort y,
// period x), the curve its total rates, the headline its total persons;
// switching the period to month redraws from the monthly answer.
import { addDays, chartOption, eventually } from '../lib.js';

const digits = (s) => Number(String(s).replace(/[^\d]/g, ''));

const drawn = async (page) => {
  const heat = await chartOption(page, 'retention-heatmap');
  const curve = await chartOption(page, 'retention-curve');
  if (!heat || !curve) return null;
  return {
    cells: heat.series[0].data,
    rows: heat.yAxis[0].data.length,
    columns: heat.xAxis[0].data.length,
    curve: curve.series[0].data,
  };
};
const expected = (ans) => {
  const cells = [];
  ans.cohorts.forEach((c, y) => c.rates.forEach((r, x) => {
    if (r !== null) cells.push([x, y, r]);
  }));
  return { cells, rows: ans.cohorts.length, columns: ans.total.rates.length, curve: ans.total.rates };
};

async function request(page, period) {
  const from = await page.inputValue('[data-filter="from"]');
  const to = addDays(await page.inputValue('[data-filter="to"]'), 1);
  return {
    from,
    to,
    start_event: { event: await page.inputValue('[data-field="start-event"]'), where: [] },
    return_event: { event: await page.inputValue('[data-field="return-event"]'), where: [] },
    period,
    periods: Number(await page.inputValue('[data-field="periods"]')),
    mode: await page.inputValue('[data-field="mode"]'),
  };
}

async function compare(page, api, assert, period) {
  const ans = await api('POST', '/query/retention', await request(page, period));
  assert.equal(ans.period, period);
  assert.ok(ans.total.persons > 0, `${period}: the demo has a cohort`);
  await eventually(assert, () => drawn(page), expected(ans), `${period}: heatmap and curve = API rates`);
  await eventually(assert, async () => digits(await page.textContent('[data-kpi="persons"] [data-value]')),
    ans.total.persons, `${period}: persons in cohorts`);
  const labels = (await chartOption(page, 'retention-heatmap')).yAxis[0].data;
  ans.cohorts.forEach((c, i) => assert.ok(labels[i].includes(c.cohort), `${period}: row ${i} is cohort ${c.cohort}`));
  return ans;
}

export default async function check({ page, api, assert }) {
  await page.waitForFunction(() => window.__quanyu && window.__quanyu.charts['retention-heatmap'], null, { timeout: 30000 });
  assert.equal(await page.getAttribute('[data-action="period-week"]', 'aria-pressed'), 'true');
  const week = await compare(page, api, assert, 'week');

  await page.click('[data-action="period-month"]');
  await page.waitForSelector('[data-action="period-month"][aria-pressed="true"]', { timeout: 5000 });
  const month = await compare(page, api, assert, 'month');
  assert.ok(month.cohorts.length < week.cohorts.length || week.cohorts.length <= 2, 'fewer monthly cohorts than weekly');
}
