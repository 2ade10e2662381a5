// GET /api/v1/models/{kind}/report over real HTTP, on a small `quanyu sim`
// world: 404 until a run stores its traits, then that run's answer with the
// dashboard's additions — the score histogram (clv, churn), the P(alive)
// grid (churn), the calibration deciles' lift (propensity) — replaced by the
// next run that stores, kept by one that does not.
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

class ServerModelReportsTest : public ::quanyu::testing::ServedApiTest {
 protected:
  static inline const std::string kAuth = std::string("Bearer ") + kAdminKey;

  // A simulated world, loaded before serving (the simulation brings its own
  // sources, "website" among them).
  void Configure(Config& config) override {
    config.sources.clear();
    auto sim =
        ::quanyu::testing::LoadSimulation(config, {.seed = 11, .persons = 3000, .days = 120});
    ASSERT_TRUE(sim.ok()) << sim.status().ToString();
  }
  json Run(const std::string& kind, const std::string& body = "") {
    HttpAnswer a = Send(served_.port(), "POST", "/api/v1/models/" + kind, kAuth, body);
    EXPECT_EQ(a.status, 200) << kind << ": " << a.body;
    return a.Json();
  }
  json Report(const std::string& kind, int status = 200, const std::string& auth = kAuth) {
    HttpAnswer a = Send(served_.port(), "GET", "/api/v1/models/" + kind + "/report", auth);
    EXPECT_EQ(a.status, status) << kind << ": " << a.body;
    return a.Json();
  }
  // Checks a histogram's shape and returns the sum of its counts.
  static uint64_t HistogramPersons(const json& h) {
    EXPECT_EQ(h["bins"].size(), 20u) << h;
    uint64_t sum = 0;
    double last_to = h["min"].get<double>();
    for (const auto& b : h["bins"]) {
      EXPECT_NEAR(b["from"].get<double>(), last_to, 1e-3) << h;
      EXPECT_GE(b["to"].get<double>(), b["from"].get<double>()) << h;
      last_to = b["to"].get<double>();
      sum += b["persons"].get<uint64_t>();
    }
    EXPECT_NEAR(last_to, h["max"].get<double>(), 1e-6) << h;
    return sum;
  }
};

TEST_F(ServerModelReportsTest, NoReportBeforeARun) {
  json missing = Report("clv", 404);
  EXPECT_EQ(missing["error"]["code"], "not_found");
  EXPECT_NE(missing["error"]["message"].get<std::string>().find("POST /api/v1/models/clv"),
            std::string::npos)
      << missing;
  Report("nonsense", 404);
  // A run that does not store its traits leaves no report.
  Run("clv", R"({"store": false})");
  Report("clv", 404);
}

TEST_F(ServerModelReportsTest, ClvReportIsTheRunWithItsHistogram) {
  json run = Run("clv");
  json report = Report("clv");
  EXPECT_TRUE(report.contains("computed_at")) << report;
  json without = report;
  without.erase("computed_at");
  EXPECT_EQ(without, run);
  ASSERT_TRUE(run["histogram"].is_object()) << run;
  EXPECT_EQ(run["histogram"]["trait"], "clv_12m");
  EXPECT_EQ(HistogramPersons(run["histogram"]), run["customers"].get<uint64_t>());
  // Of the stored values, rounded to the cent.
  EXPECT_NEAR(run["histogram"]["min"].get<double>(), run["clv"]["min"].get<double>(), 0.005);
  EXPECT_NEAR(run["histogram"]["max"].get<double>(), run["clv"]["max"].get<double>(), 0.005);
  EXPECT_EQ(run["customers"], run["stored_traits"]["clv_12m"]);

  // The next run that stores replaces it; one that does not keeps it.
  json six = Run("clv", R"({"months": 6})");
  EXPECT_EQ(Report("clv")["months"], 6);
  EXPECT_EQ(Report("clv")["histogram"]["trait"], "clv_6m");
  Run("clv", R"({"months": 3, "store": false})");
  EXPECT_EQ(Report("clv")["months"], 6);
  // Read like GET /api/v1/models: analysts and marketers too.
  for (const char* role : {"analyst", "marketer"}) {
    HttpAnswer k = Send(served_.port(), "POST", "/api/v1/keys", kAuth,
                        json{{"name", role}, {"role", role}}.dump());
    ASSERT_EQ(k.status, 201) << k.body;
    EXPECT_EQ(Report("clv", 200, "Bearer " + k.Json()["key"].get<std::string>())["months"], 6);
  }
}

