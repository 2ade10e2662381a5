// End-to-end helpers: a real `quanyu demo` server on a free port, Debian's
// Chromium driven by playwright-core, login, and reading what a chart draws.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

const here = path.dirname(fileURLToPath(import.meta.url));
export const REPO = path.resolve(here, '..', '..');
export const BINARY = process.env.QUANYU_BIN || path.join(REPO, 'build', 'quanyu');
export const CHROMIUM = process.env.QUANYU_CHROMIUM || '/usr/bin/chromium';
export const OUT = process.env.QUANYU_E2E_OUT || path.join(REPO, 'build', 'e2e');

export function freePort() {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
    s.on('error', reject);
  });
}

// Starts `quanyu demo` (simulated data, models run, dashboard from web/dist)
// and resolves once it serves. Returns {url, adminKey, dataDir, stop()}.
export async function startDemo({ persons = 3000, days = 60, seed = 7 } = {}) {
  const port = await freePort();
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'quanyu-e2e-'));
  const adminKey = 'qy_admin_e2e_' + Math.random().toString(36).slice(2, 14);
  const child = spawn(BINARY, ['demo', '--data', path.join(dataDir, 'data'), '--listen', `127.0.0.1:${port}`,
    '--persons', String(persons), '--days', String(days), '--seed', String(seed),
    '--web', path.join(REPO, 'web', 'dist')], {
    env: { ...process.env, QUANYU_ADMIN_KEY: adminKey },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let log = '';
  child.stdout.on('data', (d) => { log += d; });
  child.stderr.on('data', (d) => { log += d; });
  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 300000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`quanyu demo exited ${child.exitCode}:\n${log}`);
    try {
      const r = await fetch(`${url}/healthz`);
      if (r.ok && /Quanyu demo is running/.test(log)) break;
    } catch { /* not up yet */ }
    if (Date.now() > deadline) throw new Error(`quanyu demo did not start:\n${log}`);
    await new Promise((r) => setTimeout(r, 250));
  }
  return {
    url,
    adminKey,
    dataDir,
    log: () => log,
    async stop() {
      child.kill('SIGTERM');
      await new Promise((r) => (child.exitCode !== null ? r() : child.on('exit', r)));
      fs.rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

// fetch on the API with a key: api('POST', '/query/funnel', body) → JSON.
export function apiClient(url, key) {
  return async (method, p, body) => {
    const r = await fetch(`${url}/api/v1${p}`, {
      method,
      headers: { Authorization: `Bearer ${key}`, 'Content-Type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await r.text();
    if (!r.ok) throw new Error(`${method} ${p} → ${r.status}: ${text}`);
    return text ? JSON.parse(text) : null;
  };
}

export async function launch() {
  return chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync',
      '--disable-dev-shm-usage'],
  });
}

// A page at `width` px in `locale`, collecting console errors and page
// errors into page.problems.
export async function newPage(browser, { width = 1440, height = 900, locale = 'zh-CN' } = {}) {
  const context = await browser.newContext({ viewport: { width, height }, locale, acceptDownloads: true });
  await context.addInitScript((l) => localStorage.setItem('quanyu.locale', l), locale);
  const page = await context.newPage();
  page.problems = [];
  // Chromium logs every 4xx/5xx answer as "Failed to load resource" without
  // the address; the response listener records them with it instead. A
  // check that provokes an error on purpose removes its own entry.
  page.on('console', (m) => {
    if (m.type() === 'error' && !/^Failed to load resource: the server responded/.test(m.text())) {
      page.problems.push(`console: ${m.text()}`);
    }
  });
  page.on('response', (r) => {
    if (r.status() >= 400) page.problems.push(`http ${r.status()}: ${r.request().method()} ${new URL(r.url()).pathname}`);
  });
  page.on('pageerror', (e) => page.problems.push(`pageerror: ${e.message}`));
  page.on('requestfailed', (r) => page.problems.push(`requestfailed: ${r.url()} ${r.failure() && r.failure().errorText}`));
  return page;
}

export async function login(page, url, key) {
  await page.goto(url + '/');
  await page.fill('input[name="api-key"]', key);
  await page.click('button[type="submit"]');
  await page.waitForSelector('.shell nav a');
}

// Navigates to #/id and waits until no spinner is left (the page loaded or
// showed its error/empty state).
export async function visit(page, id, { timeout = 60000 } = {}) {
  await page.evaluate((h) => { window.location.hash = h; }, `#/${id}`);
  await page.waitForFunction((h) => window.location.hash === h, `#/${id}`);
  await settle(page, timeout);
}

export async function settle(page, timeout = 60000) {
  // The page's code is loaded on first visit: wait until it rendered something.
  await page.waitForFunction(() => {
    const c = document.querySelector('.content');
    return c && [...c.children].some((e) => !e.classList.contains('state-loading'));
  }, null, { timeout });
  await page.waitForTimeout(150);
  await page.waitForFunction(() => !document.querySelector('.spinner, .state-loading'), null, { timeout });
  // Charts still animating (ChartCard marks them data-rendered="0").
  await page.waitForFunction(() => !document.querySelector('.chart[data-rendered="0"]'), null, { timeout });
  await page.waitForTimeout(150);
}

// What ECharts draws for chart `id` (ChartCard registers it): its option.
export async function chartOption(page, id) {
  return page.evaluate((cid) => {
    const c = window.__quanyu && window.__quanyu.charts[cid];
    return c ? JSON.parse(JSON.stringify(c.getOption())) : null;
  }, id);
}

// True when no element sticks out of the viewport horizontally (the page
// holds its layout at this width).
export async function overflowingElements(page) {
  return page.evaluate(() => {
    const w = document.documentElement.clientWidth;
    const out = [];
    for (const el of document.querySelectorAll('.content *')) {
      if (el.closest('.table-wrap, .chart, .code, .scroll-x')) continue;
      const r = el.getBoundingClientRect();
      if (r.width > 0 && r.right > w + 1) out.push(`${el.tagName.toLowerCase()}.${el.className} right=${Math.round(r.right)}`);
    }
    return out.slice(0, 5);
  });
}

// "2026-03-31" + n days, in UTC.
export function addDays(ymd, n) {
  const d = new Date(`${ymd}T00:00:00Z`);
  d.setUTCDate(d.getUTCDate() + n);
  return d.toISOString().slice(0, 10);
}
export const nextDay = (ymd) => addDays(ymd, 1);

// The page's date range as the API takes it: {from, to} with `to` exclusive.
export async function pageRange(page) {
  const from = await page.inputValue('[data-filter="from"]');
  const to = await page.inputValue('[data-filter="to"]');
  return { from, to: nextDay(to) };
}

// Polls until `get()` deep-equals `want` (the page may still be redrawing),
// then asserts it, so a failure shows the difference.
export async function eventually(assert, get, want, msg, ms = 15000) {
  const end = Date.now() + ms;
  for (;;) {
    const got = await get();
    try {
      assert.deepEqual(got, want, msg);
      return;
    } catch (e) {
      if (Date.now() > end) throw e;
    }
    await new Promise((r) => setTimeout(r, 200));
  }
}
