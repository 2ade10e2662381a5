// GET /api/v1/consent/coverage over real HTTP: decisions recorded through
// POST /api/v1/consent and Segment's context.consent, counted per purpose
// and channel over every person (those never asked are unknown), merged
// persons counted once, no masking and no audit entry (counts only).
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "served_api_test.h"

namespace quanyu {
namespace {

using nlohmann::json;

class ServerConsentCoverageTest : public ::quanyu::testing::ServedApiTest {
 protected:
  void Consent(const std::string& identifier, const json& decisions) {
    json body = decisions;
    body["identifier"] = identifier;
    AsJson(kAdminKey, "POST", "/api/v1/consent", body, 201);
  }
};

TEST_F(ServerConsentCoverageTest, CountsPersonsPerPurposeAndChannel) {
  json empty = AsJson(kAdminKey, "GET", "/api/v1/consent/coverage");
  EXPECT_EQ(empty["persons"], 0) << empty;
  EXPECT_EQ(empty["purposes"]["marketing"],
            json({{"granted", 0}, {"denied", 0}, {"withdrawn", 0}, {"unknown", 0}}));
  EXPECT_EQ(empty["purposes"].size(), 6u) << empty;
  EXPECT_EQ(empty["channels"].size(), 6u) << empty;

  Ingest(R"({"type":"identify","userId":"u1","messageId":"i1"},
            {"type":"identify","userId":"u2","messageId":"i2"},
            {"type":"identify","userId":"u3","messageId":"i3"},
            {"type":"identify","userId":"u4","messageId":"i4"},
            {"type":"track","anonymousId":"a5","event":"Consent Updated","messageId":"c5",
             "context":{"consent":{"purposes":{"marketing":"granted"}}}})");
  Consent("user_id:u1",
          {{"purposes", {{"marketing", "granted"}}}, {"channels", {{"sms", "denied"}}}});
  Consent("user_id:u2", {{"purposes", {{"marketing", "granted"}}}});
  Consent("user_id:u2", {{"purposes", {{"marketing", "denied"}}}});  // after a grant: withdrawn
  Consent("user_id:u3",
          {{"purposes", {{"analytics", "denied"}}}, {"channels", {{"email", "granted"}}}});
  // The anonymous visitor who granted marketing logs in as u4: one person,
  // counted once.
  Ingest(R"({"type":"identify","userId":"u4","anonymousId":"a5","messageId":"i5"})");

  json c = AsJson(kAdminKey, "GET", "/api/v1/consent/coverage");
  EXPECT_EQ(c["persons"], 4) << c;
  EXPECT_EQ(c["purposes"]["marketing"],
            json({{"granted", 2}, {"denied", 1}, {"withdrawn", 1}, {"unknown", 1}}))
      << c;
  EXPECT_EQ(c["purposes"]["analytics"],
            json({{"granted", 0}, {"denied", 1}, {"withdrawn", 0}, {"unknown", 3}}))
      << c;
  EXPECT_EQ(c["channels"]["sms"],
            json({{"granted", 0}, {"denied", 1}, {"withdrawn", 0}, {"unknown", 3}}))
      << c;
  EXPECT_EQ(c["channels"]["email"],
            json({{"granted", 1}, {"denied", 0}, {"withdrawn", 0}, {"unknown", 3}}))
      << c;
  for (const char* group : {"purposes", "channels"}) {
    for (const auto& [topic, counts] : c[group].items()) {
      EXPECT_EQ(
          counts["granted"].get<int>() + counts["denied"].get<int>() + counts["unknown"].get<int>(),
          4)
          << topic;
    }
  }
  EXPECT_TRUE(c["purposes"].contains("cross_border_transfer")) << c;

  // Analysts and marketers see the same counts, unmasked ("email" and
  // "phone" are channel names here, not personal data).
  for (const char* role : {"analyst", "marketer"}) {
    json key = AsJson(kAdminKey, "POST", "/api/v1/keys", {{"name", role}, {"role", role}}, 201);
    EXPECT_EQ(AsJson(key["key"], "GET", "/api/v1/consent/coverage"), c) << role;
  }
  // Counts are no personal data: no audit entry for reading them.
  json audit = AsJson(kAdminKey, "GET", "/api/v1/audit?limit=1000");
  for (const auto& e : audit["entries"]) {
    EXPECT_NE(e["path"], "/api/v1/consent/coverage") << e;
  }
  AsJson(kAdminKey, "POST", "/api/v1/consent/coverage", nullptr, 404);
}

}  // namespace
}  // namespace quanyu
