// Unit tests of the funnel (src/query/funnel.h): the per-person walk
// against brute-force references written from the definitions in
// docs/metrics.md (every chain of distinct events for the default and
// strict-increase modes; one simulated attempt per step-1 event for the
// strict modes), on random tiny inputs with many simultaneous events; then
// ComputeFunnel over a real store against the same references, and request
// parsing. The golden files (tests/golden/query/funnel_*.test) hold the
// hand-worked cases.
#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <random>

#include "common/dense_array.h"
#include "query/funnel.h"
#include "store/event_store.h"
#include "test_util.h"

namespace quanyu::query {
namespace {

using ::quanyu::testing::TempDir;

// ---- References -------------------------------------------------------------------

// Per level k (index k-1): the first chain that reached it — earliest
// step-k time, then latest step-1 time.
struct Reference {
  int level = 0;
  std::vector<std::pair<int64_t, int64_t>> best;  // (reach, start) per level reached

  void Record(int k, int64_t reach, int64_t start) {
    if (static_cast<int>(best.size()) < k) best.resize(k, {INT64_MAX, INT64_MIN});
    auto& b = best[k - 1];
    if (reach < b.first || (reach == b.first && start > b.second)) b = {reach, start};
    level = std::max(level, k);
  }
};

bool Matches(const FunnelEvent& e, int step) { return (e.steps >> (step - 1) & 1) != 0; }

// Default / strict increase: every chain of distinct events e1..ek matching
// steps 1..k at non-decreasing (strictly increasing) times within the window.
void Chains(const std::vector<FunnelEvent>& ev, int steps, int64_t window, bool increase,
            std::vector<char>* used, int k, int64_t start, int64_t last, Reference* ref) {
  if (k == steps) return;
  for (size_t i = 0; i < ev.size(); ++i) {
    if ((*used)[i] || !Matches(ev[i], k + 1)) continue;
    const int64_t t = ev[i].ts;
    const int64_t s = k == 0 ? t : start;
    if (k > 0 && (increase ? t <= last : t < last)) continue;
    if (t - s > window) continue;
    ref->Record(k + 1, t, s);
    (*used)[i] = 1;
    Chains(ev, steps, window, increase, used, k + 1, s, t, ref);
    (*used)[i] = 0;
  }
}

// Strict order / deduplication: simultaneous events in the canonical order
// (earliest matched step first, then step set; no step last); each step-1
// event starts an attempt that takes the following events one by one.
Reference Attempts(std::vector<FunnelEvent> ev, int steps, int64_t window, FunnelMode mode) {
  std::stable_sort(ev.begin(), ev.end(), [](const FunnelEvent& a, const FunnelEvent& b) {
    auto key = [](const FunnelEvent& e) {
      int lowest = 32;
      for (int k = 31; k >= 0; --k) {
        if (e.steps >> k & 1) lowest = k;
      }
      return std::make_tuple(e.ts, lowest, e.steps);
    };
    return key(a) < key(b);
  });
  Reference ref;
  for (size_t i = 0; i < ev.size(); ++i) {
    if (!Matches(ev[i], 1)) continue;
    const int64_t start = ev[i].ts;
    int level = 1;
    ref.Record(1, start, start);
    for (size_t j = i + 1; j < ev.size(); ++j) {
      const FunnelEvent& e = ev[j];
      if (level < steps && Matches(e, level + 1) && e.ts - start <= window) {
        ref.Record(++level, e.ts, start);
      } else if (mode == FunnelMode::kStrictOrder || Matches(e, level)) {
        break;
      }
    }
  }
  return ref;
}

Reference ReferenceWalk(const std::vector<FunnelEvent>& ev, int steps, int64_t window,
                        FunnelMode mode) {
  if (mode == FunnelMode::kStrictOrder || mode == FunnelMode::kStrictDeduplication) {
    return Attempts(ev, steps, window, mode);
  }
  Reference ref;
  std::vector<char> used(ev.size(), 0);
  Chains(ev, steps, window, mode == FunnelMode::kStrictIncrease, &used, 0, 0, 0, &ref);
  return ref;
}

void ExpectSame(const FunnelWalk& w, const Reference& ref, const std::string& what) {
  ASSERT_EQ(w.level, ref.level) << what;
  for (int k = 1; k <= ref.level; ++k) {
    EXPECT_EQ(w.convert_us[k - 1], ref.best[k - 1].first - ref.best[k - 1].second)
        << what << " step " << k;
  }
  if (ref.level > 0) {
    EXPECT_EQ(w.start_us, ref.best[ref.level - 1].second) << what;
  }
}

std::string Describe(const std::vector<FunnelEvent>& ev, int steps, int64_t window) {
  std::string s = "steps=" + std::to_string(steps) + " window=" + std::to_string(window) + ":";
  for (const auto& e : ev) s += " (" + std::to_string(e.ts) + "," + std::to_string(e.steps) + ")";
  return s;
}

constexpr FunnelMode kModes[] = {FunnelMode::kDefault, FunnelMode::kStrictOrder,
                                 FunnelMode::kStrictDeduplication, FunnelMode::kStrictIncrease};

// Random tiny persons: few distinct timestamps (many ties), events matching
// several steps, events matching none.
TEST(FunnelWalker, MatchesBruteForceOnRandomPersons) {
  std::mt19937_64 rng(7);
  for (int round = 0; round < 20000; ++round) {
    const int steps = 1 + static_cast<int>(rng() % 4);
    const int n = static_cast<int>(rng() % 9);
    const int64_t window = std::vector<int64_t>{0, 1, 2, 3, 100}[rng() % 5];
    std::vector<FunnelEvent> ev(n);
    for (auto& e : ev) {
      e.ts = static_cast<int64_t>(rng() % 5);
      for (int k = 0; k < steps; ++k) {
        if (rng() % 100 < 35) e.steps |= 1u << k;
      }
    }
    std::stable_sort(ev.begin(), ev.end(),
                     [](const FunnelEvent& a, const FunnelEvent& b) { return a.ts < b.ts; });
    for (FunnelMode mode : kModes) {
      FunnelWalker walker(steps, window, mode);
      const Reference ref = ReferenceWalk(ev, steps, window, mode);
      const std::string what = "mode " + std::to_string(static_cast<int>(mode)) + " " +
                               Describe(ev, steps, window);
      ExpectSame(walker.Walk(ev), ref, what);
      // Simultaneous events in another order give the same walk.
      std::vector<FunnelEvent> shuffled = ev;
      for (size_t i = 0; i < shuffled.size();) {
        size_t j = i;
        while (j < shuffled.size() && shuffled[j].ts == shuffled[i].ts) ++j;
        std::shuffle(shuffled.begin() + i, shuffled.begin() + j, rng);
        i = j;
      }
      ExpectSame(walker.Walk(shuffled), ref, what + " (shuffled)");
      if (HasFailure()) return;
    }
  }
}

// The walker is reused across persons: nothing leaks from one to the next.
TEST(FunnelWalker, ResetsBetweenPersons) {
  FunnelWalker walker(2, 10, FunnelMode::kDefault);
  std::vector<FunnelEvent> converts = {{0, 1, 0}, {5, 2, 0}};
  std::vector<FunnelEvent> starts_only = {{100, 1, 0}};
  EXPECT_EQ(walker.Walk(converts).level, 2);
  EXPECT_EQ(walker.Walk(starts_only).level, 1);
  EXPECT_EQ(walker.Walk({}).level, 0);
}

// Many simultaneous events (a bulk import): the matching stays exact.
TEST(FunnelWalker, LargeSimultaneousGroup) {
  const int steps = 5;
  std::vector<FunnelEvent> ev;
  for (int i = 0; i < 300; ++i) ev.push_back({42, 1u << (i % 2), 0});  // steps 1 and 2 only
  ev.push_back({42, 1u << 2, 0});                                       // one step 3
  FunnelWalker walker(steps, 0, FunnelMode::kDefault);
  EXPECT_EQ(walker.Walk(ev).level, 3);
  ev.push_back({42, 0b11000, 0});  // matches steps 4 and 5, fills one of them
  EXPECT_EQ(walker.Walk(ev).level, 4);
}

// ---- ComputeFunnel over a store ---------------------------------------------------

const char* const kNames[] = {"A", "B", "C", "D", "X"};
const char* const kChannels[] = {"", "douyin", "wechat", "xiaohongshu"};

struct RandomWorld {
  std::vector<Event> events;
  DenseArray<uint32_t> one_ids;
};

// 300 keys over 200 persons (some keys merged), events within a few hours.
void MakeWorld(uint64_t seed, RandomWorld* w) {
  std::mt19937_64 rng(seed);
  for (uint32_t key = 1; key <= 300; ++key) {
    w->one_ids.Set(key, key <= 200 ? key : 1 + static_cast<uint32_t>(rng() % 200));
    const int n = static_cast<int>(rng() % 8);
    for (int i = 0; i < n; ++i) {
      Event e;
      e.timestamp_us = 1'767'225'600'000'000 + static_cast<int64_t>(rng() % 12) * 600'000'000;
      e.received_us = e.timestamp_us;
      e.name = kNames[rng() % 5];
      e.channel = kChannels[rng() % 4];
      e.source = "web";
      e.identity_key = key;
      e.message_id = std::to_string(key) + "-" + std::to_string(i);
      w->events.push_back(std::move(e));
    }
  }
}

TEST(ComputeFunnel, MatchesReferencePerPerson) {
  RandomWorld world;
  MakeWorld(11, &world);
  TempDir dir;
  store::StoreOptions opt;
  opt.dir = dir / "events";
  opt.max_segment_rows = 64;
  auto st = store::EventStore::Open(opt);
  ASSERT_TRUE(st.ok());
  const size_t half = world.events.size() / 2;
  (*st)->Add({world.events.begin(), world.events.begin() + half}, 1);
  ASSERT_TRUE((*st)->Flush().ok());
  (*st)->Add({world.events.begin() + half, world.events.end()}, 2);
  QueryContext ctx;
  ctx.store = st->get();
  ctx.one_ids = &world.one_ids;

  for (FunnelMode mode : kModes) {
    for (int64_t window_min : {0, 20, 60}) {
      FunnelSpec spec;
      spec.range = {1'767'225'600'000'000, 1'767'225'600'000'000 + 86'400'000'000};
      spec.window_us = window_min * 60'000'000;
      spec.mode = mode;
      spec.steps = {{"A", {}}, {"B", {}}, {"A", {}}, {"C", {}}};
      spec.collect_persons = true;
      spec.breakdown = FunnelBreakdown::kField;
      spec.breakdown_field = FieldNamed("channel");
      auto result = ComputeFunnel(spec, ctx);
      ASSERT_TRUE(result.ok()) << result.status().ToString();

      // The reference: group events by one_id, every event kept (strict
      // order needs the others as interruptions).
      std::map<uint32_t, std::vector<std::pair<FunnelEvent, std::string>>> persons;
      for (const Event& e : world.events) {
        FunnelEvent fe{e.timestamp_us, 0, 0};
        for (size_t k = 0; k < spec.steps.size(); ++k) {
          if (spec.steps[k].event == e.name) fe.steps |= 1u << k;
        }
        persons[world.one_ids.Get(e.identity_key)].push_back({fe, e.channel});
      }
      std::vector<FunnelPerson> want;
      std::vector<int64_t> reached(4, 0);
      std::map<std::string, int64_t> step1_by_channel;
      for (auto& [one_id, list] : persons) {
        std::vector<FunnelEvent> ev;
        for (auto& [fe, ch] : list) ev.push_back(fe);
        std::stable_sort(ev.begin(), ev.end(),
                         [](const FunnelEvent& a, const FunnelEvent& b) { return a.ts < b.ts; });
        const Reference ref = ReferenceWalk(ev, 4, spec.window_us, mode);
        if (ref.level == 0) continue;
        want.push_back({one_id, ref.level});
        for (int k = 0; k < ref.level; ++k) ++reached[k];
        // The breakdown value: smallest channel among step-1 events at the start.
        std::string value;
        bool found = false;
        for (auto& [fe, ch] : list) {
          if (fe.ts != ref.best[ref.level - 1].second || !(fe.steps & 1)) continue;
          const std::string label = ch.empty() ? "(none)" : ch;
          if (!found || label < value) value = label;
          found = true;
        }
        ++step1_by_channel[value];
      }
      const std::string what = "mode " + std::to_string(static_cast<int>(mode)) + " window " +
                               std::to_string(window_min);
      ASSERT_EQ(result->persons.size(), want.size()) << what;
      for (size_t i = 0; i < want.size(); ++i) {
        EXPECT_EQ(result->persons[i].one_id, want[i].one_id) << what;
        EXPECT_EQ(result->persons[i].level, want[i].level) << what << " one_id " << want[i].one_id;
      }
      for (int k = 0; k < 4; ++k) EXPECT_EQ(result->steps[k].persons, reached[k]) << what;
      std::map<std::string, int64_t> got;
      for (const auto& row : result->breakdown) got[row.value] = row.steps[0].persons;
      EXPECT_EQ(got, step1_by_channel) << what;
    }
  }
}

// A breakdown answers the 100 largest values; the rest are one "(other)" group.
TEST(ComputeFunnel, BreakdownKeepsTheLargestValues) {
  TempDir dir;
  store::StoreOptions opt;
  opt.dir = dir / "events";
  auto st = store::EventStore::Open(opt);
  ASSERT_TRUE(st.ok());
  DenseArray<uint32_t> one_ids;
  std::vector<Event> events;
  uint32_t key = 0;
  auto person = [&](const std::string& plan) {
    Event e;
    e.timestamp_us = 1'767'225'600'000'000;
    e.received_us = e.timestamp_us;
    e.name = "A";
    e.identity_key = ++key;
    e.properties_json = R"({"plan": ")" + plan + R"("})";
    one_ids.Set(key, key);
    events.push_back(e);
  };
  for (int v = 0; v < 105; ++v) {
    char name[8];
    std::snprintf(name, sizeof name, "v%03d", v);
    person(name);
    if (v == 104) {  // the largest group, 3 persons
      person(name);
      person(name);
    }
  }
  (*st)->Add(events, 1);
  QueryContext ctx;
  ctx.store = st->get();
  ctx.one_ids = &one_ids;
  FunnelSpec spec;
  spec.range = {1'767'225'600'000'000, 1'767'225'600'000'000 + 1'000'000};
  spec.steps = {{"A", {}}};
  spec.breakdown = FunnelBreakdown::kField;
  spec.breakdown_field = FieldNamed("plan");
  auto got = ComputeFunnel(spec, ctx);
  ASSERT_TRUE(got.ok()) << got.status().ToString();
  EXPECT_EQ(got->steps[0].persons, 107);
  ASSERT_EQ(got->breakdown.size(), kMaxBreakdownValues + 1);
  EXPECT_EQ(got->breakdown[0].value, "v104");
  EXPECT_EQ(got->breakdown[0].steps[0].persons, 3);
  EXPECT_EQ(got->breakdown[1].value, "v000");  // ties by value
  EXPECT_EQ(got->breakdown[99].value, "v098");
  EXPECT_EQ(got->breakdown[100].value, "(other)");  // v099 .. v103
  EXPECT_EQ(got->breakdown[100].steps[0].persons, 5);
}

// ---- Parsing ----------------------------------------------------------------------

Result<FunnelSpec> Parse(const std::string& body) {
  QueryContext ctx;  // no catalog: names are not checked
  return ParseFunnelSpec(Json::parse(body), ctx);
}

TEST(ParseFunnelSpec, Defaults) {
  auto spec = Parse(R"({"from": "2026-01-01T00:00:00Z", "to": "2026-01-02T00:00:00Z",
                        "steps": [{"event": "A"}, {"event": "B", "where": [{"property": "revenue", "op": ">", "value": 1}]}]})");
  ASSERT_TRUE(spec.ok()) << spec.status().ToString();
  EXPECT_EQ(spec->window_us, 7LL * 86400 * 1000000);
  EXPECT_EQ(spec->mode, FunnelMode::kDefault);
  EXPECT_EQ(spec->breakdown, FunnelBreakdown::kNone);
  ASSERT_EQ(spec->steps.size(), 2u);
  EXPECT_EQ(spec->steps[1].where.size(), 1u);
}

TEST(ParseFunnelSpec, BreakdownKinds) {
  const std::string range = R"("from": "2026-01-01", "to": "2026-01-02", "steps": [{"event": "A"}])";
  auto channel = Parse("{" + range + R"(, "breakdown": "channel"})");
  ASSERT_TRUE(channel.ok());
  EXPECT_EQ(channel->breakdown, FunnelBreakdown::kField);
  EXPECT_EQ(channel->breakdown_field.kind, FieldKind::kDictionary);
  auto first = Parse("{" + range + R"(, "breakdown": "first_touch_channel"})");
  ASSERT_TRUE(first.ok());
  EXPECT_EQ(first->breakdown, FunnelBreakdown::kFirstTouchChannel);
  auto prop = Parse("{" + range + R"(, "breakdown": "properties.plan", "mode": "strict_increase"})");
  ASSERT_TRUE(prop.ok());
  EXPECT_EQ(prop->breakdown_field.kind, FieldKind::kProperty);
  EXPECT_EQ(prop->breakdown_field.path, "plan");
  EXPECT_EQ(prop->mode, FunnelMode::kStrictIncrease);
}

TEST(ParseFunnelSpec, Errors) {
  const std::string range = R"("from": "2026-01-01", "to": "2026-01-02")";
  struct Case {
    std::string body, message;
  };
  const Case cases[] = {
      {"{" + range + "}", "steps is required"},
      {"{" + range + R"(, "steps": {"event": "A"}})", "steps is required"},
      {"{" + range + R"(, "steps": ["A"]})", "steps[0] must be an object"},
      {"{" + range + R"(, "steps": [{"event": "A"}, {}]})", "steps[1].event must be a non-empty"},
      {"{" + range + R"(, "steps": [{"event": ""}]})", "steps[0].event must be a non-empty"},
      {"{" + range + R"(, "steps": [{"event": "A", "where": {}}]})", "steps[0].where must be an array"},
      {"{" + range + R"(, "steps": [{"event": "A", "where": [{"property": "x", "op": "~"}]}]})",
       "steps[0].where[0].op"},
      {"{" + range + R"(, "steps": [{"event": "A"}], "window": 0})", "window must be positive"},
      {"{" + range + R"(, "steps": [{"event": "A"}], "breakdown": ""})", "breakdown must be"},
      {"{" + range + R"(, "steps": [{"event": "A"}], "timezone": "Europe/Paris"})", "timezone"},
      {R"({"from": "2026-01-01", "steps": [{"event": "A"}]})", "to is required"},
  };
  for (const auto& c : cases) {
    auto spec = Parse(c.body);
    ASSERT_FALSE(spec.ok()) << c.body;
    EXPECT_EQ(spec.status().code(), StatusCode::kInvalidArgument) << c.body;
    EXPECT_NE(spec.status().message().find(c.message), std::string::npos)
        << c.body << " -> " << spec.status().message();
  }
}

TEST(FunnelToJson, StepOneHasNoTimesAndRatiosAreOverStepOne) {
  FunnelResult r;
  r.steps = {{"A", 4, std::nullopt, std::nullopt}, {"B", 3, 1.5, 2.0}, {"C", 0, std::nullopt, std::nullopt}};
  Json j = ToJson(r);
  EXPECT_FALSE(j.contains("breakdown"));
  EXPECT_EQ(j["steps"][0]["conversion_from_previous"], 1.0);
  EXPECT_TRUE(j["steps"][0]["median_seconds_to_convert"].is_null());
  EXPECT_EQ(j["steps"][1]["conversion_from_start"], 0.75);
  EXPECT_EQ(j["steps"][1]["drop_off"], 1);
  EXPECT_EQ(j["steps"][1]["p90_seconds_to_convert"], 2.0);
  EXPECT_EQ(j["steps"][2]["conversion_from_previous"], 0.0);
  EXPECT_EQ(j["steps"][2]["drop_off"], 3);
}

}  // namespace
}  // namespace quanyu::query
