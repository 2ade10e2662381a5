import { DuckDBInstance } from '@duckdb/node-api';
import { readFileSync } from 'node:fs';
const [tsv, ...files] = process.argv.slice(2);
const inst = await DuckDBInstance.create(':memory:', { threads: '2' });
const c = await inst.connect();
let t0 = performance.now();
await c.run(`CREATE TABLE events AS SELECT * FROM read_csv('${tsv}', delim='\t', header=false, quote='', escape='', nullstr='\\N',
  columns={'one_id':'UINTEGER','ts':'BIGINT','event':'VARCHAR','type':'VARCHAR','channel':'VARCHAR','source':'VARCHAR','campaign':'VARCHAR','revenue':'DOUBLE'})`);
console.log('load', (performance.now()-t0).toFixed(0), 'ms');
for (const f of files) {
  const sql = readFileSync(f, 'utf8').replaceAll('{start_s}', '1767225600');
  for (let i = 0; i < 3; i++) {
    t0 = performance.now();
    const r = await c.runAndReadAll(sql);
    const ms = performance.now() - t0;
    if (i == 2) console.log(f, ms.toFixed(1), JSON.stringify(r.getRowsJson()).slice(0, 2000));
    else console.log(f, ms.toFixed(1));
  }
}
