// RFM scoring (src/audience/rfm.h, docs/rfm.md).
//
// The CDNOW sample is scored by ScoreRfm and by an independent computation
// written here (sorted copies searched with lower_bound, scores found by
// stepping up quintile bounds, segments from a literal table), and the
// customers GatherRfmCustomers reads from a real store holding the same
// purchases are compared with the ones read from the file. Hand-made cases
// pin the tie rule, tiny populations and empty input.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <fstream>
#include <functional>
#include <map>
#include <random>
#include <set>
#include <sstream>

#include "audience/rfm.h"
#include "common/dense_array.h"
#include "common/time_util.h"
#include "store/event_store.h"
#include "test_util.h"

namespace quanyu::audience {
namespace {

using ::quanyu::testing::TempDir;

constexpr char kCdnowPath[] = QUANYU_SOURCE_DIR "/../shared/data/cdnow/CDNOW_sample.txt";
constexpr int64_t kDay = kMicrosPerDay;
// Analysis on 1998-07-01T00:00Z, the day after the last purchase, over 547
// days: the window (1996-12-31, 1998-07-01] holds the whole file.
constexpr int64_t kWindow = 547 * kDay;

int64_t At(const std::string& date) {
  auto t = ParseTimestamp(date);
  EXPECT_TRUE(t.ok()) << date;
  return t.ok() ? *t : 0;
}

struct Purchase {
  uint32_t customer = 0;
  int64_t time_us = 0;  // midnight UTC of the purchase day
  double dollars = 0;
};

std::vector<Purchase> ReadCdnow() {
  std::ifstream in(kCdnowPath);
  EXPECT_TRUE(in.good()) << kCdnowPath;
  std::vector<Purchase> out;
  std::string line;
  while (std::getline(in, line)) {
    std::istringstream fields(line);
    std::string id, ignored, date;
    double units = 0, dollars = 0;
    if (!(fields >> id >> ignored >> date >> units >> dollars)) continue;
    Purchase p;
    p.customer = static_cast<uint32_t>(std::stoul(id));
    p.time_us = At(date.substr(0, 4) + "-" + date.substr(4, 2) + "-" + date.substr(6, 2));
    p.dollars = dollars;
    out.push_back(p);
  }
  return out;
}

// Customers of the purchases with from < time <= to, sorted by id.
std::vector<RfmCustomer> CustomersOf(const std::vector<Purchase>& purchases, int64_t from,
                                     int64_t to) {
  std::map<uint32_t, RfmCustomer> by_id;
  for (const Purchase& p : purchases) {
    if (p.time_us <= from || p.time_us > to) continue;
    RfmCustomer& c = by_id[p.customer];
    c.one_id = p.customer;
    c.last_order_us = std::max(c.last_order_us, p.time_us);
    c.orders += 1;
    c.monetary += p.dollars;
  }
  std::vector<RfmCustomer> out;
  out.reserve(by_id.size());
  for (const auto& [id, c] : by_id) out.push_back(c);
  return out;
}

// ---- The independent computation -----------------------------------------

// The quintile score of a customer with `below` of n customers strictly
// below it: the highest k in 1..5 whose lower bound (k - 1) * n / 5 the
// count reaches.
int StepScore(size_t below, size_t n) {
  int k = 1;
  while (k < 5 && static_cast<size_t>(k) * n <= 5 * below) ++k;
  return k;
}

// #values strictly smaller than v (ascending sorted copy).
size_t Below(const std::vector<double>& ascending, double v) {
  return std::lower_bound(ascending.begin(), ascending.end(), v) - ascending.begin();
}

// #values strictly larger than v (descending sorted copy).
size_t Above(const std::vector<double>& descending, double v) {
  return std::lower_bound(descending.begin(), descending.end(), v, std::greater<double>()) -
         descending.begin();
}

// The grid as docs/rfm.md writes it: rows R = 5 down to 1, columns F = 1..5.
const char* const kGridAsDocumented[5][5] = {
    {"New Customers", "Potential Loyalist", "Potential Loyalist", "Champions", "Champions"},
    {"Promising", "Potential Loyalist", "Potential Loyalist", "Loyal", "Loyal"},
    {"About to Sleep", "About to Sleep", "Need Attention", "Loyal", "Loyal"},
    {"Hibernating", "Hibernating", "At Risk", "At Risk", "Can't Lose Them"},
    {"Lost", "Hibernating", "At Risk", "At Risk", "Can't Lose Them"},
};

std::string DocumentedSegment(int r, int f) { return kGridAsDocumented[5 - r][f - 1]; }

struct Expected {
  double recency_days;
  int r, f, m;
  std::string segment;
};

std::map<uint32_t, Expected> ExpectedScores(const std::vector<RfmCustomer>& customers,
                                            int64_t analysis) {
  std::vector<double> recency, frequency, monetary;
  for (const RfmCustomer& c : customers) {
    recency.push_back(static_cast<double>(analysis - c.last_order_us) / 86400e6);
    frequency.push_back(static_cast<double>(c.orders));
    monetary.push_back(c.monetary);
  }
  const std::vector<double> recency_desc = [&] {
    auto v = recency;
    std::sort(v.begin(), v.end(), std::greater<double>());
    return v;
  }();
  auto ascending = [](std::vector<double> v) {
    std::sort(v.begin(), v.end());
    return v;
  };
  const std::vector<double> frequency_asc = ascending(frequency),
                            monetary_asc = ascending(monetary);
  const size_t n = customers.size();
  std::map<uint32_t, Expected> out;
  for (size_t i = 0; i < n; ++i) {
    Expected e;
    e.recency_days = recency[i];
    e.r = StepScore(Above(recency_desc, recency[i]), n);
    e.f = StepScore(Below(frequency_asc, frequency[i]), n);
    e.m = StepScore(Below(monetary_asc, monetary[i]), n);
    e.segment = DocumentedSegment(e.r, e.f);
    out[customers[i].one_id] = e;
  }
  return out;
}

bool Implies(bool premise, bool conclusion) { return !premise || conclusion; }

// ---- CDNOW -------------------------------------------------------------------

TEST(RfmCdnow, ScoresMatchIndependentComputation) {
  const std::vector<Purchase> purchases = ReadCdnow();
  ASSERT_EQ(purchases.size(), 6919u);
  const int64_t analysis = At("1998-07-01");
  const std::vector<RfmCustomer> customers = CustomersOf(purchases, analysis - kWindow, analysis);
  ASSERT_EQ(customers.size(), 2357u);

  const std::vector<RfmScore> scores = ScoreRfm(customers, analysis);
  const std::map<uint32_t, Expected> expected = ExpectedScores(customers, analysis);
  ASSERT_EQ(scores.size(), customers.size());
  std::map<std::string, int> per_segment;
  for (size_t i = 0; i < scores.size(); ++i) {
    const RfmScore& s = scores[i];
    if (i > 0) {
      EXPECT_LT(scores[i - 1].one_id, s.one_id) << "not sorted by one_id";
    }
    const Expected& e = expected.at(s.one_id);
    EXPECT_EQ(s.r, e.r) << "customer " << s.one_id;
    EXPECT_EQ(s.f, e.f) << "customer " << s.one_id;
    EXPECT_EQ(s.m, e.m) << "customer " << s.one_id;
    EXPECT_EQ(s.segment, e.segment) << "customer " << s.one_id;
    EXPECT_DOUBLE_EQ(s.recency_days, e.recency_days) << "customer " << s.one_id;
    ++per_segment[std::string(s.segment)];
  }
  int total = 0;
  const auto& names = RfmSegmentNames();
  for (const auto& [name, count] : per_segment) {
    EXPECT_NE(std::find(names.begin(), names.end(), name), names.end()) << name;
    total += count;
  }
  EXPECT_EQ(total, 2357);
  // Pinned sizes (docs/rfm.md), first computed by a separate script: every
  // first purchase is in 1997 Q1, so no recent buyer has a single order.
  const std::map<std::string, int> want_sizes = {
      {"Lost", 457},           {"Champions", 414},     {"Hibernating", 403},
      {"About to Sleep", 345}, {"Loyal", 315},         {"Potential Loyalist", 246},
      {"At Risk", 90},         {"Need Attention", 84}, {"Can't Lose Them", 3},
  };
  EXPECT_EQ(per_segment, want_sizes);
}

TEST(RfmCdnow, SanityFacts) {
  const std::vector<Purchase> purchases = ReadCdnow();
  const int64_t analysis = At("1998-07-01");
  const std::vector<RfmCustomer> customers = CustomersOf(purchases, analysis - kWindow, analysis);
  const std::vector<RfmScore> scores = ScoreRfm(customers, analysis);
  ASSERT_EQ(scores.size(), 2357u);

  int64_t max_orders = 0;
  double max_money = 0;
  for (const RfmScore& s : scores) {
    max_orders = std::max(max_orders, s.frequency);
    max_money = std::max(max_money, s.monetary);
  }
  int m_counts[6] = {};
  for (const RfmScore& s : scores) {
    EXPECT_TRUE(Implies(s.recency_days == 1.0, s.r == 5)) << s.one_id << " bought on the last day";
    EXPECT_TRUE(Implies(s.frequency == 1, s.f == 1)) << s.one_id << " bought once";
    EXPECT_TRUE(Implies(s.frequency == max_orders, s.f == 5)) << s.one_id;
    EXPECT_TRUE(Implies(s.monetary == max_money, s.m == 5)) << s.one_id;
    EXPECT_TRUE(Implies(s.r == 5 && s.f >= 4, s.segment == "Champions")) << s.one_id;
    ++m_counts[s.m];
  }
  // Spend has few ties, so each M quintile holds about a fifth.
  for (int k = 1; k <= 5; ++k) {
    EXPECT_GT(m_counts[k], 2357 * 15 / 100) << "M=" << k;
    EXPECT_LT(m_counts[k], 2357 * 25 / 100) << "M=" << k;
  }

  // Customer 4 by hand: 1997-01-01 29.33, 01-18 29.73, 08-02 14.96,
  // 12-12 26.48; 201 days from 1997-12-12 to 1998-07-01.
  auto four = std::find_if(scores.begin(), scores.end(), [](auto& s) { return s.one_id == 4; });
  ASSERT_NE(four, scores.end());
  EXPECT_DOUBLE_EQ(four->recency_days, 201.0);
  EXPECT_EQ(four->frequency, 4);
  EXPECT_NEAR(four->monetary, 100.50, 1e-9);
  EXPECT_EQ(four->r * 100 + four->f * 10 + four->m, 444);
  EXPECT_EQ(four->segment, "Loyal");
  const Json j = ToJson(*four);
  EXPECT_EQ(j.at("one_id"), 4);
  EXPECT_EQ(j.at("recency_days"), 201.0);
  EXPECT_EQ(j.at("monetary"), 100.5);
  EXPECT_EQ(j.at("score"),
            std::to_string(four->r) + std::to_string(four->f) + std::to_string(four->m));
  EXPECT_EQ(j.at("segment"), std::string(four->segment));
  EXPECT_EQ(j.size(), 9u);
}

// ---- GatherRfmCustomers over a real store ------------------------------------

Event OrderEvent(uint32_t key, int64_t t, double dollars, const std::string& name, int n) {
  Event e;
  e.timestamp_us = t;
  e.received_us = t;
  e.name = name;
  e.message_id = "cdnow-" + std::to_string(n);
  e.source = "cdnow";
  e.revenue = dollars;
  e.properties_json = Json{{"amount", dollars}}.dump();
  e.identity_key = key;
  return e;
}

void ExpectSameCustomers(const std::vector<RfmCustomer>& got,
                         const std::vector<RfmCustomer>& want) {
  ASSERT_EQ(got.size(), want.size());
  for (size_t i = 0; i < got.size(); ++i) {
    EXPECT_EQ(got[i].one_id, want[i].one_id) << i;
    EXPECT_EQ(got[i].last_order_us, want[i].last_order_us) << got[i].one_id;
    EXPECT_EQ(got[i].orders, want[i].orders) << got[i].one_id;
    EXPECT_NEAR(got[i].monetary, want[i].monetary, 1e-6) << got[i].one_id;
  }
}

TEST(RfmGather, StoreMatchesFile) {
  const std::vector<Purchase> purchases = ReadCdnow();
  const int64_t analysis = At("1998-07-01");
  TempDir dir;
  store::StoreOptions opt;
  opt.dir = dir / "events";
  opt.max_segment_rows = 1000;
  auto store = store::EventStore::Open(opt);
  ASSERT_TRUE(store.ok()) << store.status().ToString();

  std::vector<Event> events;
  events.reserve(purchases.size() + 6);
  int n = 0;
  for (const Purchase& p : purchases) {
    events.push_back(OrderEvent(p.customer, p.time_us, p.dollars, "Order Completed", ++n));
  }
  // Noise that must not count: another event name, an order without
  // identity, orders just outside the window on either side.
  events.push_back(OrderEvent(4, At("1998-06-30"), 1000, "Product Viewed", ++n));
  events.push_back(OrderEvent(0, At("1998-06-30"), 1000, "Order Completed", ++n));
  events.push_back(OrderEvent(4, analysis + 1, 1000, "Order Completed", ++n));
  events.push_back(OrderEvent(30001, analysis - kWindow, 1000, "Order Completed", ++n));
  // On the inclusive upper edge; key 40000 was merged into the same person.
  events.push_back(OrderEvent(30000, analysis, 7, "Order Completed", ++n));
  events.push_back(OrderEvent(40000, analysis - kDay, 5, "Order Completed", ++n));
  std::shuffle(events.begin(), events.end(), std::mt19937(7));
  const size_t half = events.size() / 2;
  (*store)->Add(std::vector<Event>(events.begin(), events.begin() + half), 0);
  ASSERT_TRUE((*store)->Flush().ok());
  (*store)->Add(std::vector<Event>(events.begin() + half, events.end()), 0);  // buffered

  DenseArray<uint32_t> one_ids;
  for (const Event& e : events) {
    if (e.identity_key != 0) one_ids.Set(e.identity_key, e.identity_key);
  }
  one_ids.Set(40000, 30000);
  query::QueryContext ctx;
  ctx.store = store->get();
  ctx.one_ids = &one_ids;

  RfmOptions options;
  options.analysis_time_us = analysis;
  options.window_us = kWindow;
  auto got = GatherRfmCustomers(ctx, options);
  ASSERT_TRUE(got.ok()) << got.status().ToString();
  std::vector<RfmCustomer> want = CustomersOf(purchases, analysis - kWindow, analysis);
  want.push_back({30000, analysis, 2, 12});
  ExpectSameCustomers(*got, want);

  // The same sums read from a property of the events' JSON.
  options.monetary_property = "amount";
  got = GatherRfmCustomers(ctx, options);
  ASSERT_TRUE(got.ok()) << got.status().ToString();
  ExpectSameCustomers(*got, want);

  // A one-year window drops the customers who stopped buying before it.
  options.window_us = 365 * kDay;
  got = GatherRfmCustomers(ctx, options);
  ASSERT_TRUE(got.ok()) << got.status().ToString();
  want = CustomersOf(purchases, analysis - 365 * kDay, analysis);
  EXPECT_LT(want.size(), 2357u);
  want.push_back({30000, analysis, 2, 12});
  ExpectSameCustomers(*got, want);

  // An event name never collected: nobody.
  options.order_event = "Subscription Started";
  got = GatherRfmCustomers(ctx, options);
  ASSERT_TRUE(got.ok());
  EXPECT_TRUE(got->empty());

  options.order_event = "Order Completed";
  options.monetary_property = "channel";
  got = GatherRfmCustomers(ctx, options);
  ASSERT_FALSE(got.ok());
  EXPECT_EQ(got.status().code(), StatusCode::kInvalidArgument);
}

// ---- Ties, tiny populations, empty input -------------------------------------

RfmCustomer C(uint32_t id, int64_t last_day, int64_t orders, double money) {
  return {id, last_day * kDay, orders, money};
}

TEST(RfmScore, EmptyInput) { EXPECT_TRUE(ScoreRfm({}, 100 * kDay).empty()); }

TEST(RfmScore, TiesShareTheLowestScoreOfTheirRun) {
  // Orders 1 x6, 2 x2, 3, 10: strictly smaller counts 0, 6, 8, 9 of 10.
  std::vector<RfmCustomer> cs;
  const int64_t orders[] = {1, 1, 1, 1, 1, 1, 2, 2, 3, 10};
  for (uint32_t i = 0; i < 10; ++i) cs.push_back(C(i + 1, 50, orders[i], 20.0));
  const std::vector<RfmScore> s = ScoreRfm(cs, 100 * kDay);
  const int want_f[] = {1, 1, 1, 1, 1, 1, 4, 4, 5, 5};
  for (size_t i = 0; i < 10; ++i) {
    EXPECT_EQ(s[i].f, want_f[i]) << i;
    EXPECT_EQ(s[i].r, 1) << "everyone tied on recency";
    EXPECT_EQ(s[i].m, 1) << "everyone tied on spend";
    EXPECT_DOUBLE_EQ(s[i].recency_days, 50.0);
  }
  EXPECT_EQ(s[0].segment, "Lost");
  EXPECT_EQ(s[6].segment, "At Risk");
  EXPECT_EQ(s[9].segment, "Can't Lose Them");
}

TEST(RfmScore, FewerThanFiveCustomers) {
  const std::vector<RfmScore> one = ScoreRfm({C(9, 10, 3, 5.0)}, 20 * kDay);
  ASSERT_EQ(one.size(), 1u);
  EXPECT_EQ(one[0].r, 1);
  EXPECT_EQ(one[0].f, 1);
  EXPECT_EQ(one[0].m, 1);
  EXPECT_EQ(one[0].segment, "Lost");

  // Three distinct values: below counts 0, 1, 2 of 3 -> 1, 2, 4.
  const std::vector<RfmScore> three =
      ScoreRfm({C(3, 30, 1, 300.0), C(1, 10, 3, 100.0), C(2, 20, 2, 200.0)}, 40 * kDay);
  ASSERT_EQ(three.size(), 3u);
  const int want_r[] = {1, 2, 4}, want_f[] = {4, 2, 1}, want_m[] = {1, 2, 4};
  for (size_t i = 0; i < 3; ++i) {
    EXPECT_EQ(three[i].one_id, i + 1);
    EXPECT_EQ(three[i].r, want_r[i]) << i;
    EXPECT_EQ(three[i].f, want_f[i]) << i;
    EXPECT_EQ(three[i].m, want_m[i]) << i;
  }
  EXPECT_EQ(three[2].segment, "Promising");  // R=4, F=1
}

TEST(RfmScore, EqualValuesEqualScoresAndOrderInvariant) {
  std::mt19937 rng(42);
  std::vector<RfmCustomer> cs;
  for (uint32_t id = 1; id <= 500; ++id) {
    cs.push_back(C(id, rng() % 7, 1 + rng() % 4, static_cast<double>(rng() % 5) * 10));
  }
  const std::vector<RfmScore> s = ScoreRfm(cs, 10 * kDay);
  for (size_t a = 0; a < s.size(); ++a) {
    for (size_t b = 0; b < s.size(); ++b) {
      const RfmCustomer &ca = cs[a], &cb = cs[b];
      EXPECT_TRUE(Implies(ca.orders == cb.orders, s[a].f == s[b].f)) << a << " " << b;
      EXPECT_TRUE(Implies(ca.orders < cb.orders, s[a].f <= s[b].f)) << a << " " << b;
      EXPECT_TRUE(Implies(ca.monetary == cb.monetary, s[a].m == s[b].m)) << a << " " << b;
      EXPECT_TRUE(Implies(ca.monetary < cb.monetary, s[a].m <= s[b].m)) << a << " " << b;
      EXPECT_TRUE(Implies(ca.last_order_us == cb.last_order_us, s[a].r == s[b].r)) << a;
      EXPECT_TRUE(Implies(ca.last_order_us > cb.last_order_us, s[a].r >= s[b].r)) << a;
    }
  }
  std::vector<RfmCustomer> shuffled = cs;
  std::shuffle(shuffled.begin(), shuffled.end(), rng);
  const std::vector<RfmScore> again = ScoreRfm(shuffled, 10 * kDay);
  ASSERT_EQ(again.size(), s.size());
  for (size_t i = 0; i < s.size(); ++i) {
    EXPECT_EQ(again[i].one_id, s[i].one_id);
    EXPECT_EQ(again[i].r * 100 + again[i].f * 10 + again[i].m, s[i].r * 100 + s[i].f * 10 + s[i].m);
  }
}

TEST(RfmScore, NanSpendRanksLowest) {
  const std::vector<RfmScore> s =
      ScoreRfm({C(1, 1, 1, std::nan("")), C(2, 1, 1, -5.0), C(3, 1, 1, 0.0)}, 2 * kDay);
  EXPECT_EQ(s[0].m, 1);
  EXPECT_EQ(s[1].m, 2);
  EXPECT_EQ(s[2].m, 4);
}

// ---- Segments and options ----------------------------------------------------

TEST(RfmSegment, GridMatchesTableAndNames) {
  const auto& names = RfmSegmentNames();
  ASSERT_EQ(names.size(), 11u);
  EXPECT_EQ(names.front(), "Champions");
  EXPECT_EQ(names.back(), "Lost");
  std::set<std::string> used;
  for (int r = 1; r <= 5; ++r) {
    for (int f = 1; f <= 5; ++f) {
      const std::string want = DocumentedSegment(r, f);
      EXPECT_EQ(RfmSegmentOf(r, f), want) << r << f;
      used.insert(want);
    }
  }
  EXPECT_EQ(used, std::set<std::string>(names.begin(), names.end()));
  EXPECT_EQ(RfmSegmentOf(0, 3), "");
  EXPECT_EQ(RfmSegmentOf(3, 6), "");
}

TEST(RfmOptionsJson, RoundTripsAndRejectsBadOptions) {
  RfmOptions o;
  o.analysis_time_us = At("1998-07-01");
  o.window_us = kWindow;
  o.monetary_property = "amount";
  const Json j = ToJson(o);
  EXPECT_EQ(j.at("window"), "547d");
  EXPECT_EQ(j.at("analysis_time"), "1998-07-01T00:00:00.000Z");
  auto back = ParseRfmOptions(j, 0);
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  EXPECT_EQ(back->analysis_time_us, o.analysis_time_us);
  EXPECT_EQ(back->window_us, o.window_us);
  EXPECT_EQ(back->order_event, o.order_event);
  EXPECT_EQ(back->monetary_property, "amount");

  auto defaults = ParseRfmOptions(Json::object(), 5 * kDay);
  ASSERT_TRUE(defaults.ok());
  EXPECT_EQ(defaults->analysis_time_us, 5 * kDay);
  EXPECT_EQ(defaults->window_us, 365 * kDay);
  EXPECT_EQ(defaults->monetary_property, "revenue");

  for (const char* bad :
       {R"({})", R"({"analysis_time": "yesterday"})",
        R"({"analysis_time": "2026-01-01", "window": "-3d"})",
        R"({"analysis_time": "2026-01-01", "order_event": ""})",
        R"({"analysis_time": "2026-01-01", "order_event": 3})",
        R"({"analysis_time": "2026-01-01", "monetary_property": "channel"})", R"([])"}) {
    auto r = ParseRfmOptions(Json::parse(bad), 0);
    ASSERT_FALSE(r.ok()) << bad;
    EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument) << bad;
  }
}

}  // namespace
}  // namespace quanyu::audience
