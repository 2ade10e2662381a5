// Unit tests of retention (src/query/retention.h): ComputeRetention over a
// random store (merged keys, several time zones and granularities, both
// modes, a breakdown) against a brute-force table computed here from the
// definition in docs/metrics.md; and request parsing. The golden files
// (tests/golden/query/retention_*.test) hold the hand-worked cases.
#include <gtest/gtest.h>

#include <map>
#include <random>
#include <set>

#include "common/dense_array.h"
#include "query/retention.h"
#include "store/event_store.h"
#include "test_util.h"

namespace quanyu::query {
namespace {

using ::quanyu::testing::TempDir;

constexpr int64_t kDay = 86'400'000'000;
constexpr int64_t kJan1 = 1'767'225'600'000'000;  // 2026-01-01T00:00:00Z
const char* const kNames[] = {"Signed Up", "Order Completed", "Product Viewed"};
const char* const kChannels[] = {"", "douyin", "wechat"};

struct World {
  std::vector<Event> events;
  DenseArray<uint32_t> one_ids;
};

// 400 keys over 250 persons, events over 100 days (some before the ranges
// tested), at random times of day so that time zones move them.
void MakeWorld(World* w) {
  std::mt19937_64 rng(5);
  for (uint32_t key = 1; key <= 400; ++key) {
    w->one_ids.Set(key, key <= 250 ? key : 1 + static_cast<uint32_t>(rng() % 250));
    const int n = static_cast<int>(rng() % 10);
    for (int i = 0; i < n; ++i) {
      Event e;
      e.timestamp_us = kJan1 - 10 * kDay + static_cast<int64_t>(rng() % (100 * 24)) * 3'600'000'000;
      e.received_us = e.timestamp_us;
      e.name = kNames[rng() % 3];
      e.channel = kChannels[rng() % 3];
      e.source = "web";
      e.identity_key = key;
      w->events.push_back(std::move(e));
    }
  }
}

// The definition, plainly: per person the first start event in range, its
// cohort and channel; retained in period n >= 1 if a return event in range
// falls in cohort + n (classic) or in cohort + m for some m >= n
// (unbounded); a period is observable when it starts before `to`.
RetentionResult Reference(const World& w, const RetentionSpec& spec) {
  const auto& tz = spec.timezone;
  const Granularity g = spec.period;
  struct Person {
    int64_t first = INT64_MAX;
    std::string channel;
    std::set<int64_t> returns;  // buckets
  };
  std::map<uint32_t, Person> persons;
  auto matches = [](const std::string& want, const Event& e) {
    return want == kAnyEvent || want == e.name;
  };
  for (const Event& e : w.events) {
    if (e.timestamp_us < spec.range.from_us || e.timestamp_us >= spec.range.to_us) continue;
    Person& p = persons[w.one_ids.Get(e.identity_key)];
    if (matches(spec.start_event.event, e)) {
      const std::string label = e.channel.empty() ? "(none)" : e.channel;
      if (e.timestamp_us < p.first || (e.timestamp_us == p.first && label < p.channel)) {
        p.first = e.timestamp_us;
        p.channel = label;
      }
    }
    if (matches(spec.return_event.event, e)) p.returns.insert(BucketOf(e.timestamp_us, g, tz));
  }
  const int64_t first_bucket = BucketOf(spec.range.from_us, g, tz);
  const int64_t last_bucket = BucketOf(spec.range.to_us - 1, g, tz);
  std::map<std::string, std::vector<const Person*>> groups;
  for (const auto& [id, p] : persons) {
    if (p.first == INT64_MAX) continue;
    groups[""].push_back(&p);
    groups[p.channel].push_back(&p);
  }
  auto table = [&](const std::vector<const Person*>& members) {
    RetentionTable t;
    t.total.retained.assign(spec.periods, std::nullopt);
    t.total.observed_persons.assign(spec.periods, 0);
    for (int64_t c = first_bucket; c <= last_bucket; ++c) {
      RetentionRow row;
      row.cohort = BucketLabel(c, g);
      std::vector<const Person*> cohort;
      for (const Person* p : members) {
        if (BucketOf(p->first, g, tz) == c) cohort.push_back(p);
      }
      row.persons = static_cast<int64_t>(cohort.size());
      t.total.persons += row.persons;
      for (int n = 0; n < spec.periods; ++n) {
        if (n > 0 && BucketStartUs(c + n, g, tz) >= spec.range.to_us) {
          row.retained.push_back(std::nullopt);
          row.observed_persons.push_back(0);
          continue;
        }
        int64_t kept = 0;
        for (const Person* p : cohort) {
          bool in = n == 0;
          for (int64_t b : p->returns) {
            if (n > 0 && (spec.mode == RetentionMode::kClassic ? b == c + n : b >= c + n)) in = true;
          }
          kept += in;
        }
        row.retained.push_back(kept);
        row.observed_persons.push_back(row.persons);
        t.total.retained[n] = t.total.retained[n].value_or(0) + kept;
        t.total.observed_persons[n] += row.persons;
      }
      t.cohorts.push_back(std::move(row));
    }
    return t;
  };
  RetentionResult r;
  r.period = g;
  r.table = table(groups[""]);
  r.has_breakdown = spec.has_breakdown;
  if (spec.has_breakdown) {
    for (const auto& [value, members] : groups) {
      if (!value.empty()) r.breakdown.push_back({value, table(members)});
    }
    std::stable_sort(r.breakdown.begin(), r.breakdown.end(), [](const auto& a, const auto& b) {
      return a.table.total.persons > b.table.total.persons;
    });
  }
  return r;
}

TEST(ComputeRetention, MatchesReference) {
  World world;
  MakeWorld(&world);
  TempDir dir;
  store::StoreOptions opt;
  opt.dir = dir / "events";
  opt.max_segment_rows = 100;
  auto st = store::EventStore::Open(opt);
  ASSERT_TRUE(st.ok());
  const size_t half = world.events.size() / 2;
  (*st)->Add({world.events.begin(), world.events.begin() + half}, 1);
  ASSERT_TRUE((*st)->Flush().ok());
  (*st)->Add({world.events.begin() + half, world.events.end()}, 2);
  QueryContext ctx;
  ctx.store = st->get();
  ctx.one_ids = &world.one_ids;
  ctx.options.threads = 2;

  int cases = 0;
  for (const char* zone : {"UTC", "Asia/Shanghai", "-05:30"}) {
    for (Granularity g : {Granularity::kDay, Granularity::kWeek, Granularity::kMonth}) {
      for (RetentionMode mode : {RetentionMode::kClassic, RetentionMode::kUnbounded}) {
        for (const char* start : {"Signed Up", "$any"}) {
          RetentionSpec spec;
          spec.timezone = *TimeZoneNamed(zone);
          spec.range = {kJan1 + 3 * kDay + 5 * 3'600'000'000, kJan1 + 75 * kDay};
          spec.period = g;
          spec.periods = g == Granularity::kDay ? 20 : 6;
          spec.mode = mode;
          spec.start_event.event = start;
          spec.return_event.event = "Order Completed";
          spec.has_breakdown = true;
          spec.breakdown_field = FieldNamed("channel");
          auto got = ComputeRetention(spec, ctx);
          ASSERT_TRUE(got.ok()) << got.status().ToString();
          const std::string what = std::string(zone) + " " + std::string(GranularityName(g)) +
                                   " mode " + std::to_string(static_cast<int>(mode)) + " " + start;
          EXPECT_EQ(ToJson(*got), ToJson(Reference(world, spec))) << what;
          ++cases;
        }
      }
    }
  }
  EXPECT_EQ(cases, 36);

  // Ranges of more than 512 periods take two scans (cohorts first, then
  // returns relative to them); same answers.
  for (RetentionMode mode : {RetentionMode::kClassic, RetentionMode::kUnbounded}) {
    RetentionSpec spec;
    spec.timezone = *TimeZoneNamed("Asia/Shanghai");
    spec.range = {kJan1 - 500 * kDay, kJan1 + 95 * kDay};
    spec.period = Granularity::kDay;
    spec.periods = 70;
    spec.mode = mode;
    spec.start_event.event = "Signed Up";
    spec.return_event.event = "$any";
    spec.has_breakdown = true;
    spec.breakdown_field = FieldNamed("channel");
    auto got = ComputeRetention(spec, ctx);
    ASSERT_TRUE(got.ok()) << got.status().ToString();
    EXPECT_GT(got->table.cohorts.size(), 512u);
    EXPECT_EQ(ToJson(*got), ToJson(Reference(world, spec))) << "two passes, mode " << static_cast<int>(mode);
  }
}

// Tables beyond 50,000 cohorts x periods are refused (memory, answer size).
TEST(ComputeRetention, RefusesHugeTables) {
  TempDir dir;
  store::StoreOptions opt;
  opt.dir = dir / "events";
  auto st = store::EventStore::Open(opt);
  ASSERT_TRUE(st.ok());
  DenseArray<uint32_t> one_ids;
  QueryContext ctx;
  ctx.store = st->get();
  ctx.one_ids = &one_ids;
  RetentionSpec spec;
  spec.range = {kJan1, kJan1 + 3650 * kDay};  // ten years of days
  spec.period = Granularity::kDay;
  spec.periods = 14;
  spec.start_event.event = "$any";
  spec.return_event.event = "$any";
  auto got = ComputeRetention(spec, ctx);
  ASSERT_FALSE(got.ok());
  EXPECT_NE(got.status().message().find("3650 cohorts of 14 periods is too large a table"),
            std::string::npos)
      << got.status().message();
  spec.period = Granularity::kWeek;  // 522 cohorts x 14: fine
  EXPECT_TRUE(ComputeRetention(spec, ctx).ok());
}

Result<RetentionSpec> Parse(const std::string& body) {
  QueryContext ctx;
  ctx.options.timezone = *TimeZoneNamed("+08:00");
  return ParseRetentionSpec(Json::parse(body), ctx);
}

TEST(ParseRetentionSpec, DefaultsAndFallbackTimeZone) {
  auto spec = Parse(R"({"from": "2026-01-05", "to": "2026-03-02",
                        "start_event": {"event": "$any"}, "return_event": {"event": "Order Completed"}})");
  ASSERT_TRUE(spec.ok()) << spec.status().ToString();
  EXPECT_EQ(spec->period, Granularity::kWeek);
  EXPECT_EQ(spec->periods, 8);
  EXPECT_EQ(spec->mode, RetentionMode::kClassic);
  EXPECT_FALSE(spec->has_breakdown);
  EXPECT_EQ(spec->timezone.name, "+08:00");
  // A bare date is local midnight: 2026-01-05T00:00+08:00.
  EXPECT_EQ(spec->range.from_us, kJan1 + 4 * kDay - 8 * 3'600'000'000);
}

TEST(ParseRetentionSpec, Errors) {
  const std::string range = R"("from": "2026-01-01", "to": "2026-02-01")";
  const std::string events =
      R"("start_event": {"event": "A"}, "return_event": {"event": "B"})";
  struct Case {
    std::string body, message;
  };
  const Case cases[] = {
      {"{" + range + R"(, "return_event": {"event": "B"}})", "start_event is required"},
      {"{" + range + R"(, "start_event": {"event": "A"}})", "return_event is required"},
      {"{" + range + R"(, "start_event": "A", "return_event": {"event": "B"}})", "start_event is required"},
      {"{" + range + R"(, "start_event": {}, "return_event": {"event": "B"}})", "start_event.event must be"},
      {"{" + range + R"(, "start_event": {"event": "A", "where": 3}, "return_event": {"event": "B"}})",
       "start_event.where must be an array"},
      {"{" + range + ", " + events + R"(, "periods": 367})", "periods must be between 1 and 366 (got 367)"},
      {"{" + range + ", " + events + R"(, "periods": 2.5})", "periods must be an integer"},
      {"{" + range + ", " + events + R"(, "mode": "rolling"})", "mode must be one of \"classic\", \"unbounded\""},
      {"{" + range + ", " + events + R"(, "period": "year"})", "period must be"},
      {"{" + range + ", " + events + R"(, "breakdown": 3})", "breakdown must be a non-empty string"},
      {"{" + range + ", " + events + R"(, "breakdown": "first_touch_channel"})", "is a funnel breakdown"},
  };
  for (const auto& c : cases) {
    auto spec = Parse(c.body);
    ASSERT_FALSE(spec.ok()) << c.body;
    EXPECT_NE(spec.status().message().find(c.message), std::string::npos)
        << c.body << " -> " << spec.status().message();
  }
}

}  // namespace
}  // namespace quanyu::query
