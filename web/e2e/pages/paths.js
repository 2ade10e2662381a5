// Paths: the Sankey draws the API's sankey nodes (id, column = step - 1)
// and links (weight = sessions) for the builder's request, and the table
// its top paths; switching to "ending at" an event and to channels redraws
// from the matching answer.
import { addDays, chartOption, eventually } from '../lib.js';

const digits = (s) => Number(String(s).replace(/[^\d]/g, ''));

const drawn = async (page) => {
  const o = await chartOption(page, 'paths-sankey');
  if (!o) return null;
  const s = o.series[0];
  return { nodes: s.data.map((n) => [n.name, n.depth]), links: s.links.map((l) => [l.source, l.target, l.value]) };
};
const expected = (ans) => ({
  nodes: ans.sankey.nodes.map((n) => [n.id, n.step - 1]),
  links: ans.sankey.links.map((l) => [l.source, l.target, l.sessions]),
});

async function request(page) {
  const from = await page.inputValue('[data-filter="from"]');
  const to = addDays(await page.inputValue('[data-filter="to"]'), 1);
  const anchor = await page.inputValue('[data-field="anchor"]');
  return {
    from,
    to,
    [anchor === 'start' ? 'start_event' : 'end_event']: await page.inputValue('[data-field="event"]'),
    granularity: await page.inputValue('[data-field="granularity"]'),
    scope: await page.inputValue('[data-field="scope"]'),
    steps: Number(await page.inputValue('[data-field="steps"]')),
    top: 20,
    where: [],
  };
}

async function compare(page, api, assert, what) {
  const body = await request(page);
  const ans = await api('POST', '/query/paths', body);
  assert.ok(ans.paths.length > 0, `${what}: the demo has paths for ${JSON.stringify(body)}`);
  await eventually(assert, () => drawn(page), expected(ans), `${what}: sankey = API sankey`);
  const rows = await page.$$eval('[data-table="paths-top"] tbody tr', (trs) => trs.map((tr) =>
    [...tr.querySelectorAll('td')].map((td) => td.textContent)));
  assert.equal(rows.length, ans.paths.length, `${what}: one table row per top path`);
  assert.equal(digits(rows[0][2]), ans.paths[0].persons, `${what}: first path's persons`);
  assert.equal(digits(rows[0][3]), ans.paths[0].sessions, `${what}: first path's sessions`);
  return ans;
}

export default async function check({ page, api, assert }) {
  await page.waitForFunction(() => window.__quanyu && window.__quanyu.charts['paths-sankey'], null, { timeout: 30000 });
  assert.equal(await page.inputValue('[data-field="anchor"]'), 'start');
  await compare(page, api, assert, 'default (starting at)');

  // Paths ending at a purchase, by channel.
  const options = await page.$$eval('[data-field="event"] option', (os) => os.map((o) => o.value));
  const end = ['Order Completed', 'Checkout Started', 'Product Added'].find((e) => options.includes(e)) || options[0];
  await page.selectOption('[data-field="anchor"]', 'end');
  await page.selectOption('[data-field="event"]', end);
  await page.selectOption('[data-field="granularity"]', 'channel');
  await compare(page, api, assert, `ending at ${end}, by channel`);
  const sub = await page.textContent('[data-chart="paths-sankey"] .card-sub');
  assert.ok(sub.includes(end), `the subtitle names ${end}: ${sub}`);
}
