// KPIs and trends against the simulator's ground truth (docs/sim.md "Ground
// truth"): a small world loaded through a real Engine (so channels are
// classified at ingest as in production) with its ad spend, then queried the
// way the API does (Engine::Query). Orders, revenue, NPS and spend per
// channel must agree with what the simulator knows it generated, less the
// few events ingest refuses: the simulator replaces identifiers with junk
// values ("null", "0", ...) in 1% of events, and an event left with no
// usable identifier is not stored (Engine::Admissible). The test finds those
// with the same Normalizer the engine uses.
#include <gtest/gtest.h>

#include <algorithm>
#include <array>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <map>
#include <mutex>
#include <nlohmann/json.hpp>
#include <unordered_map>

#include "collect/normalize.h"
#include "common/time_util.h"
#include "engine/engine.h"
#include "sim/sim.h"
#include "test_util.h"

namespace quanyu {
namespace {

using Json = nlohmann::json;

class AnalyticsSimKpis : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    world_ = new World;
    Config config;
    // The simulator's truth counts the events of persons who refused
    // analytics too: keep them ([privacy] analytics_consent = "accept").
    config.privacy_analytics_consent = "accept";
    config.data_dir = world_->dir.path();
    auto engine = Engine::Open(config);
    ASSERT_TRUE(engine.ok()) << engine.status().ToString();
    world_->engine = std::move(*engine);
    Engine& e = *world_->engine;
    std::unordered_map<std::string, collect::SourceInfo> sources;
    for (const auto& s : sim::SimulatedSources()) {
      ASSERT_TRUE(e.AddSource(s.name, s.type).ok());
      sources[s.name] = {s.name, s.type};
    }
    sim::SimOptions options;
    options.persons = 2000;
    options.days = 30;
    collect::Normalizer normalizer(config);
    std::mutex mu;
    auto result = sim::RunSimulation(options, [&](std::vector<Event>&& batch) -> Status {
      std::unordered_map<std::string, std::vector<Event>> groups;
      for (auto& ev : batch) groups[ev.source].push_back(std::move(ev));
      for (auto& [name, group] : groups) {
        Refused refused;
        for (const Event& ev : group) {
          Event copy = ev;
          normalizer.Normalize(&copy, sources.at(name));
          if (!copy.identifiers.empty()) continue;
          ++refused.by_name[ev.name];
          if (ev.name == "Order Completed") refused.revenue += ev.revenue.value_or(0);
          if (ev.name == "NPS Survey Answered") {
            ++refused.scores[Json::parse(ev.properties_json)["score"].get<size_t>()];
          }
        }
        IngestResult r = e.BulkLoad(sources.at(name), std::move(group));
        if (!r.status.ok()) return r.status;
        std::lock_guard lock(mu);
        world_->rejected += r.rejected.size();
        world_->duplicates += r.duplicates;
        for (const auto& [n, count] : refused.by_name) world_->refused.by_name[n] += count;
        world_->refused.revenue += refused.revenue;
        for (size_t i = 0; i < refused.scores.size(); ++i)
          world_->refused.scores[i] += refused.scores[i];
      }
      return Status::OK();
    });
    ASSERT_TRUE(result.ok()) << result.status().ToString();
    std::vector<store::SpendRow> spend;
    for (const auto& s : result->spend) {
      spend.push_back({s.date, s.channel, s.campaign, s.spend, s.impressions, s.clicks});
    }
    ASSERT_TRUE(e.ImportSpend(spend).ok());
    ASSERT_TRUE(e.FinishBulkLoad().ok());
    world_->spend = result->spend;
    world_->truth = Json::parse(result->ground_truth_json);
    world_->from = FormatTimestamp(options.start_us);
    world_->to = FormatTimestamp(options.start_us + options.days * kMicrosPerDay);
  }
  static void TearDownTestSuite() {
    if (world_ != nullptr && world_->engine) {
      EXPECT_TRUE(world_->engine->Close().ok());
    }
    delete world_;
    world_ = nullptr;
  }

