// GET /api/v1/settings over real HTTP: the identity rules in force (defaults
// with the config's overrides, junk values, region) and the channel taxonomy
// (configured rules first, then the built-in steps); admin only; no secrets.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "served_api_test.h"

namespace quanyu {
namespace {

using nlohmann::json;
using ::quanyu::testing::HttpAnswer;
using ::quanyu::testing::Send;

class ServerSettingsTest : public ::quanyu::testing::ServedApiTest {
 protected:
  void Configure(Config& config) override {
    config.default_region = "HK";
    config.junk_identifiers = {"test-user"};
    config.identity_max_merges = 50;
    config.identity_rules.push_back({"email", 2, 3});
    config.identity_rules.push_back({"loyalty_card", 1, 2});
    ChannelRule rule;
    rule.channel = "xiaohongshu_kol";
    rule.utm_source = "kol";
    config.channel_rules.push_back(rule);
  }
};

TEST_F(ServerSettingsTest, IdentityRulesAndChannelTaxonomy) {
  HttpAnswer a =
      Send(served_.port(), "GET", "/api/v1/settings", std::string("Bearer ") + kAdminKey);
  ASSERT_EQ(a.status, 200) << a.body;
  json s = a.Json();
  const json& identity = s["identity"];
  ASSERT_TRUE(identity["namespaces"].is_array()) << s;
  EXPECT_EQ(identity["namespaces"][0],
            json({{"namespace", "user_id"}, {"limit", 1}, {"priority", 1}}));
  bool email = false, loyalty = false;
  uint32_t last_priority = 0;
  for (const auto& n : identity["namespaces"]) {
    EXPECT_GE(n["priority"].get<uint32_t>(), last_priority) << "sorted by priority";
    last_priority = n["priority"];
    if (n["namespace"] == "email") {
      email = true;
      EXPECT_EQ(n["limit"], 2);
      EXPECT_EQ(n["priority"], 3);
    }
    loyalty = loyalty || n["namespace"] == "loyalty_card";
  }
  EXPECT_TRUE(email && loyalty) << identity;
  EXPECT_EQ(identity["other_namespaces"], json({{"limit", 10}, {"priority", 50}}));
  EXPECT_EQ(identity["max_merges_per_person"], 50);
  EXPECT_EQ(identity["max_identifiers_per_person"], 1000);
  EXPECT_EQ(identity["default_phone_region"], "HK");
  EXPECT_EQ(identity["junk_values"]["configured"], json({"test-user"}));
  EXPECT_NE(std::find(identity["junk_values"]["builtin"].begin(),
                      identity["junk_values"]["builtin"].end(), "undefined"),
            identity["junk_values"]["builtin"].end())
      << identity;
  EXPECT_EQ(identity["configured_rules"].size(), 2u);

  const json& channels = s["channels"];
  const json& names = channels["channels"];
  for (const char* ch : {"douyin", "wechat", "direct", "xiaohongshu_kol"}) {
    EXPECT_NE(std::find(names.begin(), names.end(), ch), names.end()) << ch;
  }
  std::vector<std::string> steps;
  for (const auto& step : channels["steps"]) steps.push_back(step["step"]);
  EXPECT_EQ(steps, std::vector<std::string>(
                       {"rules", "click_id", "utm", "referrer", "source_type", "default"}));
  EXPECT_EQ(channels["steps"][0]["rules"],
            json::array({{{"channel", "xiaohongshu_kol"}, {"utm_source", "kol"}}}));
  EXPECT_EQ(channels["steps"][1]["click_ids"][0],
            json({{"channel", "google"}, {"values", {"gclid", "gbraid", "wbraid", "dclid"}}}));
  bool douyin_host = false;
  for (const auto& h : channels["steps"][3]["hosts"]) {
    if (h["channel"] == "douyin") {
      douyin_host =
          std::find(h["values"].begin(), h["values"].end(), "douyin.com") != h["values"].end();
    }
  }
  EXPECT_TRUE(douyin_host) << channels["steps"][3];
  EXPECT_EQ(channels["steps"][5]["channel"], "direct");

  // No secrets.
  EXPECT_EQ(a.body.find(kWebKey), std::string::npos);
  EXPECT_EQ(a.body.find(kAdminKey), std::string::npos);

  // Admin only.
  for (const char* role : {"analyst", "marketer"}) {
    HttpAnswer k = Send(served_.port(), "POST", "/api/v1/keys", std::string("Bearer ") + kAdminKey,
                        json{{"name", role}, {"role", role}}.dump());
    ASSERT_EQ(k.status, 201) << k.body;
    HttpAnswer denied = Send(served_.port(), "GET", "/api/v1/settings",
                             "Bearer " + k.Json()["key"].get<std::string>());
    EXPECT_EQ(denied.status, 403) << role << ": " << denied.body;
  }
  EXPECT_EQ(Send(served_.port(), "GET", "/api/v1/settings", "").status, 401);
}

}  // namespace
}  // namespace quanyu
