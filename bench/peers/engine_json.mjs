// The result file of one engine of the query benchmark (bench/query_peers.sh),
// the same shape for every engine so compare.mjs can set them side by side:
//
//   { "engine": "clickhouse", "version": "18.16.1", "threads": 2,
//     "events": 21000000, "load_ms": 12345,
//     "queries": { "funnel": { "best_ms": 1.2, "median_ms": 1.3, "runs_ms": [...],
//                              "columns": ["step1", ...], "rows": [[...], ...] }, ... } }
//
// Rows hold numbers as JSON numbers and text as strings, in the query's order.
//
// As a module: engineResult() and summarize() (duckdb.mjs). As a command, for
// engines driven from the shell (clickhouse.sh, the native runner hook):
//   node engine_json.mjs --engine=NAME --version=V --threads=N --events=N --load-ms=MS
//                        --dir=DIR --queries="funnel retention ..."   > OUT.json
// where DIR holds, per query Q, Q.times_ms (one timed run per line, in ms) and
// Q.rows.json ({"columns": [...], "rows": [[...]]}).
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

export function summarize(runsMs) {
  const sorted = [...runsMs].sort((a, b) => a - b);
  const n = sorted.length;
  const median = n % 2 ? sorted[(n - 1) / 2] : (sorted[n / 2 - 1] + sorted[n / 2]) / 2;
  const round = (x) => Math.round(x * 1000) / 1000;
  return { best_ms: round(sorted[0]), median_ms: round(median), runs_ms: runsMs.map(round) };
}

// BigInt (DuckDB's BIGINT/HUGEINT) becomes a Number: counts here are far below 2^53.
export function normalizeRows(rows) {
  return rows.map((row) => row.map((v) => (typeof v === 'bigint' ? Number(v) : v)));
}

export function engineResult({ engine, version, threads, events, loadMs, queries }) {
  return { engine, version, threads, events, load_ms: loadMs, queries };
}

function main() {
  const args = Object.fromEntries(
    process.argv.slice(2).map((a) => {
      const m = a.match(/^--([^=]+)=(.*)$/s);
      if (!m) throw new Error(`engine_json.mjs: bad argument ${a}`);
      return [m[1], m[2]];
    }),
  );
  const queries = {};
  for (const q of args.queries.split(/\s+/).filter(Boolean)) {
    const runs = readFileSync(`${args.dir}/${q}.times_ms`, 'utf8').split('\n').filter(Boolean).map(Number);
    const { columns, rows } = JSON.parse(readFileSync(`${args.dir}/${q}.rows.json`, 'utf8'));
    queries[q] = { ...summarize(runs), columns, rows: normalizeRows(rows) };
  }
  const out = engineResult({
    engine: args.engine,
    version: args.version,
    threads: Number(args.threads),
    events: Number(args.events),
    loadMs: Number(args['load-ms']),
    queries,
  });
  process.stdout.write(JSON.stringify(out, null, 1) + '\n');
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) main();