TEST_F(ServerModelReportsTest, ChurnReportHasHistogramAndPAliveGrid) {
  Run("churn");
  json report = Report("churn");
  const uint64_t customers = report["customers"];
  ASSERT_GT(customers, 100u);
  EXPECT_EQ(report["histogram"]["trait"], "churn_risk");
  EXPECT_EQ(HistogramPersons(report["histogram"]), customers);
  EXPECT_GE(report["histogram"]["min"].get<double>(), 0);
  EXPECT_LE(report["histogram"]["max"].get<double>(), 1);

  const json& grid = report["p_alive_grid"];
  EXPECT_EQ(grid["frequency_buckets"], json({"0", "1", "2", "3", "4", "5-9", "10+"}));
  EXPECT_EQ(grid["recency_buckets"], json({"0-14", "15-30", "31-60", "61-90", "91-180", "181+"}));
  ASSERT_EQ(grid["cells"].size(), 42u);
  uint64_t persons = 0;
  double weighted = 0;
  for (const auto& cell : grid["cells"]) {
    const uint64_t n = cell["persons"];
    persons += n;
    if (n == 0) {
      EXPECT_TRUE(cell["mean_p_alive"].is_null()) << cell;
      continue;
    }
    const double p = cell["mean_p_alive"];
    EXPECT_GE(p, 0) << cell;
    EXPECT_LE(p, 1) << cell;
    weighted += p * static_cast<double>(n);
  }
  EXPECT_EQ(persons, customers);
  // The cells' means average back to the mean P(alive) = 1 - mean churn risk.
  EXPECT_NEAR(weighted / static_cast<double>(persons),
              1 - report["churn_risk"]["mean"].get<double>(), 1e-3);
  // A 120-day world: nobody is 181+ days past a purchase.
  for (const auto& cell : grid["cells"]) {
    if (cell["recency_days"] == "181+") {
      EXPECT_EQ(cell["persons"], 0) << cell;
    }
  }
}

TEST_F(ServerModelReportsTest, PropensityDecilesHaveLiftAndPersons) {
  Run("propensity");
  json report = Report("propensity");
  const json& test = report["test"];
  ASSERT_EQ(test["calibration"].size(), 10u) << test;
  const double overall = test["positives"].get<double>() / test["persons"].get<double>();
  ASSERT_GT(overall, 0);
  uint64_t persons = 0;
  double lift_persons = 0;
  for (const auto& decile : test["calibration"]) {
    const uint64_t n = decile["persons"];
    persons += n;
    ASSERT_TRUE(decile["lift"].is_number()) << decile;
    EXPECT_NEAR(decile["lift"].get<double>(), decile["actual"].get<double>() / overall, 2e-3)
        << decile;
    lift_persons += decile["lift"].get<double>() * static_cast<double>(n);
  }
  EXPECT_EQ(persons, test["persons"].get<uint64_t>());
  // Over all deciles the lift averages to 1.
  EXPECT_NEAR(lift_persons / static_cast<double>(persons), 1, 0.01);
  // The top decile beats the bottom one on this world.
  EXPECT_GT(test["calibration"][0]["lift"].get<double>(),
            test["calibration"][9]["lift"].get<double>());
  EXPECT_FALSE(report.contains("histogram"));
}

}  // namespace
}  // namespace quanyu
