// The builder's state ↔ the segment language's JSON tree
// (docs/segment-language.md). A group is {kind: 'group', op: 'and'|'or',
// not, items}; a condition is {kind: 'cond', type, not, ...fields}.

let nextId = 1;
const id = () => nextId++;

export const KINDS = ['did', 'trait', 'computed', 'predicted', 'rfm', 'consent', 'audience'];
export const CMP_OPS = ['=', '!=', '<', '<=', '>', '>='];
export const ATTR_OPS = [...CMP_OPS, 'in', 'contains', 'exists', 'between'];
export const WHERE_OPS = ['=', '!=', '>', '>=', '<', '<=', 'contains', 'not_contains', 'in', 'not_in', 'is_set', 'is_not_set'];
export const RFM_FIELDS = ['segment', 'r', 'f', 'm', 'score'];
export const RFM_SEGMENTS = ['Champions', 'Loyal', 'Potential Loyalist', 'New Customers', 'Promising',
  'Need Attention', 'About to Sleep', 'At Risk', "Can't Lose Them", 'Hibernating', 'Lost'];
// The segment of each R (rows 5..1) × F (columns 1..5) cell (docs/rfm.md).
export const RFM_GRID = {
  5: ['New Customers', 'Potential Loyalist', 'Potential Loyalist', 'Champions', 'Champions'],
  4: ['Promising', 'Potential Loyalist', 'Potential Loyalist', 'Loyal', 'Loyal'],
  3: ['About to Sleep', 'About to Sleep', 'Need Attention', 'Loyal', 'Loyal'],
  2: ['Hibernating', 'Hibernating', 'At Risk', 'At Risk', "Can't Lose Them"],
  1: ['Lost', 'Hibernating', 'At Risk', 'At Risk', "Can't Lose Them"],
};
export const CONSENT_CATEGORIES = ['marketing', 'analytics', 'personalization', 'third_party_sharing',
  'cross_border_transfer', 'sensitive', 'sms', 'email', 'phone', 'push', 'wechat', 'wecom'];
export const TRAIT_SUGGESTIONS = ['city', 'gender', 'tier', 'birth_year', 'marketing_opt_in', 'member_id',
  'email', 'phone', 'name'];

export function newCondition(type = 'did', init = {}) {
  const base = { kind: 'cond', id: id(), type, not: false };
  if (type === 'did') {
    return { ...base, event: 'Order Completed', countOp: '>=', count: 1, useSum: false,
      sumProperty: 'revenue', sumOp: '>=', sum: 100, window: 'all', days: 30, from: '', to: '',
      where: [], ...init };
  }
  if (type === 'rfm') return { ...base, field: 'segment', op: 'in', segments: ['Champions', 'Loyal'], value: '4', ...init };
  if (type === 'consent') return { ...base, category: 'marketing', state: 'granted', ...init };
  if (type === 'audience') return { ...base, audience: '', ...init };
  // trait, computed, predicted
  return { ...base, name: '', op: type === 'trait' ? '=' : '>=', value: '', value2: '', ...init };
}

export function newGroup(op = 'and', items = []) {
  return { kind: 'group', id: id(), op, not: false, items };
}

// A literal typed in an input: "12" → 12, true/false/null, "\"12\"" → the
// string "12", anything else → the string as typed.
export function parseLiteral(s) {
  const v = String(s ?? '').trim();
  if (v === '') return undefined;
  if (/^".*"$/.test(v)) {
    try {
      return JSON.parse(v);
    } catch {
      return v.slice(1, -1);
    }
  }
  if (v === 'true') return true;
  if (v === 'false') return false;
  if (v === 'null') return null;
  if (/^-?(0|[1-9]\d*)(\.\d+)?([eE][+-]?\d+)?$/.test(v)) return Number(v);
  return v;
}
const parseList = (s) => String(s ?? '').split(/[,，]/).map((x) => parseLiteral(x)).filter((x) => x !== undefined);
// The inverse, for showing a tree's literal in an input.
export function showLiteral(v) {
  if (v === undefined) return '';
  if (typeof v === 'string') {
    const back = parseLiteral(v);
    return back === v && !/[,，]/.test(v) ? v : JSON.stringify(v);
  }
  return JSON.stringify(v);
}

