'use strict';
// Real SDK clients against a real `quanyu serve`: Segment's analytics-node
// and Sensors' sa-sdk-node send what they always send; after the server
// stops, `quanyu export events` must hold every event exactly once, with the
// ids, identifiers, timestamps, channels and source the SDKs' data implies.

const { describe, test, before, after } = require('node:test');
const assert = require('node:assert/strict');
const { Analytics } = require('@segment/analytics-node');
const SensorsAnalytics = require('sa-sdk-node');

const h = require('./lib/harness');

// Explicit event times in the past, with milliseconds, so "the timestamp the
// SDK sent" is not the same as "when the server received it".
const T0 = Date.parse('2026-03-14T09:26:53.589Z');
const at = (offsetMs) => new Date(T0 + offsetMs);

/** Calls an analytics-node method and resolves with its context once delivered (or rejects). */
function deliver(analytics, method, params) {
  return new Promise((resolve, reject) => {
    analytics[method](params, (err, ctx) => (err ? reject(err) : resolve(ctx)));
  });
}

/** The exported identifier list as "type=id" strings. */
function externalIds(e) {
  return (e.context?.externalIds ?? []).map((x) => `${x.type}=${x.id}`).sort();
}

function assertSameMillis(actualIso, expectedMs, what) {
  const actual = Date.parse(actualIso);
  assert.ok(Number.isFinite(actual), `${what}: timestamp ${actualIso} does not parse`);
  assert.ok(Math.abs(actual - expectedMs) <= 1, `${what}: stored ${actualIso}, sent ${new Date(expectedMs).toISOString()}`);
}

