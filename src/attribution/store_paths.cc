#include "attribution/store_paths.h"

#include <algorithm>
#include <map>
#include <mutex>
#include <unordered_map>

#include "query/fields.h"
#include "query/filter.h"

namespace quanyu::attribution {
namespace {

struct Row {
  uint32_t one_id;
  int64_t ts;
  uint8_t conversion;  // 0 a touch, 1 a conversion (after touches at the same time)
  uint32_t label;      // touches: index into the labels
  double value;        // conversions
};

bool RowBefore(const Row& a, const Row& b) {
  if (a.one_id != b.one_id) return a.one_id < b.one_id;
  if (a.ts != b.ts) return a.ts < b.ts;
  return a.conversion < b.conversion;
}

// Touch labels shared by the scan workers; Id under `mu`.
struct Labels {
  std::mutex mu;
  std::vector<std::string> names;
  std::unordered_map<std::string, uint32_t> ids;
  uint32_t Id(const std::string& label) {
    auto [it, fresh] = ids.emplace(label, static_cast<uint32_t>(names.size()));
    if (fresh) names.push_back(label);
    return it->second;
  }
};

}  // namespace

Result<PathSet> BuildPaths(const query::QueryContext& q, const PathOptions& o) {
  if (o.to_us <= o.from_us) return Status::InvalidArgument("attribution: the range is empty or inverted");
  if (o.lookback_us <= 0) return Status::InvalidArgument("attribution: the lookback must be positive");
  if (o.conversions.empty()) return Status::InvalidArgument("attribution: no conversion events");
  const std::vector<std::string>& touch_events =
      o.touch_events.empty() && o.campaign_touch_events.empty() ? kDefaultTouchEvents : o.touch_events;
  const int threads = query::QueryThreads(q);
  const query::Field value_field = query::FieldNamed(o.value_property);

  store::ColumnSet cols{store::Column::kName, store::Column::kTimestamp, store::Column::kChannel,
                        store::Column::kCampaignSource, store::Column::kCampaignMedium,
                        store::Column::kCampaignName};
  query::FieldReader::AddColumns(value_field, &cols);
  Labels labels;
  std::vector<std::vector<Row>> rows(threads);
  std::vector<query::FieldReader> readers(threads);
  const query::TimeRange range{o.first_conversion_only ? INT64_MIN : o.from_us - o.lookback_us, o.to_us};

  RETURN_IF_ERROR(query::ScanRangeParallel(q, range, cols, [&](int w, const store::ColumnBatch& b) -> Status {
    // 1: touch, 3: touch with campaign parameters only, 2: conversion, per
    // event-name code.
    const auto& names = b.Dictionary(store::Column::kName);
    std::vector<uint8_t> kind(names.size(), 0);
    bool any = false;
    for (size_t i = 0; i < names.size(); ++i) {
      if (std::find(o.conversions.begin(), o.conversions.end(), names[i]) != o.conversions.end()) {
        kind[i] = 2;
      } else if (std::find(touch_events.begin(), touch_events.end(), names[i]) != touch_events.end()) {
        kind[i] = 1;
      } else if (std::find(o.campaign_touch_events.begin(), o.campaign_touch_events.end(), names[i]) !=
                 o.campaign_touch_events.end()) {
        kind[i] = 3;  // a touch only with utm / campaign parameters
      }
      any |= kind[i] != 0;
    }
    if (!any) return Status::OK();
    const uint32_t* name = b.Codes(store::Column::kName);
    const int64_t* ts = b.Int64s(store::Column::kTimestamp);
    const uint32_t* channel = b.Codes(store::Column::kChannel);
    const uint32_t* source = b.Codes(store::Column::kCampaignSource);
    const uint32_t* medium = b.Codes(store::Column::kCampaignMedium);
    const uint32_t* campaign = b.Codes(store::Column::kCampaignName);
    const auto& channels = b.Dictionary(store::Column::kChannel);
    const auto& sources = b.Dictionary(store::Column::kCampaignSource);
    const auto& media = b.Dictionary(store::Column::kCampaignMedium);
    const auto& campaigns = b.Dictionary(store::Column::kCampaignName);
    // The label of a touch row, by the codes it depends on (translated
    // once per batch under the shared lock).
    std::map<std::pair<uint32_t, uint32_t>, uint32_t> local;
    auto label_of = [&](size_t r) {
      const std::string ch = channels[channel[r]].empty() ? "direct" : channels[channel[r]];
      std::pair<uint32_t, uint32_t> key;
      std::string text;
      switch (o.granularity) {
        case Granularity::kChannel:
          key = {channel[r], 0};
          text = ch;
          break;
        case Granularity::kSourceMedium:
          key = {source[r], medium[r]};
          text = sources[source[r]].empty() ? ch
                                            : sources[source[r]] + " / " +
                                                  (media[medium[r]].empty() ? "(none)" : media[medium[r]]);
          if (sources[source[r]].empty()) key = {UINT32_MAX, channel[r]};
          break;
        case Granularity::kCampaign:
          key = {campaign[r], 0};
          text = campaigns[campaign[r]].empty() ? "(no campaign)" : campaigns[campaign[r]];
          break;
      }
      auto it = local.find(key);
      if (it != local.end()) return it->second;
      std::lock_guard lock(labels.mu);
      const uint32_t id = labels.Id(text);
      local.emplace(key, id);
      return id;
    };
    for (size_t r = 0; r < b.size(); ++r) {
      const uint8_t k = kind[name[r]];
      if (k == 0) continue;
      if ((k == 3 || (k == 1 && o.campaign_touches_only)) && sources[source[r]].empty()) continue;
      const uint32_t id = b.OneId(r);
      if (id == 0) continue;
      if (k != 2) {
        rows[w].push_back({id, ts[r], 0, label_of(r), 0});
      } else {
        query::Value v = readers[w].Read(value_field, b, r);
        rows[w].push_back({id, ts[r], 1, 0, v.kind == query::Value::kNumber ? v.number : 0});
      }
    }
    return Status::OK();
  }));

  std::vector<Row> all;
  for (auto& v : rows) {
    all.insert(all.end(), v.begin(), v.end());
    v = {};
  }
  std::sort(all.begin(), all.end(), RowBefore);
  PathSet set;
  set.channels = labels.names;
  std::vector<const Row*> pending;  // the person's touches not yet taken
  auto take = [&](int64_t end_us, double conversions, double value, double nulls) {
    Path p;
    for (const Row* t : pending) {
      if (t->ts < end_us - o.lookback_us) continue;
      p.touches.push_back(t->label);
      p.age_us.push_back(end_us - t->ts);
    }
    pending.clear();
    if (p.touches.empty()) {
      set.untouched_conversions += conversions;
      set.untouched_value += value;
      return;
    }
    p.conversions = conversions;
    p.value = value;
    p.nulls = nulls;
    set.paths.push_back(std::move(p));
  };
  for (size_t i = 0; i < all.size();) {
    const uint32_t person = all[i].one_id;
    pending.clear();
    bool done = false;  // first_conversion_only: the first conversion is past
    const Row* last_touch = nullptr;
    for (; i < all.size() && all[i].one_id == person; ++i) {
      const Row& r = all[i];
      if (done) continue;
      if (!r.conversion) {
        // One arrival, several events (an ad click and its landing page, an
        // app open and its first screen): one touch.
        const bool same_arrival = last_touch != nullptr && last_touch->label == r.label &&
                                  r.ts - last_touch->ts < o.touch_gap_us;
        last_touch = &r;
        if (r.ts < o.to_us && !same_arrival) pending.push_back(&r);
        continue;
      }
      last_touch = nullptr;
      if (o.first_conversion_only) done = true;
      if (r.ts >= o.from_us && r.ts < o.to_us) {
        take(r.ts, 1, r.value, 0);
      } else {
        pending.clear();  // a conversion outside the range still ends the path
      }
    }
    // The touches left form a null, anchored at the last of them: a range
    // reaching past the data still has nulls. Only persons touched in range.
    if (!done && o.keep_nulls && !pending.empty() && pending.back()->ts >= o.from_us) {
      take(pending.back()->ts, 0, 0, 1);
    }
  }
  if (o.collapse) return CollapseRepeats(set, /*aggregate=*/false);
  return set;
}

}  // namespace quanyu::attribution
