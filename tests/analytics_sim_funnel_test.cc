// The funnel and retention queries on a simulated world agree with the
// simulator's ground truth (issue 4, "On sim data, funnel ... numbers agree
// with the simulator's ground truth").
//
// Events are stored with identity key = true person index + 1, read from
// each messageId ("sim-<seed>-<person>-<n>"), so the store's persons are
// exactly the simulator's: a perfect identity oracle. The expectations are
// computed here, independently of src/query, by plain per-person loops over
// the simulated events grouped by true person.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <map>
#include <mutex>
#include <set>

#include "common/dense_array.h"
#include "query/funnel.h"
#include "query/retention.h"
#include "sim/sim.h"
#include "store/event_store.h"
#include "test_util.h"

namespace quanyu::query {
namespace {

using ::quanyu::testing::TempDir;

constexpr int64_t kDay = 86'400'000'000;

uint32_t PersonKey(const std::string& message_id) {
  // sim-<seed>-<person>-<n>
  const size_t b = message_id.find('-', 4) + 1, e = message_id.rfind('-');
  return static_cast<uint32_t>(std::stoul(message_id.substr(b, e - b))) + 1;
}

class SimWorld : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    options_.persons = 2000;
    options_.days = 30;
    options_.seed = 4;
    std::mutex mu;
    auto sim = sim::RunSimulation(options_, [&](std::vector<Event>&& batch) {
      std::lock_guard l(mu);
      for (Event& e : batch) {
        e.identity_key = PersonKey(e.message_id);
        events_->push_back(std::move(e));
      }
      return Status::OK();
    });
    ASSERT_TRUE(sim.ok()) << sim.status().ToString();
    dir_ = new TempDir();
    store::StoreOptions opt;
    opt.dir = *dir_ / "events";
    auto st = store::EventStore::Open(opt);
    ASSERT_TRUE(st.ok());
    store_ = st->release();
    const size_t half = events_->size() / 2;
    store_->Add({events_->begin(), events_->begin() + half}, 1);
    ASSERT_TRUE(store_->Flush().ok());
    store_->Add({events_->begin() + half, events_->end()}, 2);
    for (uint32_t k = 1; k <= options_.persons; ++k) one_ids_->Set(k, k);
  }
  static void TearDownTestSuite() {
    delete store_;
    delete dir_;
  }

  static QueryContext Context() {
    QueryContext ctx;
    ctx.store = store_;
    ctx.one_ids = one_ids_;
    ctx.options.threads = 2;
    return ctx;
  }

  // The simulated events of each true person in [from, to), by time.
  static std::map<uint32_t, std::vector<const Event*>> ByPerson(int64_t from, int64_t to) {
    std::map<uint32_t, std::vector<const Event*>> out;
    for (const Event& e : *events_) {
      if (e.timestamp_us >= from && e.timestamp_us < to) out[e.identity_key].push_back(&e);
    }
    for (auto& [k, list] : out) {
      std::stable_sort(list.begin(), list.end(), [](const Event* a, const Event* b) {
        return a->timestamp_us < b->timestamp_us;
      });
    }
    return out;
  }

  static inline sim::SimOptions options_;
  static inline std::vector<Event>* events_ = new std::vector<Event>();
  static inline DenseArray<uint32_t>* one_ids_ = new DenseArray<uint32_t>();
  static inline TempDir* dir_ = nullptr;
  static inline store::EventStore* store_ = nullptr;
};

// Nearest rank, in seconds.
std::optional<double> NearestRank(std::vector<int64_t> us, double q) {
  if (us.empty()) return std::nullopt;
  std::sort(us.begin(), us.end());
  size_t rank = static_cast<size_t>(std::ceil(q * static_cast<double>(us.size())));
  rank = std::clamp<size_t>(rank, 1, us.size());
  return static_cast<double>(us[rank - 1]) / 1e6;
}

