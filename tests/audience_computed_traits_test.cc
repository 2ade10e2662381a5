// Computed traits (issue 5 item 3).
//
// Golden tests in tests/golden/audience/computed/*.test, hand-computed, each
// run three ways — every event buffered, every event in segments, half and
// half — which must all give the expected answer. File format (sections start
// with a line "== NAME"; "#" lines are comments):
//   == trait    the spec's JSON form (may span lines)
//   == now      the evaluation instant, RFC 3339
//   == events   one JSON object per line, as in tests/golden/query
//               (query_golden_test.cc): {"t", "key", "event", "channel",
//               "revenue", "value", "quantity", "properties", ...}; key k
//               resolves to one_id k unless merged
//   == merges   optional; lines "K P": key K resolves to one_id P
//   == options  optional; {"timezone": "+08:00"}
//   == expect   {"ONE_ID": value, ...}, or
//   == error    a substring of the expected InvalidArgument message
//
// Then a brute-force check: random events (fixed seed), every kind over
// several windows, filters and properties, against a direct computation
// over the event list, and on 1 and 3 threads with any split of the events
// between segments and the buffer.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <map>
#include <random>
#include <set>
#include <sstream>

#include "audience/computed_traits.h"
#include "common/dense_array.h"
#include "common/time_util.h"
#include "store/catalog.h"
#include "store/event_store.h"
#include "test_util.h"

namespace quanyu::audience {
namespace {

namespace fs = std::filesystem;
using Kind = ComputedTraitSpec::Kind;
using ::quanyu::testing::TempDir;

// ---- A store of hand-written events (adapted from query_golden_test.cc) ----

Event EventOf(const Json& j) {
  Event e;
  auto ts = ParseTimestamp(j.at("t").get<std::string>());
  EXPECT_TRUE(ts.ok()) << j.dump();
  e.timestamp_us = ts.ok() ? *ts : 0;
  e.received_us = e.timestamp_us;
  e.type = EventTypeFromName(j.value("type", "track")).value_or(EventType::kTrack);
  e.name = j.value("event", "");
  e.source = j.value("source", "web");
  e.channel = j.value("channel", "");
  e.campaign.name = j.value("campaign", "");
  if (j.contains("revenue")) e.revenue = j["revenue"].get<double>();
  if (j.contains("value")) e.value = j["value"].get<double>();
  if (j.contains("quantity")) e.quantity = j["quantity"].get<double>();
  e.properties_json = j.contains("properties") ? j["properties"].dump() : "{}";
  e.identity_key = j.value("key", 0u);
  return e;
}

store::EventCatalog CatalogOf(const std::vector<Event>& events) {
  store::EventCatalog cat;
  for (const Event& e : events) {
    auto& entry = cat.events[e.name];
    if (entry.count == 0 || e.timestamp_us < entry.first_us) entry.first_us = e.timestamp_us;
    if (entry.count == 0 || e.timestamp_us > entry.last_us) entry.last_us = e.timestamp_us;
    ++entry.count;
    Json props = Json::parse(e.properties_json);
    for (auto it = props.begin(); it != props.end(); ++it) entry.properties.insert(it.key());
  }
  return cat;
}

// The events in a store (the first flushed_percent % of them in segments,
// the rest buffered), keys resolved through `merges`.
struct World {
  TempDir dir;
  std::unique_ptr<store::EventStore> store;
  DenseArray<uint32_t> one_ids;
  store::EventCatalog catalog;
  query::QueryContext ctx;
};

std::unique_ptr<World> MakeWorld(const std::vector<Event>& events,
                                 const std::map<uint32_t, uint32_t>& merges, size_t flushed_percent,
                                 int threads) {
  auto w = std::make_unique<World>();
  store::StoreOptions opt;
  opt.dir = w->dir / "events";
  opt.max_segment_rows = 4;  // several segments even for tiny cases
  auto store = store::EventStore::Open(opt);
  EXPECT_TRUE(store.ok()) << store.status().ToString();
  w->store = std::move(*store);
  const size_t cut = events.size() * flushed_percent / 100;
  w->store->Add(std::vector<Event>(events.begin(), events.begin() + cut), 1);
  if (cut > 0) {
    EXPECT_TRUE(w->store->Flush().ok());
  }
  w->store->Add(std::vector<Event>(events.begin() + cut, events.end()), 2);
  for (const Event& e : events) {
    if (e.identity_key != 0) w->one_ids.Set(e.identity_key, e.identity_key);
  }
  for (const auto& [key, one_id] : merges) w->one_ids.Set(key, one_id);
  w->catalog = CatalogOf(events);
  w->ctx.store = w->store.get();
  w->ctx.one_ids = &w->one_ids;
  w->ctx.catalog = &w->catalog;
  w->ctx.options.threads = threads;
  return w;
}

// {"ONE_ID": value}; also checks the answer is sorted by one_id.
Json AsObject(const std::vector<PersonValue>& values) {
  Json out = Json::object();
  for (size_t i = 0; i < values.size(); ++i) {
    if (i > 0) {
      EXPECT_LT(values[i - 1].one_id, values[i].one_id) << "not sorted by one_id";
    }
    out[std::to_string(values[i].one_id)] = values[i].value;
  }
  return out;
}

// ---- Golden files ----

struct GoldenCase {
  std::string path;
  std::map<std::string, std::string> sections;  // name -> text without comments
};

GoldenCase ReadCase(const std::string& path) {
  GoldenCase c;
  c.path = path;
  std::ifstream in(path);
  std::string line, current;
  while (std::getline(in, line)) {
    if (line.rfind("== ", 0) == 0) {
      current = line.substr(3);
      c.sections[current];
    } else if (!current.empty() && line.rfind("#", 0) != 0 &&
               line.find_first_not_of(" \t\r") != std::string::npos) {
      c.sections[current] += line + "\n";
    }
  }
  return c;
}

std::vector<std::string> Lines(const std::string& text) {
  std::vector<std::string> out;
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line)) out.push_back(line);
  return out;
}

