// BG/NBD and Gamma-Gamma on `quanyu sim` orders: the simulator draws each
// buyer's repeat purchases from BG/NBD and order values from Gamma-Gamma
// (docs/sim.md, "The causal model"); fitted to the orders it emits —
// person from the messageId, time unit a day, calibration to the last
// simulated day — the parameters come back near the truth.
#include <gtest/gtest.h>

#include <mutex>
#include <nlohmann/json.hpp>

#include "common/time_util.h"
#include "models/btyd.h"
#include "sim/sim.h"

namespace quanyu::models {
namespace {

TEST(ModelsSim, RecoversTheSimulatorsPurchaseProcess) {
  sim::SimOptions o;
  o.persons = 200'000;
  o.days = 90;
  o.seed = 23;
  std::mutex mu;
  std::vector<Transaction> orders;
  auto result = sim::RunSimulation(o, [&](std::vector<Event>&& batch) {
    std::lock_guard lock(mu);
    for (const Event& e : batch) {
      if (e.name != "Order Completed") continue;
      // "sim-<seed>-<person>-<n>": the person.
      const size_t a = e.message_id.find('-', 4), b = e.message_id.rfind('-');
      orders.push_back({e.message_id.substr(a + 1, b - a - 1), DayOf(e.timestamp_us), e.revenue.value_or(0)});
    }
    return Status::OK();
  });
  ASSERT_TRUE(result.ok()) << result.status().ToString();
  const nlohmann::json truth = nlohmann::json::parse(result->ground_truth_json);
  const auto& repeat = truth["commerce"]["repeat_purchase"];
  const auto& value = truth["commerce"]["order_value"];
  ASSERT_EQ(repeat["time_unit"], "day");

  TransactionsInput input;
  input.unit_days = 1;
  input.end_day = DayOf(o.start_us) + o.days - 1;
  auto customers = SummariesFromTransactions(orders, input);
  ASSERT_TRUE(customers.ok()) << customers.status().ToString();
  ASSERT_GT(customers->size(), 10'000u);

  auto bg = FitBgNbd(*customers);
  ASSERT_TRUE(bg.ok()) << bg.status().ToString();
  const double bg_truth[] = {repeat["r"], repeat["alpha"], repeat["a"], repeat["b"]};
  for (size_t i = 0; i < 4; ++i) {
    std::printf("bgnbd %s: %.4f (se %.4f), truth %.4f\n", bg->names[i].c_str(), bg->params[i], bg->std_errors[i],
                bg_truth[i]);
    EXPECT_NEAR(bg->params[i], bg_truth[i], 0.25 * bg_truth[i]) << bg->names[i];
  }
  auto gg = FitGammaGamma(*customers);
  ASSERT_TRUE(gg.ok()) << gg.status().ToString();
  const double gg_truth[] = {value["p"], value["q"], value["gamma"]};
  for (size_t i = 0; i < 3; ++i) {
    std::printf("gammagamma %s: %.4f (se %.4f), truth %.4f\n", gg->names[i].c_str(), gg->params[i],
                gg->std_errors[i], gg_truth[i]);
    EXPECT_NEAR(gg->params[i], gg_truth[i], 0.25 * gg_truth[i]) << gg->names[i];
  }
}

}  // namespace
}  // namespace quanyu::models
