// Conversion paths built from the stored events of stitched persons
// (docs/attribution.md, "Paths from the store").
//
// A *touch* is an event matching a touch rule (by default the arrivals a
// channel brings: a landing page or screen, an app open, an article read,
// an official-account follow, an ad click, a push open, a store visit),
// labelled at the chosen granularity: its channel, its utm source / medium,
// or its campaign. A *conversion* is an event named in `conversions`, worth
// its `value_property`. Each conversion in [from, to) takes the person's
// touches of the `lookback` before it that no earlier conversion took; the
// touches a person has left, if the last of them is in [from, to), form a
// path without a conversion (a null): those in the `lookback` before that
// last one. Identities are resolved now, so a person
// is everyone their identifiers merged into.
//
// Stateless; thread-safe (it runs QueryThreads(q) scan workers).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "attribution/paths.h"
#include "common/result.h"
#include "query/query.h"

namespace quanyu::attribution {

enum class Granularity { kChannel, kSourceMedium, kCampaign };

struct PathOptions {
  int64_t from_us = 0, to_us = 0;  // conversions in [from, to)
  int64_t lookback_us = 30LL * 86400 * 1000000;
  // Event names that are touches (any type); empty: kDefaultTouchEvents
  // (unless campaign_touch_events names some).
  std::vector<std::string> touch_events;
  // Event names that are touches only when they carry utm / campaign
  // parameters (a page view from an ad link, not any page view).
  std::vector<std::string> campaign_touch_events;
  // Every touch only with utm / campaign parameters (campaign source set).
  bool campaign_touches_only = false;
  Granularity granularity = Granularity::kChannel;
  std::vector<std::string> conversions = {"Order Completed"};
  std::string value_property = "revenue";
  bool first_conversion_only = false;  // a person's first conversion ever, if in range
  bool keep_nulls = true;              // paths that did not convert
  bool collapse = false;               // merge consecutive repeats of a label
  // Touch events of the same label less than this apart are one touch (an
  // ad click and its landing page); 0 counts every event.
  int64_t touch_gap_us = 30LL * 60 * 1000000;
};

inline const std::vector<std::string> kDefaultTouchEvents = {
    "Landing",      "Application Opened", "Article Read", "Official Account Followed",
    "Ad Clicked",   "Push Opened",        "Store Visited"};

// InvalidArgument for an empty or inverted range, a lookback <= 0, no
// conversion events; store errors as they come.
Result<PathSet> BuildPaths(const query::QueryContext& q, const PathOptions& options);

}  // namespace quanyu::attribution
