// POST /api/v1/models/{clv,churn,propensity,recommend} and GET
// /api/v1/models over real HTTP, on a small `quanyu sim` world: each kind
// answers and stores its traits; malformed, unknown and unauthorized
// requests get a precise JSON error and lose nothing already stored.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <string>

#include "served_api_test.h"
#include "sim_test_util.h"

namespace quanyu {
namespace {

using nlohmann::json;
using ::quanyu::testing::HttpAnswer;
using ::quanyu::testing::Send;

class ServerModelsTest : public ::quanyu::testing::ServedApiTest {
 protected:
  static inline const std::string kAuth = std::string("Bearer ") + kAdminKey;

  // Loaded first, then served, as `quanyu sim --data` then `quanyu serve`;
  // the simulation brings its own sources, "website" among them.
  void Configure(Config& config) override {
    config.sources.clear();
    auto sim = ::quanyu::testing::LoadSimulation(config, {.seed = 5, .persons = 4000, .days = 120});
    ASSERT_TRUE(sim.ok()) << sim.status().ToString();
  }

  HttpAnswer Post(const std::string& path, const std::string& body,
                  const std::string& auth = kAuth) {
    return Send(served_.port(), "POST", path, auth, body);
  }
  // The error's code and message, after checking the status.
  std::string Error(const HttpAnswer& a, int status) {
    EXPECT_EQ(a.status, status) << a.body;
    json j = json::parse(a.body, nullptr, false);
    EXPECT_TRUE(j.is_object() && j.contains("error")) << a.body;
    return j.is_object() && j.contains("error") ? j["error"]["code"].get<std::string>() + ": " +
                                                      j["error"]["message"].get<std::string>()
                                                : "";
  }
};

TEST_F(ServerModelsTest, EveryKindFitsScoresAndStores) {
  const std::pair<const char*, const char*> kinds[] = {{"clv", "clv_12m"},
                                                       {"churn", "churn_risk"},
                                                       {"propensity", "propensity_purchase_30d"},
                                                       {"recommend", "next_products"}};
  for (const auto& [kind, trait] : kinds) {
    HttpAnswer a = Post(std::string("/api/v1/models/") + kind, "");  // every default
    ASSERT_EQ(a.status, 200) << kind << ": " << a.body;
    json j = json::parse(a.body);
    EXPECT_EQ(j["kind"], kind);
    EXPECT_GT(j["stored_traits"][trait].get<size_t>(), 100u) << kind;
  }
  HttpAnswer listed = Send(served_.port(), "GET", "/api/v1/models", kAuth);
  ASSERT_EQ(listed.status, 200) << listed.body;
  json l = json::parse(listed.body);
  for (const char* t :
       {"clv_12m", "p_alive", "churn_risk", "propensity_purchase_30d", "next_products"}) {
    EXPECT_GT(l["predicted_traits"][t]["persons"].get<size_t>(), 0u) << t;
    EXPECT_TRUE(l["predicted_traits"][t]["about"].contains("as_of")) << t;
  }
  // An audience on a predicted trait.
  HttpAnswer preview = Post("/api/v1/audiences/preview",
                            R"({"definition": "predicted.propensity_purchase_30d > 0.2"})");
  ASSERT_EQ(preview.status, 200) << preview.body;
  EXPECT_GT(json::parse(preview.body)["count"].get<size_t>(), 0u);

  // Options: another purchase model and a horizon name the trait and fit.
  HttpAnswer mbg = Post("/api/v1/models/clv", R"({"model": "mbgnbd", "months": 3, "margin": 0.3})");
  ASSERT_EQ(mbg.status, 200) << mbg.body;
  json m = json::parse(mbg.body);
  EXPECT_EQ(m["purchase_model"]["model"], "mbgnbd");
  EXPECT_TRUE(m["stored_traits"].contains("clv_3m"));
  EXPECT_EQ(m["margin"], 0.3);
}

TEST_F(ServerModelsTest, BadRequestsGetPreciseErrors) {
  HttpAnswer first = Post("/api/v1/models/churn", "{}");
  ASSERT_EQ(first.status, 200) << first.body;
  const size_t stored = json::parse(first.body)["stored_traits"]["churn_risk"];

  EXPECT_NE(Error(Post("/api/v1/models/clv", R"({"modle": "bgnbd"})"), 400)
                .find("unknown field \"modle\""),
            std::string::npos);
  EXPECT_NE(
      Error(Post("/api/v1/models/churn", R"({"model": "cox"})"), 400).find("unknown model \"cox\""),
      std::string::npos);
  EXPECT_NE(Error(Post("/api/v1/models/clv", R"({"order_event": "Purchase"})"), 400)
                .find("unknown event \"Purchase\""),
            std::string::npos);
  EXPECT_NE(Error(Post("/api/v1/models/clv", R"({"months": 0})"), 400)
                .find("\"months\" must be a number from 1 to 120"),
            std::string::npos);
  EXPECT_NE(
      Error(Post("/api/v1/models/clv", R"({"as_of": "1990-01-01"})"), 400).find("no person has"),
      std::string::npos);
  EXPECT_NE(Error(Post("/api/v1/models/clv", R"({"as_of": "yesterday"})"), 400).find("as_of"),
            std::string::npos);
  EXPECT_NE(
      Error(Post("/api/v1/models/propensity", R"({"horizon": "36h"})"), 400).find("whole days"),
      std::string::npos);
  EXPECT_NE(
      Error(Post("/api/v1/models/propensity", R"({"horizon": "200d"})"), 400).find("more history"),
      std::string::npos);
  EXPECT_NE(Error(Post("/api/v1/models/recommend", R"({"top": 1.5})"), 400).find("whole number"),
            std::string::npos);
  EXPECT_NE(Error(Post("/api/v1/models/churn", R"({"store": "yes"})"), 400).find("\"store\""),
            std::string::npos);
  EXPECT_NE(Error(Post("/api/v1/models/churn", "{not json"), 400).find("not valid JSON"),
            std::string::npos);
  EXPECT_NE(Error(Post("/api/v1/models/churn", "[1, 2]"), 400).find("JSON object"),
            std::string::npos);
  EXPECT_NE(
      Error(Post("/api/v1/models/cox", "{}"), 404).find("use clv, churn, propensity or recommend"),
      std::string::npos);
  EXPECT_NE(Error(Send(served_.port(), "GET", "/api/v1/models/clv", kAuth), 404).find("use POST"),
            std::string::npos);
  EXPECT_NE(Error(Post("/api/v1/models/clv", "{}", ""), 401).find("API key"), std::string::npos);
  EXPECT_NE(Error(Post("/api/v1/models/clv", "{}", "Bearer wrong"), 401).find("unauthenticated"),
            std::string::npos);

  // Nothing stored was lost, and the server still answers.
  HttpAnswer listed = Send(served_.port(), "GET", "/api/v1/models", kAuth);
  ASSERT_EQ(listed.status, 200);
  EXPECT_EQ(json::parse(listed.body)["predicted_traits"]["churn_risk"]["persons"], stored);
  EXPECT_FALSE(json::parse(listed.body)["predicted_traits"].contains("clv_12m"));
}

}  // namespace
}  // namespace quanyu
