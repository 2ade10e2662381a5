// DuckDB peer of the query benchmark (bench/query_peers.sh, issue 4).
//
// Loads the events TSV written by bench/query_export into an in-memory DuckDB
// table (threads = 2, the machine's cores), runs each query of --queries once
// to warm up and then --runs times, and writes the engine's result JSON
// (engine_json.mjs) to --out.
//
//   node bench/peers/duckdb.mjs --tsv=EVENTS.tsv --out=OUT.json --start-s=START_S
//        [--runs=5] [--threads=2] [--queries="funnel retention distinct paths"]
//
// --start-s is the range start in UTC seconds; it replaces {start_s} in the SQL.
// Timing: wall time of runAndReadAll (execution plus reading the few result
// rows into JS), in-process; loading is timed separately as load_ms.
import { DuckDBInstance } from '@duckdb/node-api';
import { readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { engineResult, normalizeRows, summarize } from './engine_json.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const args = Object.fromEntries(
  process.argv.slice(2).map((a) => {
    const m = a.match(/^--([^=]+)=(.*)$/s);
    if (!m) {
      console.error(`duckdb.mjs: bad argument ${a}`);
      process.exit(2);
    }
    return [m[1], m[2]];
  }),
);
for (const required of ['tsv', 'out', 'start-s']) {
  if (!args[required]) {
    console.error(`duckdb.mjs: --${required}= is required`);
    process.exit(2);
  }
}
const runs = Number(args.runs ?? 5);
const threads = Number(args.threads ?? 2);
const queries = (args.queries ?? 'funnel retention distinct paths').split(/\s+/).filter(Boolean);
const sqlString = (s) => `'${s.replaceAll("'", "''")}'`;

const instance = await DuckDBInstance.create(':memory:', { threads: String(threads) });
const db = await instance.connect();
const version = (await db.runAndReadAll('SELECT version()')).getRows()[0][0];

// Same columns and types as the ClickHouse table. The file has no quoting and
// no escapes (query_export replaces tabs, newlines and backslashes), and \N
// is NULL. Loaded in file order (time order, as the store scans): DuckDB does
// not use a table's sort order for these plans, so sorting would only cost.
const loadStart = performance.now();
await db.run(`CREATE TABLE events AS SELECT * FROM read_csv(${sqlString(args.tsv)},
  delim = '\t', header = false, quote = '', escape = '', nullstr = '\\N', auto_detect = false,
  columns = {'one_id': 'UINTEGER', 'ts': 'BIGINT', 'event': 'VARCHAR', 'type': 'VARCHAR',
             'channel': 'VARCHAR', 'source': 'VARCHAR', 'campaign': 'VARCHAR', 'revenue': 'DOUBLE'})`);
const loadMs = Math.round(performance.now() - loadStart);
const events = Number((await db.runAndReadAll('SELECT count(*) FROM events')).getRows()[0][0]);
console.error(`duckdb ${version}: loaded ${events} events in ${loadMs} ms`);

const results = {};
for (const q of queries) {
  const sql = readFileSync(join(here, `${q}.duckdb.sql`), 'utf8').replaceAll('{start_s}', String(Number(args['start-s'])));
  const times = [];
  let reader;
  for (let run = 0; run <= runs; run++) {
    const t0 = performance.now();
    reader = await db.runAndReadAll(sql);
    const ms = performance.now() - t0;
    if (run > 0) times.push(ms);
  }
  results[q] = { ...summarize(times), columns: reader.columnNames(), rows: normalizeRows(reader.getRows()) };
  console.error(`duckdb ${q}: ${times.map((t) => t.toFixed(1)).join(' ')} ms`);
}

const out = engineResult({ engine: 'duckdb', version, threads, events, loadMs, queries: results });
writeFileSync(args.out, JSON.stringify(out, null, 1) + '\n');
