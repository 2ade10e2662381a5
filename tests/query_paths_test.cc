// Paths beyond the golden files: request parsing, and ComputePaths against a
// brute-force recomputation (plain strings and maps, one person at a time)
// over random event sets — every combination of anchor, granularity, scope,
// collapsing and path length, with same-timestamp events, nameless pages,
// events without a channel and records that are no journey events.
#include <gtest/gtest.h>

#include <map>
#include <random>
#include <set>
#include <tuple>

#include "common/dense_array.h"
#include "query/paths.h"
#include "store/event_store.h"
#include "test_util.h"

namespace quanyu::query {
namespace {

using ::quanyu::testing::TempDir;

constexpr int64_t kMinute = 60'000'000;
constexpr int64_t kDay0 = 1'767'225'600'000'000;  // 2026-01-01T00:00:00Z

Json Body(Json extra = Json::object()) {
  Json body = {{"from", "2026-01-01T00:00:00Z"}, {"to", "2026-01-02T00:00:00Z"}};
  body.update(extra);
  return body;
}

TEST(PathsSpec, Defaults) {
  QueryContext ctx;
  ctx.options.session_idle_us = 10 * kMinute;
  auto s = ParsePathsSpec(Body(), ctx);
  ASSERT_TRUE(s.ok()) << s.status().ToString();
  EXPECT_EQ(s->granularity, PathGranularity::kEvent);
  EXPECT_EQ(s->scope, PathScope::kSession);
  EXPECT_EQ(s->session_idle_us, 10 * kMinute);  // from the options
  EXPECT_EQ(s->steps, 5);
  EXPECT_EQ(s->top, 20);
  EXPECT_TRUE(s->collapse_repeats);
  EXPECT_EQ(s->min_persons, 1);
  EXPECT_TRUE(s->start_event.empty() && s->end_event.empty() && s->exclude.empty());
}

TEST(PathsSpec, BodyOverridesTheIdleGap) {
  QueryContext ctx;
  auto s = ParsePathsSpec(Body({{"session_idle", "45m"}, {"scope", "journey"}}), ctx);
  ASSERT_TRUE(s.ok());
  EXPECT_EQ(s->session_idle_us, 45 * kMinute);
  EXPECT_EQ(s->scope, PathScope::kJourney);
}

TEST(PathsSpec, BadValuesNameTheirField) {
  QueryContext ctx;
  const std::vector<std::pair<Json, std::string>> cases = {
      {{{"granularity", "page"}}, "granularity must be one of"},
      {{{"scope", "visit"}}, "scope must be one of"},
      {{{"steps", 21}}, "steps must be between 2 and 20"},
      {{{"top", 0}}, "top must be between 1 and 1000"},
      {{{"min_persons", 0}}, "min_persons must be between 1"},
      {{{"collapse_repeats", "yes"}}, "collapse_repeats must be true or false"},
      {{{"exclude", "Landing"}}, "exclude must be an array"},
      {{{"exclude", {""}}}, "exclude[0] must be a non-empty event name"},
      {{{"session_idle", "soon"}}, "session_idle"},
      {{{"start_event", ""}}, "start_event must be a non-empty string"},
      {{{"where", {{{"op", "="}}}}}, "where[0].property"},
  };
  for (const auto& [extra, message] : cases) {
    auto s = ParsePathsSpec(Body(extra), ctx);
    ASSERT_FALSE(s.ok()) << extra.dump();
    EXPECT_NE(s.status().message().find(message), std::string::npos)
        << extra.dump() << ": " << s.status().message();
  }
}

TEST(PathsSpec, TypeNamesNeedNoCatalogEntry) {
  store::EventCatalog catalog;
  catalog.events["Landing"];
  QueryContext ctx;
  ctx.catalog = &catalog;
  EXPECT_TRUE(ParsePathsSpec(Body({{"start_event", "page"}, {"exclude", {"screen"}}}), ctx).ok());
  EXPECT_FALSE(ParsePathsSpec(Body({{"end_event", "Purchase"}}), ctx).ok());
}

// ---- Brute force ------------------------------------------------------------------

struct Ev {
  int64_t ts;
  uint32_t person;
  EventType type;
  std::string name, channel;
};

std::vector<Ev> RandomEvents(uint32_t seed) {
  std::mt19937 rng(seed);
  const std::vector<std::string> names = {"Landing",         "Product Viewed",  "Product Added",
                                          "Order Completed", "Consent Updated", ""};
  const std::vector<std::string> channels = {"douyin", "wechat", "xiaohongshu", "direct", ""};
  std::vector<Ev> out;
  for (uint32_t p = 1; p <= 2500; ++p) {  // > 1024: two workers
    int64_t t = kDay0 + static_cast<int64_t>(rng() % 600) * kMinute;
    const int n = static_cast<int>(rng() % 25);
    for (int i = 0; i < n; ++i) {
      // Mostly short steps, sometimes the same instant, sometimes a long gap,
      // and exactly the idle limit now and then.
      const uint32_t r = rng() % 10;
      t += r == 0   ? 0
           : r == 1 ? 31 * kMinute
           : r == 2 ? 30 * kMinute
                    : static_cast<int64_t>(rng() % 5 + 1) * kMinute;
      Ev e{t, p, EventType::kTrack, names[rng() % names.size()], channels[rng() % channels.size()]};
      if (e.name.empty() || e.name == "Landing")
        e.type = rng() % 2 ? EventType::kPage : EventType::kScreen;
      if (rng() % 15 == 0) e.type = EventType::kIdentify, e.name.clear();
      out.push_back(e);
    }
  }
  std::shuffle(out.begin(), out.end(), rng);  // storage order must not matter
  return out;
}

struct BrutePaths {
  std::map<std::vector<std::string>, std::pair<std::set<uint32_t>, int64_t>> paths;
  std::map<std::tuple<int, std::string, std::string>, std::pair<std::set<uint32_t>, int64_t>> links;
};

BrutePaths Brute(const std::vector<Ev>& events, const PathsSpec& spec) {
  const bool by_channel = spec.granularity == PathGranularity::kChannel;
  std::map<uint32_t, std::vector<Ev>> by_person;
  for (const Ev& e : events) {
    if (!IsJourneyEventType(e.type)) continue;
    const std::string name(JourneyEventName(e.name, e.type));
    if (std::find(spec.exclude.begin(), spec.exclude.end(), name) != spec.exclude.end()) continue;
    if (by_channel && e.channel.empty()) continue;
    Ev copy = e;
    copy.name = name;
    by_person[e.person].push_back(copy);
  }
  const auto steps = static_cast<size_t>(spec.steps);
  BrutePaths out;
  for (auto& [person, evs] : by_person) {
    std::sort(evs.begin(), evs.end(), [](const Ev& a, const Ev& b) {
      return std::tie(a.ts, a.name, a.channel) < std::tie(b.ts, b.name, b.channel);
    });
    std::vector<std::vector<Ev>> sessions(1);
    for (size_t i = 0; i < evs.size(); ++i) {
      if (i > 0 && spec.scope == PathScope::kSession &&
          evs[i].ts - evs[i - 1].ts > spec.session_idle_us) {
        sessions.emplace_back();
      }
      sessions.back().push_back(evs[i]);
    }
    for (const auto& session : sessions) {
      std::vector<std::string> nodes;
      std::vector<size_t> node_of;  // per event
      for (const Ev& e : session) {
        const std::string node = by_channel ? e.channel : e.name;
        if (!spec.collapse_repeats || nodes.empty() || nodes.back() != node) nodes.push_back(node);
        node_of.push_back(nodes.size() - 1);
      }
      const std::string& anchor_name = spec.start_event.empty() ? spec.end_event : spec.start_event;
      size_t anchor = SIZE_MAX;
      for (size_t i = 0; i < session.size() && anchor == SIZE_MAX; ++i) {
        if (anchor_name.empty() || session[i].name == anchor_name) anchor = node_of[i];
      }
      if (anchor == SIZE_MAX) continue;
      std::vector<std::string> path;
      if (!spec.end_event.empty()) {
        const size_t first = anchor + 1 > steps ? anchor + 1 - steps : 0;
        if (anchor + 1 - first < steps) path.push_back("(start)");
        path.insert(path.end(), nodes.begin() + first, nodes.begin() + anchor + 1);
      } else {
        for (size_t i = anchor; i < nodes.size() && path.size() < steps; ++i)
          path.push_back(nodes[i]);
        if (path.size() < steps) path.push_back("(end)");
      }
      auto& p = out.paths[path];
      p.first.insert(person);
      ++p.second;
      for (size_t j = 0; j + 1 < path.size(); ++j) {
        const int column = static_cast<int>(spec.end_event.empty() ? j : steps - path.size() + j);
        auto& l = out.links[{column, path[j], path[j + 1]}];
        l.first.insert(person);
        ++l.second;
      }
    }
  }
  return out;
}

class PathsBruteForce : public ::testing::Test {
 protected:
  void SetUp() override {
    events_ = RandomEvents(7);
    store::StoreOptions opt;
    opt.dir = dir_ / "events";
    opt.max_segment_rows = 4096;  // several segments, plus the buffer
    auto store = store::EventStore::Open(opt);
    ASSERT_TRUE(store.ok());
    store_ = std::move(*store);
    std::vector<Event> first, rest;
    for (size_t i = 0; i < events_.size(); ++i) {
      Event e;
      e.timestamp_us = events_[i].ts;
      e.type = events_[i].type;
      e.name = events_[i].name;
      e.channel = events_[i].channel;
      e.identity_key = events_[i].person;
      one_ids_.Set(e.identity_key, e.identity_key);
      (i % 3 == 0 ? rest : first).push_back(std::move(e));
    }
    store_->Add(first, 1);
    ASSERT_TRUE(store_->Flush().ok());
    store_->Add(rest, 2);
    ctx_.store = store_.get();
    ctx_.one_ids = &one_ids_;
  }

