#include <gtest/gtest.h>

#include <algorithm>
#include <nlohmann/json.hpp>
#include <random>
#include <string>
#include <tuple>
#include <vector>

#include "common/time_util.h"
#include "identity/profile.h"

namespace quanyu::identity {
namespace {

using nlohmann::json;

constexpr int64_t kT0 = 1'767'225'600'000'000;  // 2026-01-01T00:00:00Z

Event Ev(EventType type, int seconds, std::string traits = "", std::string source = "web",
         std::string channel = "direct") {
  Event e;
  e.type = type;
  e.timestamp_us = kT0 + seconds * kMicrosPerSecond;
  e.received_us = kT0 + 1000 * kMicrosPerSecond;
  e.source = std::move(source);
  e.channel = std::move(channel);
  e.traits_json = std::move(traits);
  return e;
}

Event Group(int seconds, std::string group_id, std::string traits, std::string source = "web") {
  Event e = Ev(EventType::kGroup, seconds, std::move(traits), std::move(source));
  e.properties_json = json{{"groupId", group_id}}.dump();
  return e;
}

std::string Iso(int seconds) { return FormatTimestamp(kT0 + seconds * kMicrosPerSecond); }

PartialProfile Build(const std::vector<Event>& events) {
  PartialProfile p;
  for (const Event& e : events) p.Apply(e);
  return p;
}

json ToJson(const PartialProfile& p) {
  std::string out;
  p.AppendJson(&out);
  return json::parse(out);  // throws (failing the test) on invalid JSON
}

json Traits(const std::vector<Event>& events) { return ToJson(Build(events))["traits"]; }

// ---- each operation ----

TEST(ProfileTest, IdentifySetsTraitsLatestByEventTime) {
  json j = ToJson(Build({Ev(EventType::kIdentify, 20, R"({"plan":"pro","age":30})", "app"),
                         Ev(EventType::kIdentify, 10, R"({"plan":"free","city":"Hangzhou"})")}));
  EXPECT_EQ(j["traits"], json::parse(R"({"age":30,"city":"Hangzhou","plan":"pro"})"));
  EXPECT_EQ(j["trait_meta"]["plan"], json({{"source", "app"}, {"time", Iso(20)}}));
  EXPECT_EQ(j["trait_meta"]["city"], json({{"source", "web"}, {"time", Iso(10)}}));
}

TEST(ProfileTest, NestedValuesAreSetWhole) {
  EXPECT_EQ(Traits({Ev(EventType::kProfileSet, 1, R"({"addr":{"city":"SH"},"tags":["a"]})")}),
            json::parse(R"({"addr":{"city":"SH"},"tags":["a"]})"));
}

TEST(ProfileTest, SetOnceKeepsTheEarliestUnlessUnset) {
  EXPECT_EQ(Traits({Ev(EventType::kProfileSetOnce, 5, R"({"first_city":"SZ"})"),
                    Ev(EventType::kProfileSetOnce, 2, R"({"first_city":"BJ"})")}),
            json::parse(R"({"first_city":"BJ"})"));
  // A set before it wins; a set after it overwrites.
  EXPECT_EQ(Traits({Ev(EventType::kProfileSetOnce, 5, R"({"k":"once"})"),
                    Ev(EventType::kProfileSet, 1, R"({"k":"set"})")}),
            json::parse(R"({"k":"set"})"));
  EXPECT_EQ(Traits({Ev(EventType::kProfileSetOnce, 1, R"({"k":"once"})"),
                    Ev(EventType::kProfileSet, 5, R"({"k":"set"})")}),
            json::parse(R"({"k":"set"})"));
  // After an unset, set_once applies again.
  EXPECT_EQ(Traits({Ev(EventType::kProfileSet, 1, R"({"k":"set"})"),
                    Ev(EventType::kProfileUnset, 2, R"({"k":true})"),
                    Ev(EventType::kProfileSetOnce, 3, R"({"k":"again"})")}),
            json::parse(R"({"k":"again"})"));
}

TEST(ProfileTest, SetOnceThatChangesNothingDoesNotDecide) {
  json j = ToJson(Build({Ev(EventType::kProfileSetOnce, 1, R"({"k":1})", "crm"),
                         Ev(EventType::kProfileSetOnce, 9, R"({"k":2})", "app")}));
  EXPECT_EQ(j["traits"]["k"], 1);
  EXPECT_EQ(j["trait_meta"]["k"], json({{"source", "crm"}, {"time", Iso(1)}}));
}

TEST(ProfileTest, IncrementAddsToNumbersAndStartsFromZero) {
  EXPECT_EQ(Traits({Ev(EventType::kProfileIncrement, 3, R"({"n":1})"),
                    Ev(EventType::kProfileIncrement, 1, R"({"n":2})"),
                    Ev(EventType::kProfileIncrement, 2, R"({"n":4})")}),
            json::parse(R"({"n":7})"));
  EXPECT_EQ(Traits({Ev(EventType::kProfileSet, 1, R"({"n":10})"),
                    Ev(EventType::kProfileIncrement, 2, R"({"n":0.5})")}),
            json::parse(R"({"n":10.5})"));
  // A non-numeric value counts as 0; an increment before the set is void.
  EXPECT_EQ(Traits({Ev(EventType::kProfileSet, 5, R"({"n":"many"})"),
                    Ev(EventType::kProfileIncrement, 6, R"({"n":2})"),
                    Ev(EventType::kProfileIncrement, 4, R"({"n":100})")}),
            json::parse(R"({"n":2})"));
  // int64 overflow falls back to floating point instead of wrapping.
  json big = Traits({Ev(EventType::kProfileSet, 1, R"({"n":9223372036854775807})"),
                     Ev(EventType::kProfileIncrement, 2, R"({"n":1})")});
  ASSERT_TRUE(big["n"].is_number());
  EXPECT_GT(big["n"].get<double>(), 9.2e18);
}

TEST(ProfileTest, IncrementWithNonNumericOperandIsSkipped) {
  PartialProfile p = Build({Ev(EventType::kProfileIncrement, 1, R"({"n":"1","m":2})")});
  EXPECT_EQ(p.skipped_ops(), 1u);
  EXPECT_EQ(ToJson(p)["traits"], json::parse(R"({"m":2})"));
}

TEST(ProfileTest, AppendConcatenatesArraysAndScalars) {
  EXPECT_EQ(Traits({Ev(EventType::kProfileAppend, 2, R"({"tags":"b"})"),
                    Ev(EventType::kProfileAppend, 1, R"({"tags":["a"]})"),
                    Ev(EventType::kProfileAppend, 3, R"({"tags":["c","d"]})")}),
            json::parse(R"({"tags":["a","b","c","d"]})"));
  EXPECT_EQ(Traits({Ev(EventType::kProfileSet, 1, R"({"tags":[1]})"),
                    Ev(EventType::kProfileAppend, 2, R"({"tags":[2]})")}),
            json::parse(R"({"tags":[1,2]})"));
  // A non-array value is replaced by [].
  EXPECT_EQ(Traits({Ev(EventType::kProfileSet, 1, R"({"tags":"x"})"),
                    Ev(EventType::kProfileAppend, 2, R"({"tags":["y"]})")}),
            json::parse(R"({"tags":["y"]})"));
  PartialProfile p = Build({Ev(EventType::kProfileAppend, 1, R"({"o":{"a":1},"z":null})")});
  EXPECT_EQ(p.skipped_ops(), 2u);
  EXPECT_EQ(ToJson(p)["traits"], json::object());
}

TEST(ProfileTest, UnsetRemovesOnlyWhatCameBefore) {
  EXPECT_EQ(Traits({Ev(EventType::kProfileSet, 1, R"({"a":1,"b":2})"),
                    Ev(EventType::kProfileUnset, 2, R"({"a":true})")}),
            json::parse(R"({"b":2})"));
  EXPECT_EQ(Traits({Ev(EventType::kProfileSet, 2, R"({"a":1})"),
                    Ev(EventType::kProfileUnset, 1, R"({"a":true})")}),
            json::parse(R"({"a":1})"));
  json j = ToJson(Build({Ev(EventType::kProfileSet, 1, R"({"a":1})"),
                         Ev(EventType::kProfileUnset, 2, R"({"a":true})")}));
  EXPECT_FALSE(j["trait_meta"].contains("a"));
}

TEST(ProfileTest, DeleteClearsEveryEarlierPersonTraitButNotGroups) {
  json j = ToJson(Build({
      Ev(EventType::kProfileSet, 1, R"({"a":1,"b":2})"),
      Group(1, "acme", R"({"plan":"pro"})"),
      Ev(EventType::kProfileDelete, 5),
      Ev(EventType::kProfileSet, 6, R"({"b":3})"),
      Ev(EventType::kProfileSet, 3, R"({"c":4})"),         // late, before the delete
      Ev(EventType::kProfileIncrement, 4, R"({"b":10})"),  // late, before the delete
      Ev(EventType::kProfileAppend, 7, R"({"l":"x"})"),
  }));
  EXPECT_EQ(j["traits"], json::parse(R"({"b":3,"l":["x"]})"));
  EXPECT_EQ(j["groups"], json::parse(R"({"acme":{"plan":"pro"}})"));
}

TEST(ProfileTest, EqualTimesBreakTiesByOpKindThenValueNotArrival) {
  std::vector<Event> events = {Ev(EventType::kProfileSet, 1, R"({"k":"y"})", "b"),
                               Ev(EventType::kProfileSet, 1, R"({"k":"x"})", "a"),
                               Ev(EventType::kProfileUnset, 1, R"({"k":true})"),
                               Ev(EventType::kProfileIncrement, 1, R"({"n":1})"),
                               Ev(EventType::kProfileSet, 1, R"({"n":5})")};
  json forward = ToJson(Build(events));
  std::reverse(events.begin(), events.end());
  EXPECT_EQ(ToJson(Build(events)), forward);
  // unset < set; between sets the larger JSON text; set < increment.
  EXPECT_EQ(forward["traits"], json::parse(R"({"k":"y","n":6})"));
  EXPECT_EQ(forward["trait_meta"]["k"]["source"], "b");
}

TEST(ProfileTest, OtherEventTypesChangeNoTraits) {
  PartialProfile p =
      Build({Ev(EventType::kTrack, 1, R"({"a":1})"), Ev(EventType::kPage, 2, R"({"a":1})"),
             Ev(EventType::kTrackSignup, 3, R"({"a":1})"), Ev(EventType::kAlias, 4, R"({"a":1})")});
  EXPECT_EQ(ToJson(p)["traits"], json::object());
  EXPECT_EQ(p.events(), 4u);
  EXPECT_EQ(p.skipped_ops(), 0u);
}

// ---- bad input ----

TEST(ProfileTest, BadTraitsJsonIsSkippedAndCounted) {
  PartialProfile p =
      Build({Ev(EventType::kIdentify, 1, "{\"a\":"), Ev(EventType::kProfileSet, 2, "[1,2]"),
             Ev(EventType::kProfileIncrement, 3, "not json"),
             Ev(EventType::kProfileSet, 4, std::string("{\"a\":\"\xff\"}")),
             Ev(EventType::kIdentify, 5, R"({"ok":true})"), Group(6, "g", "{oops")});
  EXPECT_EQ(p.skipped_ops(), 5u);
  EXPECT_EQ(p.events(), 6u);
  json j = ToJson(p);
  EXPECT_EQ(j["traits"], json::parse(R"({"ok":true})"));
  EXPECT_EQ(j["groups"], json::parse(R"({"g":{}})"));
  EXPECT_EQ(j["skipped_ops"], 5);
}

TEST(ProfileTest, NonUtf8SourceAndChannelCountAsUnknown) {
  PartialProfile p = Build({Ev(EventType::kIdentify, 1, R"({"a":1})", "w\xff", "c\xfe"),
                            Ev(EventType::kTrack, 2, "", "web", "direct")});
  json j = ToJson(p);
  EXPECT_EQ(j["sources"].size(), 1u);
  EXPECT_EQ(j["channels"].size(), 1u);
  EXPECT_EQ(j["trait_meta"]["a"]["source"], "");
  auto decoded = PartialProfile::Decode(p.Encode());
  ASSERT_TRUE(decoded.ok()) << decoded.status().ToString();
  EXPECT_EQ(*decoded, p);
}

// ---- groups ----

TEST(ProfileTest, GroupTraitsAreLatestWinsPerGroup) {
  Event no_id = Ev(EventType::kGroup, 9, R"({"x":1})");
  no_id.properties_json = R"({"other":1})";
  PartialProfile p =
      Build({Group(3, "acme", R"({"plan":"pro"})"),
             Group(1, "acme", R"({"plan":"free","name":"Acme"})"), Group(2, "beta", ""), no_id});
  json j = ToJson(p);
  EXPECT_EQ(j["groups"], json::parse(R"({"acme":{"name":"Acme","plan":"pro"},"beta":{}})"));
  EXPECT_EQ(j["traits"], json::object());
  EXPECT_EQ(p.skipped_ops(), 1u);
}

// ---- bookkeeping ----

TEST(ProfileTest, TracksSeenSourcesAndChannels) {
  PartialProfile p = Build(
      {Ev(EventType::kTrack, 5, "", "web", "douyin"), Ev(EventType::kPage, 2, "", "web", "direct"),
       Ev(EventType::kIdentify, 9, "", "crm", "direct"), Ev(EventType::kTrack, 7, "", "", "")});
  EXPECT_EQ(p.events(), 4u);
  EXPECT_EQ(p.first_seen_us(), kT0 + 2 * kMicrosPerSecond);
  EXPECT_EQ(p.last_seen_us(), kT0 + 9 * kMicrosPerSecond);
  json j = ToJson(p);
  EXPECT_EQ(j["first_seen"], Iso(2));
  EXPECT_EQ(j["last_seen"], Iso(9));
  EXPECT_EQ(j["events"], 4);
  EXPECT_EQ(j["sources"],
            json::parse(R"({"crm":{"events":1,"first_seen":")" + Iso(9) + R"(","last_seen":")" +
                        Iso(9) + R"("},"web":{"events":2,"first_seen":")" + Iso(2) +
                        R"(","last_seen":")" + Iso(5) + R"("}})"));
  EXPECT_EQ(j["channels"]["direct"]["events"], 2);
  EXPECT_EQ(j["channels"]["douyin"]["first_seen"], Iso(5));
}

