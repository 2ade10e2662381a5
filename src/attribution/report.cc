#include "attribution/report.h"

#include <algorithm>
#include <cstdio>

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

}  // namespace

nlohmann::json ResultsJson(const PathSet& set, const std::vector<ModelResult>& results) {
  nlohmann::json models = nlohmann::json::object();
  for (const ModelResult& r : results) {
    nlohmann::json channels = nlohmann::json::object();
    for (const ChannelCredit& c : r.channels) {
      nlohmann::json j = {{"conversions", c.conversions}, {"value", c.value}, {"share", Share(r, c)}};
      if (c.removal_effect) j["removal_effect"] = *c.removal_effect;
      channels[c.channel] = std::move(j);
    }
    nlohmann::json m = {{"channels", std::move(channels)}};
    if (r.conversion_probability) m["conversion_probability"] = *r.conversion_probability;
    models[r.model] = std::move(m);
  }
  return {{"paths", set.paths.size()},
          {"total_conversions", set.total_conversions()},
          {"total_value", set.total_value()},
          {"models", std::move(models)}};
}

std::string ResultsTable(const PathSet& set, const std::vector<ModelResult>& results) {
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
  return out;
}

std::string ResultsCsv(const std::vector<ModelResult>& results) {
  std::string out = "model,channel,conversions,value,share,removal_effect\n";
  auto quoted = [](const std::string& s) {
    if (s.find_first_of(",\"\n") == std::string::npos) return s;
    std::string q = "\"";
    for (char ch : s) q += ch == '"' ? std::string("\"\"") : std::string(1, ch);
    return q + "\"";
  };
  for (const auto& r : results) {
    for (const auto& c : r.channels) {
      out += r.model + "," + quoted(c.channel) + "," + Fixed(c.conversions, 6) + "," + Fixed(c.value, 6) +
             "," + Fixed(Share(r, c), 6) + "," + (c.removal_effect ? Fixed(*c.removal_effect, 6) : "") + "\n";
    }
  }
  return out;
}

}  // namespace quanyu::attribution