  void Check(const Json& extra) {
    auto spec = ParsePathsSpec(Body(extra), ctx_);
    ASSERT_TRUE(spec.ok()) << spec.status().ToString();
    spec->top = 1'000'000;  // every path (the typed API has no request limit)
    auto got = ComputePaths(*spec, ctx_);
    ASSERT_TRUE(got.ok()) << got.status().ToString();
    const BrutePaths want = Brute(events_, *spec);
    ASSERT_EQ(got->paths.size(), want.paths.size()) << extra.dump();
    for (size_t i = 0; i < got->paths.size(); ++i) {
      const PathCount& p = got->paths[i];
      auto it = want.paths.find(p.nodes);
      ASSERT_NE(it, want.paths.end()) << extra.dump() << ": " << Json(p.nodes).dump();
      EXPECT_EQ(p.persons, static_cast<int64_t>(it->second.first.size())) << Json(p.nodes).dump();
      EXPECT_EQ(p.sessions, it->second.second) << Json(p.nodes).dump();
      if (i > 0) {  // ranked
        const PathCount& q = got->paths[i - 1];
        EXPECT_TRUE(std::tie(q.persons, q.sessions) > std::tie(p.persons, p.sessions) ||
                    (std::tie(q.persons, q.sessions) == std::tie(p.persons, p.sessions) &&
                     q.nodes < p.nodes));
      }
    }
    ASSERT_EQ(got->links.size(), want.links.size()) << extra.dump();
    for (const SankeyLink& l : got->links) {
      const size_t a = l.source.find(':'), b = l.target.find(':');
      const int column = std::stoi(l.source.substr(0, a)) - 1;
      EXPECT_EQ(std::stoi(l.target.substr(0, b)), column + 2);
      auto it = want.links.find({column, l.source.substr(a + 1), l.target.substr(b + 1)});
      ASSERT_NE(it, want.links.end()) << l.source << " -> " << l.target;
      EXPECT_EQ(l.persons, static_cast<int64_t>(it->second.first.size()))
          << l.source << " -> " << l.target;
      EXPECT_EQ(l.sessions, it->second.second) << l.source << " -> " << l.target;
    }
  }