TEST(ProfileTest, EmptyProfile) {
  PartialProfile p;
  EXPECT_TRUE(p.empty());
  json j = ToJson(p);
  EXPECT_TRUE(j["first_seen"].is_null());
  EXPECT_EQ(j["events"], 0);
  PartialProfile q = Build({Ev(EventType::kTrack, 1)});
  EXPECT_FALSE(q.empty());
  PartialProfile merged = q;
  merged.MergeFrom(p);
  EXPECT_EQ(merged, q);
}

// ---- order insensitivity and merging, against a reference fold ----

// Random events over few keys, sources and seconds so that ties abound.
std::vector<Event> RandomEvents(uint32_t seed, int n) {
  std::mt19937 rng(seed);
  auto pick = [&](int k) { return static_cast<int>(rng() % static_cast<uint32_t>(k)); };
  const char* keys[] = {"a", "b", "n", "tags"};
  const char* sources[] = {"web", "app", "crm"};
  const char* channels[] = {"direct", "wechat", "douyin"};
  auto value = [&]() -> json {
    switch (pick(6)) {
      case 0:
        return pick(10);
      case 1:
        return pick(10) + 0.5;
      case 2:
        return std::string(1, static_cast<char>('x' + pick(3)));
      case 3:
        return json::array({std::string(1, static_cast<char>('p' + pick(3)))});
      case 4:
        return pick(2) == 1;
      default:
        return json::array({pick(3), "q"});
    }
  };
  std::vector<Event> events;
  for (int i = 0; i < n; ++i) {
    const int kind = pick(12);
    const EventType types[] = {EventType::kIdentify,
                               EventType::kProfileSet,
                               EventType::kProfileSetOnce,
                               EventType::kProfileIncrement,
                               EventType::kProfileIncrement,
                               EventType::kProfileAppend,
                               EventType::kProfileAppend,
                               EventType::kProfileUnset,
                               EventType::kProfileDelete,
                               EventType::kTrack,
                               EventType::kGroup,
                               EventType::kPage};
    const EventType type = types[kind];
    json traits = json::object();
    for (int k = 0, m = 1 + pick(2); k < m; ++k) {
      json v = value();
      if (type == EventType::kProfileIncrement && pick(3) > 0) v = pick(5) - 1;
      traits[keys[pick(4)]] = v;
    }
    Event e = type == EventType::kGroup ? Group(pick(30), pick(2) ? "g1" : "g2", traits.dump())
                                        : Ev(type, pick(30), traits.dump());
    e.source = sources[pick(3)];
    e.channel = channels[pick(3)];
    if (type == EventType::kProfileDelete) e.traits_json.clear();
    events.push_back(std::move(e));
  }
  return events;
}

