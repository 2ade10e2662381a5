#include "sim/internal/journey.h"

#include <algorithm>

#include "common/time_util.h"

namespace quanyu::sim::internal {
namespace {

// Relative activity per Beijing-time hour (evening peak, quiet nights).
constexpr std::array<double, 24> kHourWeights = {
    2, 1, 0.5, 0.3, 0.3, 0.5, 1, 2, 3, 4, 4.5, 4.5, 5, 4.5, 4, 4, 4, 4, 4.5, 5.5, 7, 8, 7, 4};
constexpr int64_t kMicrosPerHour = 3'600'000'000;
constexpr int64_t kMicrosPerMinute = 60'000'000;
constexpr int64_t kBeijingOffset = 8 * kMicrosPerHour;

bool IsStore(SourceId s) { return s == SourceId::kTmallStore || s == SourceId::kPos; }

SourceId AppSource(const Person& p) { return p.ios ? SourceId::kAppIos : SourceId::kAppAndroid; }

}  // namespace

JourneyPlanner::JourneyPlanner(const World& world) : world_(world) {
  last_start_ = world.end_us - 2 * kMicrosPerHour;
  double total = 0;
  for (double w : kHourWeights) {
    total += w;
    hour_cdf_.push_back(total);
  }
}

int64_t JourneyPlanner::DayStart(int day) const {
  return world_.options.start_us + static_cast<int64_t>(day) * kMicrosPerDay;
}

int64_t JourneyPlanner::TimeOnDay(int day, Rng* rng) const {
  const auto hour = static_cast<int64_t>(rng->FromCdf(hour_cdf_.data(), hour_cdf_.size()));
  const int64_t local = hour * kMicrosPerHour + static_cast<int64_t>(rng->Below(kMicrosPerHour));
  const int64_t utc = (local - kBeijingOffset + kMicrosPerDay) % kMicrosPerDay;
  return Clamp(DayStart(day) + utc);
}

int64_t JourneyPlanner::Clamp(int64_t ts) const {
  if (ts < world_.options.start_us) return world_.options.start_us;
  return ts > last_start_ ? last_start_ : ts;
}

SourceId JourneyPlanner::LandingSource(const Person& p, ChannelId c, Rng* rng) const {
  switch (c) {
    case ChannelId::kDouyin:
      if (p.douyin_mp && rng->Chance(0.5)) return SourceId::kDouyinMp;
      if (p.has_app && rng->Chance(0.25)) return AppSource(p);
      return SourceId::kWebsite;
    case ChannelId::kWechat:
      if (p.mini_program && rng->Chance(0.6)) return SourceId::kWechatMp;
      if (p.has_app && rng->Chance(0.1)) return AppSource(p);
      return SourceId::kWebsite;
    case ChannelId::kReferral:
      return p.mini_program ? SourceId::kWechatMp : SourceId::kWebsite;
    default:
      if (p.has_app && rng->Chance(0.3)) return AppSource(p);
      return SourceId::kWebsite;
  }
}

SourceId JourneyPlanner::DirectSource(const Person& p, Rng* rng) const {
  const double app = p.has_app ? 1.5 : 0, mp = p.mini_program ? 1.5 : 0, dy = p.douyin_mp ? 0.5 : 0;
  double u = rng->Uniform() * (1.0 + app + mp + dy);
  if ((u -= 1.0) < 0) return SourceId::kWebsite;
  if ((u -= app) < 0) return AppSource(p);
  if ((u -= mp) < 0) return SourceId::kWechatMp;
  return SourceId::kDouyinMp;
}

SourceId JourneyPlanner::OnlineSource(const Person& p, Rng* rng) const {
  return DirectSource(p, rng);
}

void JourneyPlanner::AddTouches(const Person& p, Rng* rng, std::vector<Session>* out,
                                SimStats* stats) {
  const auto days = static_cast<size_t>(world_.options.days);
  for (int c = 0; c < kPlatformChannelCount; ++c) {
    if (!p.on_platform[static_cast<size_t>(c)]) continue;
    const auto& cdf = world_.touch_cdf[static_cast<size_t>(c)];
    const auto& paid_rate = world_.paid_rate[static_cast<size_t>(c)];
    const ChannelSpec& spec = kChannels[static_cast<size_t>(c)];
    const int64_t n = rng->Poisson(p.engagement * cdf.back());
    for (int64_t i = 0; i < n; ++i) {
      Session s;
      const size_t day = rng->FromCdf(cdf.data(), days);
      s.kind = SessionKind::kTouch;
      s.ts = TimeOnDay(static_cast<int>(day), rng);
      s.channel = static_cast<ChannelId>(c);
      s.source = LandingSource(p, s.channel, rng);
      s.web_device = static_cast<uint8_t>(rng->Below(static_cast<uint64_t>(p.web_devices)));
      s.variant = static_cast<uint8_t>(rng->Below(4));
      s.paid = rng->Uniform() * (spec.organic_rate + paid_rate[day]) < paid_rate[day];
      if (s.paid) {
        double u = rng->Uniform() * world_.channel_spend[static_cast<size_t>(c)][day];
        for (int k = 0; k < kCampaignCount; ++k) {
          if (static_cast<int>(kCampaigns[static_cast<size_t>(k)].channel) != c) continue;
          const double spend = world_.campaign_spend[static_cast<size_t>(k)][day];
          if (spend <= 0) continue;
          s.campaign = static_cast<int16_t>(k);
          if ((u -= spend) < 0) break;
        }
        ++stats->paid_touches[static_cast<size_t>(c)];
        ++stats->campaign_touches[static_cast<size_t>(s.campaign)];
      } else {
        ++stats->organic_touches[static_cast<size_t>(c)];
      }
      out->push_back(s);
    }
  }
  if (p.inviter >= 0) {
    Session s;
    s.kind = SessionKind::kTouch;
    s.ts = TimeOnDay(static_cast<int>(rng->Below(days)), rng);
    s.channel = ChannelId::kReferral;
    s.source = LandingSource(p, s.channel, rng);
    s.web_device = 0;
    ++stats->organic_touches[static_cast<size_t>(ChannelId::kReferral)];
    out->push_back(s);
  }
}

void JourneyPlanner::AddDirectVisits(const Person& p, Rng* rng, std::vector<Session>* out) {
  const int days = world_.options.days;
  const int64_t n = rng->Poisson(p.engagement * kBehavior.direct_visit_rate * days);
  for (int64_t i = 0; i < n; ++i) {
    Session s;
    s.kind = SessionKind::kDirect;
    s.ts = TimeOnDay(static_cast<int>(rng->Below(static_cast<uint64_t>(days))), rng);
    s.source = DirectSource(p, rng);
    s.web_device = static_cast<uint8_t>(rng->Below(static_cast<uint64_t>(p.web_devices)));
    out->push_back(s);
  }
}

int64_t JourneyPlanner::AddFirstPurchase(const Person& p, Rng* rng, std::vector<Session>* out,
                                         SimStats* stats) {
  const BehaviorParams& b = kBehavior;
  const int64_t start = world_.options.start_us;
  double best = 1e300;  // purchase time, µs as double (lags can be long)
  int cause = -1;       // channel index, or kChannelCount for the baseline
  int64_t cause_ts = start;
  size_t same_session = SIZE_MAX;
  // The earliest trigger per channel, and the baseline's (the counterfactual
  // of removing a channel, with the same draws).
  std::array<double, kChannelCount + 1> earliest;
  earliest.fill(1e300);
  if (rng->Chance(b.baseline_purchase)) {
    best = static_cast<double>(start) + rng->Uniform() * static_cast<double>(last_start_ - start);
    cause = kChannelCount;
    earliest[kChannelCount] = best;
  }
  for (size_t i = 0; i < out->size(); ++i) {
    const Session& s = (*out)[i];
    if (s.kind != SessionKind::kTouch) continue;
    if (!rng->Chance(Spec(s.channel).effect)) continue;
    const bool now = rng->Chance(b.same_session_purchase);
    const double t = static_cast<double>(s.ts) +
                     (now ? 0.0 : rng->Exponential(b.purchase_lag_mean_days) * kMicrosPerDay);
    double& first = earliest[static_cast<size_t>(s.channel)];
    first = std::min(first, t);
    if (t < best) {
      best = t;
      cause = static_cast<int>(s.channel);
      cause_ts = s.ts;
      same_session = now ? i : SIZE_MAX;
    }
  }
  if (cause < 0 || best >= static_cast<double>(last_start_)) return -1;
  if (cause == kChannelCount) {
    ++stats->baseline_first_purchases;
  } else {
    ++stats->first_purchase_cause[static_cast<size_t>(cause)];
    double without = 1e300;  // the first purchase without the cause's channel
    for (size_t c = 0; c < earliest.size(); ++c) {
      if (c != static_cast<size_t>(cause)) without = std::min(without, earliest[c]);
    }
    if (without >= static_cast<double>(last_start_)) {
      ++stats->first_purchase_incremental[static_cast<size_t>(cause)];
    }
  }
  ++stats->buyers;
  if (same_session != SIZE_MAX) {
    (*out)[same_session].purchase = true;
    (*out)[same_session].first_purchase = true;
    return (*out)[same_session].ts;
  }
  // Keep the day, redraw the hour from the daily rhythm, never before the cause.
  const int day = static_cast<int>((static_cast<int64_t>(best) - start) / kMicrosPerDay);
  int64_t ts = TimeOnDay(day, rng);
  if (ts < cause_ts + 10 * kMicrosPerMinute) {
    ts = Clamp(cause_ts + 10 * kMicrosPerMinute + static_cast<int64_t>(rng->Below(kMicrosPerHour)));
  }
  if (rng->Chance(b.search_return)) {
    Session s;
    s.kind = SessionKind::kTouch;
    s.ts = ts;
    const bool baidu = p.on_platform[static_cast<size_t>(ChannelId::kBaidu)] && rng->Chance(0.5);
    s.channel = baidu ? ChannelId::kBaidu : ChannelId::kOrganicSearch;
    s.source = LandingSource(p, s.channel, rng);
    s.web_device = static_cast<uint8_t>(rng->Below(static_cast<uint64_t>(p.web_devices)));
    s.variant = static_cast<uint8_t>(rng->Below(4));
    s.paid = baidu;
    if (baidu) {
      s.campaign = kBrandSearchCampaign;
      ++stats->paid_touches[static_cast<size_t>(s.channel)];
      ++stats->campaign_touches[static_cast<size_t>(s.campaign)];
    } else {
      ++stats->organic_touches[static_cast<size_t>(s.channel)];
    }
    ++stats->search_returns;
    s.purchase = true;
    s.first_purchase = true;
    out->push_back(s);
    return ts;
  }
  Session s;
  s.kind = SessionKind::kPurchase;
  s.ts = ts;
  s.source = p.preferred_store;
  s.web_device = static_cast<uint8_t>(rng->Below(static_cast<uint64_t>(p.web_devices)));
  s.purchase = true;
  s.first_purchase = true;
  out->push_back(s);
  return ts;
}

void JourneyPlanner::AddRepeatPurchases(const Person& p, int64_t first, Rng* rng,
                                        std::vector<Session>* out, SimStats* stats) {
  const BehaviorParams& b = kBehavior;
  double t = static_cast<double>(first);
  int64_t prev = first;
  for (;;) {
    t += rng->Exponential(1.0 / p.purchase_rate) * kMicrosPerDay;
    if (t >= static_cast<double>(last_start_)) break;
    const int day =
        static_cast<int>((static_cast<int64_t>(t) - world_.options.start_us) / kMicrosPerDay);
    int64_t ts = TimeOnDay(day, rng);
    if (ts < prev + kMicrosPerHour) ts = Clamp(prev + kMicrosPerHour);
    Session s;
    s.kind = SessionKind::kPurchase;
    s.ts = ts;
    s.source = rng->Chance(b.repeat_at_preferred_store) ? p.preferred_store : OnlineSource(p, rng);
    s.web_device = static_cast<uint8_t>(rng->Below(static_cast<uint64_t>(p.web_devices)));
    s.purchase = true;
    if (!IsStore(s.source) && rng->Chance(b.repeat_reminder)) {
      s.reminder = true;
      ++stats->reminders;
    }
    out->push_back(s);
    prev = ts;
    if (rng->Chance(p.dropout)) break;
  }
}

void JourneyPlanner::AddExtras(const Person& p, Rng* rng, std::vector<Session>* out) {
  const BehaviorParams& b = kBehavior;
  const auto days = static_cast<uint64_t>(world_.options.days);
  const size_t planned = out->size();
  for (size_t i = 0; i < planned; ++i) {
    if (!(*out)[i].purchase || !rng->Chance(b.nps_response)) continue;
    const double t =
        static_cast<double>((*out)[i].ts) + kMicrosPerHour + rng->Exponential(3.0) * kMicrosPerDay;
    if (t >= static_cast<double>(last_start_)) continue;
    Session s;
    s.kind = SessionKind::kNps;
    s.ts = static_cast<int64_t>(t);
    s.source = p.mini_program ? SourceId::kWechatMp : SourceId::kWebsite;
    out->push_back(s);
  }
  if (p.advocate) {
    const int64_t n = rng->Poisson(b.invites_mean);
    for (int64_t i = 0; i < n; ++i) {
      Session s;
      s.kind = SessionKind::kInvite;
      s.ts = TimeOnDay(static_cast<int>(rng->Below(days)), rng);
      s.source =
          p.mini_program ? SourceId::kWechatMp : (p.has_app ? AppSource(p) : SourceId::kWebsite);
      out->push_back(s);
    }
  }
  if (p.withdraws_marketing) {
    Session s;
    s.kind = SessionKind::kDirect;
    s.ts = TimeOnDay(static_cast<int>(rng->Below(days)), rng);
    s.source = p.has_app && rng->Chance(0.5) ? AppSource(p) : SourceId::kWebsite;
    s.withdraw_marketing = true;
    out->push_back(s);
  }
}

void JourneyPlanner::Plan(const Person& p, Rng* rng, std::vector<Session>* sessions,
                          SimStats* stats) {
  sessions->clear();
  AddTouches(p, rng, sessions, stats);
  AddDirectVisits(p, rng, sessions);
  // std::sort is deterministic for a given input; stable_sort would allocate per person.
  auto by_time = [](const Session& a, const Session& b) {
    return a.ts != b.ts ? a.ts < b.ts : a.kind < b.kind;
  };
  std::sort(sessions->begin(), sessions->end(), by_time);
  const int64_t first = AddFirstPurchase(p, rng, sessions, stats);
  if (first >= 0) AddRepeatPurchases(p, first, rng, sessions, stats);
  AddExtras(p, rng, sessions);
  std::sort(sessions->begin(), sessions->end(), by_time);
}

}  // namespace quanyu::sim::internal
