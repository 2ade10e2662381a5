// Locale, translations and per-locale formatting.
//
// Every page keeps its labels in locales/<page>.js as
//   export default { en: {...}, 'zh-CN': {...} }
// and looks them up as t('<page>.<key>'); common labels live in
// locales/common.js (t('common.<key>')). Both languages must carry the same
// keys: the e2e test checks it, and a missing key shows as the key itself.
import { ref, watch } from 'vue';

export const LOCALES = ['zh-CN', 'en'];
const stored = typeof localStorage !== 'undefined' ? localStorage.getItem('quanyu.locale') : null;
export const locale = ref(LOCALES.includes(stored) ? stored : 'zh-CN');
watch(locale, (l) => {
  localStorage.setItem('quanyu.locale', l);
  document.documentElement.lang = l;
});

const modules = import.meta.glob('./locales/*.js', { eager: true });
export const messages = { en: {}, 'zh-CN': {} };
for (const [path, mod] of Object.entries(modules)) {
  const ns = path.replace(/^.*\/(.*)\.js$/, '$1');
  for (const l of LOCALES) messages[l][ns] = mod.default[l] || {};
}

function lookup(l, key) {
  const dot = key.indexOf('.');
  const table = messages[l][key.slice(0, dot)];
  return table ? table[key.slice(dot + 1)] : undefined;
}

// t('funnels.title'), t('common.rows', { n: 5 }) → "{n}" replaced.
export function t(key, vars) {
  let s = lookup(locale.value, key);
  if (s === undefined) s = lookup('en', key);
  if (s === undefined) return key;
  if (vars) s = s.replace(/\{(\w+)\}/g, (m, k) => (k in vars ? String(vars[k]) : m));
  return s;
}

// Keys present in one language and missing in the other: [{locale, key}].
export function missingKeys() {
  const out = [];
  for (const ns of new Set([...Object.keys(messages.en), ...Object.keys(messages['zh-CN'])])) {
    const a = messages.en[ns] || {};
    const b = messages['zh-CN'][ns] || {};
    for (const k of Object.keys(a)) if (!(k in b)) out.push({ locale: 'zh-CN', key: `${ns}.${k}` });
    for (const k of Object.keys(b)) if (!(k in a)) out.push({ locale: 'en', key: `${ns}.${k}` });
  }
  return out;
}

const cache = new Map();
function nf(opts) {
  const k = locale.value + JSON.stringify(opts);
  if (!cache.has(k)) cache.set(k, new Intl.NumberFormat(locale.value, opts));
  return cache.get(k);
}

const DASH = '–';
const bad = (v) => v === null || v === undefined || Number.isNaN(Number(v));

// 1234567 → "1,234,567".
export function fmtNumber(v, digits = 0) {
  if (bad(v)) return DASH;
  return nf({ maximumFractionDigits: digits, minimumFractionDigits: 0 }).format(Number(v));
}
// 1234.5 → "¥1,234.50" (CNY; the demo's and Quanyu's default currency).
export function fmtCurrency(v, digits = 2, currency = 'CNY') {
  if (bad(v)) return DASH;
  return nf({ style: 'currency', currency, currencyDisplay: 'narrowSymbol',
    maximumFractionDigits: digits, minimumFractionDigits: digits }).format(Number(v));
}
// 0.1234 → "12.3%".
export function fmtPercent(v, digits = 1) {
  if (bad(v)) return DASH;
  return nf({ style: 'percent', maximumFractionDigits: digits, minimumFractionDigits: digits })
    .format(Number(v));
}
// Compact for axes: 12,300 → "1.2万" / "12.3K".
export function fmtCompact(v) {
  if (bad(v)) return DASH;
  return nf({ notation: 'compact', maximumFractionDigits: 1 }).format(Number(v));
}
// A signed change: 0.052 → "+5.2%".
export function fmtChange(v) {
  if (bad(v) || !Number.isFinite(Number(v))) return DASH;
  return nf({ style: 'percent', maximumFractionDigits: 1, minimumFractionDigits: 1,
    signDisplay: 'exceptZero' }).format(Number(v));
}
// Dates in the browser's time zone: "2026/3/31" (zh-CN) or "Mar 31, 2026" (en).
export function fmtDate(v) {
  if (!v) return DASH;
  const d = v instanceof Date ? v : new Date(v);
  if (Number.isNaN(d.getTime())) return String(v);
  return d.toLocaleDateString(locale.value, { year: 'numeric', month: 'short', day: 'numeric' });
}
export function fmtDateTime(v) {
  if (!v) return DASH;
  const d = v instanceof Date ? v : new Date(v);
  if (Number.isNaN(d.getTime())) return String(v);
  return d.toLocaleString(locale.value, { year: 'numeric', month: 'short', day: 'numeric',
    hour: '2-digit', minute: '2-digit' });
}
// Seconds → "3 min", "2.5 h", "4 d" (translated units).
export function fmtDuration(sec) {
  if (bad(sec)) return DASH;
  const s = Number(sec);
  if (s < 60) return `${fmtNumber(s)} ${t('common.unit_s')}`;
  if (s < 3600) return `${fmtNumber(s / 60, 1)} ${t('common.unit_min')}`;
  if (s < 86400) return `${fmtNumber(s / 3600, 1)} ${t('common.unit_h')}`;
  return `${fmtNumber(s / 86400, 1)} ${t('common.unit_d')}`;
}
