// Conversion paths from stored events (issue 6, docs/attribution.md "Paths
// from the store"): touches and conversions of stitched persons, the
// lookback, touches taken by one conversion only, null paths, first
// conversions only, the three granularities and collapsing — each case's
// paths written out by hand.
#include <gtest/gtest.h>

#include <cmath>
#include <map>

#include "attribution/models.h"
#include "attribution/store_paths.h"
#include "store/event_store.h"
#include "test_util.h"

namespace quanyu::attribution {
namespace {

using ::quanyu::testing::TempDir;

constexpr int64_t kDay = 86400LL * 1000000;
constexpr int64_t kT0 = 1'767'225'600'000'000;  // 2026-01-01T00:00:00Z

Event Touch(uint32_t key, int64_t at, const std::string& channel, const std::string& source = "",
            const std::string& campaign = "", const std::string& name = "Landing") {
  Event e;
  e.type = name == "Landing" ? EventType::kPage : EventType::kTrack;
  e.name = name;
  e.identity_key = key;
  e.timestamp_us = at;
  e.channel = channel;
  e.campaign.source = source;
  e.campaign.medium = source.empty() ? "" : "cpc";
  e.campaign.name = campaign;
  e.message_id = "m" + std::to_string(key) + "-" + std::to_string(at) + name;
  return e;
}

Event Order(uint32_t key, int64_t at, double revenue) {
  Event e;
  e.type = EventType::kTrack;
  e.name = "Order Completed";
  e.identity_key = key;
  e.timestamp_us = at;
  e.revenue = revenue;
  e.message_id = "o" + std::to_string(key) + "-" + std::to_string(at);
  return e;
}

struct World {
  TempDir dir;
  std::unique_ptr<store::EventStore> store;
  DenseArray<uint32_t> one_ids;
  query::QueryContext ctx;
};

// Keys 1..N are persons 1..N, except that key 4 belongs to person 3 (a
// stitched second device).
std::unique_ptr<World> MakeWorld(const std::vector<Event>& events) {
  auto w = std::make_unique<World>();
  store::StoreOptions opt;
  opt.dir = w->dir / "events";
  auto store = store::EventStore::Open(opt);
  EXPECT_TRUE(store.ok()) << store.status().ToString();
  w->store = std::move(*store);
  w->store->Add(std::vector<Event>(events.begin(), events.begin() + events.size() / 2), 1);
  EXPECT_TRUE(w->store->Flush().ok());
  w->store->Add(std::vector<Event>(events.begin() + events.size() / 2, events.end()), 2);
  for (uint32_t k = 1; k <= 10; ++k) w->one_ids.Set(k, k);
  w->one_ids.Set(4, 3);
  w->ctx.store = w->store.get();
  w->ctx.one_ids = &w->one_ids;
  return w;
}

// "a > b;conversions;value;nulls" per path, in the set's order.
std::vector<std::string> Lines(const PathSet& set) {
  std::vector<std::string> out;
  for (const Path& p : set.paths) {
    std::string line;
    for (size_t i = 0; i < p.touches.size(); ++i) line += (i ? " > " : "") + set.channels[p.touches[i]];
    char buf[96];
    std::snprintf(buf, sizeof buf, ";%g;%g;%g", p.conversions, p.value, p.nulls);
    out.push_back(line + buf);
  }
  return out;
}

std::vector<Event> Story() {
  return {
      // Person 1: douyin, xiaohongshu, order; then baidu, order 40 days
      // later (douyin and xiaohongshu were taken by the first order).
      Touch(1, kT0 + 1 * kDay, "douyin", "douyin", "dy_launch"),
      Touch(1, kT0 + 2 * kDay, "xiaohongshu"),
      Order(1, kT0 + 3 * kDay, 100),
      Touch(1, kT0 + 40 * kDay, "baidu", "baidu", "bd_brand"),
      Order(1, kT0 + 43 * kDay, 50),
      // Person 2: a touch 45 days before the order (out of the 30-day
      // lookback), then wechat twice and direct.
      Touch(2, kT0 + 1 * kDay, "weibo"),
      Touch(2, kT0 + 40 * kDay, "wechat"),
      Touch(2, kT0 + 41 * kDay, "wechat"),
      Touch(2, kT0 + 42 * kDay, ""),
      Order(2, kT0 + 46 * kDay, 80),
      // Person 3 on two devices (keys 3 and 4): bilibili, then douyin on
      // the other device, no order: a null path.
      Touch(3, kT0 + 50 * kDay, "bilibili"),
      Touch(4, kT0 + 51 * kDay, "douyin", "douyin", "dy_launch"),
      // Person 5: an order with no touch at all (no path), then a product
      // view (not a touch).
      Order(5, kT0 + 10 * kDay, 30),
      Touch(5, kT0 + 11 * kDay, "douyin", "", "", "Product Viewed"),
  };
}

TEST(AttributionStorePaths, TouchesLookbackNullsAndStitchedPersons) {
  auto w = MakeWorld(Story());
  PathOptions o;
  o.from_us = kT0;
  o.to_us = kT0 + 60 * kDay;
  auto set = BuildPaths(w->ctx, o);
  ASSERT_TRUE(set.ok()) << set.status().ToString();
  EXPECT_EQ(Lines(*set), (std::vector<std::string>{
                             "douyin > xiaohongshu;1;100;0",
                             "baidu;1;50;0",
                             "wechat > wechat > direct;1;80;0",
                             "bilibili > douyin;0;0;1",
                         }));
  // Ages: from each touch to its conversion (or to the null's last touch).
  EXPECT_EQ(set->paths[0].age_us, (std::vector<int64_t>{2 * kDay, 1 * kDay}));
  EXPECT_EQ(set->paths[3].age_us, (std::vector<int64_t>{1 * kDay, 0}));
  EXPECT_EQ(set->untouched_conversions, 1);  // person 5's order
  EXPECT_EQ(set->untouched_value, 30);

  // A range reaching far past the data keeps the null (anchored at its last
  // touch, not at `to`); one starting after a person's last touch drops it.
  PathOptions late = o;
  late.to_us = kT0 + 400 * kDay;
  auto past = BuildPaths(w->ctx, late);
  ASSERT_TRUE(past.ok());
  EXPECT_EQ(Lines(*past), Lines(*set));
  late.from_us = kT0 + 52 * kDay;
  auto after = BuildPaths(w->ctx, late);
  ASSERT_TRUE(after.ok());
  EXPECT_TRUE(Lines(*after).empty());

  o.collapse = true;
  o.keep_nulls = false;
  auto collapsed = BuildPaths(w->ctx, o);
  ASSERT_TRUE(collapsed.ok());
  EXPECT_EQ(Lines(*collapsed), (std::vector<std::string>{
                                   "douyin > xiaohongshu;1;100;0",
                                   "baidu;1;50;0",
                                   "wechat > direct;1;80;0",
                               }));
}

TEST(AttributionStorePaths, RangeFirstConversionsAndGranularity) {
  auto w = MakeWorld(Story());
  PathOptions o;
  o.from_us = kT0 + 30 * kDay;  // person 1's first order is before the range
  o.to_us = kT0 + 60 * kDay;
  o.keep_nulls = false;
  auto later = BuildPaths(w->ctx, o);
  ASSERT_TRUE(later.ok());
  EXPECT_EQ(Lines(*later), (std::vector<std::string>{"baidu;1;50;0", "wechat > wechat > direct;1;80;0"}));
  o.first_conversion_only = true;  // person 1's first order is outside: nothing of theirs
  auto first = BuildPaths(w->ctx, o);
  ASSERT_TRUE(first.ok());
  EXPECT_EQ(Lines(*first), (std::vector<std::string>{"wechat > wechat > direct;1;80;0"}));

  PathOptions g;
  g.from_us = kT0;
  g.to_us = kT0 + 60 * kDay;
  g.keep_nulls = false;
  g.granularity = Granularity::kCampaign;
  auto campaigns = BuildPaths(w->ctx, g);
  ASSERT_TRUE(campaigns.ok());
  EXPECT_EQ(Lines(*campaigns)[0], "dy_launch > (no campaign);1;100;0");
  g.granularity = Granularity::kSourceMedium;
  auto sources = BuildPaths(w->ctx, g);
  ASSERT_TRUE(sources.ok());
  EXPECT_EQ(Lines(*sources)[0], "douyin / cpc > xiaohongshu;1;100;0");
  g.campaign_touches_only = true;
  auto paid = BuildPaths(w->ctx, g);
  ASSERT_TRUE(paid.ok());
  EXPECT_EQ(Lines(*paid), (std::vector<std::string>{"douyin / cpc;1;100;0", "baidu / cpc;1;50;0"}));
  // The same by rule: Landing is a touch only with campaign parameters (the
  // default touch list no longer applies once a rule names events).
  g.campaign_touches_only = false;
  g.campaign_touch_events = {"Landing"};
  auto ruled = BuildPaths(w->ctx, g);
  ASSERT_TRUE(ruled.ok());
  EXPECT_EQ(Lines(*ruled), Lines(*paid));
  g.touch_events = {"Landing"};  // both: a plain rule wins
  auto plain = BuildPaths(w->ctx, g);
  ASSERT_TRUE(plain.ok());
  EXPECT_EQ(Lines(*plain)[0], "douyin / cpc > xiaohongshu;1;100;0");

  // Time decay runs on store paths (they know each touch's age): person 1's
  // first order splits 100 as 2^-2/7 : 2^-1/7 between douyin and xiaohongshu.
  PathSet one;
  one.channels = {"douyin", "xiaohongshu"};
  Path p;
  p.touches = {0, 1};
  p.age_us = {2 * kDay, 1 * kDay};
  p.conversions = 1;
  p.value = 100;
  one.paths.push_back(p);
  auto decay = RunModel("time_decay", one, ModelOptions());
  ASSERT_TRUE(decay.ok()) << decay.status().ToString();
  const double a = std::exp2(-2.0 / 7), b = std::exp2(-1.0 / 7);
  EXPECT_NEAR(decay->channels[0].value, 100 * a / (a + b), 1e-9);
  EXPECT_NEAR(decay->channels[1].value, 100 * b / (a + b), 1e-9);
}

// An ad click and its landing page a minute later are one touch; the same
// channel an hour later is another; a different channel in between splits.
TEST(AttributionStorePaths, OneArrivalIsOneTouch) {
  constexpr int64_t kMinute = 60LL * 1000000;
  auto w = MakeWorld({
      Touch(1, kT0, "douyin", "douyin", "dy", "Ad Clicked"),
      Touch(1, kT0 + kMinute, "douyin", "douyin", "dy"),
      Touch(1, kT0 + 61 * kMinute, "douyin"),
      Touch(1, kT0 + 62 * kMinute, "wechat"),
      Touch(1, kT0 + 63 * kMinute, "douyin"),
      Order(1, kT0 + 70 * kMinute, 10),
  });
  PathOptions o;
  o.from_us = kT0;
  o.to_us = kT0 + kDay;
  auto set = BuildPaths(w->ctx, o);
  ASSERT_TRUE(set.ok()) << set.status().ToString();
  EXPECT_EQ(Lines(*set), (std::vector<std::string>{"douyin > douyin > wechat > douyin;1;10;0"}));
  o.touch_gap_us = 0;  // every event
  auto every = BuildPaths(w->ctx, o);
  ASSERT_TRUE(every.ok());
  EXPECT_EQ(Lines(*every), (std::vector<std::string>{"douyin > douyin > douyin > wechat > douyin;1;10;0"}));
}

TEST(AttributionStorePaths, BadOptions) {
  auto w = MakeWorld(Story());
  PathOptions o;
  o.from_us = kT0 + kDay;
  o.to_us = kT0;
  EXPECT_EQ(BuildPaths(w->ctx, o).status().code(), StatusCode::kInvalidArgument);
  o.to_us = kT0 + 2 * kDay;
  o.lookback_us = 0;
  EXPECT_EQ(BuildPaths(w->ctx, o).status().code(), StatusCode::kInvalidArgument);
  o.lookback_us = kDay;
  o.conversions.clear();
  EXPECT_EQ(BuildPaths(w->ctx, o).status().code(), StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace quanyu::attribution