function whereTree(w) {
  if (!w.property) return null;
  if (w.op === 'is_set' || w.op === 'is_not_set') return { property: w.property, op: w.op };
  if (w.op === 'in' || w.op === 'not_in') {
    const list = parseList(w.value);
    return list.length ? { property: w.property, op: w.op, value: list } : null;
  }
  const v = parseLiteral(w.value);
  return v === undefined ? null : { property: w.property, op: w.op, value: v };
}

// One condition → its JSON, or null while it is incomplete. `extraWhere`
// (the filter bar's source/channel) is added to every event condition.
function condTree(c, extraWhere) {
  let out = null;
  if (c.type === 'did') {
    if (!c.event) return null;
    out = { did: c.event };
    const where = [...c.where.map(whereTree).filter(Boolean), ...extraWhere];
    if (where.length) out.where = where;
    const n = Number(c.count);
    if (c.count === '' || !Number.isInteger(n) || n < 0) return null;
    if (!(c.countOp === '>=' && n === 1)) out.count = { op: c.countOp, value: n };
    if (c.useSum) {
      const s = Number(c.sum);
      if (!c.sumProperty || c.sum === '' || !Number.isFinite(s)) return null;
      out.sum = { property: c.sumProperty, op: c.sumOp, value: s };
    }
    if (c.window === 'within') {
      const d = Number(c.days);
      if (!Number.isInteger(d) || d <= 0) return null;
      out.within = `${d}d`;
    } else if (c.window === 'between') {
      if (!c.from || !c.to) return null;
      out.between = c.from <= c.to ? [c.from, c.to] : [c.to, c.from];
    }
  } else if (c.type === 'rfm') {
    if (c.field === 'segment') {
      if (!c.segments.length) return null;
      out = c.op === 'in' || c.segments.length > 1
        ? { rfm: 'segment', op: 'in', value: [...c.segments] }
        : { rfm: 'segment', op: c.op, value: c.segments[0] };
      if (c.op === '!=' && c.segments.length > 1) out = { not: out };
    } else if (c.field === 'score') {
      if (!/^[1-5]{3}$/.test(String(c.value).trim())) return null;
      out = { rfm: 'score', op: '=', value: String(c.value).trim() };
    } else {
      const v = Number(c.value);
      if (!Number.isInteger(v) || c.op === 'in' || c.op === 'between') return null;
      out = { rfm: c.field, op: c.op, value: v };
    }
  } else if (c.type === 'consent') {
    if (!c.category) return null;
    out = c.state === 'answered' ? { consent: c.category, op: 'exists' }
      : { consent: c.category, op: '=', value: c.state === 'granted' };
  } else if (c.type === 'audience') {
    if (!c.audience) return null;
    out = { audience: c.audience };
  } else {
    if (!c.name) return null;
    out = { [c.type]: c.name, op: c.op };
    if (c.op === 'exists') {
      // no value
    } else if (c.op === 'in') {
      const list = parseList(c.value);
      if (!list.length) return null;
      out.value = list;
    } else if (c.op === 'between') {
      const a = parseLiteral(c.value);
      const b = parseLiteral(c.value2);
      if (a === undefined || b === undefined) return null;
      out.value = [a, b];
    } else {
      const v = parseLiteral(c.value);
      if (v === undefined) return null;
      out.value = v;
    }
  }
  return c.not ? { not: out } : out;
}

// The builder's state → the JSON tree (null when nothing is complete).
export function toTree(node, extraWhere = []) {
  if (node.kind === 'cond') return condTree(node, extraWhere);
  const kids = node.items.map((x) => toTree(x, extraWhere)).filter(Boolean);
  let out = null;
  if (kids.length === 1) out = kids[0];
  else if (kids.length > 1) out = { [node.op]: kids };
  if (!out) return null;
  return node.not ? { not: out } : out;
}