// The answer as JSON text, or "error: MESSAGE".
std::string RunCase(const GoldenCase& c, size_t flushed_percent) {
  std::vector<Event> events;
  if (c.sections.count("events")) {
    for (const auto& line : Lines(c.sections.at("events")))
      events.push_back(EventOf(Json::parse(line)));
  }
  std::map<uint32_t, uint32_t> merges;
  if (c.sections.count("merges")) {
    for (const auto& line : Lines(c.sections.at("merges"))) {
      std::istringstream in(line);
      uint32_t k = 0, p = 0;
      in >> k >> p;
      merges[k] = p;
    }
  }
  query::TimeZone tz;
  if (c.sections.count("options")) {
    auto named = query::TimeZoneNamed(
        Json::parse(c.sections.at("options")).at("timezone").get<std::string>());
    EXPECT_TRUE(named.ok());
    if (named.ok()) tz = *named;
  }
  auto now = ParseTimestamp(Lines(c.sections.at("now")).at(0));
  EXPECT_TRUE(now.ok()) << c.path << ": bad == now";
  auto world = MakeWorld(events, merges, flushed_percent, 2);
  auto spec = ParseComputedTrait(Json::parse(c.sections.at("trait")));
  if (!spec.ok()) return "error: " + spec.status().message();
  auto again = ParseComputedTrait(ComputedTraitToJson(*spec));
  EXPECT_TRUE(again.ok() && *again == *spec)
      << c.path << ": the JSON form does not round-trip: " << ComputedTraitToJson(*spec).dump();
  auto values = ComputeTrait(world->ctx, *spec, now.ok() ? *now : 0, tz);
  if (!values.ok()) return "error: " + values.status().message();
  return AsObject(*values).dump();
}