// What the profile must say: every op folded in (time, kind, value, source)
// order with the documented semantics.
struct ReferenceOp {
  int64_t time_us;
  int kind;  // the documented tie order: delete, unset, set, set_once, increment, append
  std::string value;
  std::string source;
  std::string key;
  std::string group;  // "" = the person
};

json ReferenceTraits(const std::vector<Event>& events, json* meta, json* groups,
                     uint64_t* skipped) {
  std::vector<ReferenceOp> ops;
  *skipped = 0;
  *groups = json::object();
  for (const Event& e : events) {
    int kind = -1;
    std::string group;
    switch (e.type) {
      case EventType::kProfileDelete:
        ops.push_back({e.timestamp_us, 0, "", e.source, "", ""});
        continue;
      case EventType::kGroup:
        group = json::parse(e.properties_json)["groupId"];
        (*groups)[group] = json::object();
        kind = 2;
        break;
      case EventType::kIdentify:
      case EventType::kProfileSet:
        kind = 2;
        break;
      case EventType::kProfileUnset:
        kind = 1;
        break;
      case EventType::kProfileSetOnce:
        kind = 4;
        break;
      case EventType::kProfileIncrement:
        kind = 5;
        break;
      case EventType::kProfileAppend:
        kind = 6;
        break;
      default:
        continue;
    }
    const json traits = json::parse(e.traits_json);
    for (const auto& [key, v] : traits.items()) {
      if ((kind == 5 && !v.is_number()) || (kind == 6 && (v.is_object() || v.is_null()))) {
        ++*skipped;
        continue;
      }
      ops.push_back({e.timestamp_us, kind, kind == 1 ? "" : v.dump(), e.source, key, group});
    }
  }
  std::sort(ops.begin(), ops.end(), [](const ReferenceOp& x, const ReferenceOp& y) {
    return std::tie(x.time_us, x.kind, x.value, x.source) <
           std::tie(y.time_us, y.kind, y.value, y.source);
  });
  json traits = json::object();
  *meta = json::object();
  for (const ReferenceOp& op : ops) {
    json& set = op.group.empty() ? traits : (*groups)[op.group];
    if (op.kind == 0) {
      traits = json::object();
      *meta = json::object();
      continue;
    }
    if (op.kind == 1) {
      set.erase(op.key);
      if (op.group.empty()) meta->erase(op.key);
      continue;
    }
    json v = json::parse(op.value);
    if (op.kind == 4 && set.contains(op.key)) continue;
    if (op.kind == 5) {
      json base = set.contains(op.key) && set[op.key].is_number() ? set[op.key] : json(0);
      if (base.is_number_integer() && v.is_number_integer()) {
        v = base.get<int64_t>() + v.get<int64_t>();
      } else {
        v = base.get<double>() + v.get<double>();
      }
    } else if (op.kind == 6) {
      json base = set.contains(op.key) && set[op.key].is_array() ? set[op.key] : json::array();
      if (v.is_array()) {
        for (const json& item : v) base.push_back(item);
      } else {
        base.push_back(v);
      }
      v = base;
    }
    set[op.key] = v;
    if (op.group.empty())
      (*meta)[op.key] = {{"source", op.source}, {"time", FormatTimestamp(op.time_us)}};
  }
  return traits;
}

