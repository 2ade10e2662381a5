// The touchpoint map on the simulator's world (docs/sim.md), checked two
// ways:
//   * against the simulator's ground truth: every touch session lands with
//     exactly one arrival event, so the arrival events per channel (as the
//     real ingest classifier labels them) equal the truth's touches per
//     channel; the map's touches (sessions) per channel are close to them
//     (see MapMatchesTruthAndBruteForce for what matches exactly); and the
//     journeys that converted are the truth's first-purchase buyers;
//   * against a brute-force recomputation of every number of the map over
//     the events grouped by true person, with plain maps and strings.
// Identities come from an oracle (the true person in each messageId), so
// persons are exact; channels come from collect::ChannelClassifier, which
// ingest runs on every event.
#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <ctime>
#include <map>
#include <mutex>
#include <nlohmann/json.hpp>
#include <set>
#include <tuple>

#include "collect/channel.h"
#include "common/dense_array.h"
#include "common/time_util.h"
#include "engine/engine.h"
#include "query/touchpoints.h"
#include "sim/sim.h"
#include "store/event_store.h"
#include "test_util.h"

namespace quanyu {
namespace {

using query::Json;

// The person index in "sim-<seed>-<person>-<n>".
uint32_t PersonOf(const std::string& message_id) {
  const size_t a = message_id.find('-', 4);
  const size_t b = message_id.find('-', a + 1);
  return static_cast<uint32_t>(std::stoul(message_id.substr(a + 1, b - a - 1)));
}

struct SimWorld {
  std::vector<Event> events;  // channel set, identity_key = true person + 1
  Json truth;
  int64_t from_us = 0, to_us = 0;
};

const SimWorld& World() {
  static const SimWorld* world = [] {
    auto* w = new SimWorld;
    sim::SimOptions options;
    options.seed = 11;
    options.persons = 3000;
    options.days = 30;
    std::map<std::string, std::string> type_of;
    for (const auto& s : sim::SimulatedSources()) type_of[s.name] = s.type;
    const collect::ChannelClassifier classifier;
    std::mutex mu;
    auto result = sim::RunSimulation(options, [&](std::vector<Event>&& batch) {
      for (Event& e : batch) {
        e.channel = classifier.Classify(e, type_of.at(e.source));
        e.identity_key = PersonOf(e.message_id) + 1;
      }
      std::lock_guard lock(mu);
      for (Event& e : batch) w->events.push_back(std::move(e));
      return Status::OK();
    });
    EXPECT_TRUE(result.ok()) << result.status().ToString();
    w->truth = Json::parse(result->ground_truth_json);
    w->from_us = options.start_us;
    w->to_us = options.start_us + int64_t{options.days} * 86400 * 1000000;
    return w;
  }();
  return *world;
}

// ---- Brute force ----------------------------------------------------------------

struct Touch {
  int64_t ts;
  std::string name, channel;
  std::string stage;  // "" = none; "conversion" before the purchase rule
};

std::string StageOf(const Event& e, const std::string& name) {
  static const std::map<std::string, std::string> kStages = {
      {"Landing", "awareness"},
      {"Application Opened", "awareness"},
      {"Article Read", "awareness"},
      {"Official Account Followed", "awareness"},
      {"Product Viewed", "consideration"},
      {"Products Searched", "consideration"},
      {"Product Added", "consideration"},
      {"Checkout Started", "consideration"},
      {"Signed Up", "consideration"},
      {"Order Completed", "conversion"},
      {"Referral Invite Sent", "advocacy"},
      {"Referral Signup", "advocacy"}};
  if (name == "NPS Survey Answered") {
    Json p = Json::parse(e.properties_json.empty() ? "{}" : e.properties_json);
    return p.contains("score") && p["score"].is_number() && p["score"].get<double>() >= 9
               ? "advocacy"
               : "";
  }
  auto it = kStages.find(name);
  return it == kStages.end() ? "" : it->second;
}

struct BruteMap {
  struct Channel {
    int64_t persons = 0, touches = 0, first = 0, last = 0;
    std::map<std::string, int64_t> stage_persons;
  };
  std::map<std::string, Channel> channels;
  std::map<std::string, int64_t> stage_journeys;
  std::map<std::pair<std::string, std::string>, std::pair<int64_t, int64_t>> hops;
  std::map<std::tuple<std::string, std::string, std::string>, int64_t> breakpoints;
  int64_t journeys = 0, converted = 0, stopped = 0;
  std::vector<int64_t> touches_to_convert;
};

// The touches of one person: their journey events in time order (ties by
// name, then channel) cut into sessions at gaps over `idle_us`, each on its
// first channel other than direct, else direct; sessions with no channel
// are dropped. A touch keeps all its events, in order.
struct Session {
  std::string channel;
  std::vector<Touch> events;
};

std::vector<Session> SessionsOf(std::vector<Touch> events, int64_t idle_us) {
  std::sort(events.begin(), events.end(), [](const Touch& a, const Touch& b) {
    return std::tie(a.ts, a.name, a.channel) < std::tie(b.ts, b.name, b.channel);
  });
  std::vector<Session> sessions;
  std::vector<Touch> current;
  auto close = [&] {
    if (current.empty()) return;
    std::string channel;
    for (const Touch& t : current) {
      if (!t.channel.empty() && t.channel != "direct") {
        channel = t.channel;
        break;
      }
      if (t.channel == "direct") channel = "direct";
    }
    if (!channel.empty()) sessions.push_back({channel, std::move(current)});
    current.clear();
  };
  for (const Touch& t : events) {
    if (!current.empty() && t.ts - current.back().ts > idle_us) close();
    current.push_back(t);
  }
  close();
  return sessions;
}

BruteMap BruteForce(const SimWorld& w, int64_t window_us, int64_t idle_us) {
  std::map<uint32_t, std::vector<Touch>> by_person;
  for (const Event& e : w.events) {
    const bool journey = e.type == EventType::kTrack || e.type == EventType::kPage ||
                         e.type == EventType::kScreen || e.type == EventType::kTrackSignup;
    if (!journey || e.timestamp_us < w.from_us || e.timestamp_us >= w.to_us) continue;
    const std::string name = e.name.empty() ? std::string(EventTypeName(e.type)) : e.name;
    by_person[e.identity_key].push_back({e.timestamp_us, name, e.channel, StageOf(e, name)});
  }
  BruteMap m;
  for (auto& [person, events] : by_person) {
    std::vector<Session> touches = SessionsOf(std::move(events), idle_us);
    if (touches.empty()) continue;
    ++m.journeys;
    bool bought = false;
    int64_t last_purchase = INT64_MIN;
    std::map<std::string, std::set<std::string>> stages_on;  // channel -> stages
    std::set<std::string> stages;
    std::set<std::pair<std::string, std::string>> hopped;
    for (size_t i = 0; i < touches.size(); ++i) {
      const std::string& channel = touches[i].channel;
      stages_on[channel];
      for (Touch& t : touches[i].events) {
        if (t.stage == "conversion" && bought) t.stage = "repurchase";
        if (t.stage == "conversion") {
          bought = true;
          m.touches_to_convert.push_back(static_cast<int64_t>(i + 1));
        }
        if (t.stage == "conversion" || t.stage == "repurchase") last_purchase = t.ts;
        if (!t.stage.empty()) {
          stages_on[channel].insert(t.stage);
          stages.insert(t.stage);
        }
      }
      ++m.channels[channel].touches;
      if (i > 0 && touches[i - 1].channel != channel) {
        auto& h = m.hops[{touches[i - 1].channel, channel}];
        ++h.second;
        if (hopped.insert({touches[i - 1].channel, channel}).second) ++h.first;
      }
    }
    for (const auto& [c, s] : stages_on) {
      ++m.channels[c].persons;
      for (const auto& stage : s) ++m.channels[c].stage_persons[stage];
    }
    for (const auto& s : stages) ++m.stage_journeys[s];
    ++m.channels[touches.front().channel].first;
    ++m.channels[touches.back().channel].last;
    if (bought) ++m.converted;
    const std::string& to = touches.back().channel;
    const Touch& last = touches.back().events.back();
    if (last_purchase < last.ts && w.to_us - last.ts >= window_us) {
      std::string from = "(start)";
      for (size_t i = touches.size(); i-- > 0;) {
        if (touches[i].channel != to) {
          from = touches[i].channel;
          break;
        }
      }
      ++m.breakpoints[{from, to, last.name}];
      ++m.stopped;
    }
  }
  return m;
}

Result<query::TouchpointsResult> RunMap(const SimWorld& w, testing::TempDir* dir) {
  store::StoreOptions opt;
  opt.dir = *dir / "events";
  auto store = store::EventStore::Open(opt);
  if (!store.ok()) return store.status();
  DenseArray<uint32_t> one_ids;
  for (const Event& e : w.events) one_ids.Set(e.identity_key, e.identity_key);
  // Most events in segments, the last tenth still buffered.
  const size_t cut = w.events.size() * 9 / 10;
  (*store)->Add(std::vector<Event>(w.events.begin(), w.events.begin() + cut), 1);
  if (auto flushed = (*store)->Flush(); !flushed.ok()) return flushed.status();
  (*store)->Add(std::vector<Event>(w.events.begin() + cut, w.events.end()), 2);
  query::QueryContext ctx;
  ctx.store = store->get();
  ctx.one_ids = &one_ids;
  Json body = {
      {"from", FormatTimestamp(w.from_us)}, {"to", FormatTimestamp(w.to_us)}, {"top", 1000}};
  ASSIGN_OR_RETURN(auto spec, query::ParseTouchpointsSpec(body, ctx));
  return query::ComputeTouchpoints(spec, ctx);
}

TEST(AnalyticsSimTouchpoints, ArrivalsPerChannelMatchTheTruthsTouches) {
  const SimWorld& w = World();
  // A touch session opens with one arrival: the web or mini-program
  // "Landing" page, or in the app "Application Opened" followed by the
  // "Landing" screen. Reminder sessions open a "Landing" too, tagged
  // repurchase_reminder.
  std::map<uint32_t, std::vector<const Event*>> by_person;
  for (const Event& e : w.events) by_person[e.identity_key].push_back(&e);
  std::map<std::string, int64_t> arrivals;
  int64_t total = 0;
  for (auto& [person, events] : by_person) {
    std::stable_sort(events.begin(), events.end(), [](const Event* a, const Event* b) {
      return a->timestamp_us < b->timestamp_us;
    });
    for (size_t i = 0; i < events.size(); ++i) {
      const Event& e = *events[i];
      if (e.campaign.name == "repurchase_reminder") continue;
      const bool page = e.type == EventType::kPage && e.name == "Landing";
      const bool app = e.name == "Application Opened" && i + 1 < events.size() &&
                       events[i + 1]->type == EventType::kScreen &&
                       events[i + 1]->name == "Landing";
      if (page || app) {
        ++arrivals[e.channel];
        ++total;
      }
    }
  }
  int64_t truth_total = 0;
  for (const Json& c : w.truth["channels"]) {
    const std::string name = c["name"];
    const int64_t touches =
        c["touches"]["organic"].get<int64_t>() + c["touches"]["paid"].get<int64_t>();
    truth_total += touches;
    const int64_t seen = arrivals.count(name) ? arrivals[name] : 0;
    // Exact: touches land on the web and in apps with the platform's
    // referrer or tags, and untagged ones only land in the platform's own
    // mini-program (Douyin's, WeChat's), which the source type names.
    EXPECT_EQ(seen, touches) << name;
    std::printf("%-15s truth %5lld  arrivals %5lld\n", name.c_str(),
                static_cast<long long>(touches), static_cast<long long>(seen));
  }
  EXPECT_GT(truth_total, 1000);
  EXPECT_EQ(total, truth_total);
}

TEST(AnalyticsSimTouchpoints, MapMatchesTruthAndBruteForce) {
  const SimWorld& w = World();
  testing::TempDir dir;
  auto map = RunMap(w, &dir);
  ASSERT_TRUE(map.ok()) << map.status().ToString();
  const BruteMap want = BruteForce(w, 7LL * 86400 * 1000000, 30LL * 60 * 1000000);

  // Ground truth: every buyer's first order is in the window.
  EXPECT_EQ(map->converted, w.truth["commerce"]["first_purchase"]["buyers"].get<int64_t>());
  EXPECT_GT(map->converted, 50);

  // Ground truth: the truth's touches per channel are sessions that arrived
  // from the channel (each with one arrival event, checked exactly above);
  // the map's touches are sessions cut at 30 minutes of idleness. On seed
  // 11 bilibili, zhihu and referral match exactly; on the other channels
  // without a mini-program the map has a few fewer (a touch less than 30
  // minutes after another visit joins that visit's session, on its
  // channel): at most 2% here, bounded at 5%. Douyin and WeChat have more:
  // their mini-programs label every event with the platform, so visits
  // the person started there on their own (returns, reminders) are touches
  // of the platform too, as they are in the map's definition.
  for (const Json& c : w.truth["channels"]) {
    const std::string name = c["name"];
    const int64_t truth =
        c["touches"]["organic"].get<int64_t>() + c["touches"]["paid"].get<int64_t>();
    int64_t seen = 0;
    for (const auto& mc : map->channels) {
      if (mc.channel == name) seen = mc.touches;
    }
    std::printf("%-15s truth touches %5lld  map touches %5lld\n", name.c_str(),
                static_cast<long long>(truth), static_cast<long long>(seen));
    EXPECT_GE(static_cast<double>(seen), 0.95 * static_cast<double>(truth)) << name;
    if (name != "douyin" && name != "wechat") {
      EXPECT_LE(seen, truth) << name;
    }
  }

  EXPECT_EQ(map->journeys, want.journeys);
  EXPECT_EQ(map->converted, want.converted);
  EXPECT_EQ(map->stopped, want.stopped);
  for (int s = 0; s < query::kStageCount; ++s) {
    const std::string stage(query::StageName(static_cast<query::Stage>(s + 1)));
    EXPECT_EQ(map->stage_journeys[s],
              want.stage_journeys.count(stage) ? want.stage_journeys.at(stage) : 0)
        << stage;
  }
  ASSERT_EQ(map->channels.size(), want.channels.size());
  for (const auto& c : map->channels) {
    ASSERT_TRUE(want.channels.count(c.channel)) << c.channel;
    const auto& b = want.channels.at(c.channel);
    EXPECT_EQ(c.persons, b.persons) << c.channel;
    EXPECT_EQ(c.touches, b.touches) << c.channel;
    EXPECT_EQ(c.first_touch_persons, b.first) << c.channel;
    EXPECT_EQ(c.last_touch_persons, b.last) << c.channel;
    for (int s = 0; s < query::kStageCount; ++s) {
      const std::string stage(query::StageName(static_cast<query::Stage>(s + 1)));
      EXPECT_EQ(c.stage_persons[s], b.stage_persons.count(stage) ? b.stage_persons.at(stage) : 0)
          << c.channel << " " << stage;
    }
  }
  ASSERT_LE(want.hops.size(), 1000u);
  ASSERT_EQ(map->transitions.size(), want.hops.size());
  for (const auto& t : map->transitions) {
    auto it = want.hops.find({t.from, t.to});
    ASSERT_NE(it, want.hops.end()) << t.from << " -> " << t.to;
    EXPECT_EQ(t.persons, it->second.first) << t.from << " -> " << t.to;
    EXPECT_EQ(t.count, it->second.second) << t.from << " -> " << t.to;
  }
  ASSERT_LE(want.breakpoints.size(), 1000u);
  ASSERT_EQ(map->breakpoints.size(), want.breakpoints.size());
  for (const auto& b : map->breakpoints) {
    auto it = want.breakpoints.find({b.from, b.to, b.last_event});
    ASSERT_NE(it, want.breakpoints.end()) << b.from << " -> " << b.to << " " << b.last_event;
    EXPECT_EQ(b.persons_lost, it->second) << b.from << " -> " << b.to << " " << b.last_event;
    EXPECT_EQ(b.reached, want.channels.at(b.to).persons);
  }
  std::vector<int64_t> ttc = want.touches_to_convert;
  std::sort(ttc.begin(), ttc.end());
  ASSERT_TRUE(map->median_touches_to_convert.has_value());
  EXPECT_EQ(*map->median_touches_to_convert, static_cast<double>(ttc[(ttc.size() + 1) / 2 - 1]));

  // What the map says about the world, for the record.
  std::printf("journeys %lld, converted %lld, stopped %lld, median touches to convert %g\n",
              static_cast<long long>(map->journeys), static_cast<long long>(map->converted),
              static_cast<long long>(map->stopped), *map->median_touches_to_convert);
  for (size_t i = 0; i < std::min<size_t>(5, map->breakpoints.size()); ++i) {
    const auto& b = map->breakpoints[i];
    std::printf("breakpoint %s -> %s (%s): %lld\n", b.from.c_str(), b.to.c_str(),
                b.last_event.c_str(), static_cast<long long>(b.persons_lost));
  }
}

}  // namespace
}  // namespace quanyu