describe('SDK clients → quanyu → export', () => {
  let data;
  let server;
  let stopResult;
  // What the SDKs put on the wire, captured from the SDKs themselves.
  const segmentSent = []; // events from analytics-node's http_request bodies
  const segmentStatuses = [];
  const sensorsSent = []; // envelopes sa-sdk-node built
  // messageId → expectations about the stored event.
  const expected = new Map();
  let exported;

  before(async () => {
    data = h.createDataDir([
      { name: 'website', type: 'web' },
      { name: 'node-backend', type: 'server' },
    ]);
    server = await h.startServer({ dataDir: data.dir });
  });

  after(async () => {
    if (server?.running) await server.kill9();
  });

  test('analytics-node: track/identify/page/screen/group/alias are delivered (HTTP 200)', async () => {
    const analytics = new Analytics({
      writeKey: data.keys.website,
      host: server.base,
      flushAt: 3, // several batches
      flushInterval: 200,
      maxRetries: 2,
      httpRequestTimeout: 5000,
    });
    analytics.on('http_request', (r) => {
      for (const e of JSON.parse(r.body).batch) segmentSent.push(e);
    });
    analytics.on('http_response', (r) => segmentStatuses.push(r.status));

    const calls = [
      [
        'identify',
        {
          userId: 'user-1001',
          anonymousId: 'anon-aaa',
          traits: { phone: '138 0013 8000', email: 'Li.Wei@Example.COM', name: '李伟' },
          timestamp: at(0),
        },
        {
          type: 'identify',
          userId: 'user-1001',
          anonymousId: 'anon-aaa',
          ids: ['email=li.wei@example.com', 'phone=+8613800138000'],
          channel: 'direct',
        },
      ],
      [
        'track',
        {
          userId: 'user-1001',
          event: 'Order Completed',
          properties: { revenue: 199.5, currency: 'CNY', order_id: 'o-1', items: 2 },
          context: { campaign: { source: 'douyin', medium: 'cpc', name: '双11' } },
          timestamp: at(1000),
        },
        { type: 'track', userId: 'user-1001', event: 'Order Completed', channel: 'douyin', revenue: 199.5 },
      ],
      [
        'page',
        {
          anonymousId: 'anon-bbb',
          name: 'Home',
          properties: { url: 'https://shop.example.cn/?utm_source=xhs&utm_medium=social', title: '首页' },
          timestamp: at(2000),
        },
        { type: 'page', anonymousId: 'anon-bbb', name: 'Home', channel: 'xiaohongshu' },
      ],
      [
        'page',
        {
          anonymousId: 'anon-ccc',
          name: 'Landing',
          context: { page: { url: 'https://shop.example.cn/p/1', referrer: 'https://www.baidu.com/s?wd=quanyu' } },
        },
        { type: 'page', anonymousId: 'anon-ccc', name: 'Landing', channel: 'organic_search' },
      ],
      [
        'screen',
        { userId: 'user-1001', name: 'Cart', properties: { items: 2 }, timestamp: at(3000) },
        { type: 'screen', userId: 'user-1001', name: 'Cart', channel: 'direct' },
      ],
      [
        'group',
        { userId: 'user-1001', groupId: 'company-42', traits: { name: 'Acme' }, timestamp: at(4000) },
        { type: 'group', userId: 'user-1001', groupId: 'company-42' },
      ],
      [
        'alias',
        { userId: 'user-1001', previousId: 'anon-aaa', timestamp: at(5000) },
        { type: 'alias', userId: 'user-1001', previousId: 'anon-aaa' },
      ],
      [
        'track',
        {
          anonymousId: 'anon-ddd',
          event: 'Coupon Claimed',
          context: { traits: { phone: '+86 139-1234-5678', email: '  Zhang.San@QQ.com ' } },
          properties: { url: 'https://shop.example.cn/?utm_source=wechat&utm_campaign=spring' },
        },
        {
          type: 'track',
          anonymousId: 'anon-ddd',
          event: 'Coupon Claimed',
          ids: ['email=zhang.san@qq.com', 'phone=+8613912345678'],
          channel: 'wechat',
        },
      ],
    ];

    const contexts = await Promise.all(calls.map(([method, params]) => deliver(analytics, method, params)));
    await analytics.closeAndFlush({ timeout: 20000 });

    calls.forEach(([method, , exp], i) => {
      const id = contexts[i].event.messageId;
      assert.ok(id, `${method} got a messageId from the SDK`);
      expected.set(id, { ...exp, source: 'website', via: `analytics-node ${method} #${i}` });
    });
    assert.equal(segmentSent.length, calls.length, 'every call was put on the wire exactly once');
    assert.ok(segmentStatuses.length >= 2, `sent in several batches (${segmentStatuses.length})`);
    assert.deepEqual([...new Set(segmentStatuses)], [200], `every batch answered 200: ${segmentStatuses}`);
    for (const e of segmentSent) {
      const exp = expected.get(e.messageId);
      assert.ok(exp, `the wire carried an unexpected messageId ${e.messageId}`);
      exp.timestampMs = Date.parse(e.timestamp); // what the SDK sent, explicit or its own clock
    }
  });

  test('sa-sdk-node: track/trackSignup/profileSet are delivered in batches (HTTP 200)', async () => {
    const sa = new SensorsAnalytics();
    sa.subscribe((envelope) => sensorsSent.push(JSON.parse(JSON.stringify(envelope))));
    const submitter = sa.submitTo(
      { url: `${server.base}/sa?project=${data.keys['node-backend']}`, gzip: true, mode: 'track', timeout: 5000 },
      { count: 2 },
    );
    const batches = 3;
    const delivered = new Promise((resolve, reject) => {
      let ok = 0;
      submitter.subscribe(
        () => {
          if (++ok === batches) resolve();
        },
        (err) => reject(new Error(`sa-sdk-node submit failed: ${err?.message ?? err}`)),
      );
    });

    const records = [
      () => sa.track('anon-sa-1', 'ViewProduct', { $utm_source: 'douyin', $utm_medium: 'cpc', product_id: 'p-9', price: 3, $time: at(10000) }),
      () =>
        sa.track('anon-sa-1', 'AddToCart', {
          $url: 'https://shop.example.cn/p/9',
          $referrer: 'https://www.xiaohongshu.com/discovery/item/1',
          $time: at(11000),
        }),
      () => sa.trackSignup('user-sa-1', 'anon-sa-1', { $time: at(12000) }),
      () => sa.track('user-sa-1', 'PayOrder', { $is_login_id: true, order_amount: 59.9, $time: at(13000) }),
      () => sa.profileSet('user-sa-1', { $is_login_id: true, Gender: 'f', $time: at(14000) }),
      () => sa.track('anon-sa-2', 'AppStart', { $is_first_time: true }), // the SDK's own clock
    ];
    const exps = [
      { type: 'track', anonymousId: 'anon-sa-1', event: 'ViewProduct', channel: 'douyin', noUserId: true },
      { type: 'track', anonymousId: 'anon-sa-1', event: 'AddToCart', channel: 'xiaohongshu', noUserId: true },
      { type: 'track_signup', userId: 'user-sa-1', anonymousId: 'anon-sa-1', event: '$SignUp', channel: 'direct' },
      { type: 'track', userId: 'user-sa-1', event: 'PayOrder', channel: 'direct', revenue: 59.9 },
      { type: 'profile_set', userId: 'user-sa-1', channel: 'direct' },
      { type: 'track', anonymousId: 'anon-sa-2', event: 'AppStart', channel: 'direct', noUserId: true },
    ];
    assert.equal(records.length, batches * 2);
    records.forEach((send) => send());
    await h.withTimeout(delivered, 20000, 'sa-sdk-node did not deliver 3 batches within 20 s');

    assert.equal(sensorsSent.length, records.length, 'the SDK built one envelope per call');
    sensorsSent.forEach((env, i) => {
      const id = String(env._track_id);
      assert.ok(!expected.has(id), `_track_id ${id} is unique in this test`);
      expected.set(id, { ...exps[i], timestampMs: env.time, source: 'node-backend', via: `sa-sdk-node #${i}` });
    });
  });

  test('after a stop, export holds every event exactly once, as the SDKs sent it', async () => {
    stopResult = await server.stop();
    exported = h.exportEvents(data.dir);
    const byId = h.indexByMessageId(exported);

    for (const [id, exp] of expected) {
      const found = byId.get(id) ?? [];
      assert.equal(found.length, 1, `${exp.via} (messageId ${id}) stored ${found.length} times`);
      const e = found[0];
      const what = `${exp.via} (${id})`;
      assert.equal(e.type, exp.type, `${what}: type`);
      assert.equal(e.source, exp.source, `${what}: source`);
      if (exp.userId !== undefined) assert.equal(e.userId, exp.userId, `${what}: userId`);
      if (exp.noUserId) assert.equal(e.userId, undefined, `${what}: no userId`);
      if (exp.anonymousId !== undefined) assert.equal(e.anonymousId, exp.anonymousId, `${what}: anonymousId`);
      if (exp.event !== undefined) assert.equal(e.event, exp.event, `${what}: event`);
      if (exp.name !== undefined) assert.equal(e.name, exp.name, `${what}: name`);
      if (exp.groupId !== undefined) assert.equal(e.groupId, exp.groupId, `${what}: groupId`);
      if (exp.previousId !== undefined) assert.equal(e.previousId, exp.previousId, `${what}: previousId`);
      if (exp.channel !== undefined) assert.equal(e.channel, exp.channel, `${what}: channel`);
      if (exp.revenue !== undefined) assert.equal(e.properties?.revenue, exp.revenue, `${what}: revenue`);
      if (exp.ids) assert.deepEqual(externalIds(e), exp.ids, `${what}: normalized identifiers`);
      assertSameMillis(e.timestamp, exp.timestampMs, `${what}: timestamp`);
    }
    const unexpected = exported.filter((e) => !expected.has(e.messageId));
    assert.deepEqual(unexpected, [], 'the export holds only events the SDKs sent');
    assert.equal(exported.length, expected.size);
  });

  test('SIGTERM stops the server cleanly (exit code 0)', () => {
    // Regression (fixed): `quanyu serve` dies of the SIGTERM itself
    // (signal SIGTERM, shell status 143) instead of shutting down and
    // exiting 0: the signal mask is set in Serve() after Engine::Open has
    // already started threads that leave SIGTERM unblocked.
    assert.deepEqual(
      { code: stopResult.code, signal: stopResult.signal, forced: stopResult.forced },
      { code: 0, signal: null, forced: false },
      `quanyu serve did not exit cleanly on SIGTERM\n${server.log()}`,
    );
  });

  test('events survive a restart: stats and the events API agree with the export', async () => {
    const again = await h.startServer({ dataDir: data.dir });
    try {
      const stats = await again.admin('/api/v1/stats');
      assert.equal(stats.events.total, exported.length, `stats after restart: ${JSON.stringify(stats)}`);
      const listed = await again.admin('/api/v1/events?limit=1000');
      assert.equal(listed.count, exported.length);
      assert.deepEqual(listed.events.map((e) => e.messageId).sort(), exported.map((e) => e.messageId).sort());
    } finally {
      await again.stop();
    }
    // And a second export (after the restarted server's shutdown) is the same.
    const second = h.exportEvents(data.dir);
    assert.deepEqual(second.map((e) => e.messageId).sort(), exported.map((e) => e.messageId).sort());
  });

  test('analytics-node with context.externalIds: scoped WeChat openid is stored', async () => {
    const d = h.createDataDir([{ name: 'wechat-mp', type: 'wechat_mp' }]);
    const s = await h.startServer({ dataDir: d.dir });
    try {
      const analytics = new Analytics({
        writeKey: d.keys['wechat-mp'],
        host: s.base,
        flushAt: 2,
        flushInterval: 200,
        maxRetries: 0,
        httpRequestTimeout: 5000,
      });
      const statuses = [];
      analytics.on('http_response', (r) => statuses.push(r.status));
      const sent = [];
      analytics.on('http_request', (r) => sent.push(...JSON.parse(r.body).batch));
      const params = [
        [
          'identify',
          {
            userId: 'user-2002',
            traits: { phone: '13700137000' },
            context: { externalIds: [{ id: 'oXyz', type: 'wechat_openid:wx123', collection: 'users', encoding: 'none' }] },
            timestamp: at(20000),
          },
        ],
        [
          'track',
          {
            anonymousId: 'anon-mp-1',
            event: 'Mini Program Opened',
            context: { externalIds: [{ id: 'oAbc', type: 'wechat_openid:wx123' }, { id: 'uXyz', type: 'wechat_unionid' }] },
            timestamp: at(21000),
          },
        ],
      ];
      const results = await Promise.allSettled(params.map(([m, p]) => deliver(analytics, m, p)));
      await analytics.closeAndFlush({ timeout: 10000 });

      // Regression (fixed): any event carrying context.externalIds crashes
      // `quanyu serve` with SIGSEGV (collect/segment_format.cc ReadExternalIds
      // iterates a dangling simdjson array), so the SDK gets no answer.
      assert.equal(s.running, true, `quanyu serve died while ingesting context.externalIds: ${JSON.stringify(s.exitInfo)}\n${s.log()}`);
      assert.deepEqual(results.map((r) => r.status), ['fulfilled', 'fulfilled'], `delivery: ${JSON.stringify(results.map((r) => r.reason?.message))}`);
      assert.deepEqual([...new Set(statuses)], [200]);

      await s.stop();
      const events = h.exportEvents(d.dir);
      const byId = h.indexByMessageId(events);
      assert.equal(events.length, 2);
      const [identify, track] = sent.map((e) => byId.get(e.messageId)?.[0]);
      assert.ok(identify && track, 'both events stored under the SDK messageIds');
      assert.deepEqual(externalIds(identify), ['phone=+8613700137000', 'wechat_openid:wx123=oXyz']);
      assert.deepEqual(externalIds(track), ['wechat_openid:wx123=oAbc', 'wechat_unionid=uXyz']);
      assert.equal(track.channel, 'wechat', 'a wechat_mp source implies the wechat channel');
      assertSameMillis(identify.timestamp, at(20000).valueOf(), 'identify timestamp');
    } finally {
      if (s.running) await s.kill9();
    }
  });
});
