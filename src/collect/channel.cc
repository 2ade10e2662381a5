#include "collect/channel.h"

#include <algorithm>
#include <nlohmann/json.hpp>

#include "collect/internal/url.h"

namespace quanyu::collect {
namespace {

// A channel and the values that name it, '|'-separated: tables read like
// docs/channels.md and stay one line per channel.
struct Aliases {
  std::string_view channel;
  std::string_view keys;
};

// Ad click ids appended to landing-page URLs by the ad platforms.
constexpr Aliases kClickIds[] = {
    {"google", "gclid|gbraid|wbraid|dclid"},
    {"meta", "fbclid"},
    {"tiktok", "ttclid"},
    {"baidu", "bd_vid"},
    {"wechat", "gdt_vid|qz_gdt"},
    {"paid_search", "msclkid"},
};

// Ocean Engine (巨量引擎) passes `clickid`, a name too generic on its own; it is
// taken as Douyin only next to one of Ocean Engine's other macros.
constexpr std::string_view kOceanEngineParams = "adid|creativeid|promotionid|projectid";

// utm_source values (lower-cased). ByteDance's Chinese ad platform (Ocean
// Engine) buys Douyin, Toutiao, Xigua and Pangle from one account, so they all
// count as douyin; TikTok (overseas) is its own channel. Tencent Ads (广点通)
// mostly buys WeChat Moments and official-account slots, so it is wechat.
constexpr Aliases kSourceAliases[] = {
    {"douyin",
     "douyin|抖音|dy|oceanengine|ocean_engine|ocean engine|巨量引擎|巨量|toutiao|今日头条|"
     "头条|jrtt|pangle|穿山甲|xigua"},
    {"kuaishou", "kuaishou|快手|ks|kwai|磁力引擎|磁力金牛"},
    {"xiaohongshu", "xiaohongshu|xhs|小红书|redbook|rednote|聚光"},
    {"weibo", "weibo|微博|sina_weibo|sinaweibo"},
    {"wecom", "wecom|wxwork|qiwei|企业微信|企微|workwechat"},
    {"wechat",
     "wechat|wx|weixin|微信|wechat_mp|公众号|朋友圈|moments|视频号|gdt|广点通|"
     "tencent_ads|腾讯广告"},
    {"bilibili", "bilibili|b站|bili|哔哩哔哩"},
    {"zhihu", "zhihu|知乎"},
    {"baidu", "baidu|百度"},
    {"taobao", "taobao|淘宝|alimama|阿里妈妈"},
    {"tmall", "tmall|天猫"},
    {"jd", "jd|jingdong|京东|jd_union"},
    {"pinduoduo", "pinduoduo|pdd|拼多多|yangkeduo"},
    {"meituan", "meituan|美团|dianping|大众点评"},
    {"google", "google|google_ads|googleads|adwords"},
    {"meta", "facebook|fb|instagram|ig|meta"},
    {"tiktok", "tiktok"},
    {"email", "email|edm|newsletter"},
    {"sms", "sms|短信"},
    {"push", "push|jpush|getui|极光|个推"},
    {"offline", "offline|pos|门店|qrcode"},
};

// Search engines other than Baidu and Google, which have channels of their own.
constexpr std::string_view kSearchSources =
    "bing|sogou|搜狗|so|360|360搜索|sm|shenma|神马|yahoo|duckduckgo|yandex|naver";

// Owned messaging: named by the medium even when utm_source names the sender.
constexpr Aliases kMessagingMedia[] = {
    {"email", "email|e-mail|edm|newsletter"},
    {"sms", "sms|短信|text"},
    {"push", "push|app_push|push_notification|notification"},
};

constexpr std::string_view kPaidMedia = "cpc|ppc|paid|paidsearch|paid_search|sem|cpm|ocpc|ocpm";
constexpr std::string_view kOrganicMedia = "organic|seo";

constexpr Aliases kMediumAliases[] = {
    {"paid_search", "cpc|ppc|paidsearch|paid_search|sem"},
    {"organic_search", "organic|seo"},
    {"social", "social|social_media|sns|paid_social"},
    {"display", "display|banner|cpm"},
    {"affiliate", "affiliate|cps"},
    {"referral", "referral"},
    {"offline", "offline|qrcode|print|pos"},
};

// Referrer hosts, matched as a suffix on a label boundary; the first match
// wins, so specific hosts come first (mail.google.com before google.*).
// baidu.com and google.* / yahoo.* / yandex.* are handled after this table.
constexpr Aliases kReferrerHosts[] = {
    {"email",
     "mail.google.com|mail.qq.com|exmail.qq.com|mail.163.com|mail.126.com|"
     "mail.sina.com.cn|mail.aliyun.com|outlook.live.com|outlook.office.com|"
     "outlook.office365.com|mail.yahoo.com"},
    {"wecom", "work.weixin.qq.com"},
    {"wechat", "weixin.qq.com|servicewechat.com|wx.qq.com|wechat.com"},
    {"douyin",
     "douyin.com|iesdouyin.com|amemv.com|snssdk.com|toutiao.com|ixigua.com|"
     "oceanengine.com"},
    {"kuaishou", "kuaishou.com|gifshow.com|chenzhongtech.com|kuaishouapp.com|kwai.com"},
    {"xiaohongshu", "xiaohongshu.com|xhslink.com"},
    {"weibo", "weibo.com|weibo.cn|t.cn"},
    {"bilibili", "bilibili.com|b23.tv"},
    {"zhihu", "zhihu.com"},
    {"taobao", "taobao.com|tb.cn|alimama.com"},
    {"tmall", "tmall.com|tmall.hk"},
    {"jd", "jd.com|jd.hk|3.cn"},
    {"pinduoduo", "yangkeduo.com|pinduoduo.com"},
    {"meituan", "meituan.com|dianping.com"},
    {"meta", "facebook.com|fb.com|fb.me|instagram.com|messenger.com|whatsapp.com|threads.net"},
    {"tiktok", "tiktok.com"},
    {"google", "googleadservices.com|doubleclick.net|googlesyndication.com"},
    {"organic_search",
     "bing.com|sogou.com|so.com|sm.cn|duckduckgo.com|naver.com|ecosia.org|"
     "search.brave.com"},
    {"social",
     "twitter.com|x.com|t.co|linkedin.com|lnkd.in|reddit.com|pinterest.com|"
     "youtube.com|youtu.be|douban.com|line.me|vk.com|quora.com|t.me"},
};

// Search engines with a host per country (google.co.jp, yandex.ru ...).
constexpr std::string_view kSearchLabels = "google|yahoo|yandex";

// Android apps that open a page pass "android-app://<package>" as referrer;
// a package also matches its variants ("com.ss.android.ugc.aweme.lite").
constexpr Aliases kAppPackages[] = {
    {"wechat", "com.tencent.mm"},
    {"wecom", "com.tencent.wework"},
    {"douyin", "com.ss.android.ugc.aweme|com.ss.android.article.news"},
    {"kuaishou", "com.smile.gifmaker|com.kuaishou.nebula"},
    {"xiaohongshu", "com.xingin.xhs"},
    {"weibo", "com.sina.weibo"},
    {"bilibili", "tv.danmaku.bili"},
    {"zhihu", "com.zhihu.android"},
    {"taobao", "com.taobao.taobao"},
    {"tmall", "com.tmall.wireless"},
    {"jd", "com.jingdong.app.mall"},
    {"pinduoduo", "com.xunmeng.pinduoduo"},
    {"meituan", "com.sankuai.meituan|com.dianping.v1"},
    {"meta", "com.facebook.katana|com.instagram.android"},
    {"tiktok", "com.zhiliaoapp.musically|com.ss.android.ugc.trill"},
    {"email", "com.google.android.gm"},
    {"organic_search", "com.baidu.searchbox|com.google.android.googlequicksearchbox"},
};

// Source types (SourceConfig::type) that imply a channel. Own web and app
// sources (web, ios, android, h5, server ...) imply none: direct. CRM exports
// record what staff captured in stores, call centres and sales visits, so
// they count as offline.
constexpr Aliases kSourceTypes[] = {
    {"offline", "pos|offline|store|crm"},
    {"wechat", "wechat_mp|wechat_oa|wechat"},
    {"douyin", "douyin_mp|douyin_store"},
    {"kuaishou", "kuaishou_store"},
    {"xiaohongshu", "xiaohongshu_store"},
    {"tmall", "tmall_store"},
    {"taobao", "taobao_store"},
    {"jd", "jd_store"},
    {"pinduoduo", "pdd_store"},
    {"meituan", "meituan_store"},
    {"wecom", "wecom"},
    {"email", "email"},
    {"sms", "sms"},
    {"push", "push"},
};

// Calls `fn` on each '|'-separated key of `keys` until it returns true.
template <typename Fn>
bool AnyKey(std::string_view keys, Fn fn) {
  while (true) {
    auto bar = keys.find('|');
    if (fn(keys.substr(0, bar))) return true;
    if (bar == std::string_view::npos) return false;
    keys.remove_prefix(bar + 1);
  }
}

bool InList(std::string_view keys, std::string_view key) {
  return AnyKey(keys, [&](std::string_view k) { return k == key; });
}

// The channel whose keys satisfy `match`, or "".
template <size_t N, typename Match>
std::string_view Find(const Aliases (&table)[N], Match match) {
  for (const auto& a : table) {
    if (AnyKey(a.keys, match)) return a.channel;
  }
  return {};
}

template <size_t N>
std::string_view Lookup(const Aliases (&table)[N], std::string_view key) {
  return Find(table, [&](std::string_view k) { return k == key; });
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
  if (host.size() < suffix.size() || host.substr(host.size() - suffix.size()) != suffix)
    return false;
  return host.size() == suffix.size() || host[host.size() - suffix.size() - 1] == '.';
}

// "google.com", "www.google.co.jp": `label` followed by one or two short
// top-level labels.
bool IsSearchEngineHost(std::string_view host, std::string_view label) {
  for (size_t pos = host.find(label); pos != std::string_view::npos;
       pos = host.find(label, pos + 1)) {
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
  return it != props.end() && !it->is_null() &&
         !(it->is_string() && it->get_ref<const std::string&>().empty());
}

// What the classifier looks at, extracted once per event.
struct Signals {
  const Event* event;
  std::string utm_source, utm_medium;   // lower-cased
  std::string url_host, referrer_host;  // lower-cased, without "www."
  std::string source_type;
};

std::string_view FromClickIds(const Signals& s) {
  const std::string& url = s.event->url;
  if (url.empty() || url.find('?') == std::string::npos) return {};
  auto present = [&](std::string_view param) { return !UrlParam(url, param).empty(); };
  if (auto ch = Find(kClickIds, present); !ch.empty()) return ch;
  if (present("clickid") && AnyKey(kOceanEngineParams, present)) return "douyin";
  return {};
}

std::string_view FromUtm(const Signals& s) {
  const std::string& source = s.utm_source;
  const std::string& medium = s.utm_medium;
  if (source.empty() && medium.empty()) return {};
  if (auto ch = Lookup(kMessagingMedia, medium); !ch.empty()) return ch;
  if (auto ch = Lookup(kSourceAliases, source); !ch.empty()) {
    if ((ch == "baidu" || ch == "google") && InList(kOrganicMedia, medium)) return "organic_search";
    return ch;
  }
  if (InList(kSearchSources, source)) {
    return InList(kPaidMedia, medium) ? "paid_search" : "organic_search";
  }
  if (auto ch = Lookup(kMediumAliases, medium); !ch.empty()) return ch;
  return "other";  // tagged, but with nothing we recognize
}

std::string_view FromReferrer(const Signals& s) {
  const std::string& referrer = s.event->referrer;
  if (referrer.empty()) return {};
  constexpr std::string_view kAndroidApp = "android-app://";
  if (referrer.rfind(kAndroidApp, 0) == 0) {
    const std::string package = internal::UrlHost(referrer);
    auto is_package = [&](std::string_view p) {
      return package.size() >= p.size() && std::string_view(package).substr(0, p.size()) == p &&
             (package.size() == p.size() || package[p.size()] == '.');
    };
    auto ch = Find(kAppPackages, is_package);
    return ch.empty() ? "referral" : ch;
  }
  const std::string& host = s.referrer_host;
  if (host.empty()) return {};
  // Navigation inside the brand's own site (or between its subdomains).
  if (!s.url_host.empty() && (HostMatches(host, s.url_host) || HostMatches(s.url_host, host)))
    return {};
  auto matches = [&](std::string_view suffix) { return HostMatches(host, suffix); };
  if (auto ch = Find(kReferrerHosts, matches); !ch.empty()) return ch;
  if (HostMatches(host, "baidu.com")) {
    // Baidu's paid results click through baidu.com/baidu.php?url=...
    return referrer.find("/baidu.php") != std::string::npos ? "baidu" : "organic_search";
  }
  auto is_search = [&](std::string_view label) { return IsSearchEngineHost(host, label); };
  if (AnyKey(kSearchLabels, is_search)) return "organic_search";
  return "referral";
}

bool RuleMatches(const ChannelRule& r, const Signals& s) {
  if (!r.utm_source.empty() && Lower(r.utm_source) != s.utm_source) return false;
  if (!r.utm_medium.empty() && Lower(r.utm_medium) != s.utm_medium) return false;
  if (!r.referrer_host.empty() && !HostMatches(s.referrer_host, Lower(r.referrer_host)))
    return false;
  if (!r.source_type.empty() && Lower(r.source_type) != s.source_type) return false;
  if (!r.click_id.empty() && UrlParam(s.event->url, r.click_id).empty() &&
      !HasProperty(s.event->properties_json, r.click_id)) {
    return false;
  }
  return true;
}

std::vector<std::string_view> KeysOf(std::string_view keys) {
  std::vector<std::string_view> out;
  AnyKey(keys, [&](std::string_view k) {
    out.push_back(k);
    return false;
  });
  return out;
}

template <size_t N>
nlohmann::json TableJson(const Aliases (&table)[N]) {
  auto out = nlohmann::json::array();
  for (const auto& a : table) out.push_back({{"channel", a.channel}, {"values", KeysOf(a.keys)}});
  return out;
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
      "douyin",    "kuaishou", "xiaohongshu",    "weibo",       "wechat", "wecom",
      "bilibili",  "zhihu",    "baidu",          "taobao",      "tmall",  "jd",
      "pinduoduo", "meituan",  "google",         "meta",        "tiktok", "email",
      "sms",       "push",     "organic_search", "paid_search", "social", "display",
      "affiliate", "referral", "offline",        "other",       "direct"};
  return kChannels;
}

std::string ChannelClassifier::TaxonomyJson() const {
  using nlohmann::json;
  std::vector<std::string> names = BuiltinChannels();
  json rules = json::array();
  for (const auto& r : rules_) {
    json rule{{"channel", r.channel}};
    for (const auto& [key, value] :
         {std::pair{"utm_source", &r.utm_source}, std::pair{"utm_medium", &r.utm_medium},
          std::pair{"referrer_host", &r.referrer_host}, std::pair{"click_id", &r.click_id},
          std::pair{"source_type", &r.source_type}}) {
      if (!value->empty()) rule[key] = *value;
    }
    rules.push_back(std::move(rule));
    if (std::find(names.begin(), names.end(), r.channel) == names.end()) names.push_back(r.channel);
  }
  json steps = json::array();
  steps.push_back({{"step", "rules"},
                   {"matches",
                    "[[channels]] of quanyu.toml in order; every matcher given must "
                    "match (utm_* case-insensitively, referrer_host as a host suffix)"},
                   {"rules", std::move(rules)}});
  steps.push_back({{"step", "click_id"},
                   {"matches", "a query parameter of the page URL"},
                   {"click_ids", TableJson(kClickIds)},
                   {"douyin_clickid_with", KeysOf(kOceanEngineParams)}});
  steps.push_back({{"step", "utm"},
                   {"matches",
                    "utm_medium of owned messaging, then utm_source, then utm_medium alone; "
                    "tagged but unrecognized is other"},
                   {"messaging_media", TableJson(kMessagingMedia)},
                   {"sources", TableJson(kSourceAliases)},
                   {"search_sources", KeysOf(kSearchSources)},
                   {"paid_media", KeysOf(kPaidMedia)},
                   {"organic_media", KeysOf(kOrganicMedia)},
                   {"media", TableJson(kMediumAliases)},
                   {"otherwise", "other"}});
  steps.push_back({{"step", "referrer"},
                   {"matches",
                    "the referrer's host as a suffix (the page's own host ignored), or an "
                    "android-app:// package; baidu.com is baidu for /baidu.php (paid) and "
                    "organic_search otherwise"},
                   {"hosts", TableJson(kReferrerHosts)},
                   {"search_engine_labels", KeysOf(kSearchLabels)},
                   {"app_packages", TableJson(kAppPackages)},
                   {"otherwise", "referral"}});
  steps.push_back({{"step", "source_type"},
                   {"matches", "the type of the source that sent the event"},
                   {"source_types", TableJson(kSourceTypes)}});
  steps.push_back({{"step", "default"}, {"channel", "direct"}});
  return json{{"channels", names}, {"steps", std::move(steps)}}.dump();
}

}  // namespace quanyu::collect
