'use strict';
// Test harness for Quanyu's Node integration suites: fresh data directories,
// sources, `quanyu serve` processes on free loopback ports, clean and
// unclean stops, `quanyu export events`, and raw HTTP helpers.
//
// The binary is $QUANYU_BIN, else ../../build/quanyu relative to tests/node.
// Set QUANYU_KEEP_DATA=1 to keep the temporary data directories.

const { spawn, spawnSync } = require('node:child_process');
const fs = require('node:fs');
const http = require('node:http');
const net = require('node:net');
const os = require('node:os');
const path = require('node:path');
const zlib = require('node:zlib');

const QUANYU_BIN = process.env.QUANYU_BIN
  ? path.resolve(process.env.QUANYU_BIN)
  : path.resolve(__dirname, '../../../build/quanyu');

const LOOPBACK = '127.0.0.1';

// Every server this process started, so none outlives the test file.
const liveServers = new Set();
const tempDirs = new Set();
process.on('exit', () => {
  for (const s of liveServers) {
    try {
      process.kill(s.pid, 'SIGKILL');
    } catch {
      /* already gone */
    }
  }
  if (!process.env.QUANYU_KEEP_DATA) {
    for (const d of tempDirs) fs.rmSync(d, { recursive: true, force: true });
  }
});

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/** Resolves/rejects like `promise`, or rejects with `message` after ms (the timer never holds the process). */
function withTimeout(promise, ms, message) {
  let timer;
  const timeout = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new Error(message || `timed out after ${ms} ms`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

function checkBinary() {
  if (!fs.existsSync(QUANYU_BIN)) {
    throw new Error(`quanyu binary not found at ${QUANYU_BIN} (build it, or set QUANYU_BIN)`);
  }
}

function runQuanyu(args, { input, timeoutMs = 120000 } = {}) {
  checkBinary();
  const r = spawnSync(QUANYU_BIN, args, { input, timeout: timeoutMs, maxBuffer: 256 * 1024 * 1024 });
  if (r.error) throw new Error(`quanyu ${args.join(' ')}: ${r.error.message}`);
  if (r.status !== 0) {
    throw new Error(
      `quanyu ${args.join(' ')} exited with ${r.status ?? r.signal}\n` +
        `stdout: ${r.stdout.toString().slice(-2000)}\nstderr: ${r.stderr.toString().slice(-4000)}`,
    );
  }
  return { stdout: r.stdout.toString(), stderr: r.stderr.toString() };
}

/** A fresh, empty temporary directory (removed at process exit). */
function makeTempDir(prefix = 'quanyu-test-') {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
  tempDirs.add(dir);
  return dir;
}

/** A fresh data directory; `sources` like [{name:'website', type:'web'}] → {dir, keys:{name:key}}. */
function createDataDir(sources = [], prefix = 'quanyu-data-') {
  const dir = makeTempDir(prefix);
  const keys = {};
  for (const s of sources) keys[s.name] = addSource(dir, s.name, s.type || 'web');
  return { dir, keys };
}

/** `quanyu source add NAME --type T --data DIR`; returns the write key it prints. */
function addSource(dataDir, name, type = 'web') {
  const { stdout } = runQuanyu(['source', 'add', name, '--type', type, '--data', dataDir]);
  const key = stdout.trim();
  if (!/^\S{16,}$/.test(key)) throw new Error(`source add printed no write key: ${JSON.stringify(stdout)}`);
  return key;
}

/** Writes a TOML config file into a temp dir; returns its path. */
function writeConfig(text) {
  const dir = makeTempDir('quanyu-config-');
  const file = path.join(dir, 'quanyu.toml');
  fs.writeFileSync(file, text);
  return file;
}

/** A port that was free a moment ago on the loopback interface. */
function freePort() {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, LOOPBACK, () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
  });
}

class QuanyuServer {
  constructor({ dataDir, port, adminKey, config, proc }) {
    this.dataDir = dataDir;
    this.port = port;
    this.adminKey = adminKey;
    this.config = config;
    this.proc = proc;
    this.pid = proc.pid;
    this.base = `http://${LOOPBACK}:${port}`;
    this.output = '';
    this.exitInfo = null;
    const keep = (chunk) => {
      this.output += chunk.toString();
      if (this.output.length > 64 * 1024) this.output = this.output.slice(-32 * 1024);
    };
    proc.stdout.on('data', keep);
    proc.stderr.on('data', keep);
    this.exited = new Promise((resolve) => {
      proc.on('exit', (code, signal) => {
        this.exitInfo = { code, signal };
        liveServers.delete(this);
        resolve(this.exitInfo);
      });
    });
  }

  get running() {
    return this.exitInfo === null;
  }

  /** The tail of the server's stdout/stderr, for failure messages. */
  log(chars = 4000) {
    return this.output.slice(-chars);
  }

  /** SIGTERM and wait for exit; SIGKILL after timeoutMs. Returns {code, signal, forced}. */
  async stop({ timeoutMs = 20000 } = {}) {
    if (!this.running) return { ...this.exitInfo, forced: false };
    this.proc.kill('SIGTERM');
    const info = await withTimeout(this.exited, timeoutMs).catch(() => null);
    if (info) return { ...info, forced: false };
    this.proc.kill('SIGKILL');
    return { ...(await this.exited), forced: true };
  }