std::vector<std::string> GoldenFiles() {
  std::vector<std::string> files;
  for (const auto& entry :
       fs::directory_iterator(QUANYU_SOURCE_DIR "/tests/golden/audience/computed")) {
    if (entry.path().extension() == ".test") files.push_back(entry.path().string());
  }
  std::sort(files.begin(), files.end());
  return files;
}

class ComputedTraitGolden : public ::testing::TestWithParam<std::string> {};

TEST_P(ComputedTraitGolden, MatchesExpectation) {
  GoldenCase c = ReadCase(GetParam());
  ASSERT_TRUE(c.sections.count("trait") && c.sections.count("now"))
      << c.path << ": needs == trait and == now";
  ASSERT_NE(c.sections.count("expect") + c.sections.count("error"), 0u)
      << c.path << ": needs == expect or == error";
  const std::string buffered = RunCase(c, 0);
  EXPECT_EQ(RunCase(c, 100), buffered) << c.path << ": segments and buffer disagree";
  EXPECT_EQ(RunCase(c, 50), buffered) << c.path << ": half-flushed disagrees";
  if (c.sections.count("error")) {
    const std::string want = Lines(c.sections.at("error")).at(0);
    EXPECT_EQ(buffered.rfind("error: ", 0), 0u)
        << c.path << ": expected an error, got " << buffered;
    EXPECT_NE(buffered.find(want), std::string::npos) << c.path << ": error was " << buffered;
    return;
  }
  ASSERT_EQ(buffered.rfind("error: ", 0), std::string::npos) << c.path << ": " << buffered;
  EXPECT_EQ(Json::parse(buffered), Json::parse(c.sections.at("expect")))
      << c.path << "\nactual: " << buffered;
}

INSTANTIATE_TEST_SUITE_P(Files, ComputedTraitGolden, ::testing::ValuesIn(GoldenFiles()),
                         [](const auto& info) { return fs::path(info.param).stem().string(); });

TEST(ComputedTraitGoldenFiles, EveryKindHasAGolden) {
  std::set<std::string> kinds;
  for (const auto& path : GoldenFiles()) {
    GoldenCase c = ReadCase(path);
    if (!c.sections.count("expect")) continue;
    kinds.insert(Json::parse(c.sections.at("trait")).at("kind").get<std::string>());
  }
  for (const char* k : {"count", "sum", "avg", "min", "max", "most_frequent", "first", "last",
                        "unique_list", "unique_count"}) {
    EXPECT_TRUE(kinds.count(k)) << "no golden with an expectation for kind " << k;
  }
}

// ---- Spec JSON ----

TEST(ComputedTraitSpecJson, RoundTripsEveryField) {
  const Json j = Json::parse(R"({"name": "spend_q1", "kind": "avg", "event": "Order Completed",
      "where": [{"property": "channel", "op": "=", "value": "douyin"}],
      "property": "revenue", "between": ["2026-01-01", "2026-03-31"]})");
  auto s = ParseComputedTrait(j);
  ASSERT_TRUE(s.ok()) << s.status().ToString();
  EXPECT_EQ(s->kind, Kind::kAvg);
  EXPECT_EQ(s->window.kind, Window::kBetween);
  EXPECT_EQ(s->window.to_date, "2026-03-31");
  EXPECT_EQ(ComputedTraitToJson(*s), j);
  auto within = ParseComputedTrait(Json{{"name", "n"}, {"kind", "count"}, {"within", "36h"}});
  ASSERT_TRUE(within.ok());
  EXPECT_EQ(within->window.seconds, 36 * 3600);
  EXPECT_EQ(ComputedTraitToJson(*within)["within"], "36h");
}

TEST(ComputedTraitSpecJson, RejectsNonObjects) {
  EXPECT_FALSE(ParseComputedTrait(Json::array()).ok());
  auto s = ParseComputedTrait(Json{{"name", 7}, {"kind", "count"}});
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.status().message().find("name"), std::string::npos);
}

