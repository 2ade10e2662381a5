// The models' inputs read from a real store (src/models/store_data.h), the
// logistic regression and its measures (logistic.h) and the item-to-item
// recommender (recommend.h), each against values worked out independently
// here.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <random>
#include <sstream>

#include "common/dense_array.h"
#include "common/time_util.h"
#include "models/boosted.h"
#include "models/btyd.h"
#include "models/logistic.h"
#include "models/recommend.h"
#include "models/store_data.h"
#include "store/event_store.h"
#include "test_util.h"

namespace quanyu::models {
namespace {

using ::quanyu::testing::TempDir;

constexpr char kCdnow[] = QUANYU_SOURCE_DIR "/../shared/data/cdnow/";
constexpr int64_t kDay = kMicrosPerDay;

int64_t At(const std::string& date) {
  auto t = ParseTimestamp(date);
  EXPECT_TRUE(t.ok()) << date;
  return t.ok() ? *t : 0;
}

Event Make(uint32_t key, int64_t t, const std::string& name, int n, double revenue = 0,
           const std::string& product = "") {
  Event e;
  e.timestamp_us = t;
  e.received_us = t;
  e.name = name;
  e.message_id = "m-" + std::to_string(n);
  e.source = n % 2 ? "web" : "app";
  if (revenue > 0) e.revenue = revenue;
  e.product_id = product;
  e.identity_key = key;
  return e;
}

// A store holding `events` (half in segments, half buffered) and the
// identity map of their keys (each its own person unless `merged` says).
struct Fixture {
  TempDir dir;
  std::unique_ptr<store::EventStore> store;
  DenseArray<uint32_t> one_ids;
  query::QueryContext ctx;

