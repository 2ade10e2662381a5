// Touchpoint map: the Sankey draws the API's transitions (from/to columns,
// no cycles), the stage heatmap its per-channel shares, the breakpoint bars
// its persons lost; the channel filter narrows hops client-side.
import { addDays, chartOption, eventually } from '../lib.js';

const STAGES = ['awareness', 'consideration', 'conversion', 'repurchase', 'advocacy'];
const digits = (s) => Number(String(s).replace(/[^\d]/g, ''));

const flowLinks = async (page) => {
  const o = await chartOption(page, 'touchpoints-flow');
  return o ? o.series[0].links.map((l) => [l.source, l.target, l.value]) : null;
};
const expectLinks = (transitions, ch) => transitions
  .filter((r) => !ch || r.from === ch || r.to === ch)
  .slice(0, 30)
  .map((r) => [`from:${r.from}`, `to:${r.to}`, r.persons]);

export default async function check({ page, api, assert }) {
  const from = await page.inputValue('[data-filter="from"]');
  const to = addDays(await page.inputValue('[data-filter="to"]'), 1);
  const ans = await api('POST', '/query/touchpoints', { from, to, top: 300 });
  assert.ok(ans.journeys.persons > 0, 'the demo has touches in the default range');

  // Headline numbers.
  await page.waitForSelector('[data-kpi="journeys"] [data-value]');
  assert.equal(digits(await page.textContent('[data-kpi="journeys"] [data-value]')), ans.journeys.persons);
  assert.equal(digits(await page.textContent('[data-kpi="stopped"] [data-value]')), ans.journeys.stopped);

  // Sankey: one link per transition, weight = persons, always from-column → to-column.
  await eventually(assert, () => flowLinks(page), expectLinks(ans.transitions, ''), 'sankey links = API transitions');
  const flow = await chartOption(page, 'touchpoints-flow');
  for (const n of flow.series[0].data) assert.equal(n.depth, n.name.startsWith('from:') ? 0 : 1, `node ${n.name} column`);

  // Stage heatmap: cell (stage x, channel y) = channels[y].stages[stage].
  const heat = await chartOption(page, 'touchpoints-stages');
  assert.ok(heat, 'stages heatmap drawn');
  const cells = heat.series[0].data.map((c) => c.value);
  assert.equal(cells.length, ans.channels.length * STAGES.length);
  for (const [x, y, v] of cells) {
    const want = ans.channels[y].stages[STAGES[x]];
    assert.equal(v, want === null || want === undefined ? '-' : want, `stage ${STAGES[x]} of ${ans.channels[y].channel}`);
  }

  // Breakpoints: bars = persons_lost of the top 20, in order; the table lists them all.
  const bp = await chartOption(page, 'touchpoints-breakpoints');
  if (ans.breakpoints.length) {
    assert.deepEqual(bp.series[0].data.map((d) => d.value), ans.breakpoints.slice(0, 20).map((b) => b.persons_lost));
    const rows = await page.$$eval('[data-table="touchpoints-breakpoints-table"] tbody tr', (trs) => trs.length);
    assert.equal(rows, Math.min(30, ans.breakpoints.length));
    const first = await page.$$eval('[data-table="touchpoints-breakpoints-table"] tbody tr:first-child td',
      (tds) => tds.map((td) => td.textContent));
    assert.equal(digits(first[3]), ans.breakpoints[0].persons_lost);
  }

  // Channel filter: the map keeps the hops into or out of that channel.
  const ch = ans.transitions[0].from;
  await page.selectOption('[data-filter="channel"]', ch);
  try {
    await eventually(assert, () => flowLinks(page), expectLinks(ans.transitions, ch), `sankey filtered to ${ch}`);
    const note = await page.textContent('[data-note="channel"]');
    assert.ok(note && note.length > 0, 'the channel note is shown');
  } finally {
    await page.selectOption('[data-filter="channel"]', ''); // filters are shared with the other pages
  }
  await eventually(assert, () => flowLinks(page), expectLinks(ans.transitions, ''), 'sankey unfiltered again');
}