// ---- Brute force ----

// The value a trait reads from an event, computed straight from the event
// (not through the store): canonical JSON text, and the number if numeric.
struct RawValue {
  std::string text;
  std::optional<double> number;
};

std::optional<RawValue> RawValueOf(const Event& e, const std::string& property) {
  Json v;
  if (property == "revenue") {
    if (!e.revenue) return std::nullopt;
    v = *e.revenue;
  } else if (property == "channel") {
    if (e.channel.empty()) return std::nullopt;
    v = e.channel;
  } else {
    Json props = Json::parse(e.properties_json);
    if (!props.contains(property) || props[property].is_null()) return std::nullopt;
    v = props[property];
  }
  RawValue out;
  if (v.is_number()) {
    const double d = v.get<double>();
    out.number = d;
    out.text = d == std::floor(d) ? Json(static_cast<int64_t>(d)).dump() : Json(d).dump();
  } else {
    out.text = v.dump();
  }
  return out;
}

struct Row {
  uint32_t one_id;
  int64_t time_us;
  std::optional<RawValue> value;
};

// The trait of every person computed directly over `events`.
Json BruteForce(const std::vector<Event>& events, const std::map<uint32_t, uint32_t>& merges,
                const ComputedTraitSpec& spec, int64_t now_us) {
  std::map<uint32_t, std::vector<Row>> rows;
  for (const Event& e : events) {
    uint32_t one_id = e.identity_key;
    if (merges.count(one_id)) one_id = merges.at(one_id);
    if (one_id == 0) continue;
    if (spec.window.kind == Window::kLast &&
        (e.timestamp_us < now_us - spec.window.seconds * 1000000 || e.timestamp_us > now_us)) {
      continue;
    }
    if (!spec.event.empty() && e.name != spec.event) continue;
    if (!spec.where.empty() && e.channel != "web") continue;  // the one filter used below
    rows[one_id].push_back({one_id, e.timestamp_us,
                            spec.property.empty() ? std::nullopt : RawValueOf(e, spec.property)});
  }
  Json out = Json::object();
  for (auto& [one_id, all] : rows) {
    std::vector<double> numbers;
    std::vector<Row> valued;
    for (const Row& r : all) {
      if (r.value && r.value->number) numbers.push_back(*r.value->number);
      if (r.value) valued.push_back(r);
    }
    std::map<std::string, int> counts;
    for (const Row& r : valued) ++counts[r.value->text];
    const std::string id = std::to_string(one_id);
    auto by_time_text = [](const Row& a, const Row& b) {
      return std::tie(a.time_us, a.value->text) < std::tie(b.time_us, b.value->text);
    };
    switch (spec.kind) {
      case Kind::kCount:
        out[id] = all.size();
        break;
      case Kind::kSum:
      case Kind::kAvg: {
        if (numbers.empty()) break;
        double sum = 0;
        for (double d : numbers) sum += d;
        out[id] = spec.kind == Kind::kSum ? sum : sum / numbers.size();
        break;
      }
      case Kind::kMin:
      case Kind::kMax:
        if (numbers.empty()) break;
        out[id] = spec.kind == Kind::kMin ? *std::min_element(numbers.begin(), numbers.end())
                                          : *std::max_element(numbers.begin(), numbers.end());
        break;
      case Kind::kMostFrequent: {
        if (counts.empty()) break;
        auto best = counts.begin();
        for (auto it = counts.begin(); it != counts.end(); ++it) {
          if (it->second > best->second) best = it;
        }
        out[id] = Json::parse(best->first);
        break;
      }
      case Kind::kFirst:
      case Kind::kLast:
        if (valued.empty()) break;
        std::sort(valued.begin(), valued.end(), by_time_text);
        out[id] =
            Json::parse((spec.kind == Kind::kFirst ? valued.front() : valued.back()).value->text);
        break;
      case Kind::kUniqueList: {
        if (counts.empty()) break;
        Json list = Json::array();
        for (const auto& [text, n] : counts) {
          if (list.size() < kUniqueListLimit) list.push_back(Json::parse(text));
        }
        out[id] = list;
        break;
      }
      case Kind::kUniqueCount:
        if (!counts.empty()) out[id] = counts.size();
        break;
    }
  }
  return out;
}

