// Audience counts on simulated data equal a brute-force evaluation over all
// profiles (issue 5): a real Engine loads the simulator's world, the
// evaluator answers through Audiences::Evaluate, and the test recomputes
// every definition person by person from ProfileJson and the person's event
// timeline (Engine::PersonEvents) — no bitmaps, no store scans, no shared
// code with the evaluator.
#include <gtest/gtest.h>

#include <algorithm>
#include <functional>
#include <map>
#include <mutex>
#include <set>
#include <unordered_map>

#include "audience/language.h"
#include "common/time_util.h"
#include "engine/engine.h"
#include "sim/sim.h"
#include "sim_test_util.h"
#include "test_util.h"

namespace quanyu {
namespace {

using ::quanyu::testing::LoadSimulation;
using ::quanyu::testing::TempDir;
using Json = nlohmann::json;

struct Person {
  uint32_t one_id = 0;
  Json profile;
  std::vector<Event> events;  // oldest first
};

class AudiencesSim : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new TempDir();
    Config c;
    c.data_dir = dir_->path() + "/data";
    auto opened = Engine::Open(c);
    ASSERT_TRUE(opened.ok()) << opened.status().ToString();
    engine_ = opened->release();
    sim::SimOptions o;
    o.persons = 3000;
    o.days = 60;
    o.seed = 11;
    auto loaded = LoadSimulation(engine_, o);
    ASSERT_TRUE(loaded.ok()) << loaded.status().ToString();

    // Every live person, with profile and events.
    std::set<uint32_t> ids;
    const auto& map = engine_->identity().one_ids();
    for (size_t k = 1; k < map.size(); ++k) {
      if (map.Get(k)) ids.insert(map.Get(k));
    }
    // Events through the row scan (not the columnar path the evaluator uses),
    // grouped by the person each resolves to now.
    std::map<uint32_t, std::vector<Event>> events;
    store::ScanRequest req;
    req.one_ids = &map;
    ASSERT_TRUE(engine_->ScanEvents(req, [&](const store::EventBatch& batch) {
      for (const Event& e : batch) {
        if (e.one_id) events[e.one_id].push_back(e);
      }
      return Status::OK();
    }).ok());
    persons_ = new std::vector<Person>();
    for (uint32_t id : ids) {
      Person p;
      p.one_id = id;
      auto profile = engine_->ProfileJson(id);
      ASSERT_TRUE(profile.ok());
      p.profile = Json::parse(*profile);
      p.events = std::move(events[id]);
      std::stable_sort(p.events.begin(), p.events.end(),
                       [](const Event& a, const Event& b) { return a.timestamp_us < b.timestamp_us; });
      persons_->push_back(std::move(p));
    }
  }
  static void TearDownTestSuite() {
    ASSERT_TRUE(engine_->Close().ok());
    delete engine_;
    delete persons_;
    delete dir_;
  }

  // The evaluator's members of `text`, and the brute force's, must be equal.
  static void Check(const std::string& text, const std::function<bool(const Person&)>& truth,
                    size_t min_members = 1) {
    auto def = audience::ParseText(text);
    ASSERT_TRUE(def.ok()) << def.status().ToString();
    auto got = engine_->audiences().Evaluate(*def);
    ASSERT_TRUE(got.ok()) << got.status().ToString();
    std::set<uint32_t> want;
    for (const Person& p : *persons_) {
      if (truth(p)) want.insert(p.one_id);
    }
    std::set<uint32_t> have(got->begin(), got->end());
    EXPECT_EQ(have, want) << text << ": evaluator " << have.size() << ", brute force " << want.size();
    EXPECT_GE(want.size(), min_members) << text << " selects too few persons to prove anything";
    EXPECT_LT(want.size(), persons_->size()) << text << " selects everyone";
  }

  static const Json* Trait(const Person& p, const std::string& key) {
    auto it = p.profile["traits"].find(key);
    return it == p.profile["traits"].end() ? nullptr : &*it;
  }
  static size_t Count(const Person& p, const std::string& name,
                      const std::function<bool(const Event&)>& where = nullptr) {
    size_t n = 0;
    for (const Event& e : p.events) n += e.name == name && (!where || where(e));
    return n;
  }
  static double Revenue(const Person& p) {
    double s = 0;
    for (const Event& e : p.events) {
      if (e.name == "Order Completed" && e.revenue) s += *e.revenue;
    }
    return s;
  }

  static TempDir* dir_;
  static Engine* engine_;
  static std::vector<Person>* persons_;
};

TempDir* AudiencesSim::dir_ = nullptr;
Engine* AudiencesSim::engine_ = nullptr;
std::vector<Person>* AudiencesSim::persons_ = nullptr;

