// Predictions: the charts draw the stored report of each model's last run
// (GET /api/v1/models/{kind}/report): histogram bars = the report's bin
// counts, decile bars = the calibration's actual rates; "Run again" refits
// and the charts follow the new report.
import { chartOption, settle } from '../lib.js';

// The report's histogram: {bins: [{from, to, persons}]} (docs/models.md).
const counts = (report) => report.histogram.bins.map((b) => b.persons);
const values = (series) => series.data.map((v) => (v && typeof v === 'object' ? v.value : v));

export default async function check({ page, api, assert }) {
  // The page says the filters do not apply.
  const note = await page.textContent('[data-note="scope"]');
  assert.ok(note && note.trim().length > 20, 'the scope note is shown');

  const models = await api('GET', '/models');
  const kinds = new Set(Object.values(models.predicted_traits).map((v) => v.about && v.about.kind));

  for (const [kind, id] of [['clv', 'predictions-clv'], ['churn', 'predictions-churn']]) {
    if (!kinds.has(kind)) continue;
    const report = await api('GET', `/models/${kind}/report`);
    const want = counts(report);
    assert.ok(want && want.length, `${kind} report has a histogram`);
    const opt = await chartOption(page, id);
    assert.ok(opt, `${id} is drawn`);
    assert.deepEqual(values(opt.series[0]), want, `${id} bars = the report's bin counts`);
    const sum = want.reduce((a, b) => a + b, 0);
    if (report.customers) assert.equal(sum, report.customers, `${kind} histogram counts every customer`);
  }

  if (kinds.has('churn')) {
    // Every drawn cell is the report's mean P(alive) for that frequency × recency bucket.
    const grid = (await api('GET', '/models/churn/report')).p_alive_grid;
    const opt = await chartOption(page, 'predictions-palive');
    assert.ok(opt, 'the P(alive) heatmap is drawn');
    const want = grid.cells.filter((c) => c.persons > 0 && c.mean_p_alive !== null)
      .map((c) => [grid.recency_buckets.indexOf(c.recency_days), grid.frequency_buckets.indexOf(c.frequency), +c.mean_p_alive.toFixed(4)]);
    const drawn = opt.series[0].data.map((d) => (Array.isArray(d) ? d : d.value)).filter((d) => d[2] !== '-');
    assert.deepEqual(drawn.map((d) => d.slice(0, 3)).sort(), want.sort());
  }

  if (kinds.has('propensity')) {
    const report = await api('GET', '/models/propensity/report');
    const cal = report.test.calibration;
    const opt = await chartOption(page, 'predictions-lift');
    assert.ok(opt, 'the deciles chart is drawn');
    assert.deepEqual(values(opt.series[0]), cal.map((c) => c.actual), 'decile bars = the calibration\'s actual rates');
    const lift = values(opt.series[2]);
    assert.equal(lift.length, cal.length);
    cal.forEach((c, i) => assert.ok(Math.abs(lift[i] - c.lift) < 1e-3, `decile ${i + 1}: lift line = the report's lift`));
  }

  // Run again (admin): the churn model is refitted and the chart redrawn from the new report.
  if (kinds.has('churn')) {
    await page.click('[data-action="run-churn"]');
    await page.waitForSelector('[data-status="run"]', { timeout: 60000 });
    await settle(page);
    const report = await api('GET', '/models/churn/report');
    const opt = await chartOption(page, 'predictions-churn');
    assert.deepEqual(values(opt.series[0]), counts(report), 'after Run again the bars = the new report');
  }
}
