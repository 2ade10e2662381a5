// Downloads made in the browser: a chart's PNG, a table's CSV.

export function saveBlob(blob, filename) {
  const a = document.createElement('a');
  a.href = URL.createObjectURL(blob);
  a.download = filename;
  document.body.appendChild(a);
  a.click();
  setTimeout(() => {
    URL.revokeObjectURL(a.href);
    a.remove();
  }, 0);
}

function cell(v) {
  if (v === null || v === undefined) return '';
  const s = typeof v === 'object' ? JSON.stringify(v) : String(v);
  // Quote as RFC 4180; a leading = + - @ would be a formula in a spreadsheet.
  const safe = /^[=+\-@]/.test(s) && Number.isNaN(Number(s)) ? `'${s}` : s;
  return /[",\r\n]/.test(safe) ? `"${safe.replace(/"/g, '""')}"` : safe;
}

// rows: array of arrays, the first being the header. A BOM lets Excel read
// the Chinese labels as UTF-8.
export function toCsv(rows) {
  return '\ufeff' + rows.map((r) => r.map(cell).join(',')).join('\r\n') + '\r\n';
}

export function saveCsv(rows, filename) {
  saveBlob(new Blob([toCsv(rows)], { type: 'text/csv;charset=utf-8' }), filename);
}

export function saveDataUrl(url, filename) {
  const a = document.createElement('a');
  a.href = url;
  a.download = filename;
  document.body.appendChild(a);
  a.click();
  a.remove();
}

// "funnel" → "quanyu-funnel-2026-03-31.csv"
export function fileName(base, ext) {
  const stamp = new Date().toISOString().slice(0, 10);
  return `quanyu-${base.replace(/[^\w\u4e00-\u9fff-]+/g, '-')}-${stamp}.${ext}`;
}