// Whether a condition is complete (it is left out of the tree otherwise).
export function isComplete(c) {
  return condTree({ ...c, not: false }, []) !== null;
}

function days(dur) {
  const m = /^(\d+)([smhdw])$/.exec(String(dur));
  if (!m) return null;
  const sec = Number(m[1]) * { s: 1, m: 60, h: 3600, d: 86400, w: 604800 }[m[2]];
  return sec % 86400 === 0 ? sec / 86400 : null;
}

class Unsupported extends Error {}

function condFrom(t) {
  if ('did' in t) {
    const c = newCondition('did', { event: t.did });
    if (t.count) [c.countOp, c.count] = [t.count.op, t.count.value];
    if (t.sum) Object.assign(c, { useSum: true, sumProperty: t.sum.property, sumOp: t.sum.op, sum: t.sum.value });
    if (t.within) {
      const d = days(t.within);
      if (d === null) throw new Unsupported();
      Object.assign(c, { window: 'within', days: d });
    } else if (t.between) {
      Object.assign(c, { window: 'between', from: t.between[0], to: t.between[1] });
    }
    c.where = (t.where || []).map((w) => ({
      property: w.property, op: w.op,
      value: Array.isArray(w.value) ? w.value.map(showLiteral).join(', ') : showLiteral(w.value),
    }));
    return c;
  }
  if ('rfm' in t) {
    if (t.rfm === 'segment') {
      const segs = Array.isArray(t.value) ? t.value : [t.value];
      return newCondition('rfm', { field: 'segment', op: t.op === 'in' ? 'in' : t.op, segments: segs });
    }
    if (t.rfm === 'score') return newCondition('rfm', { field: 'score', op: '=', value: String(t.value) });
    if (!CMP_OPS.includes(t.op)) throw new Unsupported();
    return newCondition('rfm', { field: t.rfm, op: t.op, value: String(t.value) });
  }
  if ('consent' in t) {
    if (t.op === 'exists') return newCondition('consent', { category: t.consent, state: 'answered' });
    if (t.op === '=' && typeof t.value === 'boolean') {
      return newCondition('consent', { category: t.consent, state: t.value ? 'granted' : 'denied' });
    }
    if (t.op === '!=' && typeof t.value === 'boolean') {
      return newCondition('consent', { category: t.consent, state: t.value ? 'denied' : 'granted' });
    }
    throw new Unsupported();
  }
  if ('audience' in t) return newCondition('audience', { audience: t.audience });
  for (const k of ['trait', 'computed', 'predicted']) {
    if (k in t) {
      const v = t.value;
      if (v && typeof v === 'object' && !Array.isArray(v)) throw new Unsupported(); // ago(...)
      if (t.op === 'in') return newCondition(k, { name: t[k], op: 'in', value: v.map(showLiteral).join(', ') });
      if (t.op === 'between') return newCondition(k, { name: t[k], op: 'between', value: showLiteral(v[0]), value2: showLiteral(v[1]) });
      return newCondition(k, { name: t[k], op: t.op, value: showLiteral(v) });
    }
  }
  throw new Unsupported();
}

function nodeFrom(t) {
  if (t.and || t.or) {
    const op = t.and ? 'and' : 'or';
    return newGroup(op, t[op].map(nodeFrom));
  }
  if (t.not) {
    const inner = nodeFrom(t.not);
    inner.not = !inner.not;
    return inner;
  }
  return condFrom(t);
}

// A JSON tree → the builder's root group, or null when it uses something the
// builder cannot edit (sequences, ago(...), durations in hours).
export function fromTree(t) {
  try {
    const n = nodeFrom(t);
    return n.kind === 'group' ? n : newGroup('and', [n]);
  } catch (e) {
    if (e instanceof Unsupported) return null;
    throw e;
  }
}