TEST_F(SimWorld, FunnelAgreesWithTruePersons) {
  const std::vector<std::string> names = {"Product Viewed", "Product Added", "Checkout Started",
                                          "Order Completed"};
  const int64_t window = 7 * kDay;
  const int64_t from = options_.start_us, to = options_.start_us + options_.days * kDay;

  // Per true person: from every Product Viewed, take the earliest next
  // event of each following step (same time allowed) within the window —
  // for a fixed start that reaches every step as early as possible. The
  // person's step k: the earliest such arrival, ties to the latest start.
  std::vector<int64_t> persons(4, 0);
  std::vector<std::vector<int64_t>> times(4);
  for (const auto& [key, list] : ByPerson(from, to)) {
    std::vector<std::pair<int64_t, int64_t>> best(4, {INT64_MAX, INT64_MIN});  // (reach, start)
    int level = 0;
    for (size_t i = 0; i < list.size(); ++i) {
      if (list[i]->name != names[0]) continue;
      const int64_t start = list[i]->timestamp_us;
      int64_t last = start;
      auto better = [&](int k, int64_t reach) {
        if (reach < best[k].first || (reach == best[k].first && start > best[k].second)) {
          best[k] = {reach, start};
        }
      };
      better(0, start);
      level = std::max(level, 1);
      for (int k = 1; k < 4; ++k) {
        // Steps have distinct names, so an event is never used twice; one
        // at the same time as the previous step (even stored before it) may
        // follow it.
        size_t j = 0;
        while (j < list.size() && list[j]->timestamp_us < last) ++j;
        bool found = false;
        for (; j < list.size() && list[j]->timestamp_us - start <= window; ++j) {
          if (list[j]->name == names[k]) {
            found = true;
            break;
          }
        }
        if (!found) break;
        last = list[j]->timestamp_us;
        better(k, last);
        level = std::max(level, k + 1);
      }
    }
    for (int k = 0; k < level; ++k) {
      ++persons[k];
      if (k > 0) times[k].push_back(best[k].first - best[k].second);
    }
  }
  ASSERT_GT(persons[3], 20) << "the sim world should have some orders";

  FunnelSpec spec;
  spec.range = {from, to};
  spec.window_us = window;
  for (const auto& n : names) spec.steps.push_back({n, {}});
  auto got = ComputeFunnel(spec, Context());
  ASSERT_TRUE(got.ok()) << got.status().ToString();
  for (int k = 0; k < 4; ++k) {
    EXPECT_EQ(got->steps[k].persons, persons[k]) << names[k];
    if (k == 0) continue;
    EXPECT_EQ(got->steps[k].median_seconds_to_convert, NearestRank(times[k], 0.5)) << names[k];
    EXPECT_EQ(got->steps[k].p90_seconds_to_convert, NearestRank(times[k], 0.9)) << names[k];
  }
}

// Weekly (Shanghai) retention of any activity, and daily retention of
// viewers coming back to order, against plain per-person loops.
TEST_F(SimWorld, RetentionAgreesWithTruePersons) {
  struct Case {
    std::string start, ret;
    Granularity g;
    int periods;
    RetentionMode mode;
    const char* zone;
  };
  const Case cases[] = {
      {"$any", "$any", Granularity::kWeek, 5, RetentionMode::kClassic, "Asia/Shanghai"},
      {"Product Viewed", "Order Completed", Granularity::kDay, 14, RetentionMode::kUnbounded, "UTC"},
      {"Order Completed", "Order Completed", Granularity::kWeek, 4, RetentionMode::kClassic, "UTC"},
  };
  for (const Case& c : cases) {
    RetentionSpec spec;
    spec.timezone = *TimeZoneNamed(c.zone);
    spec.range = {options_.start_us + kDay / 3, options_.start_us + options_.days * kDay};
    spec.start_event.event = c.start;
    spec.return_event.event = c.ret;
    spec.period = c.g;
    spec.periods = c.periods;
    spec.mode = c.mode;
    auto got = ComputeRetention(spec, Context());
    ASSERT_TRUE(got.ok()) << got.status().ToString();

    auto is = [](const std::string& want, const Event* e) { return want == "$any" || e->name == want; };
    const int64_t first = BucketOf(spec.range.from_us, c.g, spec.timezone);
    const int64_t last = BucketOf(spec.range.to_us - 1, c.g, spec.timezone);
    std::map<int64_t, int64_t> cohort_persons;
    std::map<std::pair<int64_t, int>, int64_t> kept;  // (cohort, n) -> persons
    for (const auto& [key, list] : ByPerson(spec.range.from_us, spec.range.to_us)) {
      auto s = std::find_if(list.begin(), list.end(), [&](const Event* e) { return is(c.start, e); });
      if (s == list.end()) continue;
      const int64_t cohort = BucketOf((*s)->timestamp_us, c.g, spec.timezone);
      ++cohort_persons[cohort];
      std::set<int> back;
      for (const Event* e : list) {
        if (!is(c.ret, e)) continue;
        const int64_t n = BucketOf(e->timestamp_us, c.g, spec.timezone) - cohort;
        if (n < 1) continue;
        if (c.mode == RetentionMode::kClassic) {
          back.insert(static_cast<int>(n));
        } else {
          for (int m = 1; m <= n; ++m) back.insert(m);
        }
      }
      for (int n : back) ++kept[{cohort, n}];
    }
    int64_t returns = 0;
    for (const auto& [cn, persons] : kept) returns += persons;
    EXPECT_GT(returns, 10) << c.start << ": the case should see persons come back";
    ASSERT_EQ(got->table.cohorts.size(), static_cast<size_t>(last - first + 1)) << c.start;
    for (int64_t b = first; b <= last; ++b) {
      const RetentionRow& row = got->table.cohorts[b - first];
      EXPECT_EQ(row.cohort, BucketLabel(b, c.g));
      EXPECT_EQ(row.persons, cohort_persons[b]) << c.start << " " << row.cohort;
      for (int n = 0; n < c.periods; ++n) {
        const bool observable = BucketStartUs(b + n, c.g, spec.timezone) < spec.range.to_us;
        if (!observable) {
          EXPECT_FALSE(row.retained[n].has_value()) << c.start << " " << row.cohort << " " << n;
          continue;
        }
        const int64_t want = n == 0 ? cohort_persons[b] : kept[{b, n}];
        EXPECT_EQ(row.retained[n], want) << c.start << " " << row.cohort << " period " << n;
      }
    }
  }
}

}  // namespace
}  // namespace quanyu::query