TEST_F(AudiencesSim, TraitConditions) {
  Check("trait.city = \"上海\"", [](const Person& p) {
    auto* v = Trait(p, "city");
    return v && *v == "上海";
  });
  Check("trait.tier != \"普通会员\"", [](const Person& p) {
    auto* v = Trait(p, "tier");
    return !v || *v != "普通会员";  // a person without the trait satisfies !=
  });
  Check("trait.birth_year BETWEEN 1990 AND 1999", [](const Person& p) {
    auto* v = Trait(p, "birth_year");
    return v && v->is_number() && v->get<double>() >= 1990 && v->get<double>() <= 1999;
  });
  Check("trait.city IN (\"北京\", \"深圳\") OR trait.gender = \"female\"", [](const Person& p) {
    auto* c = Trait(p, "city");
    auto* g = Trait(p, "gender");
    return (c && (*c == "北京" || *c == "深圳")) || (g && *g == "female");
  });
  Check("trait.email EXISTS AND NOT trait.email CONTAINS \"qq.com\"", [](const Person& p) {
    auto* v = Trait(p, "email");
    return v && v->is_string() && v->get<std::string>().find("qq.com") == std::string::npos;
  });
}

TEST_F(AudiencesSim, EventConditions) {
  Check("did(\"Order Completed\", count >= 2)",
        [](const Person& p) { return Count(p, "Order Completed") >= 2; });
  Check("did(\"Order Completed\", count <= 1)",  // includes persons who never ordered
        [](const Person& p) { return Count(p, "Order Completed") <= 1; });
  Check("did(\"Order Completed\", sum(revenue) >= 500)",
        [](const Person& p) { return Count(p, "Order Completed") > 0 && Revenue(p) >= 500; });
  Check("NOT did(\"Product Viewed\", where channel = \"douyin\")", [](const Person& p) {
    return Count(p, "Product Viewed", [](const Event& e) { return e.channel == "douyin"; }) == 0;
  });
  const int64_t from = *ParseTimestamp("2026-02-01T00:00:00Z"), to = *ParseTimestamp("2026-02-15T00:00:00Z");
  Check("did(\"Product Viewed\", count >= 2, between(\"2026-02-01\", \"2026-02-14\"))",
        [&](const Person& p) {
          return Count(p, "Product Viewed", [&](const Event& e) {
                   return e.timestamp_us >= from && e.timestamp_us < to;
                 }) >= 2;
        });
}

TEST_F(AudiencesSim, SequenceAndConsent) {
  Check("sequence(\"Product Viewed\", \"Order Completed\", within 1d)", [](const Person& p) {
    // Any view followed (same time or later) by an order within a day.
    for (const Event& a : p.events) {
      if (a.name != "Product Viewed") continue;
      for (const Event& b : p.events) {
        if (b.name == "Order Completed" && b.timestamp_us >= a.timestamp_us &&
            b.timestamp_us - a.timestamp_us <= 86'400'000'000) {
          return true;
        }
      }
    }
    return false;
  });
  Check("consent.marketing = true", [](const Person& p) {
    // The latest Consent Updated event that says anything about marketing.
    std::optional<bool> granted;
    int64_t at = INT64_MIN;
    for (const Event& e : p.events) {
      if (e.name != "Consent Updated") continue;
      Json c = Json::parse(e.context_json, nullptr, false);
      auto ptr = Json::json_pointer("/consent/categoryPreferences/marketing");
      if (c.is_discarded() || !c.contains(ptr) || !c[ptr].is_boolean()) continue;
      const bool g = c[ptr].get<bool>();
      if (e.timestamp_us > at || (e.timestamp_us == at && !g)) {
        at = e.timestamp_us;
        granted = g;
      }
    }
    return granted.value_or(false);
  });
}

TEST_F(AudiencesSim, RfmComputedTraitsAndTheIssueExample) {
  audience::RfmOptions o;
  o.analysis_time_us = *ParseTimestamp("2026-03-02T00:00:00Z");
  o.window_us = 60LL * 86400 * 1000000;
  ASSERT_TRUE(engine_->audiences().RunRfm(o).ok());
  auto spec = audience::ParseComputedTrait(
      Json{{"name", "orders"}, {"kind", "count"}, {"event", "Order Completed"}});
  ASSERT_TRUE(spec.ok()) << spec.status().ToString();
  ASSERT_TRUE(engine_->audiences().PutComputedTrait(*spec).ok());
  // Profiles now carry "rfm" and "computed"; the brute force reads them there.
  for (Person& p : *persons_) p.profile = Json::parse(*engine_->ProfileJson(p.one_id));

  Check("rfm.segment IN (\"Champions\", \"Loyal\")", [](const Person& p) {
    const Json& r = p.profile["rfm"];
    return r.is_object() && (r["segment"] == "Champions" || r["segment"] == "Loyal");
  });
  Check("computed.orders >= 3", [](const Person& p) {
    auto it = p.profile["computed"].find("orders");
    return it != p.profile["computed"].end() && it->get<int64_t>() >= 3;
  });
  Check("trait.city = \"上海\" AND did(\"Order Completed\", count >= 2) AND NOT "
        "did(\"Refund Requested\") AND rfm.segment IN (\"Champions\", \"Loyal\")",
        [](const Person& p) {
          auto* c = Trait(p, "city");
          const Json& r = p.profile["rfm"];
          return c && *c == "上海" && Count(p, "Order Completed") >= 2 &&
                 Count(p, "Refund Requested") == 0 && r.is_object() &&
                 (r["segment"] == "Champions" || r["segment"] == "Loyal");
        });
}

