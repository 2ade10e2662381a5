// POST /api/v1/attribution over real HTTP: a Server on a loopback port in
// front of a real Engine; touches and orders arrive through Segment's
// /v1/batch, spend through Engine::ImportSpend, and the answer's credits,
// CPA and ROAS are checked against values worked out by hand. Malformed,
// unknown and unauthorized requests get a precise JSON error, and the
// server keeps answering afterwards.
#include <gtest/gtest.h>

#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>

#include "engine/engine.h"
#include "served_api_test.h"
#include "server/server.h"

namespace quanyu {
namespace {

using nlohmann::json;
using ::quanyu::testing::HttpAnswer;
using ::quanyu::testing::Send;

// a: douyin (campaign dy_launch) on May 1, xiaohongshu on May 2, then an
//    order of 300 ten minutes later;
// b: douyin on May 1 and an order of 100 five minutes later;
// c: xiaohongshu on May 1, no order (a null path);
// d: an order of 50 with no touch at all.
constexpr char kEvents[] = R"(
  {"type":"page","anonymousId":"a","name":"Landing","messageId":"a1","timestamp":"2024-05-01T10:00:00Z",
   "context":{"campaign":{"source":"douyin","medium":"feed","name":"dy_launch"}}},
  {"type":"page","anonymousId":"a","name":"Landing","messageId":"a2","timestamp":"2024-05-02T10:00:00Z",
   "context":{"campaign":{"source":"xiaohongshu","medium":"social"}}},
  {"type":"track","anonymousId":"a","event":"Order Completed","messageId":"a3",
   "properties":{"revenue":300},"timestamp":"2024-05-02T10:10:00Z"},
  {"type":"page","anonymousId":"b","name":"Landing","messageId":"b1","timestamp":"2024-05-01T12:00:00Z",
   "context":{"campaign":{"source":"douyin","medium":"feed","name":"dy_launch"}}},
  {"type":"track","anonymousId":"b","event":"Order Completed","messageId":"b2",
   "properties":{"revenue":100},"timestamp":"2024-05-01T12:05:00Z"},
  {"type":"page","anonymousId":"c","name":"Landing","messageId":"c1","timestamp":"2024-05-01T09:00:00Z",
   "context":{"campaign":{"source":"xiaohongshu","medium":"social"}}},
  {"type":"track","anonymousId":"d","event":"Order Completed","messageId":"d1",
   "properties":{"revenue":50},"timestamp":"2024-05-01T15:00:00Z"})";

class ServerAttributionTest : public ::quanyu::testing::ServedApiTest {
 protected:
  void SetUp() override {
    ASSERT_NO_FATAL_FAILURE(ServedApiTest::SetUp());
    HttpAnswer a = PostBatch(kEvents);
    ASSERT_EQ(a.status, 200) << a.body;
    ASSERT_TRUE(served_.engine
                    ->ImportSpend({{"2024-05-01", "douyin", "dy_launch", 200, 10000, 300},
                                   {"2024-05-02", "xiaohongshu", "", 90, 3000, 100},
                                   {"2024-06-01", "douyin", "dy_launch", 999, 1, 1}})
                    .ok());
  }

  HttpAnswer Post(const std::string& body, const std::string& key = kAdminKey) {
    return As(key, "POST", "/api/v1/attribution", body);
  }
  json Attribute(const std::string& body) {
    HttpAnswer a = Post(body);
    EXPECT_EQ(a.status, 200) << body << " → " << a.body;
    EXPECT_NE(a.headers.find("Content-Type: application/json"), std::string::npos) << a.headers;
    return a.Json();
  }
  static std::string ErrorOf(const HttpAnswer& a, int status) {
    EXPECT_EQ(a.status, status) << a.body;
    json j = a.Json();
    EXPECT_TRUE(j.contains("error")) << a.body;
    return j.contains("error") ? j["error"].value("message", "") : "";
  }
};

constexpr char kMay[] = R"("from":"2024-05-01","to":"2024-05-03")";

TEST_F(ServerAttributionTest, CreditsCpaAndRoasByChannel) {
  json j = Attribute(std::string("{") + kMay + R"(,"models":["first","last","linear"]})");
  EXPECT_EQ(j["total_conversions"], 2);
  EXPECT_EQ(j["total_value"], 400);
  EXPECT_EQ(j["total_nulls"], 1);
  EXPECT_EQ(j["conversions_without_touch"], 1);
  EXPECT_EQ(j["value_without_touch"], 50);
  EXPECT_EQ(j["granularity"], "channel");
  // Spend of May 1 and 2 only (the June row is outside the range).
  EXPECT_EQ(j["spend"], json::parse(R"({"douyin": 200, "xiaohongshu": 90})"));
  const json& first = j["models"]["first"]["channels"];
  EXPECT_EQ(first["douyin"]["conversions"], 2);
  EXPECT_EQ(first["douyin"]["value"], 400);
  EXPECT_EQ(first["douyin"]["cpa"], 100);
  EXPECT_EQ(first["douyin"]["roas"], 2);
  EXPECT_EQ(first["xiaohongshu"]["conversions"], 0);
  EXPECT_TRUE(first["xiaohongshu"]["cpa"].is_null());  // no conversions: no cost per one
  EXPECT_EQ(first["xiaohongshu"]["roas"], 0);
  const json& last = j["models"]["last"]["channels"];
  EXPECT_EQ(last["douyin"]["conversions"], 1);
  EXPECT_EQ(last["douyin"]["value"], 100);
  EXPECT_EQ(last["douyin"]["cpa"], 200);
  EXPECT_EQ(last["douyin"]["roas"], 0.5);
  EXPECT_EQ(last["xiaohongshu"]["value"], 300);
  EXPECT_NEAR(last["xiaohongshu"]["roas"].get<double>(), 300.0 / 90, 1e-12);
  const json& linear = j["models"]["linear"]["channels"];
  EXPECT_EQ(linear["douyin"]["conversions"], 1.5);
  EXPECT_EQ(linear["douyin"]["value"], 250);
  EXPECT_EQ(linear["xiaohongshu"]["share"], 0.25);
  EXPECT_EQ(j["models"].size(), 3u);
  // Every documented field is accepted.
  json every = Attribute(std::string("{") + kMay +
                         R"(,"timezone":"UTC","models":["last"],"granularity":"channel",
      "lookback":"30d","touch_gap":0,"touch_events":["Landing"],"campaign_touches_only":false,
      "conversions":["Order Completed"],"value_property":"revenue","first_conversion_only":true,"nulls":true,
      "collapse":false,"position":{"first":0.3,"last":0.3},"half_life":"3d","direct_channels":[],
      "markov_nulls":false})");
  EXPECT_EQ(every["models"]["last"]["channels"]["xiaohongshu"]["conversions"], 1);
  // A touch rule with "with_campaign": every Landing here has a campaign.
  json ruled =
      Attribute(std::string("{") + kMay +
                R"(,"models":["last"],"touch_events":[{"event":"Landing","with_campaign":true}]})");
  EXPECT_EQ(ruled["models"]["last"]["channels"]["xiaohongshu"]["conversions"], 1);
}

