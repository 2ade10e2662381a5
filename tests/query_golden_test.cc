// Golden tests of the query operators (issue 4): small hand-built event sets
// with exact expected outputs, in tests/golden/query/*.test. Each file is run
// three ways — every event buffered, every event in segments, and half and
// half — and must give the same answer each time.
//
// File format (sections start with a line "== NAME"; "#" lines are comments):
//   == query        the kind (funnel, retention, ...) on one line
//   == body         the request body (JSON, may span lines)
//   == events       one JSON object per line:
//                   {"t": "2026-01-01T00:00:00Z", "key": 1, "event": "Product Viewed",
//                    "type": "track", "channel": "douyin", "source": "web",
//                    "campaign": "spring", "utm_source": "...", "utm_medium": "...",
//                    "revenue": 120.5, "value": 1, "quantity": 2, "currency": "CNY",
//                    "order_id": "o1", "product_id": "p1", "url": "...", "referrer": "...",
//                    "properties": {...}}
//                   "key" is the event's identity key (0 or absent: no identifier);
//                   key k resolves to one_id k unless merged.
//   == merges       optional; lines "K P": after the events are stored, key K
//                   resolves to one_id P (identifiers merged after the fact)
//   == spend        optional; one JSON object per line {date, channel, campaign,
//                   spend, impressions, clicks} (store::SpendRow)
//   == options      optional; JSON of QueryOptions overrides:
//                   {"timezone": "+08:00", "session_idle": "30m",
//                    "stages": {"Event": "stage"}}
//   == expect       the exact expected answer (JSON), or
//   == error        a substring of the expected InvalidArgument message
// QUANYU_UPDATE_GOLDEN=1 rewrites the expect section with the actual answer
// (then check the diff by hand: an expectation is only as good as its review).
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>

#include "common/dense_array.h"
#include "common/time_util.h"
#include "query/query.h"
#include "store/catalog.h"
#include "store/event_store.h"
#include "store/spend_store.h"
#include "store/state_db.h"
#include "test_util.h"