  explicit Fixture(std::vector<Event> events, std::map<uint32_t, uint32_t> merged = {}) {
    store::StoreOptions opt;
    opt.dir = dir / "events";
    opt.max_segment_rows = 1000;
    auto opened = store::EventStore::Open(opt);
    EXPECT_TRUE(opened.ok()) << opened.status().ToString();
    store = std::move(*opened);
    for (const Event& e : events) {
      if (e.identity_key != 0) one_ids.Set(e.identity_key, e.identity_key);
    }
    for (const auto& [from, to] : merged) one_ids.Set(from, to);
    std::shuffle(events.begin(), events.end(), std::mt19937(7));
    const size_t half = events.size() / 2;
    store->Add(std::vector<Event>(events.begin(), events.begin() + half), 0);
    EXPECT_TRUE(store->Flush().ok());
    store->Add(std::vector<Event>(events.begin() + half, events.end()), 0);
    ctx.store = store.get();
    ctx.one_ids = &one_ids;
  }
};

// The raw CDNOW log in a store, read back as summaries to the end of
// 1997-09-30: in weeks they are the published per-customer file, and the
// BG/NBD fit on them is the published one.
TEST(ModelsStore, CdnowOrdersGiveThePublishedSummariesAndFit) {
  std::ifstream raw(std::string(kCdnow) + "CDNOW_sample.txt");
  std::vector<Event> events;
  std::string master, id, date, units, dollars;
  int n = 0;
  while (raw >> master >> id >> date >> units >> dollars) {
    const int64_t t =
        At(date.substr(0, 4) + "-" + date.substr(4, 2) + "-" + date.substr(6, 2)) + 3600e6;
    events.push_back(
        Make(static_cast<uint32_t>(std::stoul(id)), t, "Order Completed", ++n, std::stod(dollars)));
  }
  ASSERT_EQ(events.size(), 6919u);
  // Noise that must not count: another event, an order without a person.
  events.push_back(Make(1, At("1997-03-01"), "Product Viewed", ++n, 99));
  events.push_back(Make(0, At("1997-03-01"), "Order Completed", ++n, 99));
  // Key 90000's order belongs to customer 1 (merged): a repeat on 1997-06-01.
  events.push_back(Make(90000, At("1997-06-01"), "Order Completed", ++n, 10));
  // A first order on the last day (T = 0) is left out.
  events.push_back(Make(90001, At("1997-09-30"), "Order Completed", ++n, 10));
  Fixture f(std::move(events), {{90000, 1}});

  StoreDataOptions o;
  auto persons = OrderSummaries(f.ctx, o, At("1997-10-01"));
  ASSERT_TRUE(persons.ok()) << persons.status().ToString();
  std::ifstream in(std::string(kCdnow) + "cdnow_customers_summary_with_transactions.csv");
  std::string line;
  std::getline(in, line);
  std::vector<CustomerSummary> weeks;
  size_t i = 0;
  for (; std::getline(in, line); ++i) {
    std::stringstream cells(line);
    std::string c[5];
    for (auto& cell : c) std::getline(cells, cell, ',');
    ASSERT_LT(i, persons->size());
    const PersonSummary& p = (*persons)[i];
    ASSERT_EQ(std::to_string(p.one_id), c[0]);
    CustomerSummary s = p.summary;
    s.t_x /= 7;
    s.T /= 7;
    if (p.one_id == 1) {  // the merged key's repeat: one more, later
      EXPECT_EQ(s.x, std::stod(c[1]) + 1);
      continue;
    }
    EXPECT_EQ(s.x, std::stod(c[1])) << c[0];
    EXPECT_NEAR(s.t_x, std::stod(c[2]), 0.005) << c[0];
    EXPECT_NEAR(s.T, std::stod(c[3]), 0.005) << c[0];
    EXPECT_NEAR(s.zbar, std::stod(c[4]), 0.0051) << c[0];
    weeks.push_back(s);
  }
  EXPECT_EQ(i, 2357u);
  EXPECT_EQ(persons->size(), 2357u);  // 90001 left out
  auto fit = FitBgNbd(weeks);
  ASSERT_TRUE(fit.ok());
  EXPECT_NEAR(fit->params[0], 0.2426, 0.002);  // r (one customer fewer than published)
  EXPECT_NEAR(fit->params[1], 4.414, 0.05);    // alpha

  // A monetary property that is not a number is refused, naming it.
  o.monetary_property = "url";
  EXPECT_NE(OrderSummaries(f.ctx, o, At("1997-10-01")).status().message().find("monetary_property"),
            std::string::npos);
}

TEST(ModelsStore, BehaviourFeaturesAndLabels) {
  const int64_t cutoff = At("2026-03-01");
  std::vector<Event> events;
  int n = 0;
  // Person 1: orders 100 days and 10 days before, 3 views and a cart add in
  // the last 30 days (two on one day), an order 5 days after the cutoff.
  events.push_back(Make(1, cutoff - 100 * kDay, "Order Completed", ++n, 50));
  events.push_back(Make(1, cutoff - 10 * kDay, "Order Completed", ++n, 70));
  events.push_back(Make(1, cutoff - 2 * kDay, "Product Viewed", ++n));
  events.push_back(Make(1, cutoff - 2 * kDay + 60e6, "Product Viewed", ++n));
  events.push_back(Make(1, cutoff - 20 * kDay, "Product Viewed", ++n));
  events.push_back(Make(1, cutoff - 1 * kDay, "Product Added", ++n));
  events.push_back(Make(1, cutoff + 5 * kDay, "Order Completed", ++n, 30));
  // Person 2: one page 40 days before; nothing after.
  events.push_back(Make(2, cutoff - 40 * kDay, "Landing", ++n));
  // Person 3: only after the cutoff (not a row); person 4: before the lookback.
  events.push_back(Make(3, cutoff + kDay, "Order Completed", ++n, 10));
  events.push_back(Make(4, cutoff - 400 * kDay, "Order Completed", ++n, 10));
  // Person 5: an order after the horizon (label 0).
  events.push_back(Make(5, cutoff - 3 * kDay, "Landing", ++n));
  events.push_back(Make(5, cutoff + 31 * kDay, "Order Completed", ++n, 10));
  Fixture f(std::move(events));
  auto set = BehaviourFeatures(f.ctx, StoreDataOptions(), cutoff, 365 * kDay, 30 * kDay);
  ASSERT_TRUE(set.ok()) << set.status().ToString();
  ASSERT_EQ(set->one_ids, (std::vector<uint32_t>{1, 2, 5}));
  EXPECT_EQ(set->labels, (std::vector<uint8_t>{1, 0, 0}));
  const auto& names = FeatureSet::Names();
  auto value = [&](size_t row, const std::string& name) {
    const size_t k = std::find(names.begin(), names.end(), name) - names.begin();
    EXPECT_LT(k, names.size()) << name;
    return set->values[row * names.size() + k];
  };
  EXPECT_DOUBLE_EQ(value(0, "recency_days"), 10);
  EXPECT_DOUBLE_EQ(value(0, "has_ordered"), 1);
  EXPECT_DOUBLE_EQ(value(0, "log_orders"), std::log(3.0));
  EXPECT_DOUBLE_EQ(value(0, "log_monetary"), std::log(121.0));
  EXPECT_DOUBLE_EQ(value(0, "tenure_days"), 100);
  EXPECT_DOUBLE_EQ(value(0, "days_since_event"), 1);
  EXPECT_DOUBLE_EQ(value(0, "log_events_7d"), std::log(4.0));
  EXPECT_DOUBLE_EQ(value(0, "log_events_30d"), std::log(6.0));
  EXPECT_DOUBLE_EQ(value(0, "active_days_30d"), 4);  // days 1, 2, 10 and 20 before
  EXPECT_DOUBLE_EQ(value(0, "log_views_30d"), std::log(4.0));
  EXPECT_DOUBLE_EQ(value(0, "log_cart_adds_30d"), std::log(2.0));
  EXPECT_DOUBLE_EQ(value(0, "log_checkouts_30d"), 0);
  EXPECT_DOUBLE_EQ(value(0, "sources"), 2);
  EXPECT_DOUBLE_EQ(value(1, "recency_days"), 365);  // never ordered: the lookback
  EXPECT_DOUBLE_EQ(value(1, "has_ordered"), 0);
  EXPECT_DOUBLE_EQ(value(1, "tenure_days"), 40);
  EXPECT_DOUBLE_EQ(value(1, "log_events_30d"), 0);
  EXPECT_DOUBLE_EQ(value(1, "sources"), 1);
  EXPECT_EQ(set->recency_days, (std::vector<double>{10, 365, 365}));
  EXPECT_FALSE(BehaviourFeatures(f.ctx, StoreDataOptions(), cutoff, 0, 30 * kDay).ok());
}

TEST(ModelsStore, ProductInteractions) {
  std::vector<Event> events;
  int n = 0;
  events.push_back(Make(1, At("2026-01-02"), "Product Viewed", ++n, 0, "A"));
  events.push_back(Make(1, At("2026-01-02"), "Order Completed", ++n, 9, "A"));
  events.push_back(Make(1, At("2026-01-03"), "Product Viewed", ++n, 0, "B"));
  events.push_back(Make(2, At("2026-01-03"), "Product Viewed", ++n, 0, "B"));
  events.push_back(Make(2, At("2026-01-03"), "Product Viewed", ++n, 0, ""));    // no product
  events.push_back(Make(2, At("2025-01-03"), "Order Completed", ++n, 9, "C"));  // before the range
  events.push_back(Make(0, At("2026-01-03"), "Order Completed", ++n, 9, "C"));  // no person
  Fixture f(std::move(events));
  auto got = ProductInteractions(f.ctx, StoreDataOptions(), At("2026-01-01"), At("2026-02-01"));
  ASSERT_TRUE(got.ok()) << got.status().ToString();
  std::vector<std::string> rows;
  for (const auto& r : got->rows) {
    rows.push_back(std::to_string(r.one_id) + got->products[r.product] + (r.bought ? "*" : ""));
  }
  EXPECT_EQ(rows, (std::vector<std::string>{"1A*", "1B", "2B"}));
}

// ---- Logistic regression --------------------------------------------------------

TEST(ModelsLogistic, RecoversKnownCoefficients) {
  // y ~ Bernoulli(sigmoid(-1 + 2 x1 - 0.5 x2)), x1 ~ N(0, 1), x2 ~ N(3, 2),
  // and x3 constant (no information: weight 0).
  std::mt19937_64 rng(3);
  std::normal_distribution<double> n1(0, 1), n2(3, 2);
  std::uniform_real_distribution<double> u(0, 1);
  const size_t rows = 200'000;
  std::vector<double> values;
  std::vector<uint8_t> labels;
  for (size_t i = 0; i < rows; ++i) {
    const double x1 = n1(rng), x2 = n2(rng);
    values.insert(values.end(), {x1, x2, 7.0});
    labels.push_back(u(rng) < 1 / (1 + std::exp(-(-1 + 2 * x1 - 0.5 * x2))));
  }
  auto m = FitLogistic({"x1", "x2", "x3"}, values, labels, 0);
  ASSERT_TRUE(m.ok()) << m.status().ToString();
  // Back on the raw scale: w / scale and intercept - sum w mean / scale.
  const double b1 = m->weights[0] / m->scale[0], b2 = m->weights[1] / m->scale[1];
  const double b0 = m->intercept - b1 * m->mean[0] - b2 * m->mean[1];
  EXPECT_NEAR(b1, 2, 0.05);
  EXPECT_NEAR(b2, -0.5, 0.02);
  EXPECT_NEAR(b0, -1, 0.06);
  EXPECT_EQ(m->weights[2], 0);
  const double row[] = {0.5, 3, 7};
  EXPECT_NEAR(m->Predict(row), 1 / (1 + std::exp(-(-1 + 1 - 1.5))), 0.01);
  // A heavy penalty pulls the weights toward 0.
  auto shrunk = FitLogistic({"x1", "x2", "x3"}, values, labels, 1e7);
  ASSERT_TRUE(shrunk.ok());
  EXPECT_LT(std::abs(shrunk->weights[0]), std::abs(m->weights[0]) / 2);

  EXPECT_FALSE(FitLogistic({"x"}, {1, 2}, {1, 1}, 1).ok());     // one outcome
  EXPECT_FALSE(FitLogistic({"x"}, {1, 2, 3}, {1, 0}, 1).ok());  // sizes disagree
}

TEST(ModelsLogistic, MeasuresByHand) {
  // Positives 0.35 and 0.8 against negatives 0.1 and 0.4: 3 of 4 pairs.
  EXPECT_DOUBLE_EQ(Auc({0.1, 0.4, 0.35, 0.8}, {0, 0, 1, 1}), 0.75);
  // A tie between a positive and a negative counts half: (1 + 0.5) / 2.
  EXPECT_DOUBLE_EQ(Auc({0.5, 0.5, 0.9}, {0, 1, 1}), 0.75);
  EXPECT_TRUE(std::isnan(Auc({0.1, 0.2}, {1, 1})));
  EXPECT_NEAR(LogLoss({0.8, 0.25}, {1, 0}), -(std::log(0.8) + std::log(0.75)) / 2, 1e-12);
  // Ten rows, scores 0.9 .. 0.0; positives at 0.9, 0.7 and 0.2.
  std::vector<double> p;
  for (int i = 9; i >= 0; --i) p.push_back(i / 10.0);
  const std::vector<uint8_t> y = {1, 0, 1, 0, 0, 0, 0, 1, 0, 0};
  const auto bins = CalibrationByRank(p, y, 3);  // 4, 3, 3 rows
  ASSERT_EQ(bins.size(), 3u);
  EXPECT_EQ(bins[0].rows, 4u);
  EXPECT_DOUBLE_EQ(bins[0].predicted, (0.9 + 0.8 + 0.7 + 0.6) / 4);
  EXPECT_DOUBLE_EQ(bins[0].actual, 0.5);
  EXPECT_DOUBLE_EQ(bins[2].actual, 1.0 / 3);
  EXPECT_DOUBLE_EQ(LiftAt(p, y, 0.2), (1.0 / 2) / (3.0 / 10));
}

// Trees learn what a linear model cannot: y = 1 when x1 and x2 have the
// same sign (XOR), with 10 % of labels flipped.
TEST(ModelsBoosted, LearnsAnInteractionTheLogisticModelCannot) {
  std::mt19937_64 rng(9);
  std::uniform_real_distribution<double> u(-1, 1), coin(0, 1);
  std::vector<double> values;
  std::vector<uint8_t> labels;
  for (int i = 0; i < 20'000; ++i) {
    const double x1 = u(rng), x2 = u(rng);
    values.insert(values.end(), {x1, x2});
    labels.push_back(((x1 > 0) == (x2 > 0)) != (coin(rng) < 0.1));
  }
  std::vector<double> test_values(values.end() - 10'000, values.end());
  std::vector<uint8_t> test_labels(labels.end() - 5'000, labels.end());
  values.resize(values.size() - 10'000);
  labels.resize(labels.size() - 5'000);
  BoostedOptions o;
  o.rounds = 50;
  auto trees = BoostedModel::Fit(2, values, labels, o);
  ASSERT_TRUE(trees.ok()) << trees.status().ToString();
  auto p = trees->Predict(test_values);
  ASSERT_TRUE(p.ok());
  ASSERT_EQ(p->size(), 5'000u);
  EXPECT_GT(Auc(*p, test_labels), 0.85);  // the best possible is about 0.9
  auto linear = FitLogistic({"x1", "x2"}, values, labels, 1);
  ASSERT_TRUE(linear.ok());
  std::vector<double> q;
  for (size_t i = 0; i < 5'000; ++i) q.push_back(linear->Predict(&test_values[2 * i]));
  EXPECT_LT(Auc(q, test_labels), 0.6);
  auto importance = trees->Importance();
  ASSERT_TRUE(importance.ok());
  EXPECT_GT((*importance)[0], 0);
  EXPECT_GT((*importance)[1], 0);
  EXPECT_FALSE(BoostedModel::Fit(2, {1, 2}, {1}, o).ok());  // one outcome
}

// ---- Next-best product --------------------------------------------------------------

TEST(ModelsRecommend, SimilarProductsNotYetBought) {
  // Products A, B, C, D. Five persons bought A and B together; two bought
  // C and D; person 10 bought A only, person 11 viewed C, person 12 bought
  // A, B, C and D.
  Interactions data;
  data.products = {"A", "B", "C", "D"};
  for (uint32_t p = 1; p <= 5; ++p) data.rows.insert(data.rows.end(), {{p, 0, true}, {p, 1, true}});
  for (uint32_t p = 6; p <= 7; ++p) data.rows.insert(data.rows.end(), {{p, 2, true}, {p, 3, true}});
  data.rows.push_back({10, 0, true});
  data.rows.push_back({11, 2, false});
  for (uint32_t k = 0; k < 4; ++k) data.rows.push_back({12, k, true});
  RecommendOptions o;
  o.top = 2;
  const ItemSimilarity sim = FitItemSimilarity(data, o);
  // cos(A, B): A's vector has 1 for persons 1-5, 10, 12; B for 1-5, 12:
  // 6 / sqrt(7 * 6).
  ASSERT_FALSE(sim.neighbours[0].empty());
  EXPECT_EQ(sim.neighbours[0][0].first, 1u);
  EXPECT_NEAR(sim.neighbours[0][0].second, 6 / std::sqrt(42.0), 1e-12);
  EXPECT_EQ(sim.popularity, (std::vector<double>{7, 6, 3, 3}));
  std::map<uint32_t, std::vector<uint32_t>> recs;
  for (const auto& r : Recommend(sim, data, o)) recs[r.one_id] = r.products;
  EXPECT_EQ(recs[10], (std::vector<uint32_t>{
                          1, 3}));  // B, then D: C is as close to A but diluted by 11's view
  EXPECT_EQ(recs[11].front(), 3u);  // viewed C: D first; C itself not bought
  EXPECT_TRUE(recs[12].empty());    // bought everything
  EXPECT_EQ(recs[1].size(), 2u);    // C and D fill in
  // Later purchases: person 10 buys B (a hit), person 11 buys A (a miss),
  // person 1 buys A again (not new: not counted).
  Interactions later;
  later.products = {"B", "A"};
  later.rows = {{1, 1, true}, {10, 0, true}, {11, 1, true}};
  const HitRate hit = MeasureHitRate(Recommend(sim, data, o), sim, data, later);
  EXPECT_EQ(hit.persons, 2u);
  EXPECT_DOUBLE_EQ(hit.rate, 0.5);
}

}  // namespace
}  // namespace quanyu::models