TEST_F(ServerAttributionTest, CampaignsAndEveryModel) {
  json j = Attribute(std::string("{") + kMay + R"(,"granularity":"campaign","models":["last"]})");
  const json& last = j["models"]["last"]["channels"];
  EXPECT_EQ(last["dy_launch"]["conversions"], 1);
  EXPECT_EQ(last["dy_launch"]["spend"], 200);
  EXPECT_EQ(last["(no campaign)"]["conversions"], 1);
  EXPECT_FALSE(last["(no campaign)"].contains("cpa"));  // no spend row names it
  EXPECT_EQ(j["spend"], json::parse(R"({"dy_launch": 200})"));

  // "all" (the default) runs every model; each hands out the 2 conversions.
  json all = Attribute(std::string("{") + kMay + "}");
  EXPECT_EQ(all["models"].size() + (all.contains("skipped") ? all["skipped"].size() : 0), 14u);
  for (const auto& [model, m] : all["models"].items()) {
    double c = 0;
    for (const auto& [channel, credit] : m["channels"].items())
      c += credit["conversions"].get<double>();
    EXPECT_NEAR(c, 2, 1e-9) << model;
  }
}

TEST_F(ServerAttributionTest, BadRequestsGetPreciseErrorsAndTheServerKeepsAnswering) {
  EXPECT_NE(ErrorOf(Post("{\"from\":"), 400).find("not valid JSON"), std::string::npos);
  EXPECT_NE(ErrorOf(Post("[1]"), 400).find("JSON object"), std::string::npos);
  EXPECT_NE(ErrorOf(Post(std::string("{") + kMay + R"(,"lookbak":"7d"})"), 400)
                .find("unknown field \"lookbak\""),
            std::string::npos);
  EXPECT_NE(ErrorOf(Post(std::string("{") + kMay + R"(,"models":["markov9"]})"), 400)
                .find("unknown model \"markov9\""),
            std::string::npos);
  EXPECT_NE(ErrorOf(Post(R"({"from":"2024-05-03","to":"2024-05-01"})"), 400).find("inverted"),
            std::string::npos);
  EXPECT_NE(
      ErrorOf(Post(std::string("{") + kMay + R"(,"granularity":"city"})"), 400).find("granularity"),
      std::string::npos);
  EXPECT_NE(ErrorOf(Post(std::string("{") + kMay + R"(,"position":{"first":0.8,"last":0.4}})"), 400)
                .find("first + last"),
            std::string::npos);
  EXPECT_NE(ErrorOf(Post(std::string("{") + kMay + R"(,"conversions":["Nothing Like It"]})"), 400)
                .find("no conversion in range"),
            std::string::npos);
  EXPECT_NE(
      ErrorOf(Post(std::string("{") + kMay + R"(,"touch_gap":"soon"})"), 400).find("touch_gap"),
      std::string::npos);
  EXPECT_NE(ErrorOf(Post(std::string("{") + kMay +
                         R"(,"touch_events":[{"event":"Landing","campaign":true}]})"),
                    400)
                .find("\"touch_events\"[0]: unknown field \"campaign\""),
            std::string::npos);
  EXPECT_EQ(Post(std::string("{") + kMay + "}", "wrong-key").status, 401);
  HttpAnswer get =
      Send(served_.port(), "GET", "/api/v1/attribution", std::string("Bearer ") + kAdminKey, "");
  EXPECT_NE(ErrorOf(get, 404).find("use POST"), std::string::npos);
  // Still serving, same answer as before.
  json j = Attribute(std::string("{") + kMay + R"(,"models":["last"]})");
  EXPECT_EQ(j["models"]["last"]["channels"]["douyin"]["conversions"], 1);
}

}  // namespace
}  // namespace quanyu
