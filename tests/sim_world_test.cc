// Tests of the simulated world (src/sim): determinism across runs and thread
// counts, well-formed events, the ground truth document and its promises
// (identity map, junk rate, spend coverage).
#include <gtest/gtest.h>

#include <algorithm>
#include <cctype>
#include <map>
#include <mutex>
#include <nlohmann/json.hpp>
#include <regex>
#include <set>
#include <stdexcept>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "common/event_codec.h"
#include "common/hash.h"
#include "common/time_util.h"
#include "sim/sim.h"

namespace quanyu::sim {
namespace {

using nlohmann::json;

struct SimRun {
  SimResult result;
  std::vector<Event> events;  // in sink order
  json truth;
};

SimRun Simulate(SimOptions options) {
  SimRun run;
  std::mutex mu;
  auto sink = [&](std::vector<Event>&& batch) {
    std::lock_guard lock(mu);
    for (auto& e : batch) run.events.push_back(std::move(e));
    return Status::OK();
  };
  auto result = RunSimulation(options, sink);
  EXPECT_TRUE(result.ok()) << result.status().ToString();
  if (result.ok()) {
    run.result = std::move(*result);
    run.truth = json::parse(run.result.ground_truth_json);
  }
  return run;
}

SimOptions SmallWorld(int64_t persons = 2000, int threads = 2) {
  SimOptions o;
  o.seed = 7;
  o.persons = persons;
  o.days = 30;
  o.threads = threads;
  return o;
}

// "sim-<seed>-<person>-<n>" -> (person, n).
std::pair<int64_t, int64_t> ParseMessageId(const std::string& id) {
  const size_t a = id.find('-', 4);
  const size_t b = id.find('-', a + 1);
  return {std::stoll(id.substr(a + 1, b - a - 1)), std::stoll(id.substr(b + 1))};
}

// Each person's events, encoded and concatenated in their delivery order.
std::map<int64_t, std::string> EncodedByPerson(const std::vector<Event>& events) {
  std::map<int64_t, std::string> out;
  for (const auto& e : events) EncodeEvent(e, &out[ParseMessageId(e.message_id).first]);
  return out;
}

uint64_t HashOfAll(const std::vector<Event>& events) {
  uint64_t h = 0;
  for (const auto& [person, bytes] : EncodedByPerson(events)) h = Hash64(bytes, h ^ person);
  return h;
}

const std::set<std::string>& JunkValues() {
  static const std::set<std::string> kJunk = {
      "null",  "undefined", "0", "-1", "anonymous", "", "00000000-0000-0000-0000-000000000000",
      "(null)"};
  return kJunk;
}

// The normalization One-ID applies (ARCHITECTURE.md §3), enough for the sim's
// formats: phones to +86 E.164, emails trimmed and lower-cased.
std::string Normalize(const Identifier& id) {
  std::string v = id.value;
  if (id.ns == "phone") {
    std::string digits;
    for (char c : v) {
      if (std::isdigit(static_cast<unsigned char>(c))) digits += c;
    }
    if (digits.size() == 13 && digits.rfind("86", 0) == 0) digits = digits.substr(2);
    v = "+86" + digits;
  } else if (id.ns == "email") {
    const size_t b = v.find_first_not_of(' '), e = v.find_last_not_of(' ');
    v = b == std::string::npos ? "" : v.substr(b, e - b + 1);
    for (char& c : v) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  }
  Identifier n{id.ns, id.scope, v};
  return n.ToString();
}

TEST(SimWorldTest, SameSeedGivesIdenticalEvents) {
  SimRun a = Simulate(SmallWorld());
  SimRun b = Simulate(SmallWorld());
  ASSERT_FALSE(a.events.empty());
  EXPECT_EQ(a.events.size(), b.events.size());
  EXPECT_EQ(HashOfAll(a.events), HashOfAll(b.events));
  EXPECT_EQ(a.result.ground_truth_json, b.result.ground_truth_json);
}

TEST(SimWorldTest, ThreadCountDoesNotChangeAnyPersonsEvents) {
  SimRun one = Simulate(SmallWorld(1500, 1));
  SimRun three = Simulate(SmallWorld(1500, 3));
  const auto a = EncodedByPerson(one.events);
  const auto b = EncodedByPerson(three.events);
  ASSERT_EQ(a.size(), b.size());
  for (const auto& [person, bytes] : a) {
    ASSERT_TRUE(b.count(person)) << person;
    EXPECT_EQ(bytes, b.at(person)) << "person " << person;
  }
  EXPECT_EQ(one.result.ground_truth_json, three.result.ground_truth_json);
}

TEST(SimWorldTest, DifferentSeedGivesDifferentEvents) {
  SimOptions other = SmallWorld(500);
  other.seed = 8;
  EXPECT_NE(HashOfAll(Simulate(SmallWorld(500)).events), HashOfAll(Simulate(other).events));
}

TEST(SimWorldTest, EveryEventIsWellFormed) {
  const SimOptions options = SmallWorld();
  SimRun run = Simulate(options);
  std::set<std::string> source_names;
  for (const auto& s : run.result.sources) source_names.insert(s.name);
  const int64_t end = options.start_us + options.days * kMicrosPerDay;
  std::unordered_set<std::string> message_ids;
  std::map<int64_t, std::vector<std::pair<int64_t, int64_t>>> times;  // person -> (n, ts)
  for (const auto& e : run.events) {
    ASSERT_TRUE(source_names.count(e.source)) << e.source;
    EXPECT_TRUE(e.channel.empty()) << "channel is the classifier's job";
    EXPECT_TRUE(message_ids.insert(e.message_id).second) << "duplicate " << e.message_id;
    EXPECT_GE(e.timestamp_us, options.start_us);
    EXPECT_LT(e.timestamp_us, end);
    EXPECT_GE(e.received_us, e.timestamp_us);
    EXPECT_TRUE(!e.user_id.empty() || !e.anonymous_id.empty() || !e.identifiers.empty())
        << e.message_id << " carries no identity";
    if (e.type == EventType::kTrack || e.type == EventType::kPage || e.type == EventType::kScreen) {
      EXPECT_FALSE(e.name.empty()) << e.message_id;
    }
    auto [person, n] = ParseMessageId(e.message_id);
    times[person].emplace_back(n, e.timestamp_us);
  }
  for (auto& [person, seq] : times) {
    std::sort(seq.begin(), seq.end());
    for (size_t i = 0; i < seq.size(); ++i) {
      ASSERT_EQ(seq[i].first, static_cast<int64_t>(i))
          << "person " << person << " misses event " << i;
      if (i > 0) {
        EXPECT_LE(seq[i - 1].second, seq[i].second) << "person " << person;
      }
    }
  }
}

TEST(SimWorldTest, OrdersCarryCommerceColumns) {
  SimRun run = Simulate(SmallWorld());
  std::set<std::string> order_ids;
  std::set<std::string> order_sources;
  int64_t orders = 0;
  for (const auto& e : run.events) {
    if (e.name != "Order Completed") continue;
    ++orders;
    order_sources.insert(e.source);
    ASSERT_TRUE(e.revenue.has_value()) << e.message_id;
    EXPECT_GT(*e.revenue, 0);
    EXPECT_EQ(e.currency, "CNY");
    EXPECT_FALSE(e.product_id.empty());
    ASSERT_TRUE(e.quantity.has_value());
    EXPECT_GE(*e.quantity, 1);
    EXPECT_TRUE(order_ids.insert(e.order_id).second) << "duplicate order " << e.order_id;
  }
  EXPECT_GT(orders, 100);
  EXPECT_EQ(orders, run.truth["commerce"]["orders"]["count"].get<int64_t>());
  EXPECT_TRUE(order_sources.count("tmall_store"));
  EXPECT_TRUE(order_sources.count("pos"));
  EXPECT_TRUE(order_sources.count("website"));
}

TEST(SimWorldTest, CountsMatchOptionsAndGroundTruth) {
  const SimOptions options = SmallWorld(3000);
  SimRun run = Simulate(options);
  EXPECT_EQ(run.result.persons, options.persons);
  EXPECT_EQ(run.result.events, static_cast<int64_t>(run.events.size()));
  const double per_person =
      static_cast<double>(run.events.size()) / static_cast<double>(options.persons);
  // 30 days here; ~20 per person over the default 90 days.
  EXPECT_GT(per_person, 4);
  EXPECT_LT(per_person, 30);
  std::map<std::string, int64_t> by_name, by_source;
  for (const auto& e : run.events) {
    if (e.type == EventType::kTrack) ++by_name[e.name];
    ++by_source[e.source];
  }
  const json& counts = run.truth["event_counts"];
  EXPECT_EQ(counts["total"].get<int64_t>(), run.result.events);
  for (const auto& [name, n] : counts["by_name"].items()) {
    EXPECT_EQ(n.get<int64_t>(), by_name[name]) << name;
  }
  for (const auto& [name, n] : counts["by_source"].items()) {
    EXPECT_EQ(n.get<int64_t>(), by_source[name]) << name;
  }
  for (const char* name :
       {"Product Viewed", "Product Added", "Order Completed", "Signed Up", "Referral Invite Sent",
        "NPS Survey Answered", "Consent Updated", "Article Read"}) {
    EXPECT_GT(by_name[name], 0) << name;
  }
}

TEST(SimWorldTest, GroundTruthHasDocumentedKeys) {
  SimRun run = Simulate(SmallWorld(500));
  const json& t = run.truth;
  for (const char* key :
       {"schema_version", "options", "persons", "persons_with_events", "events", "sources",
        "channels", "campaigns", "commerce", "people", "identifiers", "event_counts", "identity"}) {
    EXPECT_TRUE(t.contains(key)) << key;
  }
  EXPECT_EQ(t["persons"].get<int64_t>(), 500);
  for (const auto& ch : t["channels"]) {
    EXPECT_TRUE(ch.contains("effect_per_touch")) << ch.dump();
    if (ch["paid"].get<bool>()) {
      const json& r = ch["spend_response"];
      EXPECT_EQ(r["model"], "hill");
      EXPECT_GT(r["half_saturation_spend"].get<double>(), 0);
      EXPECT_GT(r["shape"].get<double>(), 0);
      EXPECT_GT(r["max_paid_touches_per_day"].get<double>(), 0);
    }
  }
  const json& repeat = t["commerce"]["repeat_purchase"];
  for (const char* k : {"r", "alpha", "a", "b"}) EXPECT_GT(repeat[k].get<double>(), 0) << k;
  const json& value = t["commerce"]["order_value"];
  for (const char* k : {"p", "q", "gamma"}) EXPECT_GT(value[k].get<double>(), 0) << k;
  EXPECT_TRUE(t["identifiers"]["junk"].contains("injected"));
  EXPECT_EQ(t["identifiers"]["shared_devices"]["devices"].size(), 4u);
  EXPECT_TRUE(t["identity"]["included"].get<bool>());
  EXPECT_FALSE(t["identity"]["persons"].empty());
}

TEST(SimWorldTest, IdentityTruthIsOmittedAboveTheLimit) {
  SimOptions options = SmallWorld(300);
  options.identity_truth_max_persons = 100;
  SimRun run = Simulate(options);
  EXPECT_FALSE(run.truth["identity"]["included"].get<bool>());
  EXPECT_FALSE(run.truth["identity"].contains("persons"));
}

TEST(SimWorldTest, IdentityTruthMapsEveryCleanIdentifierToItsPerson) {
  SimRun run = Simulate(SmallWorld(1500));
  std::unordered_map<std::string, std::string> owner;
  for (const auto& p : run.truth["identity"]["persons"]) {
    for (const auto& id : p["identifiers"]) {
      auto [it, fresh] = owner.emplace(id.get<std::string>(), p["person"].get<std::string>());
      EXPECT_TRUE(fresh) << id << " belongs to two persons";
    }
  }
  std::set<std::string> shared;
  for (const auto& d : run.truth["identifiers"]["shared_devices"]["devices"])
    shared.insert(d["id"]);
  const std::regex e164(R"(\+861[3-9]\d{9})");
  int64_t checked = 0;
  for (const auto& e : run.events) {
    char want[16];
    std::snprintf(want, sizeof(want), "P%08lld",
                  static_cast<long long>(ParseMessageId(e.message_id).first));
    std::vector<std::string> ids;
    if (!e.user_id.empty()) ids.push_back("user_id:" + e.user_id);
    if (!e.anonymous_id.empty() && !shared.count(e.anonymous_id))
      ids.push_back("anonymous_id:" + e.anonymous_id);
    for (const auto& id : e.identifiers) {
      if (JunkValues().count(id.value) || shared.count(id.value)) continue;
      ids.push_back(Normalize(id));
      if (id.ns == "phone") {
        EXPECT_TRUE(std::regex_match(Normalize(id).substr(6), e164)) << id.value;
      }
    }
    for (const auto& id : ids) {
      auto it = owner.find(id);
      ASSERT_NE(it, owner.end()) << id << " missing from the identity truth";
      EXPECT_EQ(it->second, want) << id;
      ++checked;
    }
  }
  EXPECT_GT(checked, 10000);
}

TEST(SimWorldTest, SpendRowsCoverEveryDayAndPaidChannel) {
  const SimOptions options = SmallWorld(1000);
  SimRun run = Simulate(options);
  std::set<std::string> paid;
  std::map<std::string, double> truth_spend;
  for (const auto& ch : run.truth["channels"]) {
    if (ch["paid"].get<bool>()) {
      paid.insert(ch["name"].get<std::string>());
      truth_spend[ch["name"].get<std::string>()] = ch["total_spend"].get<double>();
    }
  }
  EXPECT_GE(paid.size(), 6u);
  std::set<std::pair<std::string, std::string>> covered;
  std::map<std::string, double> spend;
  for (const auto& row : run.result.spend) {
    EXPECT_TRUE(paid.count(row.channel)) << row.channel;
    EXPECT_GT(row.spend, 0);
    EXPECT_FALSE(row.campaign.empty());
    EXPECT_GE(row.impressions, row.clicks);
    EXPECT_TRUE(ParseTimestamp(row.date).ok()) << row.date;
    covered.emplace(row.date, row.channel);
    spend[row.channel] += row.spend;
  }
  for (int d = 0; d < options.days; ++d) {
    const std::string date = FormatDay(DayOf(options.start_us) + d);
    for (const auto& ch : paid) {
      EXPECT_TRUE(covered.count({date, ch})) << date << " " << ch;
    }
  }
  for (const auto& [ch, total] : truth_spend) {
    EXPECT_NEAR(spend[ch], total, 1e-6 * total + 0.01) << ch;
  }
}

int64_t CountJunk(const std::vector<Event>& events, int64_t* with_identifiers) {
  int64_t junk = 0;
  *with_identifiers = 0;
  for (const auto& e : events) {
    if (!e.identifiers.empty()) ++*with_identifiers;
    for (const auto& id : e.identifiers) junk += JunkValues().count(id.value);
  }
  return junk;
}

TEST(SimWorldTest, JunkIdentifiersAreInjectedAtTheDocumentedRate) {
  for (double rate : {0.0, 0.01, 0.2}) {
    SimOptions options = SmallWorld(2000);
    options.junk_identifier_rate = rate;
    SimRun run = Simulate(options);
    int64_t with_ids = 0;
    const int64_t junk = CountJunk(run.events, &with_ids);
    const json& truth = run.truth["identifiers"]["junk"];
    EXPECT_EQ(junk, truth["injected"].get<int64_t>()) << rate;
    EXPECT_EQ(with_ids, truth["events_with_identifiers"].get<int64_t>()) << rate;
    const double n = static_cast<double>(with_ids);
    const double sd = std::sqrt(n * rate * (1 - rate));
    EXPECT_NEAR(static_cast<double>(junk), n * rate, 5 * sd + 1) << rate;
  }
}

TEST(SimWorldTest, JsonColumnsAreValidJson) {
  SimRun run = Simulate(SmallWorld(1000));
  int64_t consent = 0;
  for (const auto& e : run.events) {
    for (const std::string* s : {&e.properties_json, &e.traits_json, &e.context_json}) {
      if (s->empty()) continue;
      json j = json::parse(*s, nullptr, /*allow_exceptions=*/false);
      ASSERT_TRUE(j.is_object()) << *s;
    }
    if (e.name == "NPS Survey Answered") {
      const int score = json::parse(e.properties_json)["score"].get<int>();
      EXPECT_GE(score, 0);
      EXPECT_LE(score, 10);
    }
    if (e.name == "Consent Updated") {
      ++consent;
      const json c = json::parse(e.context_json);
      EXPECT_TRUE(c["consent"]["categoryPreferences"].contains("marketing")) << e.context_json;
    }
  }
  EXPECT_GT(consent, 0);
}

TEST(SimWorldTest, TouchesLookLikeTheirPlatforms) {
  SimRun run = Simulate(SmallWorld(2000));
  std::set<std::string> utm_sources;
  bool baidu_click_id = false, douyin_referrer = false, xhs_referrer = false;
  for (const auto& e : run.events) {
    if (!e.campaign.source.empty()) utm_sources.insert(e.campaign.source);
    baidu_click_id |= e.url.find("bd_vid=") != std::string::npos;
    douyin_referrer |= e.referrer.rfind("https://www.douyin.com/video/", 0) == 0;
    xhs_referrer |= e.referrer.rfind("https://www.xiaohongshu.com/", 0) == 0;
  }
  for (const char* s :
       {"douyin", "xiaohongshu", "baidu", "wechat", "kuaishou", "weibo", "bilibili"}) {
    EXPECT_TRUE(utm_sources.count(s)) << s;
  }
  EXPECT_TRUE(baidu_click_id);
  EXPECT_TRUE(douyin_referrer);
  EXPECT_TRUE(xhs_referrer);
}

TEST(SimWorldTest, SinkErrorStopsTheSimulation) {
  int calls = 0;
  std::mutex mu;
  auto sink = [&](std::vector<Event>&&) {
    std::lock_guard lock(mu);
    ++calls;
    return Status::ResourceExhausted("disk full");
  };
  SimOptions options = SmallWorld(20000, 2);
  options.batch_events = 500;
  auto result = RunSimulation(options, sink);
  ASSERT_FALSE(result.ok());
  EXPECT_EQ(result.status().code(), StatusCode::kResourceExhausted);
  EXPECT_LE(calls, 4);
}

TEST(SimWorldTest, ThrowingCallbacksBecomeInternalErrors) {
  auto throwing_sink = [](std::vector<Event>&&) -> Status { throw std::runtime_error("boom"); };
  auto result = RunSimulation(SmallWorld(500), throwing_sink);
  ASSERT_FALSE(result.ok());
  EXPECT_EQ(result.status().code(), StatusCode::kInternal);
  EXPECT_NE(result.status().message().find("boom"), std::string::npos);

  auto ok_sink = [](std::vector<Event>&&) { return Status::OK(); };
  auto progress = [](int64_t) { throw std::runtime_error("progress"); };
  auto second = RunSimulation(SmallWorld(500), ok_sink, progress);
  ASSERT_FALSE(second.ok());
  EXPECT_EQ(second.status().code(), StatusCode::kInternal);
}

TEST(SimWorldTest, InvalidOptionsAreRejected) {
  auto sink = [](std::vector<Event>&&) { return Status::OK(); };
  SimOptions options;
  options.persons = 0;
  EXPECT_EQ(RunSimulation(options, sink).status().code(), StatusCode::kInvalidArgument);
  options = SimOptions();
  options.days = 0;
  EXPECT_EQ(RunSimulation(options, sink).status().code(), StatusCode::kInvalidArgument);
  options = SimOptions();
  options.junk_identifier_rate = 1.5;
  EXPECT_EQ(RunSimulation(options, sink).status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(RunSimulation(SimOptions(), nullptr).status().code(), StatusCode::kInvalidArgument);
}

TEST(SimWorldTest, ProgressEndsAtAllPersons) {
  std::vector<int64_t> seen;
  auto sink = [](std::vector<Event>&&) { return Status::OK(); };
  auto result = RunSimulation(SmallWorld(300), sink, [&](int64_t done) { seen.push_back(done); });
  ASSERT_TRUE(result.ok());
  ASSERT_FALSE(seen.empty());
  EXPECT_EQ(seen.back(), 300);
  EXPECT_TRUE(std::is_sorted(seen.begin(), seen.end()));
}

}  // namespace
}  // namespace quanyu::sim
