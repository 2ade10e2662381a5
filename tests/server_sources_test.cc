// Sources over real HTTP: POST /api/v1/sources/{name}/rotate gives a source
// a new write key, the old one is refused at once (as an unknown key) and
// after a restart; unknown and config-defined sources, non-admin keys.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "served_api_test.h"

namespace quanyu {
namespace {

using nlohmann::json;
using ::quanyu::testing::HttpAnswer;
using ::quanyu::testing::Send;

class ServerSourcesTest : public ::quanyu::testing::ServedApiTest {
 protected:
  HttpAnswer Track(const std::string& write_key) {
    return Collect("/v1/track", R"({"userId":"u1","event":"Signed Up"})", write_key);
  }
};

TEST_F(ServerSourcesTest, RotateRetiresTheOldWriteKeyAtOnce) {
  HttpAnswer created = As(kAdminKey, "POST", "/api/v1/sources", R"({"name":"shop","type":"ios"})");
  ASSERT_EQ(created.status, 201) << created.body;
  const std::string old_key = created.Json()["write_key"];
  ASSERT_EQ(Track(old_key).status, 200);

  HttpAnswer rotated = As(kAdminKey, "POST", "/api/v1/sources/shop/rotate");
  ASSERT_EQ(rotated.status, 200) << rotated.body;
  json s = rotated.Json();
  EXPECT_EQ(s["name"], "shop");
  EXPECT_EQ(s["type"], "ios");
  const std::string new_key = s["write_key"];
  EXPECT_NE(new_key, old_key);
  EXPECT_GE(new_key.size(), 32u);

  // The old key is refused as an unknown write key is; the new one works.
  HttpAnswer refused = Track(old_key);
  EXPECT_EQ(refused.status, 401) << refused.body;
  EXPECT_EQ(refused.body, Track("never-issued-key").body);
  EXPECT_EQ(Track(new_key).status, 200);
  json listed = As(kAdminKey, "GET", "/api/v1/sources").Json();
  for (const auto& src : listed["sources"]) {
    if (src["name"] == "shop") {
      EXPECT_EQ(src["write_key"], new_key) << listed;
    }
    EXPECT_NE(src["write_key"], old_key) << listed;
  }
  // Audited as an admin action.
  bool audited = false;
  const json audit = As(kAdminKey, "GET", "/api/v1/audit?limit=1000").Json();
  for (const auto& e : audit["entries"]) {
    audited = audited || (e["action"] == "admin_action" &&
                          e["path"] == "/api/v1/sources/shop/rotate" && e["status"] == 200);
  }
  EXPECT_TRUE(audited) << audit;

  // After a restart, still the new key only.
  served_.Stop();
  Start();
  EXPECT_EQ(Track(old_key).status, 401);
  EXPECT_EQ(Track(new_key).status, 200);
}

TEST_F(ServerSourcesTest, UnknownConfiguredAndUnauthorized) {
  HttpAnswer unknown = As(kAdminKey, "POST", "/api/v1/sources/nope/rotate");
  EXPECT_EQ(unknown.status, 404) << unknown.body;
  EXPECT_EQ(unknown.Json()["error"]["code"], "not_found");
  // A source of quanyu.toml keeps the file's key.
  HttpAnswer configured = As(kAdminKey, "POST", "/api/v1/sources/website/rotate");
  EXPECT_EQ(configured.status, 400) << configured.body;
  EXPECT_NE(configured.body.find("quanyu.toml"), std::string::npos) << configured.body;
  EXPECT_EQ(Track(kWebKey).status, 200);
  // Admin only; GET is no route.
  HttpAnswer analyst_key =
      As(kAdminKey, "POST", "/api/v1/keys", R"({"name":"a","role":"analyst"})");
  ASSERT_EQ(analyst_key.status, 201);
  EXPECT_EQ(As(analyst_key.Json()["key"], "POST", "/api/v1/sources/website/rotate").status, 403);
  EXPECT_EQ(Send(served_.port(), "POST", "/api/v1/sources/website/rotate", "").status, 401);
  EXPECT_EQ(As(kAdminKey, "GET", "/api/v1/sources/website/rotate").status, 404);
}

}  // namespace
}  // namespace quanyu
