// Trends beyond the golden files: PersonSet against std::set through all of
// its forms, and ComputeTrends on a random store (several segments plus
// buffered rows, merged identities, a non-UTC time zone) against a
// brute-force reference written from docs/metrics.md.
#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <random>
#include <set>

#include "common/dense_array.h"
#include "query/trends.h"
#include "store/event_store.h"
#include "test_util.h"

namespace quanyu::query {
namespace {

using ::quanyu::testing::TempDir;

TEST(PersonSet, MatchesStdSetInListAndBitsetForm) {
  std::mt19937 rng(7);
  for (int trial = 0; trial < 60; ++trial) {
    // Small universes turn into bitsets quickly; large ones stay lists.
    const uint32_t universe = trial % 3 == 0 ? 100 : trial % 3 == 1 ? 5000 : 10'000'000;
    PersonSet a, b;
    std::set<uint32_t> ra, rb;
    const int na = static_cast<int>(rng() % 4000), nb = static_cast<int>(rng() % 4000);
    for (int i = 0; i < na; ++i) {
      const uint32_t id = rng() % universe;
      a.Add(id);
      ra.insert(id);
    }
    for (int i = 0; i < nb; ++i) {
      const uint32_t id = rng() % (trial % 2 ? universe : 64);
      b.Add(id);
      rb.insert(id);
    }
    ASSERT_EQ(a.Count(), ra.size()) << "trial " << trial;
    ASSERT_EQ(b.Count(), rb.size()) << "trial " << trial;
    a.AddAll(b);
    ra.insert(rb.begin(), rb.end());
    std::vector<uint32_t> got;
    a.ForEach([&](uint32_t id) { got.push_back(id); });
    ASSERT_EQ(got, std::vector<uint32_t>(ra.begin(), ra.end())) << "trial " << trial;
    ASSERT_EQ(a.Count(), ra.size());
    // Adding after a Count keeps working in either form.
    a.Add(universe + 5);
    EXPECT_EQ(a.Count(), ra.size() + 1);
  }
}

TEST(PersonSet, EmptySet) {
  PersonSet s;
  EXPECT_EQ(s.Count(), 0u);
  int calls = 0;
  s.ForEach([&](uint32_t) { ++calls; });
  EXPECT_EQ(calls, 0);
}

struct RandomWorld {
  TempDir dir;
  std::unique_ptr<store::EventStore> store;
  DenseArray<uint32_t> one_ids;
  std::vector<Event> events;
  std::map<uint32_t, uint32_t> person_of;  // key -> one_id
};

// 20,000 events over 10 days from 400 keys (some merged, some events without
// any identifier); 60% in segments of 997 rows, the rest buffered.
void MakeWorld(RandomWorld* w) {
  std::mt19937 rng(42);
  const char* names[] = {"Landing", "Product Viewed", "Order Completed"};
  const char* channels[] = {"douyin", "wechat", "", "weibo", "xiaohongshu", "bilibili"};
  const int64_t start = 1'767'225'600'000'000;  // 2026-01-01T00:00:00Z
  for (int i = 0; i < 20'000; ++i) {
    Event e;
    e.timestamp_us =
        start + static_cast<int64_t>((uint64_t{rng()} << 32 | rng()) % (10ull * 86'400'000'000ull));
    e.name = names[rng() % 3];
    e.channel = channels[rng() % 6];
    e.source = "web";
    e.identity_key = rng() % 10 == 0 ? 0 : 1 + rng() % 400;
    if (rng() % 10 < 7) e.revenue = static_cast<double>(rng() % 10000) / 100;
    switch (rng() % 3) {
      case 0:
        e.properties_json = "{\"price\":" + std::to_string(rng() % 500) + ".5}";
        break;
      case 1:
        e.properties_json = "{\"price\":\"n/a\"}";
        break;
      default:
        e.properties_json = "{}";
    }
    w->events.push_back(std::move(e));
  }
  std::sort(w->events.begin(), w->events.end(),
            [](const Event& a, const Event& b) { return a.timestamp_us < b.timestamp_us; });
  store::StoreOptions opt;
  opt.dir = w->dir / "events";
  opt.max_segment_rows = 997;
  auto s = store::EventStore::Open(opt);
  ASSERT_TRUE(s.ok());
  w->store = std::move(*s);
  const size_t cut = w->events.size() * 6 / 10;
  w->store->Add({w->events.begin(), w->events.begin() + cut}, 1);
  ASSERT_TRUE(w->store->Flush().ok());
  w->store->Add({w->events.begin() + cut, w->events.end()}, 2);
  for (uint32_t k = 1; k <= 400; ++k) {
    const uint32_t p = k % 7 == 0 ? k - 1 : k;  // every 7th key merged into the previous one
    w->one_ids.Set(k, p);
    w->person_of[k] = p;
  }
}

// The reference: one accumulator per (series, breakdown value, bucket).
struct RefCell {
  int64_t events = 0;
  double sum = 0;
  std::set<uint32_t> persons;
};

double RefValue(TrendsMeasure m, const RefCell& c, bool* null) {
  *null = false;
  switch (m) {
    case TrendsMeasure::kCount:
      return static_cast<double>(c.events);
    case TrendsMeasure::kPersons:
      return static_cast<double>(c.persons.size());
    case TrendsMeasure::kSum:
      return c.sum;
    case TrendsMeasure::kAvg:
      *null = c.events == 0;
      return c.events == 0 ? 0 : c.sum / static_cast<double>(c.events);
  }
  return 0;
}

void ExpectValues(TrendsMeasure m, const std::vector<RefCell>& buckets, const RefCell& total,
                  const TrendsValues& got, const std::string& what) {
  ASSERT_EQ(got.values.size(), buckets.size()) << what;
  for (size_t b = 0; b <= buckets.size(); ++b) {
    const RefCell& c = b < buckets.size() ? buckets[b] : total;
    const std::optional<double>& v = b < buckets.size() ? got.values[b] : got.total;
    bool null = false;
    const double want = RefValue(m, c, &null);
    ASSERT_EQ(!v.has_value(), null) << what << " bucket " << b;
    if (v) {
      EXPECT_NEAR(*v, want, 1e-6 * std::max(1.0, std::fabs(want))) << what << " bucket " << b;
    }
  }
}

void Merge(const RefCell& from, RefCell* to) {
  to->events += from.events;
  to->sum += from.sum;
  to->persons.insert(from.persons.begin(), from.persons.end());
}

TEST(Trends, RandomStoreMatchesBruteForce) {
  RandomWorld w;
  MakeWorld(&w);
  QueryContext ctx;
  ctx.store = w.store.get();
  ctx.one_ids = &w.one_ids;
  for (const char* interval : {"day", "week", "day-no-breakdown"}) {
    const bool with_breakdown = std::string(interval) != "day-no-breakdown";
    Json body = {{"from", "2026-01-02T05:00:00Z"},
                 {"to", "2026-01-09T17:00:00Z"},
                 {"timezone", "Asia/Shanghai"},
                 {"interval", with_breakdown ? interval : "day"},
                 {"breakdown", "channel"},
                 {"breakdown_limit", 3},
                 {"series",
                  {{{"event", "Landing"}},
                   {{"event", "Order Completed"}, {"measure", "persons"}},
                   {{"event", "Order Completed"}, {"measure", "sum"}, {"property", "revenue"}},
                   {{"event", "$any"},
                    {"measure", "avg"},
                    {"property", "price"},
                    {"where", {{{"property", "channel"}, {"op", "!="}, {"value", "wechat"}}}}},
                   {{"event", "$any"}, {"measure", "persons"}}}}};
    if (!with_breakdown) body.erase("breakdown");
    auto spec = ParseTrendsSpec(body, ctx);
    ASSERT_TRUE(spec.ok()) << spec.status().ToString();
    auto got = ComputeTrends(*spec, ctx);
    ASSERT_TRUE(got.ok()) << got.status().ToString();

    const int64_t first = BucketOf(spec->range.from_us, spec->interval, spec->timezone);
    const size_t n = got->buckets.size();
    ASSERT_EQ(n, static_cast<size_t>(
                     BucketOf(spec->range.to_us - 1, spec->interval, spec->timezone) - first + 1));
    for (size_t s = 0; s < spec->series.size(); ++s) {
      const TrendsSeriesSpec& ss = spec->series[s];
      std::vector<RefCell> all(n);
      RefCell all_total;
      std::map<std::string, std::pair<std::vector<RefCell>, RefCell>> by_value;
      for (const Event& e : w.events) {
        if (e.timestamp_us < spec->range.from_us || e.timestamp_us >= spec->range.to_us) continue;
        if (ss.event != "$any" && e.name != ss.event) continue;
        if (s == 3 && e.channel == "wechat") continue;
        double x = 0;
        if (ss.measure == TrendsMeasure::kSum) {
          if (!e.revenue) continue;
          x = *e.revenue;
        }
        if (ss.measure == TrendsMeasure::kAvg) {
          Json props = Json::parse(e.properties_json);
          if (!props.contains("price") || !props["price"].is_number()) continue;
          x = props["price"].get<double>();
        }
        const uint32_t person = e.identity_key == 0 ? 0 : w.person_of[e.identity_key];
        if (ss.measure == TrendsMeasure::kPersons && person == 0) continue;
        const auto b =
            static_cast<size_t>(BucketOf(e.timestamp_us, spec->interval, spec->timezone) - first);
        auto& v = by_value[e.channel.empty() ? "(none)" : e.channel];
        if (v.first.empty()) v.first.resize(n);
        for (RefCell* c : {&all[b], &all_total, &v.first[b], &v.second}) {
          ++c->events;
          c->sum += x;
          if (person != 0) c->persons.insert(person);
        }
      }
      const std::string what = std::string(interval) + " series " + std::to_string(s);
      ExpectValues(ss.measure, all, all_total, got->series[s].values, what);
      if (!with_breakdown) {
        EXPECT_TRUE(got->series[s].breakdown.empty());
        continue;
      }

      // Rank the values as documented, then fold all but the top 3 into "(other)".
      std::vector<std::pair<double, std::string>> ranked;
      for (auto& [value, cells] : by_value) {
        bool null = false;
        const double weight = ss.measure == TrendsMeasure::kAvg
                                  ? static_cast<double>(cells.second.events)
                                  : RefValue(ss.measure, cells.second, &null);
        ranked.push_back({-weight, value});
      }
      std::sort(ranked.begin(), ranked.end());
      const auto& breakdown = got->series[s].breakdown;
      ASSERT_EQ(breakdown.size(), std::min<size_t>(ranked.size(), 4)) << what;
      std::vector<RefCell> other(n);
      RefCell other_total;
      for (size_t i = 0; i < ranked.size(); ++i) {
        auto& cells = by_value[ranked[i].second];
        if (i < 3) {
          EXPECT_EQ(breakdown[i].value, ranked[i].second) << what;
          ExpectValues(ss.measure, cells.first, cells.second, breakdown[i].values,
                       what + " " + ranked[i].second);
        } else {
          for (size_t b = 0; b < n; ++b) Merge(cells.first[b], &other[b]);
          Merge(cells.second, &other_total);
        }
      }
      if (ranked.size() > 3) {
        EXPECT_EQ(breakdown[3].value, "(other)");
        ExpectValues(ss.measure, other, other_total, breakdown[3].values, what + " (other)");
      }
    }
  }
}

// A breakdown by an id-like property keeps at most kMaxTrendsBreakdownValues
// values; events with values met later still count, in "(other)".
TEST(Trends, BreakdownValuesBeyondTheCapGoToOther) {
  TempDir dir;
  store::StoreOptions opt;
  opt.dir = dir / "events";
  auto s = store::EventStore::Open(opt);
  ASSERT_TRUE(s.ok());
  const int n = static_cast<int>(kMaxTrendsBreakdownValues) + 50;
  std::vector<Event> events;
  for (int i = 0; i < n; ++i) {
    Event e;
    e.timestamp_us = 1'767'225'600'000'000 + i;
    e.name = "Product Viewed";
    e.identity_key = 1 + static_cast<uint32_t>(i % 100);
    e.properties_json = "{\"sku\":\"s" + std::to_string(i) + "\"}";
    events.push_back(std::move(e));
  }
  (*s)->Add(events, 1);
  DenseArray<uint32_t> one_ids;
  for (uint32_t k = 1; k <= 100; ++k) one_ids.Set(k, k);
  QueryContext ctx;
  ctx.store = s->get();
  ctx.one_ids = &one_ids;
  Json body = {
      {"from", "2026-01-01"},
      {"to", "2026-01-02"},
      {"breakdown", "sku"},
      {"breakdown_limit", 1000},
      {"series",
       {{{"event", "Product Viewed"}}, {{"event", "Product Viewed"}, {"measure", "persons"}}}}};
  auto spec = ParseTrendsSpec(body, ctx);
  ASSERT_TRUE(spec.ok()) << spec.status().ToString();
  auto got = ComputeTrends(*spec, ctx);
  ASSERT_TRUE(got.ok()) << got.status().ToString();
  for (const auto& series : got->series) {
    ASSERT_EQ(series.breakdown.size(), 1001u);
    EXPECT_EQ(series.breakdown.back().value, "(other)");
  }
  EXPECT_EQ(*got->series[0].values.total, n);
  EXPECT_EQ(*got->series[0].breakdown.back().values.total, n - 1000);
  EXPECT_EQ(*got->series[1].values.total, 100);
  EXPECT_EQ(*got->series[1].breakdown.back().values.total, 100);  // everyone has other skus too
}

TEST(Trends, TooManyBucketsIsRejected) {
  TempDir dir;
  store::StoreOptions opt;
  opt.dir = dir / "events";
  auto s = store::EventStore::Open(opt);
  ASSERT_TRUE(s.ok());
  DenseArray<uint32_t> one_ids;
  QueryContext ctx;
  ctx.store = s->get();
  ctx.one_ids = &one_ids;
  Json body = {{"from", "2000-01-01"}, {"to", "2026-01-01"}, {"series", {{{"event", "$any"}}}}};
  auto spec = ParseTrendsSpec(body, ctx);
  ASSERT_FALSE(spec.ok());
  EXPECT_NE(spec.status().message().find("use a coarser interval"), std::string::npos);
  body["interval"] = "month";
  EXPECT_TRUE(ParseTrendsSpec(body, ctx).ok());
  body["series"] = Json::array();
  for (int i = 0; i < 21; ++i) body["series"].push_back({{"event", "$any"}});
  EXPECT_FALSE(ParseTrendsSpec(body, ctx).ok());
}

}  // namespace
}  // namespace quanyu::query