TEST_F(AudiencesSim, CachedAnswerEqualsFreshAndNewDataInvalidates) {
  auto def = audience::ParseText("did(\"Order Completed\", count >= 1)");
  ASSERT_TRUE(def.ok());
  auto& a = engine_->audiences();
  auto first = a.Evaluate(*def);
  const uint64_t hits = a.cache_stats().hits;
  auto second = a.Evaluate(*def);
  ASSERT_TRUE(first.ok() && second.ok());
  EXPECT_EQ(*first, *second);
  EXPECT_GT(a.cache_stats().hits, hits);
  // A new person orders: the cached bitmap must not be reused.
  IngestRequest req;
  auto src = engine_->ListSources().front();
  req.write_key = src.write_key;
  req.parsed.events.push_back([] {
    Event e;
    e.type = EventType::kTrack;
    e.name = "Order Completed";
    e.user_id = "brand-new-buyer";
    e.message_id = "audiences-sim-new-buyer";
    e.timestamp_us = *ParseTimestamp("2026-02-20T10:00:00Z");
    e.revenue = 99;
    return e;
  }());
  IngestResult r = engine_->IngestSync(std::move(req));
  ASSERT_TRUE(r.status.ok()) << r.status.ToString();
  ASSERT_EQ(r.accepted, 1u);
  auto third = a.Evaluate(*def);
  ASSERT_TRUE(third.ok());
  EXPECT_EQ(third->cardinality(), first->cardinality() + 1);
}

// A cached condition is reused only while the data it reads is unchanged:
// events of another name leave did("Product Viewed") cached, but a track
// event that merges two persons (linking an anonymous id to a user id)
// must not.
TEST_F(AudiencesSim, AMergeByAnotherEventInvalidatesCachedEventConditions) {
  auto& a = engine_->audiences();
  auto src = engine_->ListSources().front();
  auto ingest = [&](Event e) {
    IngestRequest req;
    req.write_key = src.write_key;
    e.type = EventType::kTrack;
    e.timestamp_us = *ParseTimestamp("2026-02-21T10:00:00Z");
    req.parsed.events.push_back(std::move(e));
    IngestResult r = engine_->IngestSync(std::move(req));
    ASSERT_TRUE(r.status.ok() && r.accepted == 1) << r.status.ToString();
  };
  Event viewed_anon;
  viewed_anon.name = "Product Viewed";
  viewed_anon.anonymous_id = "merge-test-anon";
  viewed_anon.message_id = "merge-test-1";
  ingest(viewed_anon);
  Event viewed_user;
  viewed_user.name = "Product Viewed";
  viewed_user.user_id = "merge-test-user";
  viewed_user.message_id = "merge-test-2";
  ingest(viewed_user);
  auto def = audience::ParseText("did(\"Product Viewed\", count >= 2, between(\"2026-02-21\", \"2026-02-21\"))");
  ASSERT_TRUE(def.ok());
  auto before = a.Evaluate(*def);
  ASSERT_TRUE(before.ok());
  auto user = engine_->LookupPerson("user_id:merge-test-user");
  ASSERT_TRUE(user.ok());
  EXPECT_FALSE(before->contains(*user));

  Event other;  // another name: the cached answer stays valid and is reused
  other.name = "Home Visited";
  other.user_id = "someone-else";
  other.message_id = "merge-test-3";
  ingest(other);
  const uint64_t hits = a.cache_stats().hits;
  ASSERT_TRUE(a.Evaluate(*def).ok());
  EXPECT_GT(a.cache_stats().hits, hits);

  Event link;  // links the two: one person with two views
  link.name = "Home Visited";
  link.user_id = "merge-test-user";
  link.anonymous_id = "merge-test-anon";
  link.message_id = "merge-test-4";
  ingest(link);
  auto merged = engine_->LookupPerson("anonymous_id:merge-test-anon");
  ASSERT_TRUE(merged.ok());
  ASSERT_EQ(*merged, *engine_->LookupPerson("user_id:merge-test-user")) << "the link did not merge";
  auto after = a.Evaluate(*def);
  ASSERT_TRUE(after.ok());
  EXPECT_TRUE(after->contains(*merged)) << "a stale cached bitmap was reused after the merge";
  EXPECT_EQ(after->cardinality(), before->cardinality() + 1);
}

}  // namespace
}  // namespace quanyu
