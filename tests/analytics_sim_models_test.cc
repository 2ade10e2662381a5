// The four models run on the store of a `quanyu sim` world
// (Engine::RunModel, docs/models.md): the purchase process fitted from the
// stored orders comes back near the simulator's truth; the propensity
// model beats the recency-only baseline on held-out time; the recommender
// beats the most-bought baseline on the last 30 days' new purchases; and the
// predicted traits are stored, read by the segment language and the
// profile, and survive a restart.
#include <gtest/gtest.h>

#include <cstdio>
#include <nlohmann/json.hpp>
#include <string>

#include "audience/language.h"
#include "engine/engine.h"
#include "sim_test_util.h"
#include "test_util.h"

namespace quanyu {
namespace {

using ::quanyu::testing::LoadSimulation;
using ::quanyu::testing::TempDir;
using Json = nlohmann::json;

size_t Count(Engine* engine, const std::string& text) {
  auto tree = audience::ParseText(text);
  EXPECT_TRUE(tree.ok()) << text << ": " << tree.status().ToString();
  if (!tree.ok()) return 0;
  auto members = engine->audiences().Evaluate(*tree);
  EXPECT_TRUE(members.ok()) << text << ": " << members.status().ToString();
  return members.ok() ? members->cardinality() : 0;
}

TEST(ModelsAgainstTheSimulator, FitScoreAndStore) {
  TempDir dir;
  Config c;
  c.data_dir = dir.path() + "/data";
  auto opened = Engine::Open(c);
  ASSERT_TRUE(opened.ok()) << opened.status().ToString();
  std::unique_ptr<Engine> engine = std::move(*opened);
  sim::SimOptions o;
  o.persons = 30000;
  o.days = 150;
  o.seed = 29;
  auto sim = LoadSimulation(engine.get(), o);
  ASSERT_TRUE(sim.ok()) << sim.status().ToString();
  const Json truth = Json::parse(sim->ground_truth_json);
  const Json& repeat = truth["commerce"]["repeat_purchase"];

  // CLV: BG/NBD (days) from the stored orders, near the truth.
  auto clv = engine->RunModel("clv", Json::object());
  ASSERT_TRUE(clv.ok()) << clv.status().ToString();
  const Json& params = (*clv)["purchase_model"]["parameters"];
  for (const char* p : {"r", "alpha", "a", "b"}) {
    const double got = params[p]["value"], want = repeat[p];
    std::printf("bgnbd %s: %.4f (truth %.4f)\n", p, got, want);
    EXPECT_NEAR(got, want, 0.3 * want) << p;
  }
  const size_t customers = (*clv)["customers"];
  EXPECT_GT(customers, 3000u);
  EXPECT_EQ((*clv)["stored_traits"]["clv_12m"], customers);
  EXPECT_NEAR((*clv)["mean_order_value"].get<double>(), 300, 30);

  // Churn: P(alive) and its complement for the same customers.
  auto churn = engine->RunModel("churn", {{"model", "mbgnbd"}});
  ASSERT_TRUE(churn.ok()) << churn.status().ToString();
  EXPECT_EQ((*churn)["stored_traits"]["p_alive"], customers);
  const Json& bands = (*churn)["risk_bands"];
  EXPECT_EQ(
      bands["low"].get<size_t>() + bands["medium"].get<size_t>() + bands["high"].get<size_t>(),
      customers);

  // Propensity: held-out AUC above the recency-only baseline.
  auto propensity = engine->RunModel("propensity", Json::object());
  ASSERT_TRUE(propensity.ok()) << propensity.status().ToString();
  const Json& test = (*propensity)["test"];
  std::printf(
      "propensity AUC %.4f (recency only %.4f), log-loss %.4f, top-decile lift %.2f (recency "
      "%.2f)\n",
      test["auc"].get<double>(), test["baseline"]["auc"].get<double>(),
      test["log_loss"].get<double>(), test["top_decile_lift"].get<double>(),
      test["baseline"]["top_decile_lift"].get<double>());
  EXPECT_GT(test["auc"].get<double>(), test["baseline"]["auc"].get<double>() + 0.02);
  EXPECT_GT(test["positives"].get<int>(), 200);
  EXPECT_EQ(test["calibration"].size(), 10u);
  EXPECT_GT((*propensity)["stored_traits"]["propensity_purchase_30d"].get<size_t>(), customers);

  // The same with gradient-boosted trees (XGBoost), not stored.
  auto gbt =
      engine->RunModel("propensity", {{"algorithm", "gbt"}, {"trees", 100}, {"store", false}});
  ASSERT_TRUE(gbt.ok()) << gbt.status().ToString();
  const Json& gbt_test = (*gbt)["test"];
  std::printf("gbt propensity AUC %.4f, log-loss %.4f, top-decile lift %.2f\n",
              gbt_test["auc"].get<double>(), gbt_test["log_loss"].get<double>(),
              gbt_test["top_decile_lift"].get<double>());
  EXPECT_GT(gbt_test["auc"].get<double>(), gbt_test["baseline"]["auc"].get<double>() + 0.02);
  EXPECT_EQ((*gbt)["importance"].size(), (*gbt)["features"].size());

  // Next-best product: better than recommending the most bought.
  auto recommend = engine->RunModel("recommend", {{"top", 3}});
  ASSERT_TRUE(recommend.ok()) << recommend.status().ToString();
  const Json& v = (*recommend)["validation"];
  std::printf("recommend hit rate@3 %.4f (most bought %.4f) over %d persons\n",
              v["hit_rate"].get<double>(), v["popular_hit_rate"].get<double>(),
              v["persons"].get<int>());
  EXPECT_GT(v["persons"].get<int>(), 200);
  EXPECT_GT(v["hit_rate"].get<double>(), v["popular_hit_rate"].get<double>());

  // Stored: the segment language reads them, the profile shows them.
  const size_t risky = Count(engine.get(), "predicted.churn_risk >= 0.7");
  EXPECT_EQ(risky, bands["high"].get<size_t>());
  EXPECT_GT(Count(engine.get(), "predicted.clv_12m > 0"), customers / 2);
  const uint32_t best = (*clv)["top"][0]["one_id"];
  auto profile = engine->ProfileJson(best);
  ASSERT_TRUE(profile.ok());
  const Json predicted = Json::parse(*profile)["predicted"];
  EXPECT_EQ(predicted["clv_12m"], (*clv)["top"][0]["clv"]);
  EXPECT_TRUE(predicted.contains("p_alive"));
  EXPECT_EQ(predicted["next_products"].size(), 3u);

  // "store": false leaves the stored values alone.
  auto dry = engine->RunModel("clv", {{"months", 6}, {"store", false}});
  ASSERT_TRUE(dry.ok());
  EXPECT_TRUE((*dry)["stored_traits"].empty());
  EXPECT_FALSE(engine->audiences().PredictedSummary().contains("clv_6m"));

  // A restart keeps them.
  ASSERT_TRUE(engine->Close().ok());
  engine.reset();
  opened = Engine::Open(c);
  ASSERT_TRUE(opened.ok()) << opened.status().ToString();
  engine = std::move(*opened);
  EXPECT_EQ(Count(engine.get(), "predicted.churn_risk >= 0.7"), risky);
  EXPECT_EQ(engine->audiences().PredictedSummary()["clv_12m"]["persons"], customers);
  ASSERT_TRUE(engine->Close().ok());
}

}  // namespace
}  // namespace quanyu
