#include "sim/internal/ground_truth.h"

#include <fmt/format.h>

#include <cmath>
#include <exception>
#include <nlohmann/json.hpp>

#include "common/time_util.h"

namespace quanyu::sim::internal {
namespace {

using nlohmann::json;

// Sums of fen amounts, rounded back to the fen (hides binary rounding noise).
double SumMoney(const std::vector<double>& xs) {
  double total = 0;
  for (double x : xs) total += x;
  return std::round(total * 100.0) / 100.0;
}

bool Has(uint32_t used, IdSlot slot) { return (used >> static_cast<int>(slot)) & 1u; }

json OptionsJson(const SimOptions& o) {
  return {{"seed", o.seed},
          {"persons", o.persons},
          {"start_us", o.start_us},
          {"start", FormatTimestamp(o.start_us)},
          {"days", o.days},
          {"junk_identifier_rate", o.junk_identifier_rate},
          {"identity_truth_max_persons", o.identity_truth_max_persons}};
}

json ChannelsJson(const World& w, const SimStats& s) {
  json channels = json::array();
  for (int c = 0; c < kChannelCount; ++c) {
    const auto i = static_cast<size_t>(c);
    const ChannelSpec& spec = kChannels[i];
    const double spend = SumMoney(w.channel_spend[i]);
    json ch = {{"name", spec.name},
               {"utm_source", spec.utm_source},
               {"paid", !spec.paid_medium.empty()},
               {"platform_share", spec.platform_share},
               {"organic_touch_rate", spec.organic_rate},
               {"effect_per_touch", spec.effect},
               {"touches", {{"organic", s.organic_touches[i]}, {"paid", s.paid_touches[i]}}},
               {"first_purchases_caused", s.first_purchase_cause[i]},
               {"first_purchases_incremental", s.first_purchase_incremental[i]},
               {"total_spend", spend}};
    if (!spec.paid_medium.empty()) {
      ch["paid_medium"] = spec.paid_medium;
      ch["spend_response"] = {
          {"model", "hill"},
          {"half_saturation_spend", spec.half_saturation * w.scale},
          {"shape", spec.hill_shape},
          {"max_paid_touch_rate", spec.max_paid_rate},
          {"max_paid_touches_per_day",
           spec.max_paid_rate * spec.platform_share * static_cast<double>(w.options.persons)},
          {"cpm", spec.cpm}};
    }
    channels.push_back(std::move(ch));
  }
  return channels;
}

json CampaignsJson(const World& w, const SimStats& s) {
  json campaigns = json::array();
  for (int k = 0; k < kCampaignCount; ++k) {
    const CampaignSpec& c = kCampaigns[static_cast<size_t>(k)];
    const double spend = SumMoney(w.campaign_spend[static_cast<size_t>(k)]);
    campaigns.push_back({{"name", c.name},
                         {"channel", Spec(c.channel).name},
                         {"flight_days", c.flight_days},
                         {"flight_phase", c.flight_phase},
                         {"total_spend", spend},
                         {"paid_touches", s.campaign_touches[static_cast<size_t>(k)]}});
  }
  return campaigns;
}

json CommerceJson(const SimStats& s) {
  const BehaviorParams& b = kBehavior;
  json by_source = json::object();
  for (int i = 0; i < kSourceCount; ++i) {
    if (s.orders_by_source[static_cast<size_t>(i)] > 0) {
      by_source[std::string(kSources[static_cast<size_t>(i)].name)] =
          s.orders_by_source[static_cast<size_t>(i)];
    }
  }
  return {
      {"first_purchase",
       {{"model", "noisy_or"},
        {"baseline_probability", b.baseline_purchase},
        {"same_session_share", b.same_session_purchase},
        {"lag_mean_days", b.purchase_lag_mean_days},
        {"buyers", s.buyers},
        {"caused_by_baseline", s.baseline_first_purchases},
        {"search_return_share", b.search_return},
        {"search_returns", s.search_returns}}},
      {"repeat_purchase",
       {{"model", "bg_nbd"},
        {"time_unit", "day"},
        {"r", b.bg_r},
        {"alpha", b.bg_alpha},
        {"a", b.bg_a},
        {"b", b.bg_b},
        {"repeat_orders", s.repeat_orders},
        {"reminders", s.reminders}}},
      {"order_value",
       {{"model", "gamma_gamma"},
        {"p", b.gg_p},
        {"q", b.gg_q},
        {"gamma", b.gg_gamma},
        {"mean_order_value", b.gg_p * b.gg_gamma / (b.gg_q - 1.0)}}},
      {"orders",
       {{"count", s.orders},
        {"revenue", static_cast<double>(s.revenue_fen) / 100.0},
        {"currency", "CNY"},
        {"by_source", by_source}}},
  };
}

json IdentifiersJson(const World& w, const SimStats& s) {
  json by_value = json::object();
  json values = json::array();
  for (size_t i = 0; i < kJunkValues.size(); ++i) {
    values.push_back(kJunkValues[i]);
    by_value[std::string(kJunkValues[i])] = s.junk_by_value[i];
  }
  json shared = json::array();
  for (size_t i = 0; i < kSharedDevices.size(); ++i) {
    shared.push_back({{"id", kSharedDevices[i]},
                      {"platform", i < 2 ? "ios" : "android"},
                      {"persons", s.shared_device_persons[i]}});
  }
  return {
      {"junk",
       {{"rate", w.options.junk_identifier_rate},
        {"values", values},
        {"events_with_identifiers", s.events_with_identifiers},
        {"injected", s.junk_injected},
        {"by_value", by_value}}},
      {"shared_devices", {{"share_of_app_users", kBehavior.shared_device}, {"devices", shared}}},
      {"scopes",
       {{"wechat_mini_program_appid", "wx_mp_1"},
        {"wechat_official_account_appid", "wx_oa_2"},
        {"wechat_open_platform", "open_1"},
        {"douyin_mini_program_appid", "dy_mp_1"}}}};
}

json EventCountsJson(const SimStats& s) {
  json by_type = json::object(), by_name = json::object(), by_source = json::object();
  for (int i = 0; i < kEventTypeCount; ++i) {
    if (s.by_type[static_cast<size_t>(i)] > 0) {
      by_type[std::string(EventTypeName(static_cast<EventType>(i)))] =
          s.by_type[static_cast<size_t>(i)];
    }
  }
  for (int i = 0; i < kTrackNameCount; ++i)
    by_name[std::string(kTrackNames[static_cast<size_t>(i)])] = s.by_name[static_cast<size_t>(i)];
  for (int i = 0; i < kSourceCount; ++i)
    by_source[std::string(kSources[static_cast<size_t>(i)].name)] =
        s.by_source[static_cast<size_t>(i)];
  return {
      {"total", s.events}, {"by_type", by_type}, {"by_name", by_name}, {"by_source", by_source}};
}

json PeopleJson(const SimStats& s) {
  const BehaviorParams& b = kBehavior;
  json scores = json::array();
  int64_t responses = 0, promoters = 0, detractors = 0;
  for (size_t i = 0; i < s.nps_scores.size(); ++i) {
    scores.push_back(s.nps_scores[i]);
    responses += s.nps_scores[i];
    if (i >= 9) promoters += s.nps_scores[i];
    if (i <= 6) detractors += s.nps_scores[i];
  }
  double true_nps = 0;
  for (size_t i = 0; i < b.nps_scores.size(); ++i) {
    true_nps += (i >= 9 ? 100.0 : i <= 6 ? -100.0 : 0.0) * b.nps_scores[i];
  }
  return {
      {"membership",
       {{"members_at_start", s.members_at_start},
        {"members_at_end", s.members_at_end},
        {"signups", s.signups}}},
      {"nps",
       {{"response_rate_per_order", b.nps_response},
        {"score_probabilities", b.nps_scores},
        {"expected_nps", true_nps},
        {"responses", responses},
        {"score_counts", scores},
        {"observed_nps", responses > 0 ? 100.0 * static_cast<double>(promoters - detractors) /
                                             static_cast<double>(responses)
                                       : 0.0}}},
      {"referral",
       {{"advocate_share_of_members_at_start", b.advocate_share},
        {"invites_per_advocate", b.invites_mean},
        {"referred_share", b.referred_share},
        {"invites", s.invites},
        {"referral_signups", s.referral_signups}}},
      {"consent",
       {{"analytics_opt_in", b.consent_analytics},
        {"marketing_opt_in", b.consent_marketing},
        {"marketing_withdrawal", b.marketing_withdrawal},
        {"consent_events", s.consent_updates},
        {"marketing_withdrawals", s.marketing_withdrawals}}},
  };
}

}  // namespace

std::string TruePersonId(int64_t index) { return fmt::format("P{:08d}", index); }

void CollectTrueIdentifiers(const Person& p, uint32_t used, std::vector<std::string>* out) {
  auto add = [&](IdSlot slot, std::string_view prefix, const std::string& value) {
    if (!Has(used, slot)) return;
    std::string s(prefix);
    s += value;
    out->push_back(std::move(s));
  };
  const bool shared = p.shared_device >= 0;
  add(IdSlot::kUserId, "user_id:", p.member_id);
  add(IdSlot::kMemberId, "member_id:", p.member_id);
  add(IdSlot::kWebAnon0, "anonymous_id:", p.web_anon[0]);
  add(IdSlot::kWebAnon1, "anonymous_id:", p.web_anon[1]);
  if (!shared) {
    add(IdSlot::kAppAnon, "anonymous_id:", p.app_id);
    add(IdSlot::kDeviceId, "device_id:", p.app_id);
  }
  add(IdSlot::kOaid, "oaid:", p.oaid);
  add(IdSlot::kMpAnon, "anonymous_id:", p.mp_openid);
  add(IdSlot::kMpOpenid, "wechat_openid:wx_mp_1:", p.mp_openid);
  add(IdSlot::kOaAnon, "anonymous_id:", p.oa_openid);
  add(IdSlot::kOaOpenid, "wechat_openid:wx_oa_2:", p.oa_openid);
  add(IdSlot::kUnionid, "wechat_unionid:open_1:", p.unionid);
  add(IdSlot::kDyAnon, "anonymous_id:", p.dy_openid);
  add(IdSlot::kDyOpenid, "douyin_openid:dy_mp_1:", p.dy_openid);
  add(IdSlot::kPhone, "phone:+86", p.phone);
  add(IdSlot::kEmail, "email:", p.email);
  add(IdSlot::kTaobaoNick, "taobao_nick:", p.taobao_nick);
}

Result<std::string> BuildGroundTruth(const World& w, const SimStats& s,
                                     const std::vector<PersonIdentifiers>* identity) {
  try {
    json sources = json::array();
    for (const auto& src : kSources) sources.push_back({{"name", src.name}, {"type", src.type}});
    json doc = {{"schema_version", kGroundTruthSchemaVersion},
                {"options", OptionsJson(w.options)},
                {"persons", s.persons},
                {"persons_with_events", s.persons_with_events},
                {"events", s.events},
                {"sources", sources},
                {"channels", ChannelsJson(w, s)},
                {"campaigns", CampaignsJson(w, s)},
                {"commerce", CommerceJson(s)},
                {"people", PeopleJson(s)},
                {"identifiers", IdentifiersJson(w, s)},
                {"event_counts", EventCountsJson(s)}};
    json id_doc = {
        {"included", identity != nullptr},
        {"normalization", "phone E.164 (+86...), email trimmed lower-case, others as sent"}};
    if (identity != nullptr) {
      json persons = json::array();
      for (const auto& p : *identity) {
        if (p.identifiers.empty()) continue;
        persons.push_back({{"person", TruePersonId(p.person)}, {"identifiers", p.identifiers}});
      }
      id_doc["persons"] = std::move(persons);
    }
    doc["identity"] = std::move(id_doc);
    return doc.dump();
  } catch (const std::exception& e) {
    return Status::Internal(std::string("sim: cannot serialize ground truth: ") + e.what());
  }
}

}  // namespace quanyu::sim::internal
