#include "sim/internal/arrival.h"

#include <fmt/format.h>

#include "sim/internal/catalog.h"

namespace quanyu::sim::internal {
namespace {

constexpr std::string_view kDigits = "0123456789";
constexpr std::string_view kAlnum = "abcdefghijklmnopqrstuvwxyz0123456789";
constexpr std::string_view kMixed =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";

void AppendRandom(Rng* rng, std::string_view alphabet, int n, std::string* out) {
  for (int i = 0; i < n; ++i) *out += alphabet[rng->Below(alphabet.size())];
}

void AppendParam(std::string_view key, std::string_view value, std::string* q) {
  if (!q->empty()) *q += '&';
  *q += key;
  *q += '=';
  *q += value;
}

// The platform URL a click on `c` comes from. Paid WeChat Moments ads and
// referral share cards open inside WeChat and send no referrer.
void AppendReferrer(ChannelId c, bool paid, int variant, size_t keyword, Rng* rng, std::string* r) {
  switch (c) {
    case ChannelId::kDouyin:
      *r += "https://www.douyin.com/video/7";
      AppendRandom(rng, kDigits, 18, r);
      return;
    case ChannelId::kKuaishou:
      *r += "https://www.kuaishou.com/short-video/3x";
      AppendRandom(rng, kAlnum, 13, r);
      return;
    case ChannelId::kXiaohongshu:
      if (variant == 0) {
        *r += "https://www.xiaohongshu.com/search_result?keyword=";
        *r += EncodedKeyword(keyword);
      } else {
        *r += "https://www.xiaohongshu.com/explore/";
        AppendRandom(rng, "0123456789abcdef", 24, r);
      }
      return;
    case ChannelId::kWeibo:
      *r += "https://weibo.com/";
      AppendRandom(rng, kDigits, 10, r);
      *r += '/';
      AppendRandom(rng, kMixed, 9, r);
      return;
    case ChannelId::kBilibili:
      *r += "https://www.bilibili.com/video/BV1";
      AppendRandom(rng, kMixed, 9, r);
      return;
    case ChannelId::kZhihu:
      *r += "https://www.zhihu.com/question/";
      AppendRandom(rng, kDigits, 9, r);
      *r += "/answer/";
      AppendRandom(rng, kDigits, 10, r);
      return;
    case ChannelId::kBaidu:  // the ad click-through
      *r += "https://www.baidu.com/baidu.php?url=";
      AppendRandom(rng, kMixed, 24, r);
      return;
    case ChannelId::kOrganicSearch:
      *r += variant % 2 == 0 ? "https://www.baidu.com/s?wd=" : "https://m.baidu.com/s?word=";
      *r += EncodedKeyword(keyword);
      return;
    case ChannelId::kWechat:
      if (!paid) {
        *r += "https://mp.weixin.qq.com/s/";
        AppendRandom(rng, kMixed, 22, r);
      }
      return;
    case ChannelId::kReferral:
      return;
  }
}

void DescribeTouch(const Session& s, const Person& p, Rng* rng, Arrival* a) {
  const ChannelSpec& spec = Spec(s.channel);
  const size_t keyword = rng->Below(kSearchKeywords.size());
  a->page_name = "Landing";
  AppendReferrer(s.channel, s.paid, s.variant, keyword, rng, &a->referrer);
  if (s.channel == ChannelId::kReferral) {
    a->tagged = true;
    a->campaign.source = "referral";
    a->campaign.medium = "referral";
    a->campaign.name = "invite_friends";
    AppendParam("utm_source", "referral", &a->query);
    AppendParam("utm_medium", "referral", &a->query);
    AppendParam("utm_campaign", "invite_friends", &a->query);
    AppendParam("ref", ReferralCodeOf(p.inviter), &a->query);
    a->web_path = "/invite";
    a->mp_path = "pages/invite/accept";
    a->wechat_scene = 1007;  // shared card in a chat
    return;
  }
  if (s.paid) {
    const CampaignSpec& camp = kCampaigns[static_cast<size_t>(s.campaign)];
    a->tagged = true;
    a->campaign.source = spec.utm_source;
    a->campaign.medium = spec.paid_medium;
    a->campaign.name = camp.name;
    a->campaign.content = fmt::format("cr_{:02d}", s.variant + 1);
    AppendParam("utm_source", spec.utm_source, &a->query);
    AppendParam("utm_medium", spec.paid_medium, &a->query);
    AppendParam("utm_campaign", camp.name, &a->query);
    AppendParam("utm_content", a->campaign.content, &a->query);
    if (s.channel == ChannelId::kBaidu) {
      a->campaign.term = kSearchKeywords[keyword];
      AppendParam("utm_term", EncodedKeyword(keyword), &a->query);
    }
    std::string_view click_param;
    switch (s.channel) {
      case ChannelId::kDouyin:
        click_param = "clickid";
        break;
      case ChannelId::kBaidu:
        click_param = "bd_vid";
        break;
      case ChannelId::kWechat:
        click_param = "gdt_vid";
        break;
      case ChannelId::kKuaishou:
        click_param = "callback";
        break;
      default:
        break;
    }
    if (!click_param.empty()) {
      a->query += '&';
      a->query += click_param;
      a->query += '=';
      AppendRandom(rng, kMixed, 20, &a->query);
    }
    if (s.channel == ChannelId::kDouyin) {  // Ocean Engine's macros next to clickid
      a->query += "&promotionid=";
      AppendRandom(rng, kDigits, 16, &a->query);
    }
    a->web_path = s.channel == ChannelId::kBaidu ? "/" : "/landing";
    a->mp_path = "pages/landing/index";
    a->wechat_scene = 1045;  // Moments ad
    a->douyin_launch_from = "ad";
    return;
  }
  // Organic: social posts by the brand carry utm_medium=social half the time;
  // search results and Q&A answers are untagged, known only by the referrer.
  const bool can_tag = s.channel != ChannelId::kOrganicSearch && s.channel != ChannelId::kZhihu;
  if (can_tag && rng->Chance(0.5)) {
    a->tagged = true;
    a->campaign.source = spec.utm_source;
    a->campaign.medium = "social";
    AppendParam("utm_source", spec.utm_source, &a->query);
    AppendParam("utm_medium", "social", &a->query);
  }
  a->web_path = rng->Chance(0.5) ? "/" : "/products";
  a->mp_path = "pages/index/index";
  a->wechat_scene = s.channel == ChannelId::kWechat ? (p.oa_follower ? 1058 : 1007) : 1089;
  a->douyin_launch_from = "video_anchor";
}

void DescribeReminder(const Session& s, Arrival* a) {
  a->tagged = true;
  a->page_name = "Landing";
  a->campaign.name = "repurchase_reminder";
  std::string_view source = "sms", medium = "sms";
  if (s.source == SourceId::kAppIos || s.source == SourceId::kAppAndroid) {
    source = medium = "push";
  } else if (s.source == SourceId::kWechatMp) {
    source = "wechat";
    medium = "template";
    a->wechat_scene = 1043;  // official account template message
  } else if (s.source == SourceId::kDouyinMp) {
    source = "douyin";
    medium = "push";
    a->douyin_launch_from = "message";
  }
  a->campaign.source = source;
  a->campaign.medium = medium;
  AppendParam("utm_source", source, &a->query);
  AppendParam("utm_medium", medium, &a->query);
  AppendParam("utm_campaign", "repurchase_reminder", &a->query);
  a->web_path = "/";
  a->mp_path = "pages/index/index";
}

}  // namespace

void DescribeArrival(const Session& s, const Person& p, Rng* rng, Arrival* a) {
  a->tagged = false;
  a->campaign = Campaign{};
  a->referrer.clear();
  a->query.clear();
  a->web_path = "/";
  a->mp_path = "pages/index/index";
  a->page_name = "Home";
  a->wechat_scene = rng->Chance(0.7) ? 1089 : 1001;  // recent list / pull-down
  a->douyin_launch_from = "homepage";
  if (s.kind == SessionKind::kTouch) {
    DescribeTouch(s, p, rng, a);
  } else if (s.reminder) {
    DescribeReminder(s, a);
  } else if (s.kind == SessionKind::kNps) {
    a->web_path = "/survey/nps";
    a->mp_path = "pages/survey/nps";
    a->page_name = "Survey";
    a->wechat_scene = 1014;  // subscribe message
  } else if (s.kind == SessionKind::kInvite) {
    a->web_path = "/member/invite";
    a->mp_path = "pages/member/invite";
    a->page_name = "Member Center";
  }
}

void AppendWebUrl(std::string_view path, const std::string& query, std::string* out) {
  out->reserve(kSiteOrigin.size() + path.size() + query.size() + 1);
  *out += kSiteOrigin;
  *out += path;
  if (!query.empty()) {
    *out += '?';
    *out += query;
  }
}

}  // namespace quanyu::sim::internal
