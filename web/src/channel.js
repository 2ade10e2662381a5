// A channel's label, colour and icon, the same on every page.
import { t, messages } from './i18n';

const COLORS = {
  douyin: '#111827', kuaishou: '#ff6a00', xiaohongshu: '#ff2442', weibo: '#e6162d',
  wechat: '#07c160', wecom: '#2b7de9', bilibili: '#00a1d6', zhihu: '#0066ff', baidu: '#2932e1',
  taobao: '#ff5000', tmall: '#d6000f', jd: '#e1251b', pinduoduo: '#e02e24', meituan: '#ffc300',
  google: '#4285f4', meta: '#0866ff', tiktok: '#25f4ee', email: '#7c3aed', sms: '#0ea5e9',
  push: '#f59e0b', organic_search: '#16a34a', paid_search: '#9333ea', social: '#db2777',
  display: '#64748b', affiliate: '#a16207', referral: '#0891b2', offline: '#78716c',
  other: '#94a3b8', direct: '#475569',
};
// A short mark for the timeline (text, so it needs no image files).
const ICONS = {
  douyin: '抖', kuaishou: '快', xiaohongshu: '红', weibo: '微博', wechat: '微', wecom: '企',
  bilibili: 'B', zhihu: '知', baidu: '百', taobao: '淘', tmall: '猫', jd: 'JD', pinduoduo: '拼',
  meituan: '美', google: 'G', meta: 'f', tiktok: 'T', email: '✉', sms: '✆', push: '🔔',
  organic_search: '🔍', paid_search: '$', social: '@', display: '▣', affiliate: '%',
  referral: '↗', offline: '店', other: '·', direct: '→',
};

export function channelLabel(c) {
  if (!c) return t('common.none');
  return messages.en.channels && c in messages.en.channels ? t(`channels.${c}`) : c;
}
export function channelColor(c) {
  return COLORS[c] || '#94a3b8';
}
export function channelIcon(c) {
  return ICONS[c] || '·';
}
export const PALETTE = ['#4f46e5', '#06b6d4', '#f59e0b', '#10b981', '#ef4444', '#8b5cf6',
  '#ec4899', '#14b8a6', '#f97316', '#64748b', '#84cc16', '#0ea5e9'];