// Equal, except sums and averages (added in another order) to 1e-9.
void ExpectSameValues(const Json& got, const Json& want, const std::string& what) {
  ASSERT_EQ(got.size(), want.size()) << what << "\ngot  " << got.dump() << "\nwant " << want.dump();
  for (auto it = want.begin(); it != want.end(); ++it) {
    ASSERT_TRUE(got.contains(it.key())) << what << ": person " << it.key() << " missing";
    const Json& g = got[it.key()];
    if (it->is_number_float() && g.is_number()) {
      EXPECT_NEAR(g.get<double>(), it->get<double>(),
                  1e-9 * std::max(1.0, std::fabs(it->get<double>())))
          << what << ": person " << it.key();
    } else {
      EXPECT_EQ(g, *it) << what << ": person " << it.key();
    }
  }
}

std::vector<Event> RandomEvents(uint32_t seed, size_t n, int64_t now_us) {
  std::mt19937 rng(seed);
  auto pick = [&rng](int k) { return static_cast<int>(rng() % k); };
  const char* names[] = {"Order Completed", "Product Viewed", "Signed Up"};
  const char* channels[] = {"web", "app", ""};
  std::vector<Event> events;
  for (size_t i = 0; i < n; ++i) {
    Event e;
    // 6-hour steps over 60 days (and a few after now): many equal times.
    e.timestamp_us = now_us - (pick(250) - 10) * 6 * 3600 * int64_t{1000000};
    e.received_us = e.timestamp_us;
    e.name = names[pick(3)];
    e.source = "web";
    e.channel = channels[pick(3)];
    if (pick(3) != 0) e.revenue = pick(4000) / 4.0 - 100;
    Json props = Json::object();
    if (pick(4) != 0) props["sku"] = "s" + std::to_string(pick(6));
    switch (pick(6)) {
      case 0:
        props["x"] = pick(5);
        break;
      case 1:
        props["x"] = std::uniform_real_distribution<double>(-50, 50)(rng);
        break;
      case 2:
        props["x"] = std::to_string(pick(3));
        break;
      case 3:
        props["x"] = pick(2) == 0;
        break;
      case 4:
        props["x"] = nullptr;
        break;
      default:
        break;  // no x
    }
    e.properties_json = props.dump();
    e.identity_key = static_cast<uint32_t>(pick(45));  // 0: no person
    events.push_back(std::move(e));
  }
  return events;
}