TEST(ProfileTest, MatchesTheReferenceFoldInEveryArrivalOrder) {
  for (uint32_t seed = 1; seed <= 8; ++seed) {
    SCOPED_TRACE(seed);
    std::vector<Event> events = RandomEvents(seed, 80);
    PartialProfile reference_order = Build(events);
    json meta, groups;
    uint64_t skipped;
    json traits = ReferenceTraits(events, &meta, &groups, &skipped);
    json j = ToJson(reference_order);
    EXPECT_EQ(j["traits"], traits);
    EXPECT_EQ(j["trait_meta"], meta);
    EXPECT_EQ(j["groups"], groups);
    EXPECT_EQ(reference_order.skipped_ops(), skipped);

    const std::string bytes = reference_order.Encode();
    std::string text;
    reference_order.AppendJson(&text);
    std::mt19937 rng(seed);
    for (int round = 0; round < 50; ++round) {
      std::shuffle(events.begin(), events.end(), rng);
      PartialProfile p = Build(events);
      std::string shuffled_text;
      p.AppendJson(&shuffled_text);
      ASSERT_EQ(p.Encode(), bytes) << "round " << round;
      ASSERT_EQ(shuffled_text, text) << "round " << round;
    }
  }
}

TEST(ProfileTest, MergeOfAnySplitEqualsTheWhole) {
  std::mt19937 rng(42);
  for (int trial = 0; trial < 60; ++trial) {
    SCOPED_TRACE(trial);
    std::vector<Event> events = RandomEvents(1000 + trial, 60);
    const std::string whole = Build(events).Encode();
    const size_t k = 1 + rng() % 6;
    std::vector<PartialProfile> parts(k);
    for (const Event& e : events) parts[rng() % k].Apply(e);

    // Left fold in a random order.
    std::shuffle(parts.begin(), parts.end(), rng);
    PartialProfile folded;
    for (const PartialProfile& p : parts) folded.MergeFrom(p);
    ASSERT_EQ(folded.Encode(), whole);

    // Random tree: repeatedly merge two random partials.
    std::vector<PartialProfile> pool = parts;
    while (pool.size() > 1) {
      size_t i = rng() % pool.size(), j = rng() % (pool.size() - 1);
      if (j >= i) ++j;
      pool[i].MergeFrom(pool[j]);
      pool.erase(pool.begin() + static_cast<ptrdiff_t>(j));
    }
    ASSERT_EQ(pool[0].Encode(), whole);
  }
}