  /** kill -9 and wait until the process is gone. */
  async kill9() {
    if (!this.running) return this.exitInfo;
    this.proc.kill('SIGKILL');
    return this.exited;
  }

  request(opts) {
    return httpRequest({ port: this.port, ...opts });
  }

  /** GET /api/v1/... with the admin key; returns the parsed JSON (asserting 200). */
  async admin(pathAndQuery) {
    const r = await this.request({ path: pathAndQuery, headers: { authorization: `Bearer ${this.adminKey}` } });
    if (r.status !== 200) throw new Error(`GET ${pathAndQuery} → ${r.status}: ${r.text}`);
    return r.json;
  }

  async metrics() {
    const r = await this.request({ path: '/metrics' });
    if (r.status !== 200) throw new Error(`GET /metrics → ${r.status}`);
    return parsePrometheus(r.text);
  }
}

/**
 * Starts `quanyu serve` on a free loopback port and waits for /healthz.
 * Options: dataDir (required), port (default: a free one), adminKey,
 * config (path of a TOML file), startTimeoutMs.
 */
async function startServer({ dataDir, port, adminKey = 'test-admin-key', config, startTimeoutMs = 30000 } = {}) {
  checkBinary();
  if (!dataDir) throw new Error('startServer needs a dataDir');
  let lastError;
  for (let attempt = 0; attempt < 3; attempt++) {
    const p = port ?? (await freePort());
    const args = ['serve', '--data', dataDir, '--listen', `${LOOPBACK}:${p}`];
    if (config) args.push('--config', config);
    const env = { ...process.env, QUANYU_ADMIN_KEY: adminKey };
    delete env.QUANYU_LISTEN;
    delete env.QUANYU_DATA;
    const proc = spawn(QUANYU_BIN, args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
    const server = new QuanyuServer({ dataDir, port: p, adminKey, config, proc });
    liveServers.add(server);
    const deadline = Date.now() + startTimeoutMs;
    while (server.running && Date.now() < deadline) {
      try {
        const r = await httpRequest({ port: p, path: '/healthz', timeoutMs: 1000, agent: false });
        if (r.status === 200) return server;
      } catch {
        /* not listening yet */
      }
      await Promise.race([sleep(50), server.exited]);
    }
    if (server.running) {
      await server.kill9();
      throw new Error(`quanyu serve did not answer /healthz within ${startTimeoutMs} ms\n${server.log()}`);
    }
    lastError = new Error(
      `quanyu serve exited during start-up (${JSON.stringify(server.exitInfo)})\n${server.log()}`,
    );
    // Another process may have taken the port we picked: try another one.
    if (port !== undefined || !/listen|address/i.test(server.log())) break;
  }
  throw lastError;
}

/** `quanyu export events --data DIR` → the parsed JSONL lines (server must be stopped). */
function exportEvents(dataDir) {
  const out = path.join(makeTempDir('quanyu-export-'), 'events.jsonl');
  runQuanyu(['export', 'events', '--data', dataDir, '-o', out]);
  const text = fs.readFileSync(out, 'utf8');
  const events = [];
  text.split('\n').forEach((line, i) => {
    if (line.trim() === '') return;
    try {
      events.push(JSON.parse(line));
    } catch (e) {
      throw new Error(`export line ${i + 1} is not JSON (${e.message}): ${line.slice(0, 300)}`);
    }
  });
  return events;
}

/** messageId → [events with that id]. */
function indexByMessageId(events) {
  const m = new Map();
  for (const e of events) {
    if (!m.has(e.messageId)) m.set(e.messageId, []);
    m.get(e.messageId).push(e);
  }
  return m;
}

/**
 * One HTTP request. body: string | Buffer | object (sent as JSON).
 * Resolves {status, headers, body (Buffer), text, json}; rejects on network
 * errors and on timeoutMs. agent: an http.Agent, or false for a fresh connection.
 */
function httpRequest({ port, method = 'GET', path: p = '/', headers = {}, body, agent = false, timeoutMs = 15000 }) {
  return new Promise((resolve, reject) => {
    let payload = body;
    const h = { ...headers };
    if (payload !== undefined && !Buffer.isBuffer(payload) && typeof payload !== 'string') {
      payload = JSON.stringify(payload);
      if (!Object.keys(h).some((k) => k.toLowerCase() === 'content-type')) h['content-type'] = 'application/json';
    }
    if (payload !== undefined) payload = Buffer.from(payload);
    if (payload !== undefined && !Object.keys(h).some((k) => k.toLowerCase() === 'content-length')) {
      h['content-length'] = payload.length;
    }
    const req = http.request({ host: LOOPBACK, port, method, path: p, headers: h, agent }, (res) => {
      const chunks = [];
      res.on('data', (c) => chunks.push(c));
      res.on('error', reject);
      res.on('end', () => {
        const buf = Buffer.concat(chunks);
        const text = buf.toString('utf8');
        let json;
        try {
          json = JSON.parse(text);
        } catch {
          json = undefined;
        }
        resolve({ status: res.statusCode, headers: res.headers, body: buf, text, json });
      });
    });
    req.setTimeout(timeoutMs, () => req.destroy(new Error(`request ${method} ${p} timed out after ${timeoutMs} ms`)));
    req.on('error', reject);
    if (payload !== undefined) req.write(payload);
    req.end();
  });
}

function basicAuth(writeKey) {
  return `Basic ${Buffer.from(`${writeKey}:`).toString('base64')}`;
}

/** POST a Segment body to /v1/<endpoint> with the write key as Basic auth user. */
function segmentPost(port, endpoint, body, writeKey, { gzip = false, agent = false, headers = {}, timeoutMs } = {}) {
  let payload = typeof body === 'string' || Buffer.isBuffer(body) ? body : JSON.stringify(body);
  const h = { 'content-type': 'application/json', ...headers };
  if (writeKey !== undefined && writeKey !== null) h.authorization = basicAuth(writeKey);
  if (gzip) {
    payload = zlib.gzipSync(Buffer.from(payload));
    h['content-encoding'] = 'gzip';
  }
  return httpRequest({ port, method: 'POST', path: `/v1/${endpoint}`, headers: h, body: payload, agent, timeoutMs });
}

/** Base64 (optionally gzip'd) of the JSON text, as Sensors SDKs send `data`/`data_list`. */
function sensorsEncode(records, { gzip = true } = {}) {
  const raw = Buffer.from(JSON.stringify(records));
  return (gzip ? zlib.gzipSync(raw) : raw).toString('base64');
}

/** POST form `data_list=...&gzip=1` to /sa?project=KEY. */
function sensorsPost(port, records, writeKey, { gzip = true, agent = false } = {}) {
  const form = new URLSearchParams({ data_list: sensorsEncode(records, { gzip }), gzip: gzip ? '1' : '0' });
  return httpRequest({
    port,
    method: 'POST',
    path: `/sa?project=${encodeURIComponent(writeKey)}`,
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: form.toString(),
    agent,
  });
}

/**
 * Opens a raw TCP connection, writes `chunks` (strings/Buffers; a number is a
 * pause in ms), and collects whatever comes back until the server closes or
 * `waitMs` passes after the last write. Resolves {data, closedByServer,
 * closedAfterMs, error}.
 */
function rawExchange(port, chunks, { waitMs = 5000, destroyAfterWrite = false } = {}) {
  return new Promise((resolve) => {
    const started = Date.now();
    const sock = net.connect({ host: LOOPBACK, port });
    const received = [];
    let closedByServer = false;
    let closedAfterMs = null;
    let error = null;
    let done = false;
    let timer = null;
    const finish = () => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      sock.destroy();
      resolve({ data: Buffer.concat(received).toString('latin1'), closedByServer, closedAfterMs, error });
    };
    sock.on('data', (d) => received.push(d));
    sock.on('end', () => {
      closedByServer = true;
      closedAfterMs = Date.now() - started;
      finish();
    });
    sock.on('error', (e) => {
      error = e;
      if (e.code === 'ECONNRESET' || e.code === 'EPIPE') {
        closedByServer = true;
        closedAfterMs = Date.now() - started;
      }
      finish();
    });
    sock.on('connect', async () => {
      for (const c of chunks) {
        if (done) return;
        if (typeof c === 'number') {
          await sleep(c);
        } else {
          await new Promise((res) => sock.write(c, () => res()));
        }
      }
      if (destroyAfterWrite) return finish();
      timer = setTimeout(finish, waitMs);
    });
  });
}