TEST(ComputedTraitBruteForce, EveryKindMatchesADirectComputation) {
  const int64_t now_us = *ParseTimestamp("2026-03-01T00:00:00Z");
  const std::vector<Event> events = RandomEvents(20260301, 1500, now_us);
  std::map<uint32_t, uint32_t> merges;
  for (uint32_t k = 31; k < 45; ++k) merges[k] = k - 30;  // keys 31.. join persons 1..
  auto reference = MakeWorld(events, merges, 0, 2);
  std::vector<std::unique_ptr<World>> others;
  others.push_back(MakeWorld(events, merges, 100, 1));
  others.push_back(MakeWorld(events, merges, 37, 3));
  int checked = 0;
  for (const auto& [kind, kind_name] :
       std::vector<std::pair<Kind, std::string>>{{Kind::kCount, "count"},
                                                 {Kind::kSum, "sum"},
                                                 {Kind::kAvg, "avg"},
                                                 {Kind::kMin, "min"},
                                                 {Kind::kMax, "max"},
                                                 {Kind::kMostFrequent, "mf"},
                                                 {Kind::kFirst, "first"},
                                                 {Kind::kLast, "last"},
                                                 {Kind::kUniqueList, "ul"},
                                                 {Kind::kUniqueCount, "uc"}}) {
    for (const std::string property : {"revenue", "x", "sku", "channel"}) {
      const bool numeric =
          kind == Kind::kSum || kind == Kind::kAvg || kind == Kind::kMin || kind == Kind::kMax;
      if (numeric && (property == "sku" || property == "channel")) continue;
      if (kind == Kind::kCount && property != "revenue") continue;
      for (int variant = 0; variant < 4; ++variant) {
        ComputedTraitSpec spec;
        spec.name = "t_" + kind_name;
        spec.kind = kind;
        spec.property = kind == Kind::kCount ? "" : property;
        spec.event = variant % 2 == 0 ? "Order Completed" : "";
        if (variant >= 2) {
          spec.window = Window{Window::kLast, 20 * 86400, "", ""};
          spec.where = {Json{{"property", "channel"}, {"op", "="}, {"value", "web"}}};
        }
        const std::string what = ComputedTraitToJson(spec).dump();
        auto got = ComputeTrait(reference->ctx, spec, now_us, query::TimeZone{});
        ASSERT_TRUE(got.ok()) << what << ": " << got.status().ToString();
        const Json want = BruteForce(events, merges, spec, now_us);
        EXPECT_FALSE(want.empty()) << what << ": a vacuous case";
        ExpectSameValues(AsObject(*got), want, what);
        for (const auto& other : others) {  // bit for bit, whatever the split
          auto again = ComputeTrait(other->ctx, spec, now_us, query::TimeZone{});
          ASSERT_TRUE(again.ok());
          EXPECT_EQ(*again, *got) << what << ": depends on the split of events or threads";
        }
        ++checked;
      }
    }
  }
  EXPECT_EQ(checked, 4 * (1 + 4 * 2 + 5 * 4));
}

TEST(ComputedTraitBruteForce, UniqueListKeepsTheFirstHundredValues) {
  const int64_t now_us = *ParseTimestamp("2026-03-01T00:00:00Z");
  std::vector<Event> events;
  for (int i = 0; i < 150; ++i) {
    Event e;
    e.timestamp_us = now_us - (i + 1) * int64_t{1000000};
    e.received_us = e.timestamp_us;
    e.name = "Product Viewed";
    e.source = "web";
    e.properties_json = Json{{"sku", "v" + std::to_string(1000 + (i * 7) % 150)}}.dump();
    e.identity_key = 1 + i % 2;  // keys 1 and 2, merged below
    events.push_back(std::move(e));
  }
  const std::map<uint32_t, uint32_t> merges = {{2, 1}};
  ComputedTraitSpec spec{"skus", Kind::kUniqueList, "Product Viewed", {}, "sku", Window{}};
  Json want = Json::array();
  for (int v = 1000; v < 1100; ++v) want.push_back("v" + std::to_string(v));
  for (size_t flushed : {0, 50, 100}) {
    auto world = MakeWorld(events, merges, flushed, 2);
    auto got = ComputeTrait(world->ctx, spec, now_us, query::TimeZone{});
    ASSERT_TRUE(got.ok()) << got.status().ToString();
    ASSERT_EQ(got->size(), 1u);
    EXPECT_EQ((*got)[0].one_id, 1u);
    EXPECT_EQ((*got)[0].value, want) << "flushed " << flushed << "%";
  }
  spec.kind = Kind::kUniqueCount;
  auto world = MakeWorld(events, merges, 50, 2);
  auto count = ComputeTrait(world->ctx, spec, now_us, query::TimeZone{});
  ASSERT_TRUE(count.ok());
  ASSERT_EQ(count->size(), 1u);
  EXPECT_EQ((*count)[0].value, 150);
}

}  // namespace
}  // namespace quanyu::audience
