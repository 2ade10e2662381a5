// The dashboard end to end: `quanyu demo` data served by the real binary,
// Debian's Chromium driven by playwright-core. Logs in, visits every page
// in both languages at 1440 px and 390 px, runs each page's own checks
// (e2e/pages/<page>.js: charts against the API, the builders), and fails on
// any browser console error, a page wider than the screen, or a label left
// untranslated. Screenshots of every page go to $QUANYU_E2E_OUT (default
// build/e2e/<locale>-<width>/<page>.png).
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  OUT, apiClient, chartOption, launch, login, newPage, overflowingElements, settle, startDemo, visit,
} from './lib.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const LOCALES = ['zh-CN', 'en'];
// QUANYU_E2E_PAGES=profiles,funnels visits only those (while working on them).
const ONLY = (process.env.QUANYU_E2E_PAGES || '').split(',').filter(Boolean);
const WIDTHS = [1440, 390];

let demo;
let browser;
let api;
const checks = {};
let namespaces = [];

before(async () => {
  assert.ok(fs.existsSync(path.join(here, '..', 'dist', 'index.html')),
    'web/dist is not built: run `npm --prefix web ci && npm --prefix web run build`');
  demo = await startDemo();
  api = apiClient(demo.url, demo.adminKey);
  browser = await launch();
  for (const f of fs.readdirSync(path.join(here, 'pages'))) {
    if (f.endsWith('.js')) checks[f.replace(/\.js$/, '')] = (await import(`./pages/${f}`)).default;
  }
  namespaces = fs.readdirSync(path.join(here, '..', 'src', 'locales')).map((f) => f.replace(/\.js$/, ''));
});

after(async () => {
  if (browser) await browser.close();
  if (demo) await demo.stop();
});

describe('translations', () => {
  test('both languages carry the same keys, none empty', async () => {
    const dir = path.join(here, '..', 'src', 'locales');
    const problems = [];
    for (const f of fs.readdirSync(dir)) {
      const m = (await import(path.join(dir, f))).default;
      const en = m.en || {};
      const zh = m['zh-CN'] || {};
      for (const k of Object.keys(en)) if (!(k in zh)) problems.push(`${f}: zh-CN lacks ${k}`);
      for (const k of Object.keys(zh)) if (!(k in en)) problems.push(`${f}: en lacks ${k}`);
      for (const [l, tbl] of [['en', en], ['zh-CN', zh]]) {
        for (const [k, v] of Object.entries(tbl)) if (typeof v !== 'string' || !v.trim()) problems.push(`${f}: ${l}.${k} empty`);
      }
    }
    assert.deepEqual(problems, []);
  });
});

describe('login and roles', () => {
  test('a wrong key is refused with a message and no page opens', async () => {
    const page = await newPage(browser, { locale: 'en' });
    await page.goto(demo.url + '/');
    await page.fill('input[name="api-key"]', 'qk_nope_0000');
    await page.click('button[type="submit"]');
    await page.waitForSelector('.error-text');
    assert.match(await page.textContent('.error-text'), /not accepted/);
    assert.equal(await page.locator('.shell').count(), 0);
    await page.context().close();
  });

  for (const role of ['analyst', 'marketer']) {
    test(`${role}: the pages the role may not use are hidden, and the API refuses them anyway`, async () => {
      const made = await api('POST', '/keys', { name: `e2e-${role}-${Date.now()}`, role });
      const session = await apiClient(demo.url, made.key || made.secret)('GET', '/session');
      const page = await newPage(browser, { locale: 'en' });
      await login(page, demo.url, made.key || made.secret);
      const nav = await page.$$eval('.sidebar nav a', (as) => as.map((a) => a.dataset.nav));
      assert.deepEqual(nav, session.pages);
      assert.ok(!nav.includes('settings') && !nav.includes('privacy'), nav.join(','));
      // Typing the hidden page's address shows why, not the page.
      await page.evaluate(() => { window.location.hash = '#/settings'; });
      await page.waitForSelector('.content .state-error');
      assert.match(await page.textContent('.content'), /may not use this page/);
      const r = await fetch(`${demo.url}/api/v1/keys`, { headers: { Authorization: `Bearer ${made.key || made.secret}` } });
      assert.equal(r.status, 403);
      // The pages it may use open without errors.
      for (const id of nav) await visit(page, id);
      assert.deepEqual(page.problems, []);
      await page.context().close();
      await api('DELETE', `/keys/${made.id || (made.key_info && made.key_info.id)}`);
    });
  }
});