  // Events ingest refuses (no usable identifier left).
  struct Refused {
    std::map<std::string, int64_t> by_name;
    double revenue = 0;                // of refused orders
    std::array<int64_t, 11> scores{};  // of refused survey answers
  };
  struct World {
    testing::TempDir dir;
    std::unique_ptr<Engine> engine;
    std::vector<sim::SpendRow> spend;
    Json truth;
    std::string from, to;
    Refused refused;
    size_t rejected = 0, duplicates = 0;
  };
  // What the store holds: the truth less the refused events.
  static int64_t StoredOrders() {
    return world_->truth["commerce"]["orders"]["count"].get<int64_t>() -
           world_->refused.by_name["Order Completed"];
  }
  static double StoredRevenue() {
    return world_->truth["commerce"]["orders"]["revenue"].get<double>() - world_->refused.revenue;
  }
  static std::array<int64_t, 11> StoredScores() {
    std::array<int64_t, 11> scores{};
    for (size_t s = 0; s < 11; ++s) {
      scores[s] = world_->truth["people"]["nps"]["score_counts"][s].get<int64_t>() -
                  world_->refused.scores[s];
    }
    return scores;
  }
  static World* world_;
};

AnalyticsSimKpis::World* AnalyticsSimKpis::world_ = nullptr;

TEST_F(AnalyticsSimKpis, OrdersRevenueNpsAndSpendMatchTheGroundTruth) {
  ASSERT_NE(world_, nullptr);
  // The refusals predicted are exactly the engine's, and they are few.
  int64_t refused = 0;
  for (const auto& [name, n] : world_->refused.by_name) refused += n;
  EXPECT_EQ(static_cast<size_t>(refused), world_->rejected);
  EXPECT_LT(world_->refused.by_name["Order Completed"] * 50,
            world_->truth["commerce"]["orders"]["count"].get<int64_t>());
  EXPECT_EQ(world_->duplicates, 0u);
  const Json& truth = world_->truth;
  auto answer = world_->engine->Query(
      "kpis",
      {{"from", world_->from}, {"to", world_->to}, {"timezone", "UTC"}, {"group_by", {"channel"}}});
  ASSERT_TRUE(answer.ok()) << answer.status().ToString();
  const Json& total = (*answer)["total"];

  // Orders and revenue (commerce.orders).
  EXPECT_EQ(total["conversions"].get<int64_t>(), StoredOrders());
  EXPECT_NEAR(total["revenue"].get<double>(), StoredRevenue(), 0.01);
  int64_t row_conversions = 0;
  for (const Json& row : (*answer)["rows"]) row_conversions += row["conversions"].get<int64_t>();
  EXPECT_EQ(row_conversions, StoredOrders());

  // NPS (people.nps): every simulated answer is a whole score 0..10.
  const Json& nps = truth["people"]["nps"];
  const Json& got_nps = (*answer)["nps"];
  const int64_t refused_answers = world_->refused.by_name["NPS Survey Answered"];
  EXPECT_EQ(got_nps["responses"].get<int64_t>(), nps["responses"].get<int64_t>() - refused_answers);
  EXPECT_EQ(got_nps["invalid"].get<int64_t>(), 0);
  const auto scores = StoredScores();
  int64_t promoters = 0, passives = 0, detractors = 0;
  for (size_t s = 0; s <= 10; ++s)
    (s >= 9 ? promoters : s >= 7 ? passives : detractors) += scores[s];
  EXPECT_EQ(got_nps["promoters"].get<int64_t>(), promoters);
  EXPECT_EQ(got_nps["passives"].get<int64_t>(), passives);
  EXPECT_EQ(got_nps["detractors"].get<int64_t>(), detractors);
  const double stored_nps = 100.0 * static_cast<double>(promoters - detractors) /
                            static_cast<double>(promoters + passives + detractors);
  EXPECT_NEAR(got_nps["nps"].get<double>(), std::round(stored_nps * 100) / 100, 1e-9);
  if (refused_answers == 0) {
    EXPECT_NEAR(got_nps["nps"].get<double>(), nps["observed_nps"].get<double>(), 0.005);
  }

  // Spend per channel (channels[].total_spend) and the spend rows' sums.
  std::map<std::string, double> spend;
  std::map<std::string, int64_t> impressions, clicks;
  for (const auto& r : world_->spend) {
    spend[r.channel] += r.spend;
    impressions[r.channel] += r.impressions;
    clicks[r.channel] += r.clicks;
  }
  std::map<std::string, Json> rows;
  for (const Json& row : (*answer)["rows"]) rows[row["channel"].get<std::string>()] = row;
  double total_spend = 0;
  int paid = 0;
  for (const Json& c : truth["channels"]) {
    const std::string name = c["name"].get<std::string>();
    const double want = c["total_spend"].get<double>();
    total_spend += want;
    if (want == 0) continue;
    ++paid;
    ASSERT_TRUE(rows.count(name)) << name;
    const Json& row = rows[name];
    EXPECT_NEAR(row["spend"].get<double>(), want, 0.01) << name;
    EXPECT_NEAR(spend[name], want, 0.01) << name;
    EXPECT_EQ(row["impressions"].get<int64_t>(), impressions[name]) << name;
    EXPECT_EQ(row["clicks"].get<int64_t>(), clicks[name]) << name;
  }
  EXPECT_GE(paid, 5);
  EXPECT_NEAR(total["spend"].get<double>(), total_spend, 0.05);

  // Every new customer has an LTV row; repeat buyers are buyers.
  int64_t ltv_customers = 0;
  for (const Json& r : (*answer)["ltv"]) ltv_customers += r["customers"].get<int64_t>();
  EXPECT_EQ(ltv_customers, total["new_customers"].get<int64_t>());
  EXPECT_GT(total["new_customers"].get<int64_t>(), 0);
  EXPECT_LE(total["repeat_customers"].get<int64_t>(), total["converting_persons"].get<int64_t>());
}

