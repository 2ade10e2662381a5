'use strict';
// Bad input: every malformed, oversized, unauthenticated, slow or hostile
// request gets the documented answer, the server keeps serving everyone
// else (checked after every case on a fresh connection), /metrics counts
// every rejection by reason, and the data accepted before and in between is
// all in the export afterwards — and nothing from the bad requests is.

const { describe, test, before, after, afterEach } = require('node:test');
const assert = require('node:assert/strict');
const zlib = require('node:zlib');
const net = require('node:net');

const h = require('./lib/harness');

// A short read timeout so the slow-client cases take seconds; idle keep-alive
// connections get longer, to tell the two apart.
const READ_TIMEOUT_S = 2;
const IDLE_TIMEOUT_S = 6;
const CONFIG = `
[server]
read_timeout_s = ${READ_TIMEOUT_S}
idle_timeout_s = ${IDLE_TIMEOUT_S}
`;

describe('bad input', () => {
  let data;
  let server;
  let port;
  const good = new Set(); // messageIds that must be stored exactly once
  const bad = new Set(); // messageIds that must not be stored
  const rejections = {}; // reason → how many rejections /metrics must show
  let okSeq = 0;
  let exported;

  const expectRejected = (reason, n = 1) => {
    rejections[reason] = (rejections[reason] ?? 0) + n;
  };
  const key = () => data.keys.website;
  const track = (messageId, extra = {}) => ({ messageId, userId: 'user-1', event: 'Viewed', ...extra });

  /** Asserts the documented error envelope {"error":{"code","message"}}. */
  function assertError(r, status, code, what) {
    assert.equal(r.status, status, `${what}: HTTP ${r.status} ${r.text.slice(0, 300)}`);
    assert.equal(r.json?.error?.code, code, `${what}: error code in ${r.text.slice(0, 300)}`);
    assert.equal(typeof r.json.error.message, 'string', `${what}: error message`);
    assert.ok(r.json.error.message.length > 0, `${what}: empty error message`);
  }

  /** A valid event on a new connection must still be accepted. */
  async function stillServing() {
    assert.ok(server.running, `quanyu serve died: ${JSON.stringify(server.exitInfo)}\n${server.log()}`);
    const id = `ok-${++okSeq}`;
    const r = await h.segmentPost(port, 'track', track(id), key(), { timeoutMs: 5000 });
    assert.equal(r.status, 200, `a valid request after the bad one: ${r.status} ${r.text}`);
    good.add(id);
  }

  before(async () => {
    data = h.createDataDir([
      { name: 'website', type: 'web' },
      { name: 'sa-app', type: 'android' },
    ]);
    server = await h.startServer({ dataDir: data.dir, config: h.writeConfig(CONFIG) });
    port = server.port;
  });

  after(async () => {
    if (server?.running) await server.kill9();
  });

  test('data accepted before the bad inputs (Segment and Sensors)', async () => {
    const batch = Array.from({ length: 20 }, (_, i) => ({ type: 'track', ...track(`seed-seg-${i}`) }));
    let r = await h.segmentPost(port, 'batch', { batch }, key());
    assert.equal(r.status, 200, r.text);
    batch.forEach((e) => good.add(e.messageId));

    r = await h.segmentPost(port, 't', { ...track('seed-short-path'), writeKey: key() }, null, { gzip: true });
    assert.equal(r.status, 200, r.text);
    good.add('seed-short-path');

    const records = Array.from({ length: 5 }, (_, i) => ({
      type: 'track',
      event: 'AppStart',
      _track_id: 7000000 + i,
      distinct_id: `device-${i}`,
      time: Date.now(),
      properties: { $os: 'Android' },
    }));
    r = await h.sensorsPost(port, records, data.keys['sa-app']);
    assert.equal(r.status, 200, r.text);
    records.forEach((x) => good.add(String(x._track_id)));

    const one = { type: 'track', event: 'PageView', _track_id: 7000100, distinct_id: 'device-9', time: Date.now() };
    r = await h.httpRequest({
      port,
      path: `/sa.gif?token=${data.keys['sa-app']}&data=${encodeURIComponent(h.sensorsEncode(one, { gzip: false }))}`,
    });
    assert.equal(r.status, 200);
    assert.equal(r.headers['content-type'], 'image/gif');
    good.add('7000100');
  });

  describe('each is answered as documented, and a valid request on another connection still succeeds', () => {
    afterEach(stillServing);

    test('malformed JSON → 400', async () => {
      let r = await h.segmentPost(port, 'track', '{"messageId":"bad-json-1","userId":"u1","event":', key());
      assertError(r, 400, 'invalid_argument', 'truncated JSON');
      r = await h.segmentPost(port, 'batch', '[{"messageId":"bad-json-2"}]', key());
      assertError(r, 400, 'invalid_argument', 'top-level array');
      r = await h.segmentPost(port, 'batch', '{"batch":{"messageId":"bad-json-3"}}', key());
      assertError(r, 400, 'invalid_argument', 'batch not an array');
      r = await h.segmentPost(port, 'track', '', key());
      assertError(r, 400, 'invalid_argument', 'empty body');
      ['bad-json-1', 'bad-json-2', 'bad-json-3'].forEach((id) => bad.add(id));
      expectRejected('invalid_json', 4);
    });

    test('wrong types (userId object, properties array, event number) → 400 wrong_type', async () => {
      const cases = [
        track('bad-type-1', { userId: { id: 7 } }),
        track('bad-type-2', { properties: [1, 2] }),
        track('bad-type-3', { event: 42 }),
        track('bad-type-4', { context: { externalIds: 'oXyz' } }),
      ];
      for (const body of cases) {
        const r = await h.segmentPost(port, 'track', body, key());
        assertError(r, 400, 'invalid_argument', JSON.stringify(body));
        assert.equal(r.json.error.rejected?.[0]?.reason, 'wrong_type', r.text);
        bad.add(body.messageId);
      }
      expectRejected('wrong_type', cases.length);
    });

    test('a batch with some bad events → 200, the good ones stored, the bad listed by index and reason', async () => {
      const batch = [
        { type: 'track', ...track('mixed-ok-0') },
        { type: 'track', ...track('mixed-bad-1', { userId: ['u'] }) },
        { type: 'identify', messageId: 'mixed-ok-2', userId: 'user-2', traits: { email: 'A@B.cn' } },
        { type: 'track', ...track('mixed-bad-3', { properties: 'x' }) },
        { type: 'frobnicate', messageId: 'mixed-bad-4', userId: 'u' },
        { type: 'track', messageId: 'mixed-bad-5', event: 'No Identity' },
        'not an object',
        { type: 'track', ...track('mixed-bad-7', { timestamp: 'yesterday-ish' }) },
      ];
      const r = await h.segmentPost(port, 'batch', { batch }, key());
      assert.equal(r.status, 200, r.text);
      assert.equal(r.json.accepted, 2, r.text);
      assert.deepEqual(
        r.json.rejected.map((x) => [x.index, x.reason]),
        [
          [1, 'wrong_type'],
          [3, 'wrong_type'],
          [4, 'unknown_type'],
          [5, 'missing_identity'],
          [6, 'wrong_type'],
          [7, 'invalid_timestamp'],
        ],
      );
      for (const x of r.json.rejected) assert.ok(x.message, `a message for index ${x.index}`);
      good.add('mixed-ok-0').add('mixed-ok-2');
      ['mixed-bad-1', 'mixed-bad-3', 'mixed-bad-4', 'mixed-bad-5', 'mixed-bad-7'].forEach((id) => bad.add(id));
      expectRejected('wrong_type', 3);
      expectRejected('unknown_type');
      expectRejected('missing_identity');
      expectRejected('invalid_timestamp');

      const records = [
        { type: 'track', event: 'Open', _track_id: 7000400, distinct_id: 'device-1' },
        { type: 'track', event: 'Open', _track_id: 7000401 },
        { type: 'track', _track_id: 7000402, distinct_id: 'device-1' },
        { type: 'track', event: 'Open', _track_id: 7000403, distinct_id: 'device-1', time: 'noon' },
        { type: 'track', event: 'Open', _track_id: 7000404, distinct_id: 'device-2', properties: { $os: 'iOS' } },
      ];
      const sr = await h.sensorsPost(port, records, data.keys['sa-app']);
      assert.equal(sr.status, 200, sr.text);
      assert.deepEqual(
        sr.json.rejected.map((x) => [x.index, x.reason]),
        [
          [1, 'missing_identity'],
          [2, 'missing_event'],
          [3, 'invalid_timestamp'],
        ],
      );
      good.add('7000400').add('7000404');
      ['7000401', '7000402', '7000403'].forEach((id) => bad.add(id));
      expectRejected('missing_identity');
      expectRejected('missing_event');
      expectRejected('invalid_timestamp');
    });

    test('no userId/anonymousId → 400 missing_identity; junk ids → 400 junk_identity', async () => {
      let r = await h.segmentPost(port, 'track', { messageId: 'bad-noid-1', event: 'Anonymous?' }, key());
      assertError(r, 400, 'invalid_argument', 'no identity');
      assert.equal(r.json.error.rejected[0].reason, 'missing_identity');
      r = await h.segmentPost(port, 'alias', { messageId: 'bad-noid-2', userId: 'u1' }, key());
      assertError(r, 400, 'invalid_argument', 'alias without previousId');
      assert.equal(r.json.error.rejected[0].reason, 'missing_identity');
      r = await h.segmentPost(port, 'track', { messageId: 'bad-noid-3', userId: 'undefined', anonymousId: 'null', event: 'X' }, key());
      assertError(r, 400, 'invalid_argument', 'junk identity');
      assert.equal(r.json.error.rejected[0].reason, 'junk_identity');
      ['bad-noid-1', 'bad-noid-2', 'bad-noid-3'].forEach((id) => bad.add(id));
      expectRejected('missing_identity', 2);
      expectRejected('junk_identity');
    });

    test('an event over 32 KB → 400 alone, listed as rejected in a batch', async () => {
      const huge = track('bad-huge-1', { properties: { blob: 'x'.repeat(33 * 1024) } });
      let r = await h.segmentPost(port, 'track', huge, key());
      assertError(r, 400, 'invalid_argument', 'event > 32 KB');
      assert.equal(r.json.error.rejected[0].reason, 'event_too_large');
      bad.add('bad-huge-1');

      const almost = track('big-ok', { properties: { blob: 'y'.repeat(31 * 1024) } });
      const batch = [
        { type: 'track', ...almost },
        { type: 'track', ...track('bad-huge-2', { properties: { blob: 'x'.repeat(40 * 1024) } }) },
      ];
      r = await h.segmentPost(port, 'batch', { batch }, key());
      assert.equal(r.status, 200, r.text);
      assert.deepEqual(r.json.rejected.map((x) => [x.index, x.reason]), [[1, 'event_too_large']]);
      good.add('big-ok');
      bad.add('bad-huge-2');
      expectRejected('event_too_large', 2);
    });

    test('2,500 events in a batch are fine; 2,501 → 413', async () => {
      const mk = (prefix, n) => Array.from({ length: n }, (_, i) => ({ type: 'track', messageId: `${prefix}-${i}`, userId: 'u', event: 'e' }));
      const ok = mk('b2500', 2500);
      let r = await h.segmentPost(port, 'batch', { batch: ok }, key());
      assert.equal(r.status, 200, r.text.slice(0, 300));
      ok.forEach((e) => good.add(e.messageId));

      const tooMany = mk('bad-b2501', 2501);
      r = await h.segmentPost(port, 'batch', { batch: tooMany }, key());
      assertError(r, 413, 'payload_too_large', '2,501 events');
      tooMany.forEach((e) => bad.add(e.messageId));
      expectRejected('body_too_large');

      const records = Array.from({ length: 2501 }, (_, i) => ({ type: 'track', event: 'E', _track_id: 8000000 + i, distinct_id: 'd' }));
      r = await h.sensorsPost(port, records, data.keys['sa-app']);
      assertError(r, 413, 'payload_too_large', '2,501 Sensors records');
      records.forEach((x) => bad.add(String(x._track_id)));
      expectRejected('body_too_large');
    });

    test('a body over 500 KB → 413 (decoded, raw, and a gzip bomb)', async () => {
      const mk = (prefix, n, size) =>
        Array.from({ length: n }, (_, i) => ({ type: 'track', messageId: `${prefix}-${i}`, userId: 'u', event: 'e', properties: { pad: 'p'.repeat(size) } }));
      const under = mk('b480k', 16, 30 * 1024); // ≈ 480 KB
      let r = await h.segmentPost(port, 'batch', { batch: under }, key());
      assert.equal(r.status, 200, `a 480 KB batch: ${r.text.slice(0, 300)}`);
      under.forEach((e) => good.add(e.messageId));

      const over = mk('bad-b600k', 20, 30 * 1024); // ≈ 600 KB, under the raw limit
      r = await h.segmentPost(port, 'batch', { batch: over }, key());
      assertError(r, 413, 'payload_too_large', '600 KB body');
      over.forEach((e) => bad.add(e.messageId));

      const gz = mk('bad-gz700k', 24, 30 * 1024); // 700 KB that gzip to a few KB
      r = await h.segmentPost(port, 'batch', { batch: gz }, key(), { gzip: true });
      assertError(r, 413, 'payload_too_large', '700 KB gzip-encoded');
      gz.forEach((e) => bad.add(e.messageId));

      // 50 MB of whitespace in a 50 KB gzip stream.
      const bomb = zlib.gzipSync(Buffer.concat([Buffer.from('{"batch":['), Buffer.alloc(50 * 1024 * 1024, 0x20), Buffer.from(']}')]));
      r = await h.httpRequest({
        port,
        method: 'POST',
        path: '/v1/batch',
        headers: { authorization: h.basicAuth(key()), 'content-type': 'application/json', 'content-encoding': 'gzip' },
        body: bomb,
      });
      assertError(r, 413, 'payload_too_large', 'gzip bomb');

      // 1.5 MB raw: refused while being read.
      const raw = mk('bad-b1500k', 50, 30 * 1024);
      r = await h.segmentPost(port, 'batch', { batch: raw }, key());
      assertError(r, 413, 'payload_too_large', '1.5 MB body');
      raw.forEach((e) => bad.add(e.messageId));
      expectRejected('body_too_large', 4);
    });

    test('Content-Encoding: gzip with a corrupt body → 400; unsupported encodings → 400', async () => {
      const gz = zlib.gzipSync(Buffer.from(JSON.stringify(track('bad-gzip-1'))));
      const send = (body, encoding) =>
        h.httpRequest({
          port,
          method: 'POST',
          path: '/v1/track',
          headers: { authorization: h.basicAuth(key()), 'content-type': 'application/json', 'content-encoding': encoding },
          body,
        });
      let r = await send(gz.subarray(0, gz.length - 12), 'gzip');
      assertError(r, 400, 'invalid_argument', 'truncated gzip');
      const flipped = Buffer.from(gz);
      for (let i = 12; i < flipped.length - 8; i += 3) flipped[i] ^= 0x5a;
      r = await send(flipped, 'gzip');
      assertError(r, 400, 'invalid_argument', 'corrupted gzip');
      r = await send(JSON.stringify(track('bad-gzip-2')), 'gzip');
      assertError(r, 400, 'invalid_argument', 'plain JSON labelled gzip');
      r = await send(JSON.stringify(track('bad-gzip-3')), 'br');
      assertError(r, 400, 'invalid_argument', 'Content-Encoding: br');
      ['bad-gzip-1', 'bad-gzip-2', 'bad-gzip-3'].forEach((id) => bad.add(id));
      expectRejected('bad_encoding', 4);
    });

    test('Sensors: bad base64 and bad gzip → 400', async () => {
      const saKey = data.keys['sa-app'];
      const post = (form) =>
        h.httpRequest({
          port,
          method: 'POST',
          path: `/sa?project=${saKey}`,
          headers: { 'content-type': 'application/x-www-form-urlencoded' },
          body: form,
        });
      let r = await post('data_list=***not*base64***&gzip=1');
      assertError(r, 400, 'invalid_argument', 'bad base64 (POST)');
      r = await h.httpRequest({ port, path: `/sa.gif?project=${saKey}&data=%E2%98%83%E2%98%83%E2%98%83` });
      assertError(r, 400, 'invalid_argument', 'bad base64 (GET /sa.gif)');

      const record = { type: 'track', event: 'X', _track_id: 7000200, distinct_id: 'd' };
      const gz = zlib.gzipSync(Buffer.from(JSON.stringify([record])));
      r = await post(new URLSearchParams({ data_list: gz.subarray(0, gz.length - 10).toString('base64'), gzip: '1' }).toString());
      assertError(r, 400, 'invalid_argument', 'truncated gzip');
      r = await post(new URLSearchParams({ data_list: Buffer.from([0x1f, 0x8b, 8, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9]).toString('base64'), gzip: '1' }).toString());
      assertError(r, 400, 'invalid_argument', 'garbage after the gzip magic');
      r = await post(new URLSearchParams({ data_list: Buffer.from('definitely not gzip').toString('base64'), gzip: '1' }).toString());
      assertError(r, 400, 'invalid_argument', 'gzip=1 with plain bytes');
      r = await post('gzip=1');
      assertError(r, 400, 'invalid_argument', 'no data at all');
      bad.add('7000200');
      expectRejected('invalid_payload', 6);
    });

    test('Sensors: a corrupt Content-Encoding: gzip body → 400, counted in /metrics', async () => {
      const rejectedBefore = h.metricSum(await server.metrics(), 'quanyu_events_rejected_total');
      const form = new URLSearchParams({ data: h.sensorsEncode({ type: 'track', event: 'X', _track_id: 7000201, distinct_id: 'd' }) });
      const gz = zlib.gzipSync(Buffer.from(form.toString()));
      const r = await h.httpRequest({
        port,
        method: 'POST',
        path: `/sa?project=${data.keys['sa-app']}`,
        headers: { 'content-type': 'application/x-www-form-urlencoded', 'content-encoding': 'gzip' },
        body: gz.subarray(0, gz.length - 9),
      });
      assertError(r, 400, 'invalid_argument', 'Sensors, truncated gzip body');
      bad.add('7000201');
      expectRejected('bad_encoding');
      // Regression (fixed): Router::HandleSensors returns the DecodeBody
      // error without Engine::CountRejection (HandleSegment counts it as
      // bad_encoding), so this rejection is missing from /metrics.
      const rejectedAfter = h.metricSum(await server.metrics(), 'quanyu_events_rejected_total');
      assert.equal(rejectedAfter - rejectedBefore, 1, 'quanyu_events_rejected_total grew by one');
    });

    test('missing or unknown write key → 401', async () => {
      let r = await h.segmentPost(port, 'track', track('bad-auth-1'), null);
      assertError(r, 401, 'unauthenticated', 'no key');
      r = await h.segmentPost(port, 'track', track('bad-auth-2'), 'not-a-real-key-0123456789');
      assertError(r, 401, 'unauthenticated', 'unknown key');
      r = await h.segmentPost(port, 'track', { ...track('bad-auth-3'), writeKey: 'also-not-a-key-0123456789' }, null);
      assertError(r, 401, 'unauthenticated', 'unknown key in the body');
      r = await h.httpRequest({
        port,
        method: 'POST',
        path: '/v1/track',
        headers: { authorization: 'Basic %%%not-base64', 'content-type': 'application/json' },
        body: track('bad-auth-4'),
      });
      assertError(r, 401, 'unauthenticated', 'mangled Basic auth');
      const record = { type: 'track', event: 'X', _track_id: 7000300, distinct_id: 'd' };
      r = await h.sensorsPost(port, [record], 'not-a-real-key-0123456789');
      assertError(r, 401, 'unauthenticated', 'Sensors, unknown project');
      r = await h.httpRequest({
        port,
        method: 'POST',
        path: '/sa',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: `data=${encodeURIComponent(h.sensorsEncode(record, { gzip: false }))}`,
      });
      assertError(r, 401, 'unauthenticated', 'Sensors, no key');
      // A key for one source's events can't be guessed from another's admin API either.
      r = await h.httpRequest({ port, path: '/api/v1/stats', headers: { authorization: 'Bearer wrong' } });
      assertError(r, 401, 'unauthenticated', 'admin API with a wrong key');
      ['bad-auth-1', 'bad-auth-2', 'bad-auth-3', 'bad-auth-4', '7000300'].forEach((id) => bad.add(id));
      expectRejected('unauthorized', 6);
    });

    test('unknown endpoints → 404; GET on /v1/track → 400', async () => {
      let r = await h.segmentPost(port, 'trakc', track('bad-404-1'), key());
      assertError(r, 404, 'not_found', 'POST /v1/trakc');
      r = await h.httpRequest({ port, method: 'POST', path: '/v2/track', body: track('bad-404-2') });
      assertError(r, 404, 'not_found', 'POST /v2/track');
      r = await h.httpRequest({ port, path: '/wp-login.php' });
      assertError(r, 404, 'not_found', 'GET /wp-login.php');
      bad.add('bad-404-1').add('bad-404-2');
      expectRejected('unknown_endpoint');

      // docs/openapi.yaml lists no 405: a wrong method is a 400 invalid_argument.
      r = await h.httpRequest({ port, path: '/v1/track', headers: { authorization: h.basicAuth(key()) } });
      assertError(r, 400, 'invalid_argument', 'GET /v1/track');
    });

    test('non-HTTP bytes, a bogus Content-Length, a bad chunk → 400 and the connection closed; valid chunked → 200', async () => {
      let x = await h.rawExchange(port, ['HELLO THERE\r\n\r\n'], { waitMs: 3000 });
      assert.match(x.data, /^HTTP\/1\.1 400 /, `garbage: ${JSON.stringify(x.data.slice(0, 200))}`);
      assert.ok(x.closedByServer, 'the server closed the connection');
      x = await h.rawExchange(port, ['POST /v1/track HTTP/1.1\r\nHost: x\r\nContent-Length: banana\r\n\r\n{}'], { waitMs: 3000 });
      assert.match(x.data, /^HTTP\/1\.1 400 /, `bogus Content-Length: ${JSON.stringify(x.data.slice(0, 200))}`);
      assert.ok(x.closedByServer, 'the server closed the connection');

      const body = JSON.stringify(track('chunked-ok'));
      const head = `POST /v1/track HTTP/1.1\r\nHost: x\r\nAuthorization: ${h.basicAuth(key())}\r\nTransfer-Encoding: chunked\r\n\r\n`;
      const half = Math.floor(body.length / 2);
      x = await h.rawExchange(
        port,
        [head, `${half.toString(16)}\r\n${body.slice(0, half)}\r\n`, 50, `${(body.length - half).toString(16)}\r\n${body.slice(half)}\r\n0\r\n\r\n`],
        { waitMs: 500 },
      );
      assert.match(x.data, /^HTTP\/1\.1 200 /, `a valid chunked request: ${JSON.stringify(x.data.slice(0, 200))}`);
      good.add('chunked-ok');
      x = await h.rawExchange(port, [head, `zz\r\n${JSON.stringify(track('bad-chunked'))}\r\n0\r\n\r\n`], { waitMs: 3000 });
      assert.match(x.data, /^HTTP\/1\.1 400 /, `a bad chunk size: ${JSON.stringify(x.data.slice(0, 200))}`);
      bad.add('bad-chunked');
    });

    test('a request cut off midway (Content-Length larger than sent, then the socket destroyed)', async () => {
      const body = JSON.stringify(track('bad-cut-1', { properties: { pad: 'z'.repeat(2000) } }));
      const head =
        `POST /v1/track HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: ${h.basicAuth(key())}\r\n` +
        `Content-Type: application/json\r\nContent-Length: ${body.length + 5000}\r\n\r\n`;
      const x = await h.rawExchange(port, [head, body, 300], { destroyAfterWrite: true });
      assert.equal(x.data, '', 'no answer to a request that never completed');
      // Several at once, cut at different points.
      await Promise.all(
        [10, 100, head.length - 3, head.length + 50].map((cut) =>
          h.rawExchange(port, [(head + body).slice(0, cut), 100], { destroyAfterWrite: true }),
        ),
      );
      bad.add('bad-cut-1');
    });

    test(`a slow client dribbling bytes is cut off after read_timeout_s (${READ_TIMEOUT_S} s) while others are served`, async () => {
      const req = Buffer.from(
        `POST /v1/track HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: ${h.basicAuth(key())}\r\n` +
          `Content-Type: application/json\r\nContent-Length: 60\r\n\r\n` +
          JSON.stringify(track('bad-slow-1')).padEnd(60, ' '),
      );
      const chunks = [];
      for (const b of req) chunks.push(Buffer.from([b]), 100); // 10 bytes/s: 25 s for the request
      const slow = h.rawExchange(port, chunks, { waitMs: 1000 });

      const latencies = [];
      const normal = (async () => {
        for (let i = 0; i < 8; i++) {
          const t0 = Date.now();
          const id = `during-slow-${i}`;
          const r = await h.segmentPost(port, 'track', track(id), key(), { timeoutMs: 3000 });
          assert.equal(r.status, 200, r.text);
          good.add(id);
          latencies.push(Date.now() - t0);
          await h.sleep(250);
        }
      })();
      const [x] = await Promise.all([slow, normal]);
      assert.ok(x.closedByServer, `the server kept a dribbling client for ${x.closedAfterMs ?? 'ever'} ms`);
      assert.ok(
        x.closedAfterMs >= READ_TIMEOUT_S * 1000 - 300 && x.closedAfterMs <= READ_TIMEOUT_S * 1000 + 2000,
        `cut off after ${x.closedAfterMs} ms, read_timeout_s is ${READ_TIMEOUT_S}`,
      );
      assert.ok(!/^HTTP\/1\.1 2/.test(x.data), `a half-sent request was answered: ${x.data.slice(0, 100)}`);
      assert.ok(Math.max(...latencies) < 1500, `normal requests while a slow client dribbles: ${latencies} ms`);
      bad.add('bad-slow-1');
    });

    test('a slow second request on a keep-alive connection is cut off after read_timeout_s too', async () => {
      const mk = (id) => {
        const body = JSON.stringify(track(id));
        return Buffer.from(
          `POST /v1/track HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: ${h.basicAuth(key())}\r\n` +
            `Content-Type: application/json\r\nContent-Length: ${body.length}\r\n\r\n${body}`,
        );
      };
      const chunks = [mk('keepalive-first'), 500];
      for (const b of mk('bad-slow-2')) chunks.push(Buffer.from([b]), 100);
      const x = await h.rawExchange(port, chunks, { waitMs: 1000 });
      good.add('keepalive-first');
      bad.add('bad-slow-2');
      assert.match(x.data, /^HTTP\/1\.1 200 /, 'the first request was answered');
      assert.ok(x.closedByServer, 'the server closed the connection');
      const dribbleMs = x.closedAfterMs - 500;
      // Regression (fixed): after a first request, the whole next read
      // runs under idle_timeout_s (server.cc Session::Read), so a client that
      // keeps dribbling its second request is kept idle_timeout_s (6 s here,
      // 60 s by default), not read_timeout_s.
      assert.ok(
        dribbleMs <= READ_TIMEOUT_S * 1000 + 2000,
        `a dribbling second request was kept ${dribbleMs} ms (read_timeout_s=${READ_TIMEOUT_S}, idle_timeout_s=${IDLE_TIMEOUT_S})`,
      );
    });

    test('many concurrent connections: 300 posting at once, 1,000 idle ones open', async () => {
      const ids = Array.from({ length: 300 }, (_, i) => `conc-${i}`);
      const results = await Promise.allSettled(ids.map((id) => h.segmentPost(port, 'track', track(id), key(), { timeoutMs: 20000 })));
      const statuses = results.map((r) => (r.status === 'fulfilled' ? r.value.status : r.reason.code || r.reason.message));
      const counts = statuses.reduce((m, s) => ((m[s] = (m[s] ?? 0) + 1), m), {});
      assert.deepEqual(counts, { 200: 300 }, 'every concurrent request answered 200');
      ids.forEach((id) => good.add(id));

      const idle = [];
      try {
        await Promise.all(
          Array.from({ length: 1000 }, () =>
            new Promise((resolve, reject) => {
              const s = net.connect({ host: h.LOOPBACK, port }, () => resolve());
              s.on('error', () => {}); // the server closes them after read_timeout_s
              idle.push(s);
              s.setTimeout(10000, () => reject(new Error('connect timed out')));
            }),
          ),
        );
        const t0 = Date.now();
        const r = await h.segmentPost(port, 'track', track('with-1000-idle'), key(), { timeoutMs: 5000 });
        assert.equal(r.status, 200, r.text);
        assert.ok(Date.now() - t0 < 2000, `a request with 1,000 idle connections open took ${Date.now() - t0} ms`);
        good.add('with-1000-idle');
      } finally {
        idle.forEach((s) => s.destroy());
      }
    });

    test('a header bomb → 431', async () => {
      const big = await h.httpRequest({
        port,
        method: 'POST',
        path: '/v1/track',
        headers: { authorization: h.basicAuth(key()), 'content-type': 'application/json', 'x-bomb': 'b'.repeat(64 * 1024) },
        body: track('bad-hdr-1'),
      }).catch((e) => ({ status: `error ${e.code || e.message}`, text: '' }));
      assert.equal(big.status, 431, `one 64 KB header: ${big.status} ${big.text}`);
      assert.equal(big.json?.error?.code, 'header_too_large');

      const many = {};
      for (let i = 0; i < 2000; i++) many[`x-h-${i}`] = 'v'.repeat(20);
      const r = await h.httpRequest({
        port,
        method: 'POST',
        path: '/v1/track',
        headers: { ...many, authorization: h.basicAuth(key()), 'content-type': 'application/json' },
        body: track('bad-hdr-2'),
      }).catch((e) => ({ status: `error ${e.code || e.message}`, text: '' }));
      assert.equal(r.status, 431, `2,000 headers: ${r.status} ${r.text}`);

      // Big but under the limit is fine.
      const ok = await h.httpRequest({
        port,
        method: 'POST',
        path: '/v1/track',
        headers: { authorization: h.basicAuth(key()), 'content-type': 'application/json', 'x-big': 'c'.repeat(8 * 1024) },
        body: track('hdr-8k-ok'),
      });
      assert.equal(ok.status, 200, ok.text);
      good.add('hdr-8k-ok');
      bad.add('bad-hdr-1').add('bad-hdr-2');
    });
  });

  describe('afterwards', () => {
    test('/metrics counts every rejection by reason, and every accepted event', async () => {
      const samples = await server.metrics();
      const actual = {};
      for (const s of samples) {
        if (s.name === 'quanyu_events_rejected_total' && s.value > 0) {
          actual[s.labels.reason] = (actual[s.labels.reason] ?? 0) + s.value;
        }
      }
      // Also fails while the Sensors Content-Encoding rejection goes uncounted
      // (regression, fixed; see the Sensors Content-Encoding case above).
      assert.deepEqual(actual, rejections, 'quanyu_events_rejected_total by reason');
      assert.equal(h.metricSum(samples, 'quanyu_events_accepted_total'), good.size, 'quanyu_events_accepted_total');
      assert.equal(h.metricSum(samples, 'quanyu_events_accepted_total', { source: 'sa-app' }), 8);
    });

    test('everything accepted before and between the bad inputs is stored exactly once, nothing else', async () => {
      await server.stop();
      exported = h.exportEvents(data.dir);
      const byId = h.indexByMessageId(exported);
      const missing = [...good].filter((id) => (byId.get(id)?.length ?? 0) !== 1);
      assert.deepEqual(missing.slice(0, 20), [], `${missing.length} accepted ids not stored exactly once`);
      const leaked = [...bad].filter((id) => byId.has(id));
      assert.deepEqual(leaked.slice(0, 20), [], 'events from rejected requests were stored');
      assert.equal(exported.length, good.size, 'no other events');
      const fromSensors = exported.filter((e) => e.source === 'sa-app');
      assert.equal(fromSensors.length, 8);
      assert.ok(exported.every((e) => e.source === 'website' || e.source === 'sa-app'));
    });
  });
});
