// The native side of bench/query_peers.sh: turns bench/query_bench's output
// (Engine::Query answers and timings) into the engine_json.mjs shape, with
// rows exactly as defined at the top of bench/peers/<query>.duckdb.sql, so
// compare.mjs can check the answers against DuckDB's and ClickHouse's.
//
//   node native.mjs --in=query_bench.json --out=quanyu.json --events=N --week0-s=S
//
// week0-s: the Monday (UTC seconds) retention weeks are counted from, as the
// peers' SQL is given it.
import { readFileSync, writeFileSync } from 'node:fs';
import { engineResult } from './engine_json.mjs';

const args = Object.fromEntries(
  process.argv.slice(2).map((a) => a.match(/^--([^=]+)=(.*)$/s).slice(1)));
const bench = JSON.parse(readFileSync(args.in, 'utf8'));
const week0 = Number(args['week0-s']);
const byBytes = (a, b) => (Buffer.compare(Buffer.from(a), Buffer.from(b)));

const convert = {
  funnel(r) {
    return { columns: ['step1', 'step2', 'step3', 'step4'], rows: [r.steps.map((s) => s.persons)] };
  },
  retention(r) {
    const rows = r.cohorts.map((c) => {
      const index = (Date.parse(`${c.cohort}T00:00:00Z`) / 1000 - week0) / 604800;
      const retained = c.retained.map((v) => v ?? 0);
      return [index, c.persons, ...retained.slice(1, 8)];
    });
    return { columns: ['cohort', 'persons', 'p1', 'p2', 'p3', 'p4', 'p5', 'p6', 'p7'], rows };
  },
  distinct(r) {
    const rows = r.series[0].breakdown.map((b) => [b.value, b.total]);
    rows.sort((a, b) => byBytes(a[0], b[0]));
    return { columns: ['event', 'persons'], rows };
  },
  paths(r) {
    return { columns: ['path', 'persons'], rows: r.paths.map((p) => [p.nodes.join(' > '), p.persons]) };
  },
};

const queries = {};
for (const [name, q] of Object.entries(bench.queries)) {
  if (!convert[name]) continue;
  queries[name] = { best_ms: q.best_ms, median_ms: q.median_ms, cold_ms: q.cold_ms,
                    ...convert[name](q.result) };
}
writeFileSync(args.out, JSON.stringify(engineResult({
  engine: 'quanyu', version: 'HEAD', threads: 2, events: Number(args.events),
  loadMs: bench.open_ms, queries,
}), null, 1) + '\n');
