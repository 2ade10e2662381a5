// Sets the engines' result files (engine_json.mjs shape) side by side, checks
// that every engine gives the same rows for each query, and writes the
// benchmark's JSON report (bench/query_peers.sh, issue 4):
//
//   node compare.mjs --out=peers.json --meta=META.json ENGINE.json...
//
// META.json: what the driver knows about the run (persons, seed, days, the
// machine and its load); copied into the report as is.
//
// Report: { ...meta, "engines": [{engine, version, threads, events, load_ms}],
//   "queries": { Q: { "agree": bool, ["variant_of": BASE,]
//                     "results": [{engine, best_ms, median_ms, runs_ms, columns, rows}] } },
//   "mismatches": [text...] }
// A query named BASE_suffix (retention_fn) is another way to compute BASE and
// must give BASE's rows. The reference for a query is the first engine given
// that has it. Exit status 1 if any rows differ or engines disagree on the
// event count, 0 otherwise; the report is written either way.
import { readFileSync, writeFileSync } from 'node:fs';

const files = [];
const opts = {};
for (const a of process.argv.slice(2)) {
  const m = a.match(/^--([^=]+)=(.*)$/s);
  if (m) opts[m[1]] = m[2];
  else files.push(a);
}
if (!opts.out || files.length === 0) {
  console.error('usage: node compare.mjs --out=peers.json [--meta=META.json] ENGINE.json...');
  process.exit(2);
}
const meta = opts.meta ? JSON.parse(readFileSync(opts.meta, 'utf8')) : {};
const engines = files.map((f) => JSON.parse(readFileSync(f, 'utf8')));

const mismatches = [];
const eventCounts = new Set(engines.map((e) => e.events));
if (eventCounts.size > 1) {
  mismatches.push(`event counts differ: ${engines.map((e) => `${e.engine} ${e.events}`).join(', ')}`);
}

// Query order: as the first engine lists them, then any others.
const names = [];
for (const e of engines) for (const q of Object.keys(e.queries)) if (!names.includes(q)) names.push(q);
const baseOf = (q) => {
  const base = q.split('_')[0];
  return base !== q && names.includes(base) ? base : q;
};

const same = (a, b) => JSON.stringify(a) === JSON.stringify(b);
function describeDiff(q, refEngine, ref, engine, rows) {
  const lines = [`MISMATCH ${q}: ${engine} differs from ${refEngine}` +
                 (ref.length !== rows.length ? ` (${rows.length} rows vs ${ref.length})` : '')];
  let shown = 0;
  for (let i = 0; i < Math.max(ref.length, rows.length) && shown < 5; i++) {
    if (!same(ref[i], rows[i])) {
      lines.push(`  row ${i}: ${refEngine} ${JSON.stringify(ref[i])}  ${engine} ${JSON.stringify(rows[i])}`);
      shown++;
    }
  }
  return lines.join('\n');
}

const queries = {};
const reference = {};  // base query -> {engine, rows}
for (const q of names) {
  const base = baseOf(q);
  const entry = { agree: true };
  if (base !== q) entry.variant_of = base;
  entry.results = [];
  for (const e of engines) {
    const r = e.queries[q];
    if (!r) continue;
    entry.results.push({ engine: e.engine, best_ms: r.best_ms, median_ms: r.median_ms, runs_ms: r.runs_ms,
                         columns: r.columns, rows: r.rows });
    const ref = reference[base];
    if (!ref) {
      reference[base] = { engine: e.engine, q, rows: r.rows };
    } else if (!same(ref.rows, r.rows)) {
      entry.agree = false;
      mismatches.push(describeDiff(q, `${ref.engine} ${ref.q}`, ref.rows, `${e.engine} ${q}`, r.rows));
    }
  }
  queries[q] = entry;
}

const report = {
  ...meta,
  engines: engines.map(({ engine, version, threads, events, load_ms }) => ({ engine, version, threads, events, load_ms })),
  queries,
  mismatches,
};
writeFileSync(opts.out, JSON.stringify(report, null, 1) + '\n');

// A table on stdout.
const pad = (s, n) => String(s).padEnd(n);
console.log(`${pad('query', 14)}${pad('engine', 12)}${pad('best ms', 12)}${pad('median ms', 12)}agree`);
for (const q of names) {
  for (const r of queries[q].results) {
    console.log(`${pad(q, 14)}${pad(r.engine, 12)}${pad(r.best_ms, 12)}${pad(r.median_ms, 12)}${queries[q].agree ? 'yes' : 'NO'}`);
  }
}
for (const m of mismatches) console.error(m);
if (mismatches.length) {
  console.error(`${mismatches.length} mismatch(es); report in ${opts.out}`);
  process.exit(1);
}
console.log(`all engines agree; report in ${opts.out}`);