TEST(ProfileTest, MergeIsCommutativeAndAssociative) {
  for (uint32_t seed = 1; seed <= 20; ++seed) {
    PartialProfile a = Build(RandomEvents(seed * 3, 30));
    PartialProfile b = Build(RandomEvents(seed * 3 + 1, 30));
    PartialProfile c = Build(RandomEvents(seed * 3 + 2, 30));
    PartialProfile ab = a, ba = b;
    ab.MergeFrom(b);
    ba.MergeFrom(a);
    EXPECT_EQ(ab, ba);
    EXPECT_EQ(ab.Encode(), ba.Encode());
    PartialProfile ab_c = ab, bc = b, a_bc = a;
    ab_c.MergeFrom(c);
    bc.MergeFrom(c);
    a_bc.MergeFrom(bc);
    EXPECT_EQ(ab_c, a_bc);
    EXPECT_EQ(ab_c.Encode(), a_bc.Encode());
  }
}

// ---- beyond the relative-op cap ----

TEST(ProfileTest, ManyIncrementsStayExactAndBounded) {
  std::vector<Event> events;
  events.reserve(1000);
  for (int i = 0; i < 1000; ++i) {
    events.push_back(Ev(EventType::kProfileIncrement, i, R"({"orders":1})"));
  }
  std::mt19937 rng(7);
  std::shuffle(events.begin(), events.end(), rng);
  PartialProfile p = Build(events);
  json j = ToJson(p);
  EXPECT_EQ(j["traits"]["orders"], 1000);
  EXPECT_EQ(j["trait_meta"]["orders"]["time"], Iso(999));
  EXPECT_LT(p.Encode().size(), PartialProfile::kMaxRelativeOpsPerTrait * 16);
}

