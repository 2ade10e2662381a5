// KPIs beyond the golden files: a random store (history before the range,
// merged identities, segments plus buffered rows) against a brute-force
// reference written from docs/metrics.md; a context without a spend table;
// request errors.
#include <gtest/gtest.h>

#include <map>
#include <random>
#include <set>

#include "common/dense_array.h"
#include "query/kpis.h"
#include "store/event_store.h"
#include "test_util.h"

namespace quanyu::query {
namespace {

using ::quanyu::testing::TempDir;

constexpr int64_t kStart = 1'767'225'600'000'000;  // 2026-01-01T00:00:00Z
constexpr int64_t kDay = 86'400'000'000;

struct World {
  TempDir dir;
  std::unique_ptr<store::EventStore> store;
  DenseArray<uint32_t> one_ids;
  std::vector<Event> events;
  std::map<uint32_t, uint32_t> person_of;
  QueryContext ctx;
};

void MakeWorld(World* w) {
  std::mt19937 rng(11);
  const char* names[] = {"Landing", "Product Viewed", "Order Completed", "NPS Survey Answered"};
  const char* channels[] = {"douyin", "wechat", "", "weibo", "tmall"};
  for (int i = 0; i < 15'000; ++i) {
    Event e;
    e.timestamp_us =
        kStart + static_cast<int64_t>((uint64_t{rng()} << 32 | rng()) % (40ull * kDay));
    // Every 50th event shares the previous one's instant (ties).
    if (i > 0 && rng() % 50 == 0) e.timestamp_us = w->events.back().timestamp_us;
    e.name = names[rng() % 4];
    e.channel = channels[rng() % 5];
    e.source = "web";
    e.identity_key = rng() % 20 == 0 ? 0 : 1 + rng() % 300;
    if (rng() % 10 < 8) e.revenue = static_cast<double>(rng() % 50000) / 100;
    const int score = static_cast<int>(rng() % 13) - 1;  // -1..11: some invalid
    e.properties_json = "{\"score\":" + std::to_string(score) + "}";
    w->events.push_back(std::move(e));
  }
  std::sort(w->events.begin(), w->events.end(),
            [](const Event& a, const Event& b) { return a.timestamp_us < b.timestamp_us; });
  store::StoreOptions opt;
  opt.dir = w->dir / "events";
  opt.max_segment_rows = 1009;
  auto s = store::EventStore::Open(opt);
  ASSERT_TRUE(s.ok());
  w->store = std::move(*s);
  const size_t cut = w->events.size() / 2;
  w->store->Add({w->events.begin(), w->events.begin() + cut}, 1);
  ASSERT_TRUE(w->store->Flush().ok());
  w->store->Add({w->events.begin() + cut, w->events.end()}, 2);
  for (uint32_t k = 1; k <= 300; ++k) {
    const uint32_t p = k % 5 == 0 ? k / 5 : k;  // every 5th key merged into another person
    w->one_ids.Set(k, p);
    w->person_of[k] = p;
  }
  w->ctx.store = w->store.get();
  w->ctx.one_ids = &w->one_ids;
}

struct RefGroup {
  int64_t conversions = 0;
  double revenue = 0;
  std::set<uint32_t> reached, converting;
  int64_t new_customers = 0;
  NpsCounts nps;
};

TEST(Kpis, RandomStoreMatchesBruteForce) {
  World w;
  MakeWorld(&w);
  Json body = {{"from", "2026-01-15"}, {"to", "2026-02-01"}, {"timezone", "+08:00"}};
  auto spec = ParseKpisSpec(body, w.ctx);
  ASSERT_TRUE(spec.ok()) << spec.status().ToString();
  auto got = ComputeKpis(*spec, w.ctx);
  ASSERT_TRUE(got.ok()) << got.status().ToString();
  const int64_t from = spec->range.from_us, to = spec->range.to_us;

  // Per person: lifetime orders before `to`, and the first order (time, channel).
  std::map<uint32_t, int> orders;
  std::map<uint32_t, std::pair<int64_t, std::string>> first_order;
  for (const Event& e : w.events) {
    if (e.timestamp_us >= to || e.identity_key == 0 || e.name != "Order Completed") continue;
    const uint32_t p = w.person_of[e.identity_key];
    ++orders[p];
    const auto key = std::make_pair(e.timestamp_us, e.channel.empty() ? "(none)" : e.channel);
    if (!first_order.count(p) || key < first_order[p]) first_order[p] = key;
  }
  std::map<std::string, RefGroup> groups;
  RefGroup total;
  for (const Event& e : w.events) {
    if (e.timestamp_us < from || e.timestamp_us >= to) continue;
    const std::string channel = e.channel.empty() ? "(none)" : e.channel;
    const uint32_t p = e.identity_key == 0 ? 0 : w.person_of[e.identity_key];
    for (RefGroup* g : {&groups[channel], &total}) {
      if (p != 0) g->reached.insert(p);
      if (e.name == "Order Completed") {
        ++g->conversions;
        g->revenue += e.revenue.value_or(0);
        if (p != 0) g->converting.insert(p);
      } else if (e.name == "NPS Survey Answered") {
        const int score = Json::parse(e.properties_json)["score"].get<int>();
        if (score < 0 || score > 10) {
          ++g->nps.invalid;
        } else {
          ++(score >= 9 ? g->nps.promoters : score >= 7 ? g->nps.passives : g->nps.detractors);
        }
      }
    }
  }
  for (const auto& [p, first] : first_order) {
    if (first.first < from) continue;
    ++groups[first.second].new_customers;
    ++total.new_customers;
  }

  auto check = [&](const RefGroup& want, const KpiMetrics& m, const std::string& what) {
    EXPECT_EQ(m.conversions, want.conversions) << what;
    EXPECT_NEAR(m.revenue, want.revenue, 1e-6) << what;
    EXPECT_EQ(m.persons_reached, static_cast<int64_t>(want.reached.size())) << what;
    EXPECT_EQ(m.converting_persons, static_cast<int64_t>(want.converting.size())) << what;
    EXPECT_EQ(m.new_customers, want.new_customers) << what;
    int64_t repeat = 0;
    for (uint32_t p : want.converting) repeat += orders[p] >= 2;
    EXPECT_EQ(m.repeat_customers, repeat) << what;
    EXPECT_EQ(m.nps.promoters, want.nps.promoters) << what;
    EXPECT_EQ(m.nps.passives, want.nps.passives) << what;
    EXPECT_EQ(m.nps.detractors, want.nps.detractors) << what;
    EXPECT_EQ(m.nps.invalid, want.nps.invalid) << what;
    EXPECT_FALSE(m.spend.has_value()) << what;  // no spend table in this context
  };
  ASSERT_EQ(got->rows.size(), groups.size());
  size_t i = 0;
  for (const auto& [channel, want] : groups) {  // std::map: sorted as the rows are
    EXPECT_EQ(got->rows[i].channel, channel);
    check(want, got->rows[i].metrics, channel);
    ++i;
  }
  check(total, got->total, "total");
  EXPECT_GT(total.nps.responses(), 0);
  EXPECT_GT(total.new_customers, 0);
  EXPECT_GT(total.nps.invalid, 0);
  // LTV: each new customer's first touch (a journey event with a channel;
  // ties go to the smaller name) and first-order month.
  std::map<uint32_t, std::pair<int64_t, std::string>> first_touch;
  std::map<uint32_t, double> revenue_to_date;
  for (const Event& e : w.events) {
    if (e.timestamp_us >= to || e.identity_key == 0) continue;
    const uint32_t p = w.person_of[e.identity_key];
    if (e.name == "Order Completed") revenue_to_date[p] += e.revenue.value_or(0);
    if (e.channel.empty()) continue;
    const auto key = std::make_pair(e.timestamp_us, e.channel);
    if (!first_touch.count(p) || key < first_touch[p]) first_touch[p] = key;
  }
  std::map<std::pair<std::string, std::string>, std::pair<int64_t, double>> ltv;
  for (const auto& [p, first] : first_order) {
    if (first.first < from) continue;
    const std::string channel = first_touch.count(p) ? first_touch[p].second : "(none)";
    auto& cell =
        ltv[{channel, BucketLabel(BucketOf(first.first, Granularity::kMonth, spec->timezone),
                                  Granularity::kMonth)}];
    ++cell.first;
    cell.second += revenue_to_date[p];
  }
  ASSERT_EQ(got->ltv.size(), ltv.size());
  size_t k = 0;
  for (const auto& [key, cell] : ltv) {
    const LtvRow& r = got->ltv[k++];
    EXPECT_EQ(r.acquisition_channel, key.first);
    EXPECT_EQ(r.cohort, key.second);
    EXPECT_EQ(r.customers, cell.first) << key.first << " " << key.second;
    EXPECT_NEAR(r.revenue, cell.second, 1e-6) << key.first << " " << key.second;
  }
}

TEST(Kpis, WithoutSpendTableSpendMetricsAreNull) {
  World w;
  MakeWorld(&w);
  auto answer = RunQuery("kpis", {{"from", "2026-01-15"}, {"to", "2026-02-01"}}, w.ctx);
  ASSERT_TRUE(answer.ok()) << answer.status().ToString();
  for (const char* key : {"impressions", "clicks", "ctr", "spend", "cpc", "cpa", "roas", "cac"}) {
    EXPECT_TRUE((*answer)["total"][key].is_null()) << key;
    EXPECT_TRUE((*answer)["rows"][0][key].is_null()) << key;
  }
  EXPECT_TRUE((*answer)["total"]["revenue"].is_number());
  EXPECT_TRUE((*answer)["nps"]["nps"].is_number()) << (*answer)["nps"].dump();
}

TEST(Kpis, RequestErrorsNameTheField) {
  World w;
  MakeWorld(&w);
  struct Case {
    Json body;
    std::string error;
  };
  const Json range = {{"from", "2026-01-15"}, {"to", "2026-02-01"}};
  std::vector<Case> cases = {
      {{{"group_by", {"channel", "channel"}}}, "group_by[1]: \"channel\" is named twice"},
      {{{"group_by", Json::array()}}, "group_by must be a non-empty array"},
      {{{"group_by", "channel"}}, "group_by must be a non-empty array"},
      {{{"conversion_event", "NPS Survey Answered"}}, "conversion_event and nps_event must differ"},
      {{{"cohort_period", "year"}}, "cohort_period must be"},
      {{{"nps_property", 3}}, "nps_property must be a non-empty string"},
  };
  for (auto& c : cases) {
    c.body.update(range);
    auto spec = ParseKpisSpec(c.body, w.ctx);
    ASSERT_FALSE(spec.ok()) << c.body.dump();
    EXPECT_NE(spec.status().message().find(c.error), std::string::npos)
        << c.body.dump() << ": " << spec.status().message();
  }
}

}  // namespace
}  // namespace quanyu::query
