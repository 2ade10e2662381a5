'use strict';
// Back-pressure: when more bytes wait for the log's fsync than
// [log] max_queue_bytes allows, ingest answers 429 with Retry-After instead
// of queueing without bound; what was acknowledged is stored, what was
// refused is not, and the refusals are counted in /metrics.

const { test } = require('node:test');
const assert = require('node:assert/strict');

const h = require('./lib/harness');

test('a full log queue answers 429 with Retry-After and loses nothing acknowledged', async () => {
  const data = h.createDataDir([{ name: 'website', type: 'web' }]);
  // One byte: any append that arrives while another waits for its fsync is refused.
  const config = h.writeConfig('[log]\nmax_queue_bytes = 1\n');
  const server = await h.startServer({ dataDir: data.dir, config });
  const acked = new Set();
  const refused = new Set();
  let retryAfter;
  let refusalBody;
  try {
    for (let round = 0; round < 10 && refused.size === 0; round++) {
      const requests = [];
      for (let c = 0; c < 48; c++) {
        const ids = [];
        const batch = [];
        for (let i = 0; i < 500; i++) {
          const id = `bp-${round}-${c}-${i}`;
          ids.push(id);
          batch.push({ type: 'track', userId: `u${c}`, event: 'Viewed', messageId: id, properties: { pad: 'x'.repeat(200) } });
        }
        requests.push(
          h.segmentPost(server.port, 'batch', { batch }, data.keys.website).then((r) => {
            if (r.status === 200) ids.forEach((id) => acked.add(id));
            else if (r.status === 429) {
              ids.forEach((id) => refused.add(id));
              retryAfter = r.headers['retry-after'];
              refusalBody = r.json;
            } else assert.fail(`unexpected status ${r.status}: ${r.text}`);
          }),
        );
      }
      await Promise.all(requests);
    }
    assert.ok(refused.size > 0, 'no request was refused with 429 under a 1-byte queue limit');
    assert.equal(retryAfter, '1');
    assert.equal(refusalBody?.error?.code, 'too_many_requests');
    assert.ok(acked.size > 0, 'nothing was accepted at all');
    const metrics = h.parsePrometheus((await h.httpRequest({ port: server.port, path: '/metrics' })).text);
    assert.equal(h.metricSum(metrics, 'quanyu_events_rejected_total', { reason: 'backpressure' }), refused.size);
  } finally {
    await server.stop();
  }
  const stored = h.indexByMessageId(h.exportEvents(data.dir));
  for (const id of acked) assert.equal(stored.get(id)?.length, 1, `acknowledged ${id} stored ${stored.get(id)?.length ?? 0} times`);
  for (const id of refused) assert.equal(stored.has(id), false, `refused ${id} was stored`);
});
