// GET /api/v1/session over real HTTP: who the caller is and the dashboard
// pages its role may use, per role; each page listed is one whose route the
// server lets the role call, and each page left out one it refuses.
#include <gtest/gtest.h>

#include <map>
#include <nlohmann/json.hpp>
#include <set>

#include "served_api_test.h"

namespace quanyu {
namespace {

using nlohmann::json;
using ::quanyu::testing::HttpAnswer;

// Each page and the request its role must be allowed to make.
const std::map<std::string, std::pair<std::string, std::string>> kPageRoutes = {
    {"overview", {"POST", "/api/v1/query/kpis"}},
    {"touchpoints", {"POST", "/api/v1/query/touchpoints"}},
    {"funnels", {"POST", "/api/v1/query/funnel"}},
    {"retention", {"POST", "/api/v1/query/retention"}},
    {"paths", {"POST", "/api/v1/query/paths"}},
    {"attribution", {"POST", "/api/v1/attribution"}},
    {"audiences", {"GET", "/api/v1/audiences"}},
    {"profiles", {"GET", "/api/v1/profiles"}},
    {"predictions", {"GET", "/api/v1/models"}},
    {"privacy", {"GET", "/api/v1/privacy/requests"}},
    {"settings", {"GET", "/api/v1/keys"}},
};

class ServerSessionTest : public ::quanyu::testing::ServedApiTest {
 protected:
  // A new API key of `role`: {"id", "key"}.
  json NewKey(const std::string& role, const std::string& workspace = "default") {
    HttpAnswer a = As(kAdminKey, "POST", "/api/v1/keys",
                      json{{"name", role}, {"role", role}, {"workspace", workspace}}.dump());
    EXPECT_EQ(a.status, 201) << a.body;
    return a.Json();
  }
  // The session of `key`, checked against what the server lets it call.
  json SessionOf(const std::string& key) {
    HttpAnswer a = As(key, "GET", "/api/v1/session");
    EXPECT_EQ(a.status, 200) << a.body;
    json session = a.Json();
    std::set<std::string> pages;
    for (const auto& p : session["pages"]) pages.insert(p.get<std::string>());
    for (const auto& [page, route] : kPageRoutes) {
      HttpAnswer call = As(key, route.first, route.second, "{}");
      EXPECT_EQ(call.status == 403, !pages.count(page))
          << page << ": " << route.first << " " << route.second << " → " << call.status << " "
          << call.body;
    }
    return session;
  }
};

TEST_F(ServerSessionTest, AdminSeesEveryPage) {
  json bootstrap = SessionOf(kAdminKey);
  EXPECT_EQ(bootstrap["key_id"], "bootstrap");
  EXPECT_EQ(bootstrap["role"], "admin");
  EXPECT_EQ(bootstrap["workspace"], "default");
  EXPECT_EQ(bootstrap["pages"],
            json({"overview", "touchpoints", "funnels", "retention", "paths", "attribution",
                  "audiences", "profiles", "predictions", "privacy", "settings"}));

  json admin = NewKey("admin", "shop");
  json session = SessionOf(admin["key"]);
  EXPECT_EQ(session["key_id"], admin["id"]);
  EXPECT_EQ(session["role"], "admin");
  EXPECT_EQ(session["workspace"], "shop");
  EXPECT_EQ(session["pages"].size(), 11u) << session;
}

TEST_F(ServerSessionTest, AnalystHasNoPrivacyOrSettings) {
  json analyst = NewKey("analyst");
  json session = SessionOf(analyst["key"]);
  EXPECT_EQ(session["key_id"], analyst["id"]);
  EXPECT_EQ(session["role"], "analyst");
  EXPECT_EQ(session["pages"], json({"overview", "touchpoints", "funnels", "retention", "paths",
                                    "attribution", "audiences", "profiles", "predictions"}));
}

TEST_F(ServerSessionTest, ListsSourceNamesButNoWriteKey) {
  HttpAnswer made = As(kAdminKey, "POST", "/api/v1/sources", R"({"name":"app_ios","type":"ios"})");
  ASSERT_EQ(made.status, 201) << made.body;
  json marketer = NewKey("marketer");
  HttpAnswer a = As(marketer["key"], "GET", "/api/v1/session");
  ASSERT_EQ(a.status, 200) << a.body;
  EXPECT_EQ(a.Json()["sources"], json({"app_ios", "website"}));
  EXPECT_EQ(a.body.find(kWebKey), std::string::npos) << a.body;
  EXPECT_EQ(a.body.find(made.Json()["write_key"].get<std::string>()), std::string::npos) << a.body;
}

TEST_F(ServerSessionTest, MarketerHasAudiencesProfilesAndPredictions) {
  json marketer = NewKey("marketer");
  json session = SessionOf(marketer["key"]);
  EXPECT_EQ(session["role"], "marketer");
  EXPECT_EQ(session["pages"], json({"audiences", "profiles", "predictions"}));
}

TEST_F(ServerSessionTest, WrongOrMissingKeyIs401AndAWriteKey403) {
  EXPECT_EQ(As("", "GET", "/api/v1/session").status, 401);
  HttpAnswer wrong = As("qk_k000000000000_nope", "GET", "/api/v1/session");
  EXPECT_EQ(wrong.status, 401);
  EXPECT_EQ(wrong.Json()["error"]["code"], "unauthenticated") << wrong.body;
  EXPECT_EQ(As(kWebKey, "GET", "/api/v1/session").status, 403);
  // A revoked key stops at once.
  json analyst = NewKey("analyst");
  ASSERT_EQ(As(analyst["key"], "GET", "/api/v1/session").status, 200);
  ASSERT_EQ(As(kAdminKey, "DELETE", "/api/v1/keys/" + analyst["id"].get<std::string>()).status,
            200);
  EXPECT_EQ(As(analyst["key"], "GET", "/api/v1/session").status, 401);
}

}  // namespace
}  // namespace quanyu
