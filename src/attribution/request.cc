#include "attribution/request.h"

#include <algorithm>
#include <set>

#include "common/time_util.h"

namespace quanyu::attribution {
namespace {

using query::Json;

const std::set<std::string>& KnownFields() {
  static const std::set<std::string> fields = {"from",
                                               "to",
                                               "timezone",
                                               "models",
                                               "granularity",
                                               "lookback",
                                               "touch_gap",
                                               "touch_events",
                                               "campaign_touches_only",
                                               "conversions",
                                               "value_property",
                                               "first_conversion_only",
                                               "nulls",
                                               "collapse",
                                               "position",
                                               "half_life",
                                               "direct_channels",
                                               "markov_nulls"};
  return fields;
}

Result<std::vector<std::string>> StringList(const Json& body, const std::string& field) {
  const Json& v = body[field];
  if (!v.is_array() || v.empty()) {
    return Status::InvalidArgument("\"" + field + "\" must be a non-empty array of strings");
  }
  std::vector<std::string> out;
  for (size_t i = 0; i < v.size(); ++i) {
    if (!v[i].is_string() || v[i].get<std::string>().empty()) {
      return Status::InvalidArgument("\"" + field + "\"[" + std::to_string(i) +
                                     "] must be a non-empty string");
    }
    out.push_back(v[i].get<std::string>());
  }
  return out;
}

// "touch_events": names, or {"event": NAME, "with_campaign": true} for an
// event that is a touch only with utm / campaign parameters.
Status TouchRules(const Json& rules, PathOptions* p) {
  if (!rules.is_array() || rules.empty()) {
    return Status::InvalidArgument(
        "\"touch_events\" must be a non-empty array of event names or {\"event\": NAME, "
        "\"with_campaign\": true}");
  }
  for (size_t i = 0; i < rules.size(); ++i) {
    const Json& r = rules[i];
    const std::string at = "\"touch_events\"[" + std::to_string(i) + "]";
    if (r.is_string() && !r.get<std::string>().empty()) {
      p->touch_events.push_back(r.get<std::string>());
      continue;
    }
    if (!r.is_object() || !r.contains("event") || !r["event"].is_string() ||
        r["event"].get<std::string>().empty()) {
      return Status::InvalidArgument(
          at + " must be an event name or {\"event\": NAME, \"with_campaign\": true}");
    }
    for (const auto& [key, value] : r.items()) {
      if (key != "event" && key != "with_campaign") {
        return Status::InvalidArgument(at + ": unknown field \"" + key +
                                       "\" (known: event, with_campaign)");
      }
    }
    if (r.contains("with_campaign") && !r["with_campaign"].is_boolean()) {
      return Status::InvalidArgument(at + ".with_campaign must be true or false");
    }
    (r.value("with_campaign", false) ? p->campaign_touch_events : p->touch_events)
        .push_back(r["event"]);
  }
  return Status::OK();
}

Result<bool> Bool(const Json& body, const std::string& field, bool fallback) {
  if (!body.contains(field)) return fallback;
  if (!body[field].is_boolean())
    return Status::InvalidArgument("\"" + field + "\" must be true or false");
  return body[field].get<bool>();
}

Result<double> Weight(const Json& position, const std::string& field, double fallback) {
  if (!position.contains(field)) return fallback;
  const Json& v = position[field];
  if (!v.is_number() || v.get<double>() < 0 || v.get<double>() > 1) {
    return Status::InvalidArgument("\"position\"." + field + " must be a number from 0 to 1");
  }
  return v.get<double>();
}

std::string ModelList() {
  std::string out;
  for (const auto& m : ModelNames()) out += (out.empty() ? "" : ", ") + m;
  return out;
}

}  // namespace

Result<AttributionRequest> ParseAttributionRequest(const Json& body,
                                                   const query::TimeZone& default_timezone) {
  if (!body.is_object()) return Status::InvalidArgument("the request must be a JSON object");
  for (const auto& [key, value] : body.items()) {
    if (!KnownFields().count(key)) {
      std::string known;
      for (const auto& f : KnownFields()) known += (known.empty() ? "" : ", ") + f;
      return Status::InvalidArgument("unknown field \"" + key + "\" (known: " + known + ")");
    }
  }
  AttributionRequest r;
  ASSIGN_OR_RETURN(r.timezone, query::ParseTimeZone(body, default_timezone));
  ASSIGN_OR_RETURN(query::TimeRange range, query::ParseRange(body, r.timezone));
  PathOptions& p = r.paths;
  p.from_us = range.from_us;
  p.to_us = range.to_us;

  if (!body.contains("models") || body["models"] == "all") {
    r.models = ModelNames();
  } else {
    if (body["models"].is_string()) {
      return Status::InvalidArgument("\"models\" must be \"all\" or an array of model names");
    }
    ASSIGN_OR_RETURN(r.models, StringList(body, "models"));
    for (size_t i = 0; i < r.models.size(); ++i) {
      const auto& names = ModelNames();
      if (std::find(names.begin(), names.end(), r.models[i]) == names.end()) {
        return Status::InvalidArgument("\"models\"[" + std::to_string(i) + "]: unknown model \"" +
                                       r.models[i] + "\" (models: " + ModelList() + ")");
      }
    }
  }
  ASSIGN_OR_RETURN(
      std::string granularity,
      query::ParseChoice(body, "granularity", {"channel", "source_medium", "campaign"}));
  p.granularity = granularity == "channel"         ? Granularity::kChannel
                  : granularity == "source_medium" ? Granularity::kSourceMedium
                                                   : Granularity::kCampaign;
  if (body.contains("lookback")) {
    ASSIGN_OR_RETURN(p.lookback_us, query::ParseDuration(body["lookback"], "lookback"));
  }
  if (body.contains("touch_gap")) {
    const Json& gap = body["touch_gap"];
    if (gap == 0 || gap == "0") {
      p.touch_gap_us = 0;
    } else {
      ASSIGN_OR_RETURN(p.touch_gap_us, query::ParseDuration(gap, "touch_gap"));
    }
  }
  if (body.contains("touch_events")) {
    RETURN_IF_ERROR(TouchRules(body["touch_events"], &p));
  }
  ASSIGN_OR_RETURN(p.campaign_touches_only, Bool(body, "campaign_touches_only", false));
  if (body.contains("conversions")) {
    ASSIGN_OR_RETURN(p.conversions, StringList(body, "conversions"));
  }
  if (body.contains("value_property")) {
    ASSIGN_OR_RETURN(p.value_property, query::ParseString(body, "value_property", true));
  }
  ASSIGN_OR_RETURN(p.first_conversion_only, Bool(body, "first_conversion_only", false));
  ASSIGN_OR_RETURN(p.keep_nulls, Bool(body, "nulls", true));
  ASSIGN_OR_RETURN(p.collapse, Bool(body, "collapse", false));

  ModelOptions& o = r.options;
  if (body.contains("position")) {
    const Json& pos = body["position"];
    if (!pos.is_object())
      return Status::InvalidArgument("\"position\" must be {\"first\": 0.4, \"last\": 0.4}");
    for (const auto& [key, value] : pos.items()) {
      if (key != "first" && key != "last") {
        return Status::InvalidArgument("unknown field \"position\"." + key +
                                       " (known: first, last)");
      }
    }
    ASSIGN_OR_RETURN(o.first_weight, Weight(pos, "first", o.first_weight));
    ASSIGN_OR_RETURN(o.last_weight, Weight(pos, "last", o.last_weight));
    if (o.first_weight + o.last_weight > 1 + 1e-12) {
      return Status::InvalidArgument("\"position\": first + last must not exceed 1");
    }
  }
  if (body.contains("half_life")) {
    ASSIGN_OR_RETURN(int64_t half_life_us, query::ParseDuration(body["half_life"], "half_life"));
    o.half_life_days = static_cast<double>(half_life_us) / 86400e6;
  }
  if (body.contains("direct_channels")) {
    if (!body["direct_channels"].is_array()) {
      return Status::InvalidArgument("\"direct_channels\" must be an array of strings");
    }
    o.direct_channels.clear();
    if (!body["direct_channels"].empty()) {
      ASSIGN_OR_RETURN(o.direct_channels, StringList(body, "direct_channels"));
    }
  }
  ASSIGN_OR_RETURN(o.use_nulls, Bool(body, "markov_nulls", true));
  return r;
}

Result<std::map<std::string, double>> SpendByLabel(const AttributionRequest& request,
                                                   const query::QueryContext& ctx) {
  std::map<std::string, double> out;
  if (ctx.spend == nullptr || request.paths.granularity == Granularity::kSourceMedium) return out;
  // The local days the range touches, as the KPIs count them.
  const query::TimeZone& tz = request.timezone;
  const std::string first =
      query::BucketLabel(query::BucketOf(request.paths.from_us, query::Granularity::kDay, tz),
                         query::Granularity::kDay);
  const std::string last =
      query::BucketLabel(query::BucketOf(request.paths.to_us - 1, query::Granularity::kDay, tz),
                         query::Granularity::kDay);
  ASSIGN_OR_RETURN(std::vector<store::SpendRow> rows, ctx.spend->List(first, last));
  const bool by_campaign = request.paths.granularity == Granularity::kCampaign;
  for (const auto& row : rows) {
    if (by_campaign && row.campaign.empty()) continue;  // channel-level spend has no campaign
    out[by_campaign ? row.campaign : row.channel] += row.spend;
  }
  return out;
}

Result<AttributionAnswer> RunAttribution(const AttributionRequest& request,
                                         const query::QueryContext& ctx) {
  AttributionAnswer a;
  // Models run on the paths as built (each keeps its touch ages, which
  // time_decay needs); the answer holds them aggregated.
  ASSIGN_OR_RETURN(a.paths, BuildPaths(ctx, request.paths));
  if (a.paths.total_conversions() <= 0) {
    return Status::InvalidArgument(
        "no conversion in range has a touch in its lookback (" +
        std::to_string(static_cast<int64_t>(a.paths.untouched_conversions)) +
        " without one): check \"conversions\", \"touch_events\" and the range");
  }
  const bool all = request.models == ModelNames();
  for (const auto& m : request.models) {
    auto r = RunModel(m, a.paths, request.options);
    // Asked for every model: one that cannot run on these paths is
    // reported, not fatal.
    if (!r.ok() && all && r.status().code() == StatusCode::kInvalidArgument) {
      a.skipped[m] = r.status().message();
      continue;
    }
    if (!r.ok()) return r.status().WithContext("model " + m);
    a.results.push_back(std::move(*r));
  }
  if (ctx.spend != nullptr) {
    ASSIGN_OR_RETURN(a.spend, SpendByLabel(request, ctx));
  }
  a.paths.Aggregate();
  return a;
}

query::Json AnswerJson(const AttributionRequest& request, const AttributionAnswer& a) {
  Json out = ResultsJson(a.paths, a.results, a.spend ? &*a.spend : nullptr);
  out["from"] = FormatTimestamp(request.paths.from_us);
  out["to"] = FormatTimestamp(request.paths.to_us);
  const Granularity g = request.paths.granularity;
  out["granularity"] = g == Granularity::kChannel    ? "channel"
                       : g == Granularity::kCampaign ? "campaign"
                                                     : "source_medium";
  out["total_nulls"] = a.paths.total_nulls();
  out["conversions_without_touch"] = a.paths.untouched_conversions;
  out["value_without_touch"] = a.paths.untouched_value;
  if (!a.skipped.empty()) out["skipped"] = a.skipped;
  return out;
}

}  // namespace quanyu::attribution
