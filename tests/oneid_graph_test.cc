// Unit tests of the identity graph on already-normalized identifiers (real
// RocksDB for persistence, hence the oneid_ prefix that links the store). The
// end-to-end scenarios (raw SDK events through the engine) are in
// tests/oneid_golden_test.cc.
#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <random>
#include <set>

#include "identity/graph.h"
#include "store/state_db.h"
#include "test_util.h"

namespace quanyu::identity {
namespace {

Identifier Id(const std::string& text) {
  // "ns:value" or "ns:scope:value"
  auto a = text.find(':');
  auto b = text.find(':', a + 1);
  if (b == std::string::npos) return {text.substr(0, a), "", text.substr(a + 1)};
  return {text.substr(0, a), text.substr(a + 1, b - a - 1), text.substr(b + 1)};
}

Event Ev(int64_t t, std::vector<std::string> ids, EventType type = EventType::kTrack) {
  static int n = 0;
  Event e;
  e.timestamp_us = t;
  e.type = type;
  e.message_id = "m" + std::to_string(++n);
  for (const auto& s : ids) e.identifiers.push_back(Id(s));
  return e;
}

void ApplyAll(IdentityGraph* g, std::vector<Event> events) {
  for (auto& e : events) {
    std::vector<Event> one{e};
    g->Apply(&one);
  }
}

// The partition: sets of identifier strings, sorted.
std::set<std::set<std::string>> Persons(const IdentityGraph& g, const std::vector<Event>& events) {
  std::map<OneId, std::set<std::string>> by;
  for (const auto& e : events) {
    for (const auto& id : e.identifiers) {
      OneId p = g.Lookup(id);
      if (p != 0) by[p].insert(id.ToString());
    }
  }
  std::set<std::set<std::string>> out;
  for (auto& [p, s] : by) out.insert(s);
  return out;
}

TEST(IdentityGraph, WebVisitorWhoLogsInOnTheAppIsOnePerson) {
  IdentityGraph g(IdentityRules::Defaults());
  std::vector<Event> ev = {Ev(1, {"anonymous_id:web-1"}), Ev(2, {"anonymous_id:app-1"}),
                           Ev(3, {"user_id:u1", "anonymous_id:app-1"}),
                           Ev(4, {"user_id:u1", "anonymous_id:web-1"})};
  ApplyAll(&g, ev);
  EXPECT_EQ(Persons(g, ev).size(), 1u);
  OneId p = g.Lookup(Id("user_id:u1"));
  EXPECT_EQ(p, 1u) << "the oldest person survives";
  EXPECT_EQ(g.Resolve(2), 1u) << "the absorbed one_id is an alias";
  auto d = g.Describe(2);
  ASSERT_TRUE(d);
  EXPECT_EQ(d->one_id, 1u);
  ASSERT_FALSE(d->links.empty());
  bool merge_logged = false;
  for (const auto& l : d->links) {
    for (const auto& m : l.merges) {
      if (m.survivor == 1 && m.absorbed == 2) {
        merge_logged = true;
        EXPECT_EQ(l.message_id, ev[3].message_id);
      }
    }
  }
  EXPECT_TRUE(merge_logged);
}

TEST(IdentityGraph, OpenidsOfTwoAppsJoinedByUnionid) {
  IdentityGraph g(IdentityRules::Defaults());
  std::vector<Event> ev = {
      Ev(1, {"wechat_openid:wx_a:o1", "wechat_unionid:open_1:U"}),
      Ev(2, {"wechat_openid:wx_b:o2"}),
      Ev(3, {"wechat_openid:wx_b:o2", "wechat_unionid:open_1:U"}),
  };
  ApplyAll(&g, ev);
  EXPECT_EQ(Persons(g, ev).size(), 1u);
}

TEST(IdentityGraph, FamilyTabletWithTwoUserIdsStaysTwoPersons) {
  IdentityGraph g(IdentityRules::Defaults());
  std::vector<Event> ev = {
      Ev(1, {"user_id:mum", "anonymous_id:tablet"}),
      Ev(2, {"user_id:dad", "anonymous_id:tablet"}),
      Ev(3, {"anonymous_id:tablet"}),
  };
  ApplyAll(&g, ev);
  auto persons = Persons(g, ev);
  EXPECT_EQ(persons.size(), 2u);
  EXPECT_NE(g.Lookup(Id("user_id:mum")), g.Lookup(Id("user_id:dad")));
  auto d = g.Describe(g.Lookup(Id("user_id:dad")));
  ASSERT_TRUE(d);
  bool conflict = false;
  for (const auto& l : d->links) {
    for (const auto& c : l.conflicts) {
      conflict |=
          c.dropped == "anonymous_id:tablet" && c.reason == "limit" && c.rule == "user_id limit 1";
    }
  }
  EXPECT_TRUE(conflict) << "the refused link is recorded as a conflict";
  EXPECT_EQ(g.Stats().conflicts, 1u);
}

TEST(IdentityGraph, ScopedLimitKeepsOneOpenidPerApp) {
  IdentityGraph g(IdentityRules::Defaults());
  std::vector<Event> ev = {
      Ev(1, {"phone:+8613800138000", "wechat_openid:wx_a:o1"}),
      Ev(2, {"phone:+8613800138000", "wechat_openid:wx_a:o2"}),  // same app, another openid
      Ev(3, {"phone:+8613800138000", "wechat_openid:wx_b:o3"}),  // another app: fine
  };
  ApplyAll(&g, ev);
  EXPECT_EQ(g.Lookup(Id("wechat_openid:wx_a:o1")), g.Lookup(Id("wechat_openid:wx_b:o3")));
  EXPECT_NE(g.Lookup(Id("wechat_openid:wx_a:o1")), g.Lookup(Id("wechat_openid:wx_a:o2")));
}

TEST(IdentityGraph, MaxIdentifiersCapsARunawayPerson) {
  IdentityRules rules = IdentityRules::Defaults();
  rules.max_identifiers = 10;
  IdentityGraph g(rules);
  std::vector<Event> ev;
  for (int i = 0; i < 50; ++i)
    ev.push_back(Ev(i, {"device_id:shared-kiosk", "email:u" + std::to_string(i) + "@x.cn"}));
  ApplyAll(&g, ev);
  auto keys = g.KeysOf(g.Lookup(Id("device_id:shared-kiosk")));
  EXPECT_LE(keys.size(), 10u);
  EXPECT_GT(g.Stats().conflicts, 0u);
}

TEST(IdentityGraph, MaxMergesCapsARunawayPerson) {
  IdentityRules rules = IdentityRules::Defaults();
  rules.max_merges = 3;
  IdentityGraph g(rules);
  std::vector<Event> ev;
  for (int i = 0; i < 10; ++i) ev.push_back(Ev(i, {"email:u" + std::to_string(i) + "@x.cn"}));
  for (int i = 0; i < 10; ++i)
    ev.push_back(Ev(100 + i, {"email:u" + std::to_string(i) + "@x.cn", "device_id:kiosk"}));
  ApplyAll(&g, ev);
  OneId kiosk = g.Lookup(Id("device_id:kiosk"));
  auto d = g.Describe(kiosk);
  ASSERT_TRUE(d);
  EXPECT_LE(d->merges, 3u);
}

// A graph with conflicts (shared devices) delivered in many orders.
std::vector<Event> SharedDeviceWorld() {
  std::vector<Event> ev;
  int64_t t = 0;
  for (int fam = 0; fam < 5; ++fam) {
    std::string tablet = "anonymous_id:tablet-" + std::to_string(fam);
    for (int m = 0; m < 3; ++m) {
      std::string user = "user_id:f" + std::to_string(fam) + "-" + std::to_string(m);
      std::string phone = "phone:+86138" + std::to_string(10000000 + fam * 10 + m);
      std::string web = "anonymous_id:web-" + std::to_string(fam) + "-" + std::to_string(m);
      ev.push_back(Ev(++t, {web}));
      ev.push_back(Ev(++t, {tablet}));
      ev.push_back(Ev(++t, {user, tablet}));
      ev.push_back(Ev(++t, {user, phone, web}));
      ev.push_back(Ev(++t, {phone, "wechat_openid:wx_a:o" + std::to_string(fam * 10 + m)}));
    }
  }
  return ev;
}

TEST(IdentityGraph, OutOfOrderDeliveryGivesTheSamePersons) {
  auto ev = SharedDeviceWorld();
  IdentityGraph in_order(IdentityRules::Defaults());
  ApplyAll(&in_order, ev);
  auto expected = Persons(in_order, ev);
  EXPECT_EQ(expected.size(), 15u);  // one per family member; tablets go with the first login
  std::mt19937 rng(7);
  for (int round = 0; round < 30; ++round) {
    auto shuffled = ev;
    std::shuffle(shuffled.begin(), shuffled.end(), rng);
    IdentityGraph g(IdentityRules::Defaults());
    ApplyAll(&g, shuffled);
    EXPECT_EQ(Persons(g, ev), expected) << "round " << round;
  }
  auto reversed = ev;
  std::reverse(reversed.begin(), reversed.end());
  IdentityGraph g(IdentityRules::Defaults());
  ApplyAll(&g, reversed);
  EXPECT_EQ(Persons(g, ev), expected);
  EXPECT_GT(g.Stats().rebuilds, 0u);
}

TEST(IdentityGraph, UnbindRestoresTwoPersons) {
  IdentityGraph g(IdentityRules::Defaults());
  std::vector<Event> ev = {
      Ev(1, {"wechat_openid:wx_a:o1"}),
      Ev(2, {"device_id:D"}),
      Ev(3, {"wechat_openid:wx_a:o1", "wechat_unionid:open_1:U"}),
      Ev(4, {"device_id:D", "wechat_unionid:open_1:U"}),
  };
  ApplyAll(&g, ev);
  ASSERT_EQ(Persons(g, ev).size(), 1u);
  std::vector<Event> unbind = {Ev(5, {"wechat_unionid:open_1:U"}, EventType::kIdUnbind)};
  g.Apply(&unbind);
  EXPECT_EQ(g.Lookup(Id("wechat_openid:wx_a:o1")), 1u);
  EXPECT_EQ(g.Lookup(Id("device_id:D")), 2u) << "the absorbed person comes back with its one_id";
  OneId u = g.Lookup(Id("wechat_unionid:open_1:U"));
  EXPECT_NE(u, 1u);
  EXPECT_NE(u, 2u);
  EXPECT_EQ(g.Resolve(2), 2u);
}

TEST(IdentityGraph, SplitUndoesTheLinksOfOneEvent) {
  IdentityGraph g(IdentityRules::Defaults());
  std::vector<Event> ev = {
      Ev(1, {"email:a@x.cn"}), Ev(2, {"email:b@x.cn"}),
      Ev(3, {"email:a@x.cn", "email:b@x.cn"}),  // a wrong merge
  };
  ApplyAll(&g, ev);
  ASSERT_EQ(g.Lookup(Id("email:b@x.cn")), 1u);
  EXPECT_TRUE(g.Split(1, ev[2].message_id, 10, "admin-1").ok());
  EXPECT_EQ(g.Lookup(Id("email:a@x.cn")), 1u);
  EXPECT_EQ(g.Lookup(Id("email:b@x.cn")), 2u);
  EXPECT_EQ(g.Split(1, "no-such-message", 11, "admin-2").code(), StatusCode::kNotFound);
  EXPECT_EQ(g.Split(99, ev[2].message_id, 11, "admin-3").code(), StatusCode::kNotFound);
}

TEST(IdentityGraph, RestartGivesTheSameGraph) {
  quanyu::testing::TempDir dir;
  auto ev = SharedDeviceWorld();
  std::mt19937 rng(3);
  std::shuffle(ev.begin(), ev.end(), rng);
  IdentityGraph g(IdentityRules::Defaults());
  auto db = store::StateDb::Open(dir / "state");
  ASSERT_TRUE(db.ok());
  // Two checkpoints, so the second writes only changes.
  size_t half = ev.size() / 2;
  ApplyAll(&g, {ev.begin(), ev.begin() + half});
  KvWriteBatch b1;
  g.WriteDirty(&b1);
  ASSERT_TRUE((*db)->Write(b1).ok());
  ApplyAll(&g, {ev.begin() + half, ev.end()});
  std::vector<Event> unbind = {Ev(1000, {"anonymous_id:tablet-0"}, EventType::kIdUnbind)};
  g.Apply(&unbind);
  KvWriteBatch b2;
  g.WriteDirty(&b2);
  ASSERT_TRUE((*db)->Write(b2).ok());

  auto loaded = IdentityGraph::Load(**db, IdentityRules::Defaults());
  ASSERT_TRUE(loaded.ok()) << loaded.status().ToString();
  EXPECT_EQ(Persons(**loaded, ev), Persons(g, ev));
  auto s1 = g.Stats(), s2 = (*loaded)->Stats();
  EXPECT_EQ(s1.persons, s2.persons);
  EXPECT_EQ(s1.aliases, s2.aliases);
  EXPECT_EQ(s1.edges, s2.edges);
  for (OneId p = 1; p < 200; ++p) {
    auto a = g.Describe(p), b = (*loaded)->Describe(p);
    ASSERT_EQ(a.has_value(), b.has_value()) << p;
    if (!a) continue;
    EXPECT_EQ(a->identifiers, b->identifiers);
    EXPECT_EQ(a->links.size(), b->links.size());
  }
  // The loaded graph keeps resolving new events the same way.
  std::vector<Event> more = {Ev(2000, {"user_id:f1-1", "email:new@x.cn"})};
  auto more2 = more;
  g.Apply(&more);
  (*loaded)->Apply(&more2);
  EXPECT_EQ(more[0].identity_key, more2[0].identity_key);
  EXPECT_EQ(g.Lookup(Id("email:new@x.cn")), (*loaded)->Lookup(Id("email:new@x.cn")));
}

TEST(IdentityGraph, KeyIsTheHighestPriorityIdentifierAndResolvesThroughOneIds) {
  IdentityGraph g(IdentityRules::Defaults());
  std::vector<Event> ev = {Ev(1, {"anonymous_id:a", "user_id:u", "phone:+8613800138000"})};
  g.Apply(&ev);
  IdentKey k = ev[0].identity_key;
  EXPECT_EQ(g.KeyToString(k), "user_id:u");
  EXPECT_EQ(g.KeyOf(ev[0]), k);
  EXPECT_EQ(g.one_ids().Get(k), g.Lookup(Id("anonymous_id:a")));
}

TEST(IdentityGraph, RulesFromTheConfigOverrideTheDefaults) {
  Config config;
  config.identity_rules.push_back({"email", 1, 4});
  config.identity_max_merges = 7;
  auto rules = IdentityRules::FromConfig(config);
  ASSERT_TRUE(rules.ok()) << rules.status().ToString();
  EXPECT_EQ(rules->For("email").limit, 1u);
  EXPECT_EQ(rules->max_merges, 7u);
  EXPECT_EQ(rules->For("user_id").limit, 1u) << "others keep their defaults";
  EXPECT_EQ(rules->For("previous_id").priority, rules->fallback.priority);
  IdentityGraph g(*rules);
  std::vector<Event> ev = {Ev(1, {"user_id:u", "email:a@x.cn"}),
                           Ev(2, {"user_id:u", "email:b@x.cn"})};
  ApplyAll(&g, ev);
  EXPECT_NE(g.Lookup(Id("email:a@x.cn")), g.Lookup(Id("email:b@x.cn")))
      << "one email per person with limit 1";
  Config bad;
  bad.identity_max_identifiers = 1;
  EXPECT_EQ(IdentityRules::FromConfig(bad).status().code(), StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace quanyu::identity