TEST(ProfileTest, BeyondTheCapTimeOrderIsStillExact) {
  // Alternating kinds cannot be combined: the oldest are folded into a set.
  std::vector<Event> events;
  for (int i = 0; i < 700; ++i) {
    switch (i % 3) {
      case 0:
        events.push_back(Ev(EventType::kProfileIncrement, i, R"({"k":2})"));
        break;
      case 1:
        events.push_back(Ev(EventType::kProfileAppend, i, R"({"k":["v"]})"));
        break;
      default:
        events.push_back(Ev(EventType::kProfileSetOnce, i, R"({"k":"once","l":1})"));
    }
    events.push_back(Ev(EventType::kProfileAppend, i, "{\"l\":" + std::to_string(i) + "}"));
  }
  PartialProfile p = Build(events);
  json meta, groups;
  uint64_t skipped;
  EXPECT_EQ(ToJson(p)["traits"], ReferenceTraits(events, &meta, &groups, &skipped));
  EXPECT_EQ(ToJson(p)["trait_meta"], meta);
  auto decoded = PartialProfile::Decode(p.Encode());
  ASSERT_TRUE(decoded.ok()) << decoded.status().ToString();
  EXPECT_EQ(*decoded, p);
}

// ---- persistence ----

TEST(ProfileTest, EncodeDecodeRoundTrips) {
  std::vector<PartialProfile> profiles = {PartialProfile(), Build({Ev(EventType::kTrack, -5)})};
  for (uint32_t seed = 1; seed <= 20; ++seed) profiles.push_back(Build(RandomEvents(seed, 50)));
  for (const PartialProfile& p : profiles) {
    auto decoded = PartialProfile::Decode(p.Encode());
    ASSERT_TRUE(decoded.ok()) << decoded.status().ToString();
    EXPECT_EQ(*decoded, p);
    EXPECT_EQ(decoded->Encode(), p.Encode());
    EXPECT_EQ(ToJson(*decoded), ToJson(p));
  }
}