TEST_F(AnalyticsSimKpis, TrendsTotalsMatchTheGroundTruth) {
  ASSERT_NE(world_, nullptr);
  const Json& truth = world_->truth;
  auto answer = world_->engine->Query(
      "trends",
      {{"from", world_->from},
       {"to", world_->to},
       {"interval", "week"},
       {"series",
        {{{"event", "Order Completed"}},
         {{"event", "Order Completed"}, {"measure", "sum"}, {"property", "revenue"}},
         {{"event", "NPS Survey Answered"}, {"measure", "avg"}, {"property", "score"}}}}});
  ASSERT_TRUE(answer.ok()) << answer.status().ToString();
  const Json& series = (*answer)["series"];
  EXPECT_EQ(series[0]["total"].get<int64_t>(), StoredOrders());
  int64_t weekly = 0;
  for (const Json& v : series[0]["values"]) weekly += v.get<int64_t>();
  EXPECT_EQ(weekly, StoredOrders());
  EXPECT_NEAR(series[1]["total"].get<double>(), StoredRevenue(), 0.01);
  // The mean score from the score counts.
  const auto scores = StoredScores();
  double sum = 0, n = 0;
  for (size_t s = 0; s <= 10; ++s) {
    sum += static_cast<double>(s * scores[s]);
    n += static_cast<double>(scores[s]);
  }
  EXPECT_NEAR(series[2]["total"].get<double>(), std::round(sum / n * 100) / 100, 1e-9);
  // Event counts by name (event_counts.by_name) for every name in the truth.
  Json body = {
      {"from", world_->from}, {"to", world_->to}, {"interval", "month"}, {"series", Json::array()}};
  std::vector<std::string> names;
  for (auto it = truth["event_counts"]["by_name"].begin();
       it != truth["event_counts"]["by_name"].end(); ++it) {
    if (names.size() == 20) break;
    names.push_back(it.key());
    body["series"].push_back({{"event", it.key()}});
  }
  auto counts_answer = world_->engine->Query("trends", body);
  ASSERT_TRUE(counts_answer.ok()) << counts_answer.status().ToString();
  for (size_t i = 0; i < names.size(); ++i) {
    EXPECT_EQ((*counts_answer)["series"][i]["total"].get<int64_t>(),
              truth["event_counts"]["by_name"][names[i]].get<int64_t>() -
                  world_->refused.by_name[names[i]])
        << names[i];
  }
}

}  // namespace
}  // namespace quanyu