  TempDir dir_;
  std::vector<Ev> events_;
  std::unique_ptr<store::EventStore> store_;
  DenseArray<uint32_t> one_ids_;
  QueryContext ctx_;
};

TEST_F(PathsBruteForce, EveryCombination) {
  for (const char* granularity : {"event", "channel"}) {
    for (const char* scope : {"session", "journey"}) {
      for (bool collapse : {true, false}) {
        for (int steps : {2, 3, 6}) {
          for (int anchor = 0; anchor < 3; ++anchor) {
            Json extra = {{"granularity", granularity},
                          {"scope", scope},
                          {"collapse_repeats", collapse},
                          {"steps", steps}};
            if (anchor == 1) extra["start_event"] = "Product Viewed";
            if (anchor == 2) extra["end_event"] = "Order Completed";
            SCOPED_TRACE(extra.dump());
            Check(extra);
          }
        }
      }
    }
  }
}

TEST_F(PathsBruteForce, ExcludedEventsAndNamelessPages) {
  Check({{"exclude", {"Consent Updated", "screen"}}, {"steps", 4}});
  Check({{"start_event", "page"}, {"steps", 3}});
}

TEST_F(PathsBruteForce, OneThreadOrMany) {
  auto spec = ParsePathsSpec(Body({{"top", 1000}}), ctx_);
  ASSERT_TRUE(spec.ok());
  spec->top = 1'000'000;
  ctx_.options.threads = 1;
  auto one = ComputePaths(*spec, ctx_);
  ctx_.options.threads = 4;
  auto four = ComputePaths(*spec, ctx_);
  ASSERT_TRUE(one.ok() && four.ok());
  EXPECT_EQ(ToJson(*one), ToJson(*four));
}

}  // namespace
}  // namespace quanyu::query
