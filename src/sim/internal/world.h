// The simulated world's fixed shape: the sources a brand collects from, the
// marketing channels persons are touched on (with their true incremental
// effects and spend-response curves), the campaigns and their daily spend,
// and the behavioural parameters of persons. Everything here is ground truth
// and is written out by ground_truth.cc; docs/sim.md explains each number.
//
// Thread-safety: a World is built once by BuildWorld and then only read, by
// every simulation thread.
#pragma once

#include <array>
#include <cstdint>
#include <string_view>
#include <vector>

#include "common/result.h"
#include "sim/sim.h"

namespace quanyu::sim::internal {

enum class SourceId : uint8_t {
  kWebsite,
  kAppIos,
  kAppAndroid,
  kWechatMp,
  kWechatOa,
  kDouyinMp,
  kTmallStore,
  kPos,
  kCrm,
};
inline constexpr int kSourceCount = 9;

struct SourceSpec {
  std::string_view name;  // Event::source
  std::string_view type;  // collect's source type
};
inline constexpr std::array<SourceSpec, kSourceCount> kSources = {{
    {"website", "web"},
    {"app_ios", "ios"},
    {"app_android", "android"},
    {"wechat_mp", "wechat_mp"},
    {"wechat_oa", "wechat_oa"},
    {"douyin_mp", "douyin_mp"},
    {"tmall_store", "tmall_store"},
    {"pos", "pos"},
    {"crm", "crm"},
}};
inline const SourceSpec& Spec(SourceId s) { return kSources[static_cast<int>(s)]; }

// Touch channels, named as the ingest classifier names them
// (docs/channels.md). The first kPlatformChannelCount are platforms a person
// uses (or not); kReferral is a friend's invite link. Baidu is split the way
// the classifier splits it: paid clicks are `baidu`, unpaid results
// `organic_search`.
enum class ChannelId : uint8_t {
  kDouyin,
  kKuaishou,
  kXiaohongshu,
  kWeibo,
  kBilibili,
  kZhihu,
  kBaidu,
  kWechat,
  kOrganicSearch,
  kReferral,
};
inline constexpr int kChannelCount = 10;
inline constexpr int kPlatformChannelCount = 9;

struct ChannelSpec {
  std::string_view name;         // the channel the ingest classifier should assign
  std::string_view utm_source;   // utm_source on tagged links
  std::string_view paid_medium;  // utm_medium of paid clicks ("" = never paid)
  double platform_share;         // share of persons active on the platform
  double organic_rate;           // organic touches per platform user per day
  double max_paid_rate;          // paid touches per platform user per day at saturation
  double effect;                 // P(one touch triggers the first purchase)
  double half_saturation;        // Hill K: CNY/day per 100k persons giving half of max_paid_rate
  double hill_shape;             // Hill n
  double daily_budget;           // mean CNY/day per 100k persons
  double cpm;                    // CNY per 1000 impressions
};
inline constexpr std::array<ChannelSpec, kChannelCount> kChannels = {{
    {"douyin", "douyin", "feed", 0.70, 0.0060, 0.022, 0.025, 3000, 1.2, 2500, 28},
    {"kuaishou", "kuaishou", "feed", 0.35, 0.0040, 0.015, 0.015, 1500, 1.0, 1000, 22},
    {"xiaohongshu", "xiaohongshu", "feed", 0.45, 0.0075, 0.019, 0.040, 2000, 1.5, 2000, 60},
    {"weibo", "weibo", "feed", 0.40, 0.0040, 0.011, 0.010, 1000, 1.0, 600, 18},
    {"bilibili", "bilibili", "feed", 0.30, 0.0040, 0.011, 0.020, 1200, 1.3, 800, 32},
    {"zhihu", "zhihu", "", 0.25, 0.0060, 0.0, 0.030, 0, 1.0, 0, 0},
    {"baidu", "baidu", "cpc", 0.80, 0.0, 0.012, 0.050, 2500, 0.9, 2200, 40},
    {"wechat", "wechat", "feed", 0.95, 0.0070, 0.011, 0.035, 2500, 1.1, 1800, 50},
    {"organic_search", "", "", 0.85, 0.0050, 0.0, 0.040, 0, 1.0, 0, 0},
    {"referral", "referral", "", 0.0, 0.0, 0.0, 0.100, 0, 1.0, 0, 0},
}};
inline const ChannelSpec& Spec(ChannelId c) { return kChannels[static_cast<int>(c)]; }
inline bool IsPaid(ChannelId c) { return !Spec(c).paid_medium.empty(); }

// A paid campaign. Flighted campaigns run `flight_days` on, `flight_days` off.
struct CampaignSpec {
  ChannelId channel;
  std::string_view name;
  double budget_share;  // of the channel's budget while running
  int flight_days;      // 0 = always on
  int flight_phase;
};
inline constexpr std::array<CampaignSpec, 14> kCampaigns = {{
    {ChannelId::kDouyin, "dy_brand_always_on", 0.6, 0, 0},
    {ChannelId::kDouyin, "dy_serum_launch", 0.6, 14, 0},
    {ChannelId::kKuaishou, "ks_always_on", 0.7, 0, 0},
    {ChannelId::kKuaishou, "ks_live_promo", 0.5, 10, 5},
    {ChannelId::kXiaohongshu, "xhs_kol_seeding", 0.6, 0, 0},
    {ChannelId::kXiaohongshu, "xhs_search_boost", 0.6, 21, 7},
    {ChannelId::kWeibo, "wb_brand_always_on", 0.8, 0, 0},
    {ChannelId::kWeibo, "wb_hot_topic", 0.6, 7, 3},
    {ChannelId::kBilibili, "bili_always_on", 0.6, 0, 0},
    {ChannelId::kBilibili, "bili_up_collab", 0.7, 12, 6},
    {ChannelId::kBaidu, "bd_brand_keywords", 0.4, 0, 0},
    {ChannelId::kBaidu, "bd_generic_keywords", 0.6, 0, 0},
    {ChannelId::kWechat, "wx_moments_always_on", 0.6, 0, 0},
    {ChannelId::kWechat, "wx_moments_retarget", 0.6, 14, 9},
}};
inline constexpr int kCampaignCount = static_cast<int>(kCampaigns.size());
inline constexpr int16_t kBrandSearchCampaign = 10;  // bd_brand_keywords: where search returns land

// How persons behave. Rates are per day; probabilities per person unless
// said otherwise. Engagement multiplies every touch and visit rate and has
// mean 1 (Gamma(k, 1/k)).
struct BehaviorParams {
  double engagement_shape = 1.5;
  double direct_visit_rate = 0.02;      // direct sessions per person-day
  double baseline_purchase = 0.04;      // P(first purchase with no touch)
  double same_session_purchase = 0.5;   // triggered purchase happens in the touch session
  double purchase_lag_mean_days = 2.0;  // otherwise after Exp(mean) days
  // A later purchase comes back through search this often (种草 → 拔草:
  // discovered on a content platform, bought after searching the brand):
  // a Baidu brand-keyword ad click for Baidu users half the time, else an
  // organic search landing. The search is the route, not the cause.
  double search_return = 0.5;
  // Repeat purchases after the first (BG/NBD, time unit = day).
  double bg_r = 0.6, bg_alpha = 30.0, bg_a = 1.0, bg_b = 3.0;
  // Order value (Gamma-Gamma): value ~ Gamma(p, scale 1/nu), nu ~ Gamma(q, rate gamma).
  double gg_p = 6.0, gg_q = 4.0, gg_gamma = 150.0;
  double repeat_at_preferred_store = 0.6;
  double repeat_reminder = 0.3;  // online repeat sessions opened from SMS/WeChat reminders
  // Devices and accounts.
  double app_user = 0.35, ios_share = 0.4, second_web_device = 0.35;
  double mini_program_user = 0.55;     // of WeChat users
  double oa_follower_at_start = 0.25;  // of WeChat users
  double oa_follow_on_touch = 0.2;     // non-followers following on a WeChat touch
  double unionid_authorized = 0.7;     // mini-program users whose unionid the brand sees
  double douyin_mp_user = 0.3;         // of Douyin users
  double email_share = 0.35;
  double shared_device = 0.002;  // app users on an in-store demo device
  // Membership.
  double member_at_start = 0.25;
  double signup_without_purchase = 0.10;  // of non-members with an online session
  double tmall_membership_join = 0.4;     // Tmall buyers joining the brand membership
  double browse_login = 0.25;             // members logging in on a browsing session
  // Advocacy, NPS, consent.
  double advocate_share = 0.2;  // of members at start
  double invites_mean = 1.5;    // invites per advocate (Poisson)
  double referred_share = 0.03;
  double nps_response = 0.15;  // per order
  std::array<double, 11> nps_scores = {0.02, 0.01, 0.02, 0.03, 0.03, 0.05,
                                       0.09, 0.12, 0.18, 0.20, 0.25};
  double consent_analytics = 0.92, consent_marketing = 0.55;
  double marketing_withdrawal = 0.03;
};
inline constexpr BehaviorParams kBehavior{};

// Identifier values that are junk (never a person) and in-store demo devices
// shared by many persons. Both are ground truth for One-ID's guards.
inline constexpr std::array<std::string_view, 8> kJunkValues = {
    "null",  "undefined", "0", "-1", "anonymous", "", "00000000-0000-0000-0000-000000000000",
    "(null)"};
inline constexpr std::array<std::string_view, 4> kSharedDevices = {
    "DEMO-IPAD-SH001-0000-000000000001", "DEMO-IPAD-BJ002-0000-000000000002", "a1b2c3d4e5f60001",
    "a1b2c3d4e5f60002"};  // two iOS, two Android ids

struct World {
  SimOptions options;
  int64_t end_us = 0;
  int64_t first_day = 0;  // DayOf(options.start_us)
  double scale = 1.0;     // persons / 100,000: spend and Hill K scale with it
  std::vector<std::vector<double>> campaign_spend;               // [campaign][day] CNY
  std::array<std::vector<double>, kChannelCount> channel_spend;  // [channel][day] CNY
  std::array<std::vector<double>, kChannelCount> paid_rate;      // per user-day
  std::array<std::vector<double>, kChannelCount> touch_cdf;      // cumulative per day
  std::vector<SpendRow> spend_rows;
};

// Hill saturation x^n / (x^n + 1) of spend relative to K.
double Hill(double spend, double half_saturation, double shape);

// Builds the world for `options`: daily spend per campaign (weekly rhythm,
// flights and noise drawn from the seed), the touch-rate tables and the spend
// rows. InvalidArgument for out-of-range options.
Result<World> BuildWorld(const SimOptions& options);

}  // namespace quanyu::sim::internal
