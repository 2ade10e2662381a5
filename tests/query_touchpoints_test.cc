// The touchpoint map beyond the golden files: request parsing (which stage
// mapping and session idle time apply), stage names, the promoter rule on
// scores sent as strings, and which channel a session is on. The brute-force check over a simulated world is in
// analytics_sim_touchpoints_test.cc.
#include <gtest/gtest.h>

#include "common/dense_array.h"
#include "query/touchpoints.h"
#include "store/event_store.h"
#include "test_util.h"

namespace quanyu::query {
namespace {

using ::quanyu::testing::TempDir;

constexpr int64_t kDay = 86'400'000'000;
constexpr int64_t kDay0 = 1'767'225'600'000'000;  // 2026-01-01T00:00:00Z

Json Body(Json extra = Json::object()) {
  Json body = {{"from", "2026-01-01T00:00:00Z"}, {"to", "2026-02-01T00:00:00Z"}};
  body.update(extra);
  return body;
}

TEST(TouchpointsSpec, DefaultsWhenNothingIsConfigured) {
  QueryContext ctx;
  auto s = ParseTouchpointsSpec(Body(), ctx);
  ASSERT_TRUE(s.ok()) << s.status().ToString();
  EXPECT_EQ(s->stages.size(), std::size(kDefaultStages));
  EXPECT_EQ(s->stages.at("Landing"), Stage::kAwareness);
  EXPECT_EQ(s->stages.at("Products Searched"), Stage::kConsideration);
  EXPECT_EQ(s->stages.at("Order Completed"), Stage::kConversion);
  EXPECT_EQ(s->stages.at("NPS Survey Answered"), Stage::kAdvocacy);
  EXPECT_EQ(s->breakpoint_window_us, 7 * kDay);
  EXPECT_EQ(s->top, 20);
}

TEST(TouchpointsSpec, OptionsReplaceTheDefaultsAndTheBodyReplacesBoth) {
  QueryContext ctx;
  ctx.options.stages = {{"Demo Booked", "conversion"}};
  auto from_options = ParseTouchpointsSpec(Body(), ctx);
  ASSERT_TRUE(from_options.ok());
  EXPECT_EQ(from_options->stages.size(), 1u);
  EXPECT_EQ(from_options->stages.at("Demo Booked"), Stage::kConversion);

  auto from_body = ParseTouchpointsSpec(Body({{"stages", {{"Landing", "advocacy"}}}}), ctx);
  ASSERT_TRUE(from_body.ok());
  EXPECT_EQ(from_body->stages.size(), 1u);
  EXPECT_EQ(from_body->stages.at("Landing"), Stage::kAdvocacy);
}

TEST(TouchpointsSpec, SessionIdleFromOptionsUnlessTheBodySaysOtherwise) {
  QueryContext ctx;
  ctx.options.session_idle_us = 3'600'000'000;
  auto from_options = ParseTouchpointsSpec(Body(), ctx);
  ASSERT_TRUE(from_options.ok());
  EXPECT_EQ(from_options->session_idle_us, 3'600'000'000);
  auto from_body = ParseTouchpointsSpec(Body({{"session_idle", "10m"}}), ctx);
  ASSERT_TRUE(from_body.ok());
  EXPECT_EQ(from_body->session_idle_us, 600'000'000);
  auto bad = ParseTouchpointsSpec(Body({{"session_idle", "a while"}}), ctx);
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("session_idle"), std::string::npos);
}

TEST(TouchpointsSpec, BadValuesNameTheirField) {
  QueryContext ctx;
  const std::vector<std::pair<Json, std::string>> cases = {
      {{{"stages", {{"Landing", "loyalty"}}}}, "stages[\"Landing\"] must be"},
      {{{"stages", {{"Landing", 3}}}}, "stages[\"Landing\"] must be"},
      {{{"stages", "awareness"}}, "stages must be an object"},
      {{{"breakpoint_window", "soon"}}, "breakpoint_window"},
      {{{"top", 1001}}, "top must be between 1 and 1000"},
  };
  for (const auto& [extra, message] : cases) {
    auto s = ParseTouchpointsSpec(Body(extra), ctx);
    ASSERT_FALSE(s.ok()) << extra.dump();
    EXPECT_NE(s.status().message().find(message), std::string::npos)
        << extra.dump() << ": " << s.status().message();
  }
  ctx.options.stages = {{"Landing", "loyalty"}};
  auto s = ParseTouchpointsSpec(Body(), ctx);
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.status().message().find("[query] stages[\"Landing\"]"), std::string::npos);
}

TEST(TouchpointsSpec, UnknownEventsInTheBodysMappingAreRefused) {
  store::EventCatalog catalog;
  catalog.events["Landing"];
  QueryContext ctx;
  ctx.catalog = &catalog;
  EXPECT_TRUE(ParseTouchpointsSpec(Body({{"stages", {{"Landing", "awareness"}}}}), ctx).ok());
  auto s = ParseTouchpointsSpec(Body({{"stages", {{"Demo Booked", "conversion"}}}}), ctx);
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.status().message().find("unknown event \"Demo Booked\""), std::string::npos);
}

