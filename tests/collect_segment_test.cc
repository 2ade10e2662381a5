// Golden tests for the Segment wire format: real SDK payloads in
// tests/golden/segment/*.in.json, expected parse + normalization in
// *.expected.json. Plus targeted unit tests of the rules.
#include <gtest/gtest.h>

#include <filesystem>
#include <nlohmann/json.hpp>

#include "collect/normalize.h"
#include "collect/segment_format.h"
#include "collect/segment_writer.h"
#include "common/time_util.h"
#include "test_util.h"

namespace quanyu::collect {
namespace {

using nlohmann::json;

const int64_t kReceived = *ParseTimestamp("2026-11-01T12:00:10Z");

json EventToJson(const Event& e) {
  json ids = json::array();
  for (const auto& id : e.identifiers) ids.push_back(id.ToString());
  json j{{"type", std::string(EventTypeName(e.type))},
         {"name", e.name},
         {"message_id", e.message_id},
         {"timestamp", FormatTimestamp(e.timestamp_us)},
         {"received", FormatTimestamp(e.received_us)},
         {"source", e.source},
         {"channel", e.channel},
         {"user_id", e.user_id},
         {"anonymous_id", e.anonymous_id},
         {"identifiers", ids},
         {"campaign",
          {e.campaign.source, e.campaign.medium, e.campaign.name, e.campaign.term,
           e.campaign.content}},
         {"url", e.url},
         {"referrer", e.referrer},
         {"currency", e.currency},
         {"order_id", e.order_id},
         {"product_id", e.product_id},
         {"properties", e.properties_json.empty() ? json() : json::parse(e.properties_json)},
         {"traits", e.traits_json.empty() ? json() : json::parse(e.traits_json)},
         {"context_bytes", e.context_json.size()}};
  if (e.revenue) j["revenue"] = *e.revenue;
  if (e.value) j["value"] = *e.value;
  if (e.quantity) j["quantity"] = *e.quantity;
  return j;
}

TEST(SegmentGoldenTest, RealPayloadsParseAndNormalizeAsRecorded) {
  std::string dir = std::string(QUANYU_SOURCE_DIR) + "/tests/golden/segment";
  Config config;
  Normalizer normalizer(config);
  int cases = 0;
  for (const auto& entry : std::filesystem::directory_iterator(dir)) {
    std::string path = entry.path().string();
    if (!path.ends_with(".in.json")) continue;
    std::string name = entry.path().filename().string();
    name = name.substr(0, name.size() - 8);
    std::string endpoint = name.substr(0, name.find('_'));
    SCOPED_TRACE(name);
    auto parsed =
        ParseSegmentRequest(testing::ReadFileOrEmpty(path), endpoint, kReceived, Limits{});
    ASSERT_TRUE(parsed.ok()) << parsed.status().ToString();
    json out{
        {"write_key", parsed->write_key}, {"events", json::array()}, {"rejected", json::array()}};
    for (auto& e : parsed->events) {
      normalizer.Normalize(&e, SourceInfo{"website", "web"});
      out["events"].push_back(EventToJson(e));
    }
    for (const auto& r : parsed->rejected) {
      out["rejected"].push_back({{"index", r.index}, {"reason", r.reason}, {"message", r.message}});
    }
    std::string expected_path = dir + "/" + name + ".expected.json";
    if (testing::UpdateGolden()) {
      testing::WriteFile(expected_path, out.dump(2) + "\n");
    } else {
      std::string expected = testing::ReadFileOrEmpty(expected_path);
      ASSERT_FALSE(expected.empty()) << "missing " << expected_path;
      EXPECT_EQ(json::parse(expected), out) << out.dump(2);
    }
    ++cases;
  }
  EXPECT_GE(cases, 3);
}

TEST(SegmentFormatTest, ClockSkewCorrectionUsesSentAtAndOriginalTimestamp) {
  // The device clock is 2 minutes fast: it says it sent at 12:02 what happened
  // at 12:01; the server received it at 12:00:10.
  auto r = ParseSegmentRequest(
      R"({"userId":"u","event":"E","originalTimestamp":"2026-11-01T12:01:00Z","sentAt":"2026-11-01T12:02:00Z"})",
      "track", kReceived, Limits{});
  ASSERT_TRUE(r.ok());
  ASSERT_EQ(r->events.size(), 1u);
  EXPECT_EQ(FormatTimestamp(r->events[0].timestamp_us), "2026-11-01T11:59:10.000Z");
}

TEST(SegmentFormatTest, ExplicitTimestampWinsOverSkewCorrection) {
  auto r = ParseSegmentRequest(
      R"({"userId":"u","event":"E","timestamp":"2026-10-01T08:00:00+08:00","originalTimestamp":"2026-11-01T12:01:00Z","sentAt":"2026-11-01T12:02:00Z"})",
      "t", kReceived, Limits{});
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(FormatTimestamp(r->events[0].timestamp_us), "2026-10-01T00:00:00.000Z");
}

TEST(SegmentFormatTest, RejectsWithPreciseReasons) {
  struct Case {
    const char* body;
    const char* reason;
  } cases[] = {
      {R"({"event":"E"})", "missing_identity"},
      {R"({"userId":{"a":1},"event":"E"})", "wrong_type"},
      {R"({"userId":"u","event":7})", "wrong_type"},
      {R"({"userId":"u"})", "missing_event"},
      {R"({"userId":"u","event":"E","properties":[1,2]})", "wrong_type"},
      {R"({"userId":"u","event":"E","timestamp":"yesterday"})", "invalid_timestamp"},
  };
  for (const auto& c : cases) {
    auto r = ParseSegmentRequest(c.body, "track", kReceived, Limits{});
    ASSERT_TRUE(r.ok()) << c.body;
    ASSERT_EQ(r->rejected.size(), 1u) << c.body;
    EXPECT_EQ(r->rejected[0].reason, c.reason) << c.body << ": " << r->rejected[0].message;
    EXPECT_TRUE(r->events.empty());
  }
}

TEST(SegmentFormatTest, WholeRequestErrors) {
  Limits limits;
  EXPECT_EQ(ParseSegmentRequest("{not json", "track", kReceived, limits).status().code(),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(ParseSegmentRequest("[1]", "track", kReceived, limits).status().code(),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(ParseSegmentRequest(R"({"batch":{}})", "batch", kReceived, limits).status().code(),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(ParseSegmentRequest("{}", "nope", kReceived, limits).status().code(),
            StatusCode::kNotFound);
  limits.max_batch_events = 2;
  EXPECT_EQ(ParseSegmentRequest(R"({"batch":[{},{},{}]})", "b", kReceived, limits).status().code(),
            StatusCode::kPayloadTooLarge);
  limits.max_batch_bytes = 10;
  EXPECT_EQ(ParseSegmentRequest(R"({"userId":"u","event":"E"})", "track", kReceived, limits)
                .status()
                .code(),
            StatusCode::kPayloadTooLarge);
}

TEST(SegmentFormatTest, OversizedEventIsRejectedAloneInABatch) {
  std::string big(40 * 1024, 'x');
  std::string body =
      R"({"batch":[{"type":"track","userId":"u","event":"ok"},{"type":"track","userId":"u","event":"E","properties":{"blob":")" +
      big + R"("}}]})";
  auto r = ParseSegmentRequest(body, "batch", kReceived, Limits{});
  ASSERT_TRUE(r.ok());
  ASSERT_EQ(r->events.size(), 1u);
  ASSERT_EQ(r->rejected.size(), 1u);
  EXPECT_EQ(r->rejected[0].index, 1);
  EXPECT_EQ(r->rejected[0].reason, "event_too_large");
}

