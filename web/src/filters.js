// The filters every page shares: time range, source and channel. They stay
// as set while the user moves between pages. The default range is the last
// 30 days of the data there is (from /api/v1/stats), not of the calendar, so
// a demo loaded months ago still opens on its data.
import { reactive } from 'vue';
import { api } from './api';

export const filters = reactive({
  from: '', // YYYY-MM-DD, inclusive
  to: '', // YYYY-MM-DD, inclusive (sent as the next day, exclusive)
  source: '',
  channel: '',
  dataFirst: '', // the first and last event in the store
  dataLast: '',
  loaded: false,
});

export const CHANNELS = [
  'douyin', 'kuaishou', 'xiaohongshu', 'weibo', 'wechat', 'wecom', 'bilibili', 'zhihu', 'baidu',
  'taobao', 'tmall', 'jd', 'pinduoduo', 'meituan', 'google', 'meta', 'tiktok', 'email', 'sms',
  'push', 'organic_search', 'paid_search', 'social', 'display', 'affiliate', 'referral',
  'offline', 'other', 'direct',
];

const day = (d) => d.toISOString().slice(0, 10);
export function addDays(ymd, n) {
  const d = new Date(`${ymd}T00:00:00Z`);
  d.setUTCDate(d.getUTCDate() + n);
  return day(d);
}

export async function loadDataRange() {
  if (filters.loaded) return;
  const s = await api.get('/stats');
  filters.dataFirst = s.first_event_at || '';
  filters.dataLast = s.last_event_at || '';
  const last = filters.dataLast ? day(new Date(filters.dataLast)) : day(new Date());
  if (!filters.to) filters.to = last;
  if (!filters.from) filters.from = addDays(filters.to, -29);
  filters.loaded = true;
}

export function setPreset(days) {
  const last = filters.dataLast ? day(new Date(filters.dataLast)) : day(new Date());
  filters.to = last;
  if (days === 'all') {
    filters.from = filters.dataFirst ? day(new Date(filters.dataFirst)) : addDays(last, -364);
  } else {
    filters.from = addDays(last, -(days - 1));
  }
}

// {from, to} for a query body: bare dates; `to` exclusive. Dates are read
// in the server's [query] timezone.
export function range() {
  return { from: filters.from, to: addDays(filters.to, 1) };
}

// The previous period of the same length, for period-over-period change.
export function previousRange() {
  const days = Math.round((new Date(filters.to) - new Date(filters.from)) / 86400000) + 1;
  return { from: addDays(filters.from, -days), to: filters.from };
}

// Conditions on the event's source and channel, as the query API's `where`.
export function whereClauses() {
  const w = [];
  if (filters.source) w.push({ property: 'source', op: '=', value: filters.source });
  if (filters.channel) w.push({ property: 'channel', op: '=', value: filters.channel });
  return w;
}
