// Display names of the channel taxonomy (docs/channels.md).
export default {
  en: {
    douyin: 'Douyin', kuaishou: 'Kuaishou', xiaohongshu: 'Xiaohongshu', weibo: 'Weibo',
    wechat: 'WeChat', wecom: 'WeCom', bilibili: 'Bilibili', zhihu: 'Zhihu', baidu: 'Baidu (paid)',
    taobao: 'Taobao', tmall: 'Tmall', jd: 'JD', pinduoduo: 'Pinduoduo', meituan: 'Meituan',
    google: 'Google (paid)', meta: 'Meta', tiktok: 'TikTok', email: 'Email', sms: 'SMS',
    push: 'Push', organic_search: 'Organic search', paid_search: 'Paid search', social: 'Other social',
    display: 'Display', affiliate: 'Affiliate', referral: 'Referral', offline: 'Offline stores',
    other: 'Other', direct: 'Direct',
  },
  'zh-CN': {
    douyin: '抖音', kuaishou: '快手', xiaohongshu: '小红书', weibo: '微博', wechat: '微信',
    wecom: '企业微信', bilibili: 'B站', zhihu: '知乎', baidu: '百度（付费）', taobao: '淘宝',
    tmall: '天猫', jd: '京东', pinduoduo: '拼多多', meituan: '美团', google: 'Google（付费）',
    meta: 'Meta', tiktok: 'TikTok', email: '邮件', sms: '短信', push: '推送',
    organic_search: '自然搜索', paid_search: '付费搜索', social: '其他社交', display: '展示广告',
    affiliate: '联盟推广', referral: '引荐', offline: '线下门店', other: '其他', direct: '直接访问',
  },
};