TEST(ProfileTest, DecodeRejectsTruncatedAndGarbageBytes) {
  const std::string bytes = Build(RandomEvents(3, 60)).Encode();
  for (size_t n = 0; n < bytes.size(); ++n) {
    auto r = PartialProfile::Decode(std::string_view(bytes).substr(0, n));
    ASSERT_FALSE(r.ok()) << "prefix " << n;
    EXPECT_EQ(r.status().code(), StatusCode::kCorruption);
  }
  EXPECT_FALSE(PartialProfile::Decode(bytes + "x").ok());
  EXPECT_EQ(PartialProfile::Decode(std::string("\x02", 1)).status().code(),
            StatusCode::kCorruption);

  std::mt19937 rng(11);
  for (int i = 0; i < 3000; ++i) {
    std::string mutated = bytes;
    for (int k = 0, m = 1 + static_cast<int>(rng() % 4); k < m; ++k) {
      mutated[rng() % mutated.size()] = static_cast<char>(rng());
    }
    std::string garbage(rng() % 64, '\0');
    for (char& c : garbage) c = static_cast<char>(rng());
    for (const std::string& input : {mutated, garbage}) {
      auto r = PartialProfile::Decode(input);
      if (!r.ok()) {
        EXPECT_EQ(r.status().code(), StatusCode::kCorruption);
        continue;
      }
      // Whatever decodes is a well-formed partial.
      auto again = PartialProfile::Decode(r->Encode());
      ASSERT_TRUE(again.ok());
      EXPECT_EQ(*again, *r);
      ToJson(*r);
    }
  }
}

}  // namespace
}  // namespace quanyu::identity
