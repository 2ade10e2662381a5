#include "collect/channel.h"

#include <algorithm>

#include <nlohmann/json.hpp>

#include "collect/internal/url.h"

namespace quanyu::collect {
namespace {

struct Alias {
  std::string_view key;
  std::string_view channel;
};

// Ad click ids appended to landing-page URLs by the ad platforms.
constexpr Alias kClickIds[] = {
    {"gclid", "google"},   {"gbraid", "google"}, {"wbraid", "google"},  {"dclid", "google"},
    {"fbclid", "meta"},    {"ttclid", "tiktok"}, {"bd_vid", "baidu"},   {"gdt_vid", "wechat"},
    {"qz_gdt", "wechat"},  {"msclkid", "paid_search"}};

// Ocean Engine (巨量引擎) passes `clickid`, a name too generic on its own; it is
// taken as Douyin only next to one of Ocean Engine's other macros.
constexpr std::string_view kOceanEngineParams[] = {"adid", "creativeid", "promotionid", "projectid"};

// utm_source values (lower-cased). ByteDance's Chinese ad platform (Ocean
// Engine) buys Douyin, Toutiao, Xigua and Pangle from one account, so they all
// count as douyin; TikTok (overseas) is its own channel. Tencent Ads (广点通)
// mostly buys WeChat Moments and official-account slots, so it is wechat.
constexpr Alias kSourceAliases[] = {
    {"douyin", "douyin"}, {"抖音", "douyin"}, {"dy", "douyin"}, {"oceanengine", "douyin"},
    {"ocean_engine", "douyin"}, {"ocean engine", "douyin"}, {"巨量引擎", "douyin"},
    {"巨量", "douyin"}, {"toutiao", "douyin"}, {"今日头条", "douyin"}, {"头条", "douyin"},
    {"jrtt", "douyin"}, {"pangle", "douyin"}, {"穿山甲", "douyin"}, {"xigua", "douyin"},
    {"kuaishou", "kuaishou"}, {"快手", "kuaishou"}, {"ks", "kuaishou"}, {"kwai", "kuaishou"},
    {"磁力引擎", "kuaishou"}, {"磁力金牛", "kuaishou"},
    {"xiaohongshu", "xiaohongshu"}, {"xhs", "xiaohongshu"}, {"小红书", "xiaohongshu"},
    {"redbook", "xiaohongshu"}, {"rednote", "xiaohongshu"}, {"聚光", "xiaohongshu"},
    {"weibo", "weibo"}, {"微博", "weibo"}, {"sina_weibo", "weibo"}, {"sinaweibo", "weibo"},
    {"wecom", "wecom"}, {"wxwork", "wecom"}, {"qiwei", "wecom"}, {"企业微信", "wecom"},
    {"企微", "wecom"}, {"workwechat", "wecom"},
    {"wechat", "wechat"}, {"wx", "wechat"}, {"weixin", "wechat"}, {"微信", "wechat"},
    {"wechat_mp", "wechat"}, {"公众号", "wechat"}, {"朋友圈", "wechat"}, {"moments", "wechat"},
    {"视频号", "wechat"}, {"gdt", "wechat"}, {"广点通", "wechat"}, {"tencent_ads", "wechat"},
    {"腾讯广告", "wechat"},
    {"bilibili", "bilibili"}, {"b站", "bilibili"}, {"bili", "bilibili"}, {"哔哩哔哩", "bilibili"},
    {"zhihu", "zhihu"}, {"知乎", "zhihu"},
    {"baidu", "baidu"}, {"百度", "baidu"},
    {"taobao", "taobao"}, {"淘宝", "taobao"}, {"alimama", "taobao"}, {"阿里妈妈", "taobao"},
    {"tmall", "tmall"}, {"天猫", "tmall"},
    {"jd", "jd"}, {"jingdong", "jd"}, {"京东", "jd"}, {"jd_union", "jd"},
    {"pinduoduo", "pinduoduo"}, {"pdd", "pinduoduo"}, {"拼多多", "pinduoduo"},
    {"yangkeduo", "pinduoduo"},
    {"meituan", "meituan"}, {"美团", "meituan"}, {"dianping", "meituan"}, {"大众点评", "meituan"},
    {"google", "google"}, {"google_ads", "google"}, {"googleads", "google"}, {"adwords", "google"},
    {"facebook", "meta"}, {"fb", "meta"}, {"instagram", "meta"}, {"ig", "meta"}, {"meta", "meta"},
    {"tiktok", "tiktok"},
    {"email", "email"}, {"edm", "email"}, {"newsletter", "email"},
    {"sms", "sms"}, {"短信", "sms"},
    {"push", "push"}, {"jpush", "push"}, {"getui", "push"}, {"极光", "push"}, {"个推", "push"},
    {"offline", "offline"}, {"pos", "offline"}, {"门店", "offline"}, {"qrcode", "offline"}};

// Search engines other than Baidu and Google, which have channels of their own.
constexpr std::string_view kSearchSources[] = {
    "bing", "sogou", "搜狗", "so", "360", "360搜索", "sm", "shenma", "神马", "yahoo",
    "duckduckgo", "yandex", "naver"};

// Owned messaging: named by the medium even when utm_source names the sender.
constexpr Alias kMessagingMedia[] = {
    {"email", "email"}, {"e-mail", "email"}, {"edm", "email"}, {"newsletter", "email"},
    {"sms", "sms"}, {"短信", "sms"}, {"text", "sms"}, {"push", "push"}, {"app_push", "push"},
    {"push_notification", "push"}, {"notification", "push"}};

constexpr std::string_view kPaidMedia[] = {"cpc", "ppc", "paid", "paidsearch", "paid_search", "sem", "cpm", "ocpc", "ocpm"};
constexpr std::string_view kOrganicMedia[] = {"organic", "seo"};

constexpr Alias kMediumAliases[] = {
    {"cpc", "paid_search"}, {"ppc", "paid_search"}, {"paidsearch", "paid_search"},
    {"paid_search", "paid_search"}, {"sem", "paid_search"},
    {"organic", "organic_search"}, {"seo", "organic_search"},
    {"social", "social"}, {"social_media", "social"}, {"sns", "social"}, {"paid_social", "social"},
    {"display", "display"}, {"banner", "display"}, {"cpm", "display"},
    {"affiliate", "affiliate"}, {"cps", "affiliate"},
    {"referral", "referral"},
    {"offline", "offline"}, {"qrcode", "offline"}, {"print", "offline"}, {"pos", "offline"}};

// Referrer hosts, matched as a suffix on a label boundary; first match wins,
// so more specific hosts come first (mail.google.com before google.*).
constexpr Alias kReferrerHosts[] = {
    {"mail.google.com", "email"}, {"mail.qq.com", "email"}, {"exmail.qq.com", "email"},
    {"mail.163.com", "email"}, {"mail.126.com", "email"}, {"mail.sina.com.cn", "email"},
    {"mail.aliyun.com", "email"}, {"outlook.live.com", "email"}, {"outlook.office.com", "email"},
    {"outlook.office365.com", "email"}, {"mail.yahoo.com", "email"},
    {"work.weixin.qq.com", "wecom"},
    {"weixin.qq.com", "wechat"}, {"servicewechat.com", "wechat"}, {"wx.qq.com", "wechat"},
    {"wechat.com", "wechat"},
    {"douyin.com", "douyin"}, {"iesdouyin.com", "douyin"}, {"amemv.com", "douyin"},
    {"snssdk.com", "douyin"}, {"toutiao.com", "douyin"}, {"ixigua.com", "douyin"},
    {"oceanengine.com", "douyin"},
    {"kuaishou.com", "kuaishou"}, {"gifshow.com", "kuaishou"}, {"chenzhongtech.com", "kuaishou"},
    {"kuaishouapp.com", "kuaishou"}, {"kwai.com", "kuaishou"},
    {"xiaohongshu.com", "xiaohongshu"}, {"xhslink.com", "xiaohongshu"},
    {"weibo.com", "weibo"}, {"weibo.cn", "weibo"}, {"t.cn", "weibo"},
    {"bilibili.com", "bilibili"}, {"b23.tv", "bilibili"},
    {"zhihu.com", "zhihu"},
    {"taobao.com", "taobao"}, {"tb.cn", "taobao"}, {"alimama.com", "taobao"},
    {"tmall.com", "tmall"}, {"tmall.hk", "tmall"},
    {"jd.com", "jd"}, {"jd.hk", "jd"}, {"3.cn", "jd"},
    {"yangkeduo.com", "pinduoduo"}, {"pinduoduo.com", "pinduoduo"},
    {"meituan.com", "meituan"}, {"dianping.com", "meituan"},
    {"facebook.com", "meta"}, {"fb.com", "meta"}, {"fb.me", "meta"}, {"instagram.com", "meta"},
    {"messenger.com", "meta"}, {"whatsapp.com", "meta"}, {"threads.net", "meta"},
    {"tiktok.com", "tiktok"},
    {"googleadservices.com", "google"}, {"doubleclick.net", "google"},
    {"googlesyndication.com", "google"},
    {"bing.com", "organic_search"}, {"sogou.com", "organic_search"}, {"so.com", "organic_search"},
    {"sm.cn", "organic_search"}, {"duckduckgo.com", "organic_search"},
    {"naver.com", "organic_search"}, {"ecosia.org", "organic_search"},
    {"search.brave.com", "organic_search"},
    {"twitter.com", "social"}, {"x.com", "social"}, {"t.co", "social"}, {"linkedin.com", "social"},
    {"lnkd.in", "social"}, {"reddit.com", "social"}, {"pinterest.com", "social"},
    {"youtube.com", "social"}, {"youtu.be", "social"}, {"douban.com", "social"},
    {"line.me", "social"}, {"vk.com", "social"}, {"quora.com", "social"}, {"t.me", "social"}};

// Search engines with a host per country (google.co.jp, yandex.ru ...).
constexpr std::string_view kSearchLabels[] = {"google", "yahoo", "yandex"};

// Android apps that open a page pass "android-app://<package>" as referrer.
constexpr Alias kAppPackages[] = {
    {"com.tencent.mm", "wechat"}, {"com.tencent.wework", "wecom"},
    {"com.ss.android.ugc.aweme", "douyin"}, {"com.ss.android.article.news", "douyin"},
    {"com.smile.gifmaker", "kuaishou"}, {"com.kuaishou.nebula", "kuaishou"},
    {"com.xingin.xhs", "xiaohongshu"}, {"com.sina.weibo", "weibo"}, {"tv.danmaku.bili", "bilibili"},
    {"com.zhihu.android", "zhihu"}, {"com.taobao.taobao", "taobao"}, {"com.tmall.wireless", "tmall"},
    {"com.jingdong.app.mall", "jd"}, {"com.xunmeng.pinduoduo", "pinduoduo"},
    {"com.sankuai.meituan", "meituan"}, {"com.dianping.v1", "meituan"},
    {"com.facebook.katana", "meta"}, {"com.instagram.android", "meta"},
    {"com.zhiliaoapp.musically", "tiktok"}, {"com.ss.android.ugc.trill", "tiktok"},
    {"com.google.android.gm", "email"}, {"com.baidu.searchbox", "organic_search"},
    {"com.google.android.googlequicksearchbox", "organic_search"}};

// Source types (SourceConfig::type) that imply a channel. Own web and app
// sources (web, ios, android, h5, server ...) imply none: direct. CRM exports
// record what staff captured in stores, call centres and sales visits, so
// they count as offline.
constexpr Alias kSourceTypes[] = {
    {"pos", "offline"}, {"offline", "offline"}, {"store", "offline"}, {"crm", "offline"},
    {"wechat_mp", "wechat"}, {"wechat_oa", "wechat"}, {"wechat", "wechat"},
    {"douyin_mp", "douyin"}, {"douyin_store", "douyin"}, {"kuaishou_store", "kuaishou"},
    {"xiaohongshu_store", "xiaohongshu"}, {"tmall_store", "tmall"}, {"taobao_store", "taobao"},
    {"jd_store", "jd"}, {"pdd_store", "pinduoduo"}, {"meituan_store", "meituan"},
    {"wecom", "wecom"}, {"email", "email"}, {"sms", "sms"}, {"push", "push"}};

template <size_t N>
std::string_view Lookup(const Alias (&table)[N], std::string_view key) {
  for (const auto& a : table) {
    if (a.key == key) return a.channel;
  }
  return {};
}

template <size_t N>
bool Contains(const std::string_view (&list)[N], std::string_view key) {
  return std::find(std::begin(list), std::end(list), key) != std::end(list);
}

std::string Lower(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  std::string out(s);
  for (auto& c : out) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return out;
}

bool HostMatches(std::string_view host, std::string_view suffix) {
  if (host.size() < suffix.size() || host.substr(host.size() - suffix.size()) != suffix) return false;
  return host.size() == suffix.size() || host[host.size() - suffix.size() - 1] == '.';
}

// "google.com", "www.google.co.jp": `label` followed by one or two short
// top-level labels.
bool IsSearchEngineHost(std::string_view host, std::string_view label) {
  for (size_t pos = host.find(label); pos != std::string_view::npos; pos = host.find(label, pos + 1)) {
    if (pos > 0 && host[pos - 1] != '.') continue;
    std::string_view rest = host.substr(pos + label.size());
    if (rest.empty() || rest[0] != '.') continue;
    rest.remove_prefix(1);
    size_t dots = std::count(rest.begin(), rest.end(), '.');
    if (rest.empty() || dots > 1) continue;
    auto first = rest.substr(0, rest.find('.'));
    if (first.size() <= 3 && rest.size() <= 6) return true;
  }
  return false;
}

std::string StripWww(std::string host) {
  if (host.rfind("www.", 0) == 0) host.erase(0, 4);
  return host;
}

// Query parameter of the URL's query or of a query inside its fragment
// (hash routing: "https://shop.example/#/item?gclid=...").
std::string UrlParam(std::string_view url, std::string_view name) {
  std::string v = internal::QueryParam(url, name);
  if (v.empty()) {
    if (auto hash = url.find('#'); hash != std::string_view::npos) {
      v = internal::QueryParam(url.substr(hash), name);
    }
  }
  return v;
}

bool HasProperty(const std::string& properties_json, const std::string& name) {
  if (properties_json.empty() || properties_json.find(name) == std::string::npos) return false;
  auto props = nlohmann::json::parse(properties_json, nullptr, /*allow_exceptions=*/false);
  if (!props.is_object()) return false;
  auto it = props.find(name);
  return it != props.end() && !it->is_null() && !(it->is_string() && it->get_ref<const std::string&>().empty());
}

// What the classifier looks at, extracted once per event.
struct Signals {
  const Event* event;
  std::string utm_source, utm_medium;  // lower-cased
  std::string url_host, referrer_host;  // lower-cased, without "www."
  std::string source_type;
};

std::string_view FromClickIds(const Signals& s) {
  const std::string& url = s.event->url;
  if (url.empty() || url.find('?') == std::string::npos) return {};
  for (const auto& c : kClickIds) {
    if (!UrlParam(url, c.key).empty()) return c.channel;
  }
  if (!UrlParam(url, "clickid").empty()) {
    for (auto p : kOceanEngineParams) {
      if (!UrlParam(url, p).empty()) return "douyin";
    }
  }
  return {};
}

std::string_view FromUtm(const Signals& s) {
  const std::string& source = s.utm_source;
  const std::string& medium = s.utm_medium;
  if (source.empty() && medium.empty()) return {};
  if (auto ch = Lookup(kMessagingMedia, medium); !ch.empty()) return ch;
  if (auto ch = Lookup(kSourceAliases, source); !ch.empty()) {
    if ((ch == "baidu" || ch == "google") && Contains(kOrganicMedia, medium)) return "organic_search";
    return ch;
  }
  if (Contains(kSearchSources, source)) {
    return Contains(kPaidMedia, medium) ? "paid_search" : "organic_search";
  }
  if (auto ch = Lookup(kMediumAliases, medium); !ch.empty()) return ch;
  return "other";  // tagged, but with nothing we recognize
}

std::string_view FromReferrer(const Signals& s) {
  const std::string& referrer = s.event->referrer;
  if (referrer.empty()) return {};
  constexpr std::string_view kAndroidApp = "android-app://";
  if (referrer.rfind(kAndroidApp, 0) == 0) {
    std::string package = internal::UrlHost(referrer);
    for (const auto& a : kAppPackages) {
      if (package == a.key || package.rfind(std::string(a.key) + ".", 0) == 0) return a.channel;
    }
    return "referral";
  }
  const std::string& host = s.referrer_host;
  if (host.empty()) return {};
  // Navigation inside the brand's own site (or between its subdomains).
  if (!s.url_host.empty() && (HostMatches(host, s.url_host) || HostMatches(s.url_host, host))) return {};
  for (const auto& h : kReferrerHosts) {
    if (HostMatches(host, h.key)) return h.channel;
  }
  if (HostMatches(host, "baidu.com")) {
    // Baidu's paid results click through baidu.com/baidu.php?url=...
    return referrer.find("/baidu.php") != std::string::npos ? "baidu" : "organic_search";
  }
  for (auto label : kSearchLabels) {
    if (IsSearchEngineHost(host, label)) return "organic_search";
  }
  return "referral";
}

bool RuleMatches(const ChannelRule& r, const Signals& s) {
  if (!r.utm_source.empty() && Lower(r.utm_source) != s.utm_source) return false;
  if (!r.utm_medium.empty() && Lower(r.utm_medium) != s.utm_medium) return false;
  if (!r.referrer_host.empty() && !HostMatches(s.referrer_host, Lower(r.referrer_host))) return false;
  if (!r.source_type.empty() && Lower(r.source_type) != s.source_type) return false;
  if (!r.click_id.empty() && UrlParam(s.event->url, r.click_id).empty() &&
      !HasProperty(s.event->properties_json, r.click_id)) {
    return false;
  }
  return true;
}

}  // namespace

ChannelClassifier::ChannelClassifier(std::vector<ChannelRule> rules) : rules_(std::move(rules)) {}

std::string ChannelClassifier::Classify(const Event& event, std::string_view source_type) const {
  Signals s;
  s.event = &event;
  Campaign campaign = event.campaign;
  if (campaign.source.empty() && campaign.medium.empty() && !event.url.empty()) {
    internal::CampaignFromUrl(event.url, &campaign);
  }
  s.utm_source = Lower(campaign.source);
  s.utm_medium = Lower(campaign.medium);
  s.url_host = StripWww(internal::UrlHost(event.url));
  s.referrer_host = StripWww(internal::UrlHost(event.referrer));
  s.source_type = Lower(source_type);

  for (const auto& rule : rules_) {
    if (RuleMatches(rule, s)) return rule.channel;
  }
  for (auto step : {FromClickIds, FromUtm, FromReferrer}) {
    if (auto ch = step(s); !ch.empty()) return std::string(ch);
  }
  if (auto ch = Lookup(kSourceTypes, s.source_type); !ch.empty()) return std::string(ch);
  return "direct";
}

const std::vector<std::string>& ChannelClassifier::BuiltinChannels() {
  static const std::vector<std::string> kChannels = {
      "douyin", "kuaishou", "xiaohongshu", "weibo", "wechat", "wecom", "bilibili", "zhihu",
      "baidu", "taobao", "tmall", "jd", "pinduoduo", "meituan", "google", "meta", "tiktok",
      "email", "sms", "push", "organic_search", "paid_search", "social", "display", "affiliate",
      "referral", "offline", "other", "direct"};
  return kChannels;
}

}  // namespace quanyu::collect
