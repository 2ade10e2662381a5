// Channel taxonomy (docs/channels.md): table-driven cases for each step of the
// precedence — configured rules, click ids, utm, referrer, source type, direct.
#include <gtest/gtest.h>

#include <algorithm>
#include <set>

#include "collect/channel.h"

namespace quanyu::collect {
namespace {

struct Case {
  std::string label;
  std::string url;
  std::string referrer;
  std::string utm_source;
  std::string utm_medium;
  std::string source_type;
  std::string want;
};

std::ostream& operator<<(std::ostream& os, const Case& c) { return os << c.label; }

Event MakeEvent(const Case& c) {
  Event e;
  e.url = c.url;
  e.referrer = c.referrer;
  e.campaign.source = c.utm_source;
  e.campaign.medium = c.utm_medium;
  return e;
}

class BuiltinChannelTest : public ::testing::TestWithParam<Case> {};

TEST_P(BuiltinChannelTest, Classifies) {
  const Case& c = GetParam();
  ChannelClassifier classifier;
  EXPECT_EQ(classifier.Classify(MakeEvent(c), c.source_type), c.want);
}

const std::string kSite = "https://www.example-brand.cn/item/1024";

INSTANTIATE_TEST_SUITE_P(
    ClickIds, BuiltinChannelTest,
    ::testing::Values(
        Case{"gclid", kSite + "?gclid=Cj0KCQ", "", "", "", "web", "google"},
        Case{"gbraid", kSite + "?gbraid=0AAAAA", "", "", "", "web", "google"},
        Case{"wbraid", kSite + "?x=1&wbraid=abc", "", "", "", "web", "google"},
        Case{"fbclid", kSite + "?fbclid=IwAR2", "", "", "", "web", "meta"},
        Case{"ttclid", kSite + "?ttclid=E.C.P.abc", "", "", "", "web", "tiktok"},
        Case{"bd_vid", kSite + "?bd_vid=1193457", "https://www.baidu.com/s?wd=x", "", "", "web",
             "baidu"},
        Case{"gdt_vid", kSite + "?gdt_vid=wx0abc", "", "", "", "web", "wechat"},
        Case{"qz_gdt", kSite + "?qz_gdt=abc", "", "", "", "web", "wechat"},
        Case{"msclkid", kSite + "?msclkid=abc", "", "", "", "web", "paid_search"},
        Case{"ocean engine clickid", kSite + "?clickid=B.abc&adid=1&creativeid=2", "", "", "",
             "web", "douyin"},
        Case{"bare clickid is not enough", kSite + "?clickid=abc", "", "", "", "web", "direct"},
        Case{"click id in hash route", "https://m.example-brand.cn/#/item?gclid=abc", "", "", "",
             "web", "google"},
        Case{"empty click id ignored", kSite + "?gclid=", "", "", "", "web", "direct"},
        Case{"click id beats utm", kSite + "?gclid=abc", "", "newsletter", "email", "web",
             "google"}));

INSTANTIATE_TEST_SUITE_P(
    Utm, BuiltinChannelTest,
    ::testing::Values(
        Case{"douyin", kSite, "", "douyin", "cpc", "web", "douyin"},
        Case{"抖音", kSite, "", "抖音", "", "web", "douyin"},
        Case{"oceanengine", kSite, "", "OceanEngine", "ocpm", "web", "douyin"},
        Case{"巨量引擎", kSite, "", "巨量引擎", "", "web", "douyin"},
        Case{"toutiao is douyin family", kSite, "", "toutiao", "cpc", "web", "douyin"},
        Case{"kuaishou", kSite, "", "kuaishou", "", "web", "kuaishou"},
        Case{"xhs", kSite, "", "xhs", "", "web", "xiaohongshu"},
        Case{"小红书", kSite, "", "小红书", "", "web", "xiaohongshu"},
        Case{"redbook", kSite, "", "RedBook", "", "web", "xiaohongshu"},
        Case{"wx", kSite, "", "wx", "share", "web", "wechat"},
        Case{"微信", kSite, "", "微信", "", "web", "wechat"},
        Case{"weixin", kSite, "", "weixin", "", "web", "wechat"},
        Case{"wecom", kSite, "", "企业微信", "", "web", "wecom"},
        Case{"weibo", kSite, "", "weibo", "", "web", "weibo"},
        Case{"bilibili", kSite, "", "B站", "", "web", "bilibili"},
        Case{"zhihu", kSite, "", "zhihu", "", "web", "zhihu"},
        Case{"baidu paid", kSite, "", "baidu", "cpc", "web", "baidu"},
        Case{"baidu organic", kSite, "", "baidu", "organic", "web", "organic_search"},
        Case{"bing cpc", kSite, "", "bing", "cpc", "web", "paid_search"},
        Case{"bing organic", kSite, "", "bing", "", "web", "organic_search"},
        Case{"taobao", kSite, "", "taobao", "", "web", "taobao"},
        Case{"tmall", kSite, "", "天猫", "", "web", "tmall"},
        Case{"jd", kSite, "", "JD", "", "web", "jd"},
        Case{"pdd", kSite, "", "pdd", "", "web", "pinduoduo"},
        Case{"meituan", kSite, "", "dianping", "", "web", "meituan"},
        Case{"google", kSite, "", "google", "cpc", "web", "google"},
        Case{"facebook", kSite, "", "facebook", "paid_social", "web", "meta"},
        Case{"tiktok", kSite, "", "tiktok", "", "web", "tiktok"},
        Case{"medium email", kSite, "", "spring_newsletter", "email", "web", "email"},
        Case{"sms beats store source", kSite, "", "tmall", "sms", "web", "sms"},
        Case{"push", kSite, "", "jpush", "push", "ios", "push"},
        Case{"cpc unknown source", kSite, "", "some_dsp", "cpc", "web", "paid_search"},
        Case{"display", kSite, "", "some_network", "banner", "web", "display"},
        Case{"affiliate", kSite, "", "smzdm", "affiliate", "web", "affiliate"},
        Case{"social", kSite, "", "linkedin", "social", "web", "social"},
        Case{"tagged but unknown", kSite, "", "partner_x", "", "web", "other"},
        Case{"utm beats referrer", kSite, "https://www.douyin.com/video/1", "xhs", "", "web",
             "xiaohongshu"},
        Case{"utm read from url", kSite + "?utm_source=weibo&utm_medium=social", "", "", "", "web",
             "weibo"}));

INSTANTIATE_TEST_SUITE_P(
    Referrer, BuiltinChannelTest,
    ::testing::Values(
        Case{"douyin.com", kSite, "https://www.douyin.com/video/72", "", "", "web", "douyin"},
        Case{"iesdouyin.com", kSite, "https://www.iesdouyin.com/share/video/72/", "", "", "web",
             "douyin"},
        Case{"kuaishou.com", kSite, "https://v.kuaishou.com/abc", "", "", "web", "kuaishou"},
        Case{"xiaohongshu.com", kSite, "https://www.xiaohongshu.com/explore/65", "", "", "web",
             "xiaohongshu"},
        Case{"xhslink.com", kSite, "http://xhslink.com/a/AbC", "", "", "web", "xiaohongshu"},
        Case{"weibo.com", kSite, "https://weibo.com/123/abc", "", "", "web", "weibo"},
        Case{"weibo.cn", kSite, "https://m.weibo.cn/status/1", "", "", "web", "weibo"},
        Case{"t.cn", kSite, "http://t.cn/A6abc", "", "", "web", "weibo"},
        Case{"mp.weixin.qq.com", kSite, "https://mp.weixin.qq.com/s/abc", "", "", "web", "wechat"},
        Case{"work.weixin.qq.com", kSite, "https://work.weixin.qq.com/x", "", "", "web", "wecom"},
        Case{"servicewechat.com", kSite, "https://servicewechat.com/wx1234/1/page-frame.html", "",
             "", "web", "wechat"},
        Case{"bilibili.com", kSite, "https://www.bilibili.com/video/BV1", "", "", "web",
             "bilibili"},
        Case{"b23.tv", kSite, "https://b23.tv/abc", "", "", "web", "bilibili"},
        Case{"zhihu.com", kSite, "https://zhuanlan.zhihu.com/p/1", "", "", "web", "zhihu"},
        Case{"baidu organic", kSite, "https://www.baidu.com/link?url=abc", "", "", "web",
             "organic_search"},
        Case{"baidu mobile", kSite, "https://m.baidu.com/from=1/s?word=x", "", "", "web",
             "organic_search"},
        Case{"baidu paid click", kSite, "https://www.baidu.com/baidu.php?url=a000", "", "", "web",
             "baidu"},
        Case{"google.com", kSite, "https://www.google.com/", "", "", "web", "organic_search"},
        Case{"google.co.jp", kSite, "https://www.google.co.jp/", "", "", "web", "organic_search"},
        Case{"google.com.hk", kSite, "https://www.google.com.hk/", "", "", "web", "organic_search"},
        Case{"googleadservices", kSite, "https://www.googleadservices.com/pagead/aclk", "", "",
             "web", "google"},
        Case{"gmail is email", kSite, "https://mail.google.com/mail/u/0/", "", "", "web", "email"},
        Case{"qq mail is email", kSite, "https://wx.mail.qq.com/", "", "", "web", "email"},
        Case{"bing", kSite, "https://cn.bing.com/search?q=x", "", "", "web", "organic_search"},
        Case{"sogou", kSite, "https://m.sogou.com/web?q=x", "", "", "web", "organic_search"},
        Case{"so.com", kSite, "https://www.so.com/s?q=x", "", "", "web", "organic_search"},
        Case{"sm.cn", kSite, "https://m.sm.cn/s?q=x", "", "", "web", "organic_search"},
        Case{"taobao.com", kSite, "https://item.taobao.com/item.htm?id=1", "", "", "web", "taobao"},
        Case{"tmall.com", kSite, "https://detail.tmall.com/item.htm?id=1", "", "", "web", "tmall"},
        Case{"jd.com", kSite, "https://item.jd.com/100.html", "", "", "web", "jd"},
        Case{"yangkeduo.com", kSite, "https://mobile.yangkeduo.com/goods.html", "", "", "web",
             "pinduoduo"},
        Case{"pinduoduo.com", kSite, "https://www.pinduoduo.com/", "", "", "web", "pinduoduo"},
        Case{"meituan.com", kSite, "https://www.meituan.com/", "", "", "web", "meituan"},
        Case{"dianping.com", kSite, "https://www.dianping.com/shop/1", "", "", "web", "meituan"},
        Case{"facebook", kSite, "https://l.facebook.com/l.php?u=x", "", "", "web", "meta"},
        Case{"instagram", kSite, "https://www.instagram.com/", "", "", "web", "meta"},
        Case{"tiktok.com", kSite, "https://www.tiktok.com/@brand", "", "", "web", "tiktok"},
        Case{"twitter", kSite, "https://t.co/abc", "", "", "web", "social"},
        Case{"android app wechat", kSite, "android-app://com.tencent.mm/", "", "", "web", "wechat"},
        Case{"android app douyin lite", kSite, "android-app://com.ss.android.ugc.aweme.lite", "",
             "", "web", "douyin"},
        Case{"android app unknown", kSite, "android-app://com.example.reader", "", "", "web",
             "referral"},
        Case{"other site", kSite, "https://blog.someone.net/post/1", "", "", "web", "referral"},
        Case{"not a search engine", kSite, "https://google.example.org/x", "", "", "web",
             "referral"},
        Case{"own site ignored", kSite, "https://www.example-brand.cn/landing", "", "", "web",
             "direct"},
        Case{"own subdomain ignored", kSite, "https://m.example-brand.cn/", "", "", "web",
             "direct"},
        Case{"own site then source type", kSite, "https://www.example-brand.cn/", "", "",
             "wechat_mp", "wechat"},
        Case{"lookalike host is not douyin", kSite, "https://notdouyin.com/", "", "", "web",
             "referral"}));

INSTANTIATE_TEST_SUITE_P(
    SourceType, BuiltinChannelTest,
    ::testing::Values(Case{"pos", "", "", "", "", "pos", "offline"},
                      Case{"crm", "", "", "", "", "crm", "offline"},
                      Case{"wechat_mp", "", "", "", "", "wechat_mp", "wechat"},
                      Case{"douyin_mp", "", "", "", "", "douyin_mp", "douyin"},
                      Case{"tmall_store", "", "", "", "", "tmall_store", "tmall"},
                      Case{"jd_store", "", "", "", "", "jd_store", "jd"},
                      Case{"pdd_store", "", "", "", "", "pdd_store", "pinduoduo"},
                      Case{"wecom", "", "", "", "", "wecom", "wecom"},
                      Case{"web is direct", kSite, "", "", "", "web", "direct"},
                      Case{"ios is direct", "", "", "", "", "ios", "direct"},
                      Case{"android is direct", "", "", "", "", "android", "direct"},
                      Case{"unknown type is direct", "", "", "", "", "", "direct"},
                      Case{"referrer beats source type", "", "https://www.douyin.com/", "", "",
                           "tmall_store", "douyin"}));

TEST(ChannelRuleTest, RulesComeFirstAndNeedAllMatchers) {
  ChannelRule partner;
  partner.channel = "partner_kol";
  partner.utm_source = "Douyin";
  partner.utm_medium = "KOL";
  ChannelRule vip_store;
  vip_store.channel = "vip_store";
  vip_store.source_type = "pos";
  vip_store.referrer_host = "vip.example-brand.cn";
  ChannelRule wecom_ad;
  wecom_ad.channel = "wecom_ads";
  wecom_ad.click_id = "wxad_click";
  ChannelClassifier classifier({partner, vip_store, wecom_ad});

  Event e;
  e.campaign.source = "douyin";
  e.campaign.medium = "kol";
  EXPECT_EQ(classifier.Classify(e, "web"), "partner_kol");
  e.campaign.medium = "cpc";  // one matcher fails: falls through to built-ins
  EXPECT_EQ(classifier.Classify(e, "web"), "douyin");

  Event visit;
  visit.referrer = "https://vip.example-brand.cn/checkin";
  EXPECT_EQ(classifier.Classify(visit, "pos"), "vip_store");
  EXPECT_EQ(classifier.Classify(visit, "web"), "referral");

  Event ad;
  ad.url = "https://www.example-brand.cn/?wxad_click=123";
  EXPECT_EQ(classifier.Classify(ad, "web"), "wecom_ads");
  Event ad_prop;
  ad_prop.properties_json = R"({"wxad_click":"abc","sku":"1"})";
  EXPECT_EQ(classifier.Classify(ad_prop, "web"), "wecom_ads");
  Event ad_value_only;
  ad_value_only.properties_json = R"({"note":"wxad_click"})";
  EXPECT_EQ(classifier.Classify(ad_value_only, "web"), "direct");
}

TEST(ChannelRuleTest, RuleWithoutMatchersMatchesEverything) {
  ChannelRule all;
  all.channel = "everything";
  ChannelClassifier classifier({all});
  Event e;
  e.url = "https://x.cn/?gclid=1";
  EXPECT_EQ(classifier.Classify(e, "web"), "everything");
}

TEST(ChannelTaxonomyTest, EveryResultIsABuiltinChannel) {
  const auto& channels = ChannelClassifier::BuiltinChannels();
  EXPECT_EQ(std::set<std::string>(channels.begin(), channels.end()).size(), channels.size());
  ChannelClassifier classifier;
  for (const auto& suite : {"douyin", "weibo", "partner", "", "organic", "sms", "cpc"}) {
    Event e;
    e.campaign.source = suite;
    std::string ch = classifier.Classify(e, "web");
    EXPECT_NE(std::find(channels.begin(), channels.end(), ch), channels.end()) << ch;
  }
}

}  // namespace
}  // namespace quanyu::collect