TEST(Stages, NamesRoundTrip) {
  for (int s = 1; s <= kStageCount; ++s) {
    const auto stage = static_cast<Stage>(s);
    EXPECT_EQ(StageNamed(StageName(stage)), stage);
  }
  EXPECT_EQ(StageName(Stage::kNone), "");
  EXPECT_FALSE(StageNamed("").has_value());
  EXPECT_FALSE(StageNamed("Awareness").has_value());
}

// NPS answers: a promoter's score may come as a number or a numeric string;
// anything else is no advocacy.
TEST(Touchpoints, PromotersByScoreAsNumberOrString) {
  TempDir dir;
  store::StoreOptions opt;
  opt.dir = dir / "events";
  auto store = store::EventStore::Open(opt);
  ASSERT_TRUE(store.ok());
  std::vector<Event> events;
  const std::vector<std::string> scores = {"9", "\"10\"", "8", "\"9x\"", "null", "\"\""};
  DenseArray<uint32_t> one_ids;
  for (size_t i = 0; i < scores.size(); ++i) {
    Event e;
    e.timestamp_us = kDay0 + kDay;
    e.name = std::string(kNpsEvent);
    e.channel = "wechat";
    e.properties_json = "{\"score\":" + scores[i] + "}";
    e.identity_key = static_cast<uint32_t>(i + 1);
    one_ids.Set(e.identity_key, e.identity_key);
    events.push_back(e);
  }
  (*store)->Add(events, 1);
  QueryContext ctx;
  ctx.store = store->get();
  ctx.one_ids = &one_ids;
  auto spec = ParseTouchpointsSpec(Body(), ctx);
  ASSERT_TRUE(spec.ok());
  auto r = ComputeTouchpoints(*spec, ctx);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->journeys, 6);
  EXPECT_EQ(r->stage_journeys[static_cast<int>(Stage::kAdvocacy) - 1], 2);  // 9 and "10"
  EXPECT_EQ(r->stopped, 6);
  EXPECT_FALSE(r->median_touches_to_convert.has_value());
}

// A session is on its first channel other than direct, wherever that comes
// in the session; else direct; else (no channel at all) it is no touch.
TEST(Touchpoints, SessionChannelIsTheFirstOtherThanDirect) {
  TempDir dir;
  store::StoreOptions opt;
  opt.dir = dir / "events";
  auto store = store::EventStore::Open(opt);
  ASSERT_TRUE(store.ok());
  constexpr int64_t kMinute = 60'000'000;
  // Per person: the channels of one session's events, a minute apart.
  const std::vector<std::vector<std::string>> sessions = {
      {"", "direct", "douyin", "xiaohongshu"},  // douyin
      {"direct", "", "direct"},                 // direct
      {"", ""},                                 // no touch
  };
  std::vector<Event> events;
  DenseArray<uint32_t> one_ids;
  for (size_t p = 0; p < sessions.size(); ++p) {
    const auto key = static_cast<uint32_t>(p + 1);
    one_ids.Set(key, key);
    for (size_t i = 0; i < sessions[p].size(); ++i) {
      Event e;
      e.timestamp_us = kDay0 + kDay + static_cast<int64_t>(i) * kMinute;
      e.name = "Product Viewed";
      e.channel = sessions[p][i];
      e.identity_key = key;
      events.push_back(e);
    }
  }
  (*store)->Add(events, 1);
  QueryContext ctx;
  ctx.store = store->get();
  ctx.one_ids = &one_ids;
  auto spec = ParseTouchpointsSpec(Body(), ctx);
  ASSERT_TRUE(spec.ok());
  auto r = ComputeTouchpoints(*spec, ctx);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->journeys, 2);
  ASSERT_EQ(r->channels.size(), 2u);
  EXPECT_EQ(r->channels[0].channel, "direct");
  EXPECT_EQ(r->channels[0].touches, 1);
  EXPECT_EQ(r->channels[1].channel, "douyin");
  EXPECT_EQ(r->channels[1].touches, 1);
  EXPECT_TRUE(r->transitions.empty());
  ASSERT_EQ(r->breakpoints.size(), 2u);
  EXPECT_EQ(r->breakpoints[0].from, "(start)");
}

}  // namespace
}  // namespace quanyu::query