describe('every page', () => {
  for (const locale of LOCALES) {
    for (const width of WIDTHS) {
      test(`${locale} at ${width} px`, async () => {
        const { pages } = await api('GET', '/session');
        assert.equal(pages.length, 11, 'the admin sees all 11 pages');
        const page = await newPage(browser, { locale, width, height: width > 600 ? 900 : 844 });
        await login(page, demo.url, demo.adminKey);
        const dir = path.join(OUT, `${locale}-${width}`);
        fs.mkdirSync(dir, { recursive: true });
        const keyPattern = new RegExp(`\\b(${namespaces.join('|')})\\.[a-z][a-z0-9_]*\\b`);
        for (const id of pages) {
          if (ONLY.length && !ONLY.includes(id)) continue;
          await visit(page, id);
          const text = await page.textContent('.main');
          assert.ok(!keyPattern.test(text), `${id}: an untranslated label: ${text.match(keyPattern)}`);
          assert.ok(!/\bat .*\.js:\d+|TypeError|ReferenceError|undefined is not/.test(text), `${id} shows a stack or JS error`);
          assert.ok(text.trim().length > 20, `${id} is blank`);
          if (checks[id]) await checks[id]({ page, api, locale, width, assert });
          await settle(page);
          assert.deepEqual(await overflowingElements(page), [], `${id} is wider than ${width} px`);
          await page.evaluate(() => window.scrollTo(0, 0));
          await page.screenshot({ path: path.join(dir, `${id}.png`), fullPage: true });
          assert.deepEqual(page.problems, [], `${id}: browser console errors`);
        }
        // The language switch relabels the shell in place.
        const other = locale === 'en' ? 'zh-CN' : 'en';
        await page.selectOption('.topbar select[data-locale]', other);
        assert.equal(await page.textContent('[data-nav="overview"]'), other === 'en' ? '◎Overview' : '◎总览');
        await page.context().close();
      });
    }
  }
});

describe('downloads', () => {
  test('a chart downloads as PNG and its data as CSV', async () => {
    const page = await newPage(browser, { locale: 'en' });
    await login(page, demo.url, demo.adminKey);
    await visit(page, 'overview');
    const opt = await chartOption(page, 'overview-trend');
    assert.ok(opt && opt.series.length === 4, 'the trend chart is drawn');
    const card = page.locator('[data-chart="overview-trend"]');
    const [png] = await Promise.all([page.waitForEvent('download'), card.locator('[data-action="png"]').click()]);
    const pngBytes = fs.readFileSync(await png.path());
    assert.deepEqual([...pngBytes.subarray(1, 4)], [0x50, 0x4e, 0x47], 'a PNG file');
    assert.match(png.suggestedFilename(), /^quanyu-overview-trend-.*\.png$/);
    const [csv] = await Promise.all([page.waitForEvent('download'), card.locator('[data-action="csv"]').click()]);
    const lines = fs.readFileSync(await csv.path(), 'utf8').replace(/^\ufeff/, '').trim().split(/\r\n/);
    assert.equal(lines[0], 'Date,Persons,Events,Conversions,Revenue');
    // One row per day of the range, the same numbers the chart draws.
    assert.equal(lines.length - 1, opt.xAxis[0].data.length);
    const persons = lines.slice(1).map((l) => Number(l.split(',')[1]));
    assert.deepEqual(persons, opt.series[0].data);
    assert.deepEqual(page.problems, []);
    await page.context().close();
  });
});
