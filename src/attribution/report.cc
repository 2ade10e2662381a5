#include "attribution/report.h"

#include <algorithm>
#include <cstdio>
#include <optional>

namespace quanyu::attribution {
namespace {

double Share(const ModelResult& r, const ChannelCredit& c) {
  double total = 0;
  for (const auto& x : r.channels) total += x.conversions;
  return total > 0 ? c.conversions / total : 0;
}

std::string Fixed(double v, int digits) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.*f", digits, v);
  return buf;
}

// The channel's spend, if the map has it.
const double* SpendOf(const SpendMap* spend, const std::string& channel) {
  if (spend == nullptr) return nullptr;
  auto it = spend->find(channel);
  return it == spend->end() ? nullptr : &it->second;
}

std::optional<double> Cpa(double spend, const ChannelCredit& c) {
  if (c.conversions <= 0) return std::nullopt;
  return spend / c.conversions;
}

std::optional<double> Roas(double spend, const ChannelCredit& c) {
  if (spend == 0) return std::nullopt;
  return c.value / spend;
}

nlohmann::json OrNull(std::optional<double> v) {
  return v ? nlohmann::json(*v) : nlohmann::json(nullptr);
}

}  // namespace

nlohmann::json ResultsJson(const PathSet& set, const std::vector<ModelResult>& results,
                           const SpendMap* spend) {
  nlohmann::json models = nlohmann::json::object();
  for (const ModelResult& r : results) {
    nlohmann::json channels = nlohmann::json::object();
    for (const ChannelCredit& c : r.channels) {
      nlohmann::json j = {
          {"conversions", c.conversions}, {"value", c.value}, {"share", Share(r, c)}};
      if (c.removal_effect) j["removal_effect"] = *c.removal_effect;
      if (c.touch_effect) j["touch_effect"] = *c.touch_effect;
      if (const double* s = SpendOf(spend, c.channel)) {
        j["spend"] = *s;
        j["cpa"] = OrNull(Cpa(*s, c));
        j["roas"] = OrNull(Roas(*s, c));
      }
      channels[c.channel] = std::move(j);
    }
    nlohmann::json m = {{"channels", std::move(channels)}};
    if (r.conversion_probability) m["conversion_probability"] = *r.conversion_probability;
    models[r.model] = std::move(m);
  }
  nlohmann::json out = {{"paths", set.paths.size()},
                        {"total_conversions", set.total_conversions()},
                        {"total_value", set.total_value()},
                        {"models", std::move(models)}};
  if (spend != nullptr) out["spend"] = *spend;
  return out;
}

std::string ResultsTable(const PathSet& set, const std::vector<ModelResult>& results,
                         const SpendMap* spend) {
  size_t width = 7;
  for (const auto& c : set.channels) width = std::max(width, c.size());
  auto pad = [](std::string s, size_t w, bool left) {
    if (s.size() >= w) return s;
    return left ? s + std::string(w - s.size(), ' ') : std::string(w - s.size(), ' ') + s;
  };
  size_t col = 10;
  for (const auto& r : results) col = std::max(col, r.model.size() + 1);
  std::string out = "conversions by model\n" + pad("channel", width, true);
  for (const auto& r : results) out += " " + pad(r.model, col, false);
  out += "\n";
  std::vector<double> totals(results.size(), 0);
  for (size_t c = 0; c < set.channels.size(); ++c) {
    out += pad(set.channels[c], width, true);
    for (size_t m = 0; m < results.size(); ++m) {
      out += " " + pad(Fixed(results[m].channels[c].conversions, 2), col, false);
      totals[m] += results[m].channels[c].conversions;
    }
    out += "\n";
  }
  out += pad("total", width, true);
  for (double t : totals) out += " " + pad(Fixed(t, 2), col, false);
  out += "\n\nvalue by model\n" + pad("channel", width, true);
  for (const auto& r : results) out += " " + pad(r.model, col, false);
  out += "\n";
  for (size_t c = 0; c < set.channels.size(); ++c) {
    out += pad(set.channels[c], width, true);
    for (const auto& r : results) out += " " + pad(Fixed(r.channels[c].value, 2), col, false);
    out += "\n";
  }
  if (spend == nullptr || spend->empty()) return out;
  // CPA and ROAS for the channels with spend; "-" where undefined.
  auto metric = [&](const char* title, auto f) {
    out += std::string("\n") + title + "\n" + pad("channel", width, true) + " " +
           pad("spend", col, false);
    for (const auto& r : results) out += " " + pad(r.model, col, false);
    out += "\n";
    for (size_t c = 0; c < set.channels.size(); ++c) {
      const double* s = SpendOf(spend, set.channels[c]);
      if (s == nullptr) continue;
      out += pad(set.channels[c], width, true) + " " + pad(Fixed(*s, 2), col, false);
      for (const auto& r : results) {
        std::optional<double> v = f(*s, r.channels[c]);
        out += " " + pad(v ? Fixed(*v, 2) : "-", col, false);
      }
      out += "\n";
    }
  };
  metric("CPA by model (spend / conversions)", Cpa);
  metric("ROAS by model (value / spend)", Roas);
  return out;
}

std::string ResultsCsv(const std::vector<ModelResult>& results, const SpendMap* spend) {
  std::string out = "model,channel,conversions,value,share,removal_effect,spend,cpa,roas\n";
  auto optional = [](std::optional<double> v) { return v ? Fixed(*v, 6) : std::string(); };
  auto quoted = [](const std::string& s) {
    if (s.find_first_of(",\"\n") == std::string::npos) return s;
    std::string q = "\"";
    for (char ch : s) q += ch == '"' ? std::string("\"\"") : std::string(1, ch);
    return q + "\"";
  };
  for (const auto& r : results) {
    for (const auto& c : r.channels) {
      out += r.model + "," + quoted(c.channel) + "," + Fixed(c.conversions, 6) + "," +
             Fixed(c.value, 6) + "," + Fixed(Share(r, c), 6) + "," + optional(c.removal_effect);
      if (const double* s = SpendOf(spend, c.channel)) {
        out += "," + Fixed(*s, 6) + "," + optional(Cpa(*s, c)) + "," + optional(Roas(*s, c)) + "\n";
      } else {
        out += ",,,\n";
      }
    }
  }
  return out;
}

}  // namespace quanyu::attribution
