// GET /api/v1/ingest over real HTTP: good and bad events sent through the
// collection endpoints show up as accepted and rejected totals, rejections
// by reason and the per-second series; and the per-second ring on its own
// (engine/ingest_meter.h) across the edges of its minute.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "common/time_util.h"
#include "engine/ingest_meter.h"
#include "served_api_test.h"

namespace quanyu {
namespace {

using nlohmann::json;
using ::quanyu::testing::HttpAnswer;
using ::quanyu::testing::Send;

class ServerIngestTest : public ::quanyu::testing::ServedApiTest {
 protected:
  // GET /api/v1/ingest with `role_key`.
  json IngestHealth(const std::string& role_key = kAdminKey) {
    HttpAnswer a = Send(served_.port(), "GET", "/api/v1/ingest", "Bearer " + role_key);
    EXPECT_EQ(a.status, 200) << a.body;
    return a.Json();
  }
};

TEST_F(ServerIngestTest, CountsAcceptedAndRejectedEventsByReason) {
  json empty = IngestHealth();
  EXPECT_EQ(empty["accepted_total"], 0) << empty;
  EXPECT_EQ(empty["rejected_total"], 0) << empty;
  EXPECT_EQ(empty["rejections"], json::object()) << empty;
  EXPECT_EQ(empty["per_second"].size(), 60u);
  auto since = ParseTimestamp(empty["since"].get<std::string>());
  ASSERT_TRUE(since.ok()) << empty["since"];

  // 3 good events and 2 bad ones in a batch, one good track alone.
  HttpAnswer batch = Collect("/v1/batch", R"({"batch":[
      {"type":"track","userId":"u1","event":"Product Viewed","messageId":"m1"},
      {"type":"track","userId":"u1","messageId":"m2"},
      {"type":"identify","userId":"u2","messageId":"m3","traits":{"plan":"pro"}},
      {"type":"track","event":"Product Viewed","messageId":"m4"},
      {"type":"page","userId":"u3","name":"Home","messageId":"m5"}]})");
  ASSERT_EQ(batch.status, 200) << batch.body;
  ASSERT_EQ(Collect("/v1/track", R"({"userId":"u4","event":"Signed Up"})").status, 200);
  // A body that is not JSON, and a good event under an unknown write key.
  EXPECT_EQ(Collect("/v1/track", "{not json").status, 400);
  EXPECT_EQ(Collect("/v1/track", R"({"userId":"u5","event":"Signed Up"})", "wrong-key").status,
            401);
  // A duplicate is neither accepted nor rejected.
  ASSERT_EQ(
      Collect("/v1/track", R"({"userId":"u1","event":"Product Viewed","messageId":"m1"})").status,
      200);

  json health = IngestHealth();
  EXPECT_EQ(health["accepted_total"], 4) << health;
  EXPECT_EQ(health["rejected_total"], 4) << health;
  EXPECT_EQ(health["rejections"], json({{"missing_event", 1},
                                        {"missing_identity", 1},
                                        {"invalid_json", 1},
                                        {"unauthorized", 1}}))
      << health;
  uint64_t accepted = 0, rejected = 0;
  for (const auto& s : health["per_second"]) {
    ASSERT_TRUE(ParseTimestamp(s["t"].get<std::string>()).ok()) << s;
    accepted += s["accepted"].get<uint64_t>();
    rejected += s["rejected"].get<uint64_t>();
  }
  EXPECT_EQ(accepted, 4u) << health;
  EXPECT_EQ(rejected, 4u) << health;
  EXPECT_GT(health["events_per_second_1m"].get<double>(), 0) << health;
  EXPECT_LE(health["events_per_second_1m"].get<double>(), 4) << health;
  EXPECT_GE(health["events_per_second_peak_1m"].get<uint64_t>(), 1u) << health;
  EXPECT_LE(health["events_per_second_peak_1m"].get<uint64_t>(), 4u) << health;
  EXPECT_EQ(health["since"], empty["since"]);
  // The newest second is last and not before the start.
  auto last = ParseTimestamp(health["per_second"].back()["t"].get<std::string>());
  ASSERT_TRUE(last.ok());
  EXPECT_GE(*last, *since / 1'000'000 * 1'000'000);
}

TEST_F(ServerIngestTest, EveryRoleMayReadIt) {
  for (const char* role : {"analyst", "marketer"}) {
    HttpAnswer k = Send(served_.port(), "POST", "/api/v1/keys", std::string("Bearer ") + kAdminKey,
                        json{{"name", role}, {"role", role}}.dump());
    ASSERT_EQ(k.status, 201) << k.body;
    EXPECT_TRUE(IngestHealth(k.Json()["key"]).contains("accepted_total")) << role;
  }
  EXPECT_EQ(Send(served_.port(), "GET", "/api/v1/ingest", "").status, 401);
}

TEST(IngestMeterTest, PerSecondRingKeepsTheLastMinute) {
  constexpr int64_t kSecond = 1'000'000;
  const int64_t t0 = 1'800'000'000 * kSecond;  // 2027-01-15
  IngestMeter meter(t0);
  meter.Accepted(t0, 10);
  meter.Accepted(t0 + kSecond / 2, 5);
  meter.Rejected(t0 + kSecond, "invalid_json", 2);
  meter.Accepted(t0 + 30 * kSecond, 7);

  IngestActivity a = meter.Snapshot(t0 + 30 * kSecond);
  ASSERT_EQ(a.per_second.size(), 60u);
  EXPECT_EQ(a.per_second.back().second, t0 / kSecond + 30);
  EXPECT_EQ(a.per_second.back().accepted, 7u);
  EXPECT_EQ(a.per_second[60 - 31].accepted, 15u);  // t0
  EXPECT_EQ(a.per_second[60 - 30].rejected, 2u);   // t0 + 1 s
  EXPECT_EQ(a.accepted_total, 22u);
  EXPECT_EQ(a.rejected_total, 2u);
  EXPECT_EQ(a.events_per_second_peak_1m, 15u);
  // 22 events over the 31 seconds since the start.
  EXPECT_DOUBLE_EQ(a.events_per_second_1m, 22.0 / 31);

  // A minute later t0's slot is reused: its 15 are gone, the totals stay.
  meter.Accepted(t0 + 60 * kSecond, 1);
  a = meter.Snapshot(t0 + 60 * kSecond);
  EXPECT_EQ(a.per_second.back().accepted, 1u);
  EXPECT_EQ(a.per_second.front().second, t0 / kSecond + 1);
  EXPECT_EQ(a.events_per_second_peak_1m, 7u);
  EXPECT_DOUBLE_EQ(a.events_per_second_1m, 8.0 / 60);
  EXPECT_EQ(a.accepted_total, 23u);
  // A late writer for a second that left the window changes nothing.
  meter.Accepted(t0, 100);
  EXPECT_EQ(meter.Snapshot(t0 + 60 * kSecond).per_second.back().accepted, 1u);
  EXPECT_EQ(meter.Snapshot(t0 + 60 * kSecond).events_per_second_peak_1m, 7u);
  // Long idle: nothing in the window, even where slots hold old seconds.
  a = meter.Snapshot(t0 + 3600 * kSecond);
  EXPECT_EQ(a.events_per_second_peak_1m, 0u);
  EXPECT_EQ(a.events_per_second_1m, 0);
}

}  // namespace
}  // namespace quanyu