/** Parses Prometheus text → [{name, labels, value}]. */
function parsePrometheus(text) {
  const samples = [];
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(.*)\})?\s+(\S+)/.exec(line);
    if (!m) continue;
    const labels = {};
    if (m[3]) {
      const re = /([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g;
      let lm;
      while ((lm = re.exec(m[3]))) labels[lm[1]] = lm[2].replace(/\\(.)/g, (_, c) => (c === 'n' ? '\n' : c));
    }
    samples.push({ name: m[1], labels, value: Number(m[4]) });
  }
  return samples;
}

/** Sum of a metric's samples whose labels include `match`. */
function metricSum(samples, name, match = {}) {
  let sum = 0;
  for (const s of samples) {
    if (s.name !== name) continue;
    if (Object.entries(match).every(([k, v]) => s.labels[k] === v)) sum += s.value;
  }
  return sum;
}

/** A small deterministic PRNG (mulberry32) so random schedules can be replayed by seed. */
function prng(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

module.exports = {
  QUANYU_BIN,
  LOOPBACK,
  sleep,
  withTimeout,
  runQuanyu,
  makeTempDir,
  createDataDir,
  addSource,
  writeConfig,
  freePort,
  startServer,
  exportEvents,
  indexByMessageId,
  httpRequest,
  basicAuth,
  segmentPost,
  sensorsEncode,
  sensorsPost,
  rawExchange,
  parsePrometheus,
  metricSum,
  prng,
};
