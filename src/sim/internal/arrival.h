// Arrival: how a session came to the brand — the campaign (utm_*) fields, the
// referrer URL of the platform, click ids in the landing URL, the WeChat scene
// or Douyin launch source — written the way each platform really passes them,
// so the ingest channel classifier has realistic material (see docs/sim.md,
// "Channels").
//
// Thread-safety: DescribeArrival writes only into its output argument.
#pragma once

#include <string>
#include <string_view>

#include "common/event.h"
#include "sim/internal/journey.h"
#include "sim/internal/person.h"
#include "sim/internal/random.h"

namespace quanyu::sim::internal {

struct Arrival {
  bool tagged = false;  // campaign non-empty
  Campaign campaign;
  std::string referrer;        // "" when the platform sends none
  std::string query;           // landing URL query without '?', "" if none
  std::string_view web_path;   // "/", "/landing/<campaign>", "/products/<sku>"...
  std::string_view mp_path;    // mini-program page path
  std::string_view page_name;  // "Landing" or "Home"
  int wechat_scene = 1089;     // WeChat mini-program scene value
  std::string_view douyin_launch_from = "homepage";
};

// Describes the arrival of session `s` of person `p` into *a (reused).
void DescribeArrival(const Session& s, const Person& p, Rng* rng, Arrival* a);

// "https://www.qingyan-beauty.cn" + path + ("?" + query).
void AppendWebUrl(std::string_view path, const std::string& query, std::string* out);

}  // namespace quanyu::sim::internal