namespace quanyu::query {
namespace {

namespace fs = std::filesystem;
using ::quanyu::testing::TempDir;

struct GoldenCase {
  std::string path;
  std::string preamble;  // text before the first section (comments)
  std::map<std::string, std::string> sections;  // name -> text
  std::vector<std::string> order;               // section names as they appear
};

GoldenCase ReadCase(const std::string& path) {
  GoldenCase c;
  c.path = path;
  std::ifstream in(path);
  std::string line, current;
  while (std::getline(in, line)) {
    if (line.rfind("== ", 0) == 0) {
      current = line.substr(3);
      c.order.push_back(current);
      c.sections[current];
      continue;
    }
    (current.empty() ? c.preamble : c.sections[current]) += line + "\n";
  }
  return c;
}

void WriteCase(const GoldenCase& c) {
  std::ofstream out(c.path, std::ios::trunc);
  out << c.preamble;
  for (const auto& name : c.order) {
    out << "== " << name << "\n" << c.sections.at(name);
  }
}

Event EventOf(const Json& j, const std::string& where) {
  Event e;
  auto ts = ParseTimestamp(j.at("t").get<std::string>());
  EXPECT_TRUE(ts.ok()) << where << ": " << ts.status().ToString();
  e.timestamp_us = ts.ok() ? *ts : 0;
  e.received_us = e.timestamp_us;
  e.type = EventTypeFromName(j.value("type", "track")).value_or(EventType::kTrack);
  e.name = j.value("event", "");
  e.source = j.value("source", "web");
  e.channel = j.value("channel", "");
  e.campaign.name = j.value("campaign", "");
  e.campaign.source = j.value("utm_source", "");
  e.campaign.medium = j.value("utm_medium", "");
  e.url = j.value("url", "");
  e.referrer = j.value("referrer", "");
  if (j.contains("revenue")) e.revenue = j["revenue"].get<double>();
  if (j.contains("value")) e.value = j["value"].get<double>();
  if (j.contains("quantity")) e.quantity = j["quantity"].get<double>();
  e.currency = j.value("currency", "");
  e.order_id = j.value("order_id", "");
  e.product_id = j.value("product_id", "");
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

// The non-blank lines of a section that are not "#" comments.
std::vector<std::string> Lines(const std::string& text) {
  std::vector<std::string> out;
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("#", 0) == 0) continue;
    if (line.find_first_not_of(" \t\r") != std::string::npos) out.push_back(line);
  }
  return out;
}

// A section's text without comment lines.
std::string Content(const GoldenCase& c, const std::string& name) {
  std::string out;
  for (const auto& line : Lines(c.sections.at(name))) out += line + "\n";
  return out;
}

// Runs the case with the first `flushed` events in segments and the rest
// buffered; returns the answer or the error message (prefixed "error: ").
std::string RunCase(const GoldenCase& c, size_t flushed_share_percent) {
  TempDir dir;
  store::StoreOptions opt;
  opt.dir = dir / "events";
  opt.max_segment_rows = 4;  // several segments even for tiny cases
  auto store = store::EventStore::Open(opt);
  EXPECT_TRUE(store.ok());
  std::vector<Event> events;
  size_t n = 0;
  for (const auto& line : Lines(c.sections.at("events"))) {
    events.push_back(EventOf(Json::parse(line), c.path + " event " + std::to_string(++n)));
  }
  const size_t cut = events.size() * flushed_share_percent / 100;
  std::vector<Event> first(events.begin(), events.begin() + cut),
      rest(events.begin() + cut, events.end());
  (*store)->Add(first, 1);
  if (!first.empty()) {
    EXPECT_TRUE((*store)->Flush().ok());
  }
  (*store)->Add(rest, 2);

  DenseArray<uint32_t> one_ids;
  for (const Event& e : events) {
    if (e.identity_key != 0) one_ids.Set(e.identity_key, e.identity_key);
  }
  if (c.sections.count("merges")) {
    for (const auto& line : Lines(c.sections.at("merges"))) {
      std::istringstream in(line);
      uint32_t k, p;
      in >> k >> p;
      one_ids.Set(k, p);
    }
  }
  auto db = store::StateDb::Open(dir / "state");
  EXPECT_TRUE(db.ok());
  store::SpendStore spend(db->get());
  if (c.sections.count("spend")) {
    std::vector<store::SpendRow> rows;
    for (const auto& line : Lines(c.sections.at("spend"))) {
      Json j = Json::parse(line);
      rows.push_back({j.at("date"), j.at("channel"), j.value("campaign", ""),
                      j.value("spend", 0.0), j.value("impressions", int64_t{0}),
                      j.value("clicks", int64_t{0})});
    }
    EXPECT_TRUE(spend.Upsert(rows).ok());
  }
  store::EventCatalog catalog = CatalogOf(events);

  QueryContext ctx;
  ctx.store = store->get();
  ctx.one_ids = &one_ids;
  ctx.catalog = &catalog;
  ctx.spend = &spend;
  ctx.options.threads = 2;
  if (c.sections.count("options")) {
    Json o = Json::parse(Content(c, "options"));
    if (o.contains("timezone")) {
      auto tz = TimeZoneNamed(o["timezone"].get<std::string>());
      EXPECT_TRUE(tz.ok());
      if (tz.ok()) ctx.options.timezone = *tz;
    }
    if (o.contains("session_idle")) {
      auto d = ParseDuration(o["session_idle"], "session_idle");
      EXPECT_TRUE(d.ok());
      if (d.ok()) ctx.options.session_idle_us = *d;
    }
    if (o.contains("stages")) {
      for (auto it = o["stages"].begin(); it != o["stages"].end(); ++it) {
        ctx.options.stages[it.key()] = it.value().get<std::string>();
      }
    }
  }
  const std::string kind = Lines(c.sections.at("query")).at(0);
  auto answer = RunQuery(kind, Json::parse(Content(c, "body")), ctx);
  if (!answer.ok()) return "error: " + answer.status().message();
  return answer->dump(2);
}

std::vector<std::string> GoldenFiles() {
  std::vector<std::string> files;
  for (const auto& entry : fs::directory_iterator(QUANYU_SOURCE_DIR "/tests/golden/query")) {
    if (entry.path().extension() == ".test") files.push_back(entry.path().string());
  }
  std::sort(files.begin(), files.end());
  return files;
}

class QueryGolden : public ::testing::TestWithParam<std::string> {};

TEST_P(QueryGolden, MatchesExpectation) {
  GoldenCase c = ReadCase(GetParam());
  ASSERT_TRUE(c.sections.count("query") && c.sections.count("body") && c.sections.count("events"))
      << c.path << ": needs == query, == body and == events";
  const std::string buffered = RunCase(c, 0);
  EXPECT_EQ(RunCase(c, 100), buffered) << c.path << ": segments and buffer disagree";
  EXPECT_EQ(RunCase(c, 50), buffered) << c.path << ": half-flushed disagrees";
  if (c.sections.count("error")) {
    const std::string want = Lines(c.sections.at("error")).at(0);
    EXPECT_EQ(buffered.rfind("error: ", 0), 0u) << c.path << ": expected an error, got\n" << buffered;
    EXPECT_NE(buffered.find(want), std::string::npos) << c.path << ": error was " << buffered;
    return;
  }
  ASSERT_EQ(buffered.rfind("error: ", 0), std::string::npos) << c.path << ": " << buffered;
  const char* update = std::getenv("QUANYU_UPDATE_GOLDEN");
  if (update != nullptr && std::string(update) == "1") {
    c.sections["expect"] = buffered + "\n";
    if (!c.sections.count("expect") ||
        std::find(c.order.begin(), c.order.end(), "expect") == c.order.end()) {
      c.order.push_back("expect");
    }
    WriteCase(c);
    GTEST_SKIP() << "rewrote " << c.path;
  }
  ASSERT_TRUE(c.sections.count("expect")) << c.path << ": no == expect section; answer:\n" << buffered;
  EXPECT_EQ(Json::parse(buffered), Json::parse(Content(c, "expect")))
      << c.path << "\nactual:\n" << buffered;
}

INSTANTIATE_TEST_SUITE_P(Files, QueryGolden, ::testing::ValuesIn(GoldenFiles()),
                         [](const auto& info) {
                           std::string name = fs::path(info.param).stem().string();
                           for (char& ch : name) {
                             if (!isalnum(static_cast<unsigned char>(ch))) ch = '_';
                           }
                           return name;
                         });

}  // namespace
}  // namespace quanyu::query