TEST(SegmentWriterTest, ExportedJsonReimportsToTheSameEvent) {
  auto parsed = ParseSegmentRequest(
      testing::ReadFileOrEmpty(std::string(QUANYU_SOURCE_DIR) +
                               "/tests/golden/segment/batch_analytics_node.in.json"),
      "batch", kReceived, Limits{});
  ASSERT_TRUE(parsed.ok());
  Normalizer normalizer{Config{}};
  ASSERT_GE(parsed->events.size(), 5u);
  for (auto& e : parsed->events) {
    normalizer.Normalize(&e, SourceInfo{"crm", "crm"});
    std::string line;
    AppendSegmentJson(e, &line);
    ASSERT_TRUE(json::accept(line)) << line;
    auto again = ParseSegmentEvent(line, kReceived + 999, Limits{});
    ASSERT_TRUE(again.ok()) << again.status().ToString() << "\n" << line;
    normalizer.Normalize(&*again, SourceInfo{"crm", "crm"});
    // The JSON context is re-rendered, so compare everything else.
    again->context_json = e.context_json;
    EXPECT_EQ(EventToJson(*again), EventToJson(e)) << line;
  }
}

}  // namespace
}  // namespace quanyu::collect

namespace quanyu::collect {
namespace {

TEST(SegmentEventTest, ImportLinesMayIdentifyByExternalIdsOnly) {
  auto ok = ParseSegmentEvent(
      R"({"type":"track","event":"Order Completed","context":{"externalIds":[{"id":"tb_nick_1","type":"taobao_nick"}]}})",
      kReceived, Limits{});
  ASSERT_TRUE(ok.ok()) << ok.status().ToString();
  ASSERT_EQ(ok->identifiers.size(), 1u);
  EXPECT_EQ(ok->identifiers[0].ns, "taobao_nick");
  auto none =
      ParseSegmentEvent(R"({"type":"track","event":"Order Completed"})", kReceived, Limits{});
  ASSERT_FALSE(none.ok());
  EXPECT_TRUE(none.status().message().starts_with("missing_identity")) << none.status().message();
  // The HTTP API stays strict, as Segment's.
  auto http = ParseSegmentRequest(
      R"({"event":"E","context":{"externalIds":[{"id":"tb_nick_1","type":"taobao_nick"}]}})",
      "track", kReceived, Limits{});
  ASSERT_TRUE(http.ok());
  EXPECT_EQ(http->rejected.size(), 1u);
}

}  // namespace
}  // namespace quanyu::collect
