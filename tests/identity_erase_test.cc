// Deletion of a person from the identity graph (IdentityGraph::ErasePerson)
// and of identifiers from the interner: what is forgotten, what others keep,
// what a checkpoint writes and what a restart reads back. Persistence goes
// through a std::map-backed KvReader, so this links quanyu_identity only.
#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "identity/graph.h"
#include "identity/interner.h"
#include "map_kv.h"

namespace quanyu::identity {
namespace {

// Every identifier value and message id of a person to erase contains
// "erase"; nothing else does, so a byte search proves what was written.
constexpr char kErasedMark[] = "erase";

Identifier Id(const std::string& text) {
  // "ns:value" or "ns:scope:value"
  auto a = text.find(':');
  auto b = text.find(':', a + 1);
  if (b == std::string::npos) return {text.substr(0, a), "", text.substr(a + 1)};
  return {text.substr(0, a), text.substr(a + 1, b - a - 1), text.substr(b + 1)};
}

Event Ev(int64_t t, std::vector<std::string> ids, std::string message_id) {
  Event e;
  e.timestamp_us = t;
  e.type = EventType::kTrack;
  e.message_id = std::move(message_id);
  for (const auto& s : ids) e.identifiers.push_back(Id(s));
  return e;
}

IdentKey ApplyOne(IdentityGraph* g, Event e) {
  std::vector<Event> one{std::move(e)};
  g->Apply(&one);
  return one[0].identity_key;
}

using ::quanyu::testing::MapKv;

// Keys and values of a batch or a store that contain `needle`.
std::vector<std::string> Holding(const KvWriteBatch& b, std::string_view needle) {
  std::vector<std::string> out;
  for (const auto& op : b.ops()) {
    if (op.key.find(needle) != std::string::npos || op.value.find(needle) != std::string::npos) {
      out.push_back(op.key);
    }
  }
  return out;
}
std::vector<std::string> Holding(const MapKv& kv, std::string_view needle) {
  std::vector<std::string> out;
  for (const auto& [k, v] : kv.data) {
    if (k.find(needle) != std::string::npos || v.find(needle) != std::string::npos) {
      out.push_back(k);
    }
  }
  return out;
}

// Every string Describe shows of persons first..last.
std::string EverythingDescribed(const IdentityGraph& g, OneId first, OneId last) {
  std::string all;
  for (OneId p = first; p <= last; ++p) {
    auto d = g.Describe(p);
    if (!d) continue;
    for (const auto& id : d->identifiers) all += id + "\n";
    for (const auto& l : d->links) {
      all += l.message_id + "\n";
      for (const auto& id : l.identifiers) all += id + "\n";
      for (const auto& m : l.merges) all += m.via + "\n";
      for (const auto& c : l.conflicts) all += c.dropped + " " + c.rule + "\n";
    }
  }
  return all;
}

const char kWeb[] = "anonymous_id:erase-web-7f3a";
const char kEmail[] = "email:erase-alice@example.cn";
const char kUid[] = "user_id:erase-alice-uid";

// Alice: two persons (1 and 3) merged by an event into 1, so 3 is an alias;
// Bob (2) and Carol (4) are other persons.
void BuildAliceBobCarol(IdentityGraph* g) {
  ApplyOne(g, Ev(1, {kWeb}, "msg-erase-01"));
  ApplyOne(g, Ev(2, {"user_id:keep-bob", "anonymous_id:keep-bob-dev"}, "m-keep-02"));
  ApplyOne(g, Ev(3, {kEmail}, "msg-erase-03"));
  ApplyOne(g, Ev(4, {kUid, kWeb, kEmail}, "msg-erase-04"));
  ApplyOne(g, Ev(5, {"user_id:keep-carol", "phone:+8613900000001"}, "m-keep-05"));
}

// Retention erases many persons at once: one call, each with its aliases,
// unknown and repeated ones skipped, the rest untouched.
TEST(IdentityErase, ErasePersonsErasesEachWithItsAliasesInOneCall) {
  IdentityGraph g(IdentityRules::Defaults());
  BuildAliceBobCarol(&g);
  auto bob_before = g.Describe(2);
  ASSERT_TRUE(bob_before);
  auto erased = g.ErasePersons({3, 4, 1, 999});  // Alice twice (alias and survivor), Carol, unknown
  ASSERT_EQ(erased.size(), 2u);
  EXPECT_EQ(erased[0].one_id, 1u);
  EXPECT_EQ(erased[0].aliases, std::vector<OneId>{3});
  EXPECT_EQ(erased[0].keys.size(), 3u);
  EXPECT_EQ(erased[1].one_id, 4u);
  EXPECT_TRUE(erased[1].aliases.empty());
  EXPECT_EQ(erased[1].keys.size(), 2u);
  EXPECT_EQ(g.Lookup(Id(kEmail)), 0u);
  EXPECT_EQ(g.Lookup(Id("user_id:keep-carol")), 0u);
  EXPECT_FALSE(g.Describe(4));
  auto bob_after = g.Describe(2);
  ASSERT_TRUE(bob_after);
  EXPECT_EQ(bob_after->identifiers, bob_before->identifiers);
  EXPECT_TRUE(g.ErasePersons({1, 4}).empty()) << "already erased";
  EXPECT_EQ(g.ErasePerson(4).status().code(), StatusCode::kNotFound);
}

TEST(IdentityErase, MergedPersonIsForgottenAndOthersAreUntouched) {
  IdentityGraph g(IdentityRules::Defaults());
  BuildAliceBobCarol(&g);
  ASSERT_EQ(g.Lookup(Id(kEmail)), 1u);
  ASSERT_EQ(g.Resolve(3), 1u);
  auto bob_before = g.Describe(2);
  auto carol_before = g.Describe(4);
  ASSERT_TRUE(bob_before && carol_before);
  std::vector<IdentKey> alice_keys = g.KeysOf(1);
  ASSERT_EQ(alice_keys.size(), 3u);
  uint64_t remaps_before = g.remaps();

  auto erased = g.ErasePerson(3);  // by its alias
  ASSERT_TRUE(erased.ok()) << erased.status().ToString();
  EXPECT_EQ(erased->one_id, 1u);
  auto keys = erased->keys;
  std::sort(keys.begin(), keys.end());
  std::sort(alice_keys.begin(), alice_keys.end());
  EXPECT_EQ(keys, alice_keys);
  EXPECT_EQ(erased->aliases, std::vector<OneId>{3});

  for (const char* id : {kWeb, kEmail, kUid}) EXPECT_EQ(g.Lookup(Id(id)), 0u) << id;
  for (IdentKey k : alice_keys) {
    EXPECT_EQ(g.one_ids().Get(k), 0u) << k;
    EXPECT_EQ(g.KeyToString(k), "") << k;
  }
  EXPECT_TRUE(g.KeysOf(1).empty());
  EXPECT_FALSE(g.Describe(1));
  EXPECT_FALSE(g.Describe(3));
  EXPECT_EQ(g.Resolve(1), 1u) << "the one_id slot stays";
  EXPECT_EQ(g.Resolve(3), 1u) << "an alias still resolves";
  EXPECT_EQ(g.KeyOf(Ev(9, {kEmail}, "x")), 0u);

  // Bob and Carol keep everything.
  auto bob = g.Describe(2);
  auto carol = g.Describe(4);
  ASSERT_TRUE(bob && carol);
  EXPECT_EQ(bob->identifiers, bob_before->identifiers);
  EXPECT_EQ(carol->identifiers, carol_before->identifiers);
  ASSERT_EQ(bob->links.size(), 1u);
  EXPECT_EQ(bob->links[0].message_id, "m-keep-02");
  EXPECT_EQ(g.Lookup(Id("anonymous_id:keep-bob-dev")), 2u);
  EXPECT_EQ(g.Lookup(Id("phone:+8613900000001")), 4u);

  auto stats = g.Stats();
  EXPECT_EQ(stats.persons, 2u);
  EXPECT_EQ(stats.identifiers, 4u);
  EXPECT_EQ(EverythingDescribed(g, 1, 10).find(kErasedMark), std::string::npos);

  std::vector<std::string> listed;
  g.ForEachIdentifier([&](IdentKey, const std::string& s) { listed.push_back(s); });
  EXPECT_EQ(listed, (std::vector<std::string>{"user_id:keep-bob", "anonymous_id:keep-bob-dev",
                                              "user_id:keep-carol", "phone:+8613900000001"}));

  uint64_t upto = 0;
  EXPECT_GT(g.remaps(), remaps_before);
  EXPECT_FALSE(g.MergesSince(remaps_before, &upto)) << "an erase is not a plain merge";

  EXPECT_EQ(g.ErasePerson(1).status().code(), StatusCode::kNotFound) << "already erased";
  EXPECT_EQ(g.ErasePerson(3).status().code(), StatusCode::kNotFound);
  EXPECT_EQ(g.ErasePerson(99).status().code(), StatusCode::kNotFound);
  EXPECT_EQ(g.ErasePerson(0).status().code(), StatusCode::kNotFound);
}

TEST(IdentityErase, ResentIdentifierGetsANewKeyAndANewPerson) {
  IdentityGraph g(IdentityRules::Defaults());
  BuildAliceBobCarol(&g);
  std::vector<IdentKey> old_keys = g.KeysOf(1);
  IdentKey max_old = *std::max_element(old_keys.begin(), old_keys.end());
  ASSERT_TRUE(g.ErasePerson(1).ok());

  IdentKey k = ApplyOne(&g, Ev(10, {kEmail}, "m-again-10"));
  EXPECT_NE(k, 0u);
  EXPECT_GT(k, max_old) << "a new key, never an erased one";
  OneId again = g.Lookup(Id(kEmail));
  EXPECT_NE(again, 0u);
  EXPECT_NE(again, 1u) << "a new person, not the erased one";
  EXPECT_EQ(g.KeyToString(k), kEmail);
  ApplyOne(&g, Ev(11, {kUid, kEmail}, "m-again-11"));
  EXPECT_EQ(g.Lookup(Id(kUid)), again);

  EXPECT_FALSE(g.Describe(1));
  EXPECT_TRUE(g.KeysOf(1).empty());
  for (IdentKey old : old_keys) {
    EXPECT_EQ(g.one_ids().Get(old), 0u);
    EXPECT_EQ(g.KeyToString(old), "");
  }
}

TEST(IdentityErase, CheckpointAfterTheEraseHoldsNoneOfTheErasedValues) {
  IdentityGraph g(IdentityRules::Defaults());
  BuildAliceBobCarol(&g);
  MapKv kv;
  KvWriteBatch before;
  g.WriteDirty(&before);
  kv.Write(before);
  ASSERT_FALSE(Holding(kv, kErasedMark).empty()) << "the first checkpoint held them";
  ASSERT_FALSE(Holding(kv, "msg-erase-04").empty());

  ASSERT_TRUE(g.ErasePerson(1).ok());
  KvWriteBatch after;
  g.WriteDirty(&after);
  EXPECT_FALSE(after.empty());
  EXPECT_EQ(Holding(after, kErasedMark), std::vector<std::string>{});
  kv.Write(after);
  EXPECT_EQ(Holding(kv, kErasedMark), std::vector<std::string>{})
      << "every record that held them was rewritten";
  EXPECT_FALSE(Holding(kv, "keep-bob").empty()) << "others are still there";
}

TEST(IdentityErase, EraseBeforeTheFirstCheckpointWritesNoneOfTheErasedValues) {
  IdentityGraph g(IdentityRules::Defaults());
  BuildAliceBobCarol(&g);
  ASSERT_TRUE(g.ErasePerson(1).ok());
  KvWriteBatch b;
  g.WriteDirty(&b);
  EXPECT_EQ(Holding(b, kErasedMark), std::vector<std::string>{});
  EXPECT_FALSE(Holding(b, "keep-carol").empty());
}

TEST(IdentityErase, GraphWithoutErasureKeepsFormatVersion1) {
  IdentityGraph g(IdentityRules::Defaults());
  BuildAliceBobCarol(&g);
  MapKv kv;
  KvWriteBatch b;
  g.WriteDirty(&b);
  kv.Write(b);
  EXPECT_EQ(kv.data.at("ig/meta")[0], 1) << "readable by a reader without erasure";
  ASSERT_TRUE(g.ErasePerson(1).ok());
  KvWriteBatch b2;
  g.WriteDirty(&b2);
  kv.Write(b2);
  EXPECT_EQ(kv.data.at("ig/meta")[0], 2);
}

TEST(IdentityErase, LoadGivesBackTheErasedState) {
  IdentityGraph g(IdentityRules::Defaults());
  BuildAliceBobCarol(&g);
  MapKv kv;
  KvWriteBatch b1;
  g.WriteDirty(&b1);
  kv.Write(b1);
  std::vector<IdentKey> old_keys = g.KeysOf(1);
  ASSERT_TRUE(g.ErasePerson(1).ok());
  KvWriteBatch b2;
  g.WriteDirty(&b2);
  kv.Write(b2);

  auto loaded = IdentityGraph::Load(kv, IdentityRules::Defaults());
  ASSERT_TRUE(loaded.ok()) << loaded.status().ToString();
  IdentityGraph& l = **loaded;
  for (const char* id : {kWeb, kEmail, kUid}) EXPECT_EQ(l.Lookup(Id(id)), 0u) << id;
  for (IdentKey k : old_keys) {
    EXPECT_EQ(l.one_ids().Get(k), 0u);
    EXPECT_EQ(l.KeyToString(k), "");
  }
  EXPECT_TRUE(l.KeysOf(1).empty());
  EXPECT_FALSE(l.Describe(1));
  EXPECT_EQ(l.Resolve(3), 1u);
  EXPECT_EQ(l.ErasePerson(1).status().code(), StatusCode::kNotFound);
  for (OneId p = 1; p <= 5; ++p) {
    auto a = g.Describe(p), c = l.Describe(p);
    ASSERT_EQ(a.has_value(), c.has_value()) << p;
    if (!a) continue;
    EXPECT_EQ(a->identifiers, c->identifiers);
    EXPECT_EQ(a->links.size(), c->links.size());
  }
  auto s1 = g.Stats(), s2 = l.Stats();
  EXPECT_EQ(s1.persons, s2.persons);
  EXPECT_EQ(s1.aliases, s2.aliases);
  EXPECT_EQ(s1.identifiers, s2.identifiers);
  EXPECT_EQ(s1.edges, s2.edges);

  // Both go on the same way: the re-sent identifier gets the same new key.
  IdentKey k1 = ApplyOne(&g, Ev(20, {kEmail, "user_id:keep-bob"}, "m-keep-20"));
  IdentKey k2 = ApplyOne(&l, Ev(20, {kEmail, "user_id:keep-bob"}, "m-keep-20"));
  EXPECT_EQ(k1, k2);
  EXPECT_EQ(g.Lookup(Id(kEmail)), l.Lookup(Id(kEmail)));
  EXPECT_EQ(l.Lookup(Id(kEmail)), 2u);

  // The loaded graph erases and checkpoints like the original: a second
  // restart has both persons erased.
  ASSERT_TRUE(l.ErasePerson(4).ok());
  KvWriteBatch b3;
  l.WriteDirty(&b3);
  EXPECT_EQ(Holding(b3, "keep-carol"), std::vector<std::string>{});
  kv.Write(b3);
  auto again = IdentityGraph::Load(kv, IdentityRules::Defaults());
  ASSERT_TRUE(again.ok()) << again.status().ToString();
  EXPECT_EQ((*again)->Lookup(Id("phone:+8613900000001")), 0u);
  EXPECT_EQ((*again)->Lookup(Id(kEmail)), 2u);
  EXPECT_FALSE((*again)->Describe(1));
  EXPECT_FALSE((*again)->Describe(4));
  // (The re-sent email is a live identifier again, under its new key.)
  for (const char* gone : {"erase-web-7f3a", "erase-alice-uid", "msg-erase"}) {
    EXPECT_EQ(Holding(kv, gone), std::vector<std::string>{}) << gone;
  }
  EXPECT_EQ(Holding(kv, "keep-carol"), std::vector<std::string>{});
}

// Mum and Dad share a tablet: linking it to Dad is refused (user_id limit
// 1), so that edge is in both persons' edge lists. Erasing Mum scrubs it,
// and it still links Dad's own identifiers in a rebuild.
TEST(IdentityErase, SharedConflictEdgeIsScrubbedAndLaterRebuildsKeepMumGone) {
  IdentityGraph g(IdentityRules::Defaults());
  ApplyOne(&g, Ev(10, {"user_id:erase-mum", "anonymous_id:erase-tablet"}, "msg-erase-10"));
  // Dad's phone is linked to him by this edge only.
  ApplyOne(&g, Ev(20, {"user_id:keep-dad", "phone:+8613700000002", "anonymous_id:erase-tablet"},
                  "m-keep-20"));
  OneId mum = g.Lookup(Id("user_id:erase-mum"));
  OneId dad = g.Lookup(Id("user_id:keep-dad"));
  ASSERT_NE(mum, dad);
  ASSERT_EQ(g.Lookup(Id("anonymous_id:erase-tablet")), mum);
  auto dad_before = g.Describe(dad);
  ASSERT_TRUE(dad_before);
  ASSERT_NE(EverythingDescribed(g, dad, dad).find("erase-tablet"), std::string::npos)
      << "dad's history names the tablet before";

  ASSERT_TRUE(g.ErasePerson(mum).ok());
  auto d = g.Describe(dad);
  ASSERT_TRUE(d);
  EXPECT_EQ(d->identifiers, dad_before->identifiers);
  EXPECT_EQ(EverythingDescribed(g, 1, 10).find(kErasedMark), std::string::npos);
  EXPECT_EQ(g.Lookup(Id("user_id:keep-dad")), dad);
  EXPECT_EQ(g.Lookup(Id("phone:+8613700000002")), dad);
  EXPECT_EQ(g.Split(dad, "", 25, "m-keep-admin").code(), StatusCode::kNotFound)
      << "a scrubbed edge has no message id a split could name";
  EXPECT_EQ(g.Lookup(Id("phone:+8613700000002")), dad);

  // A late event on Dad rebuilds his part, through the scrubbed edge.
  uint64_t rebuilds = g.Stats().rebuilds;
  ApplyOne(&g, Ev(5, {"phone:+8613700000002", "email:keep-dad@x.cn"}, "m-keep-05"));
  EXPECT_GT(g.Stats().rebuilds, rebuilds);
  EXPECT_EQ(g.Lookup(Id("email:keep-dad@x.cn")), dad);
  EXPECT_EQ(g.Lookup(Id("user_id:keep-dad")), dad);
  EXPECT_EQ(g.Lookup(Id("phone:+8613700000002")), dad);
  EXPECT_FALSE(g.Describe(mum));
  EXPECT_TRUE(g.KeysOf(mum).empty());
  EXPECT_EQ(g.Lookup(Id("user_id:erase-mum")), 0u);
  EXPECT_EQ(EverythingDescribed(g, 1, 10).find(kErasedMark), std::string::npos);

  // An unbind on Dad: the phone leaves him; Mum stays gone.
  ASSERT_TRUE(g.Unbind(Id("phone:+8613700000002"), 40, "m-keep-unbind").ok());
  EXPECT_EQ(g.Lookup(Id("user_id:keep-dad")), dad);
  OneId phone = g.Lookup(Id("phone:+8613700000002"));
  EXPECT_NE(phone, dad);
  EXPECT_NE(phone, mum) << "the erased one_id is never reused";
  EXPECT_FALSE(g.Describe(mum));
  EXPECT_EQ(EverythingDescribed(g, 1, 10).find(kErasedMark), std::string::npos);

  // The tablet again, late: a fresh key that joins Dad; Mum stays erased.
  IdentKey tablet = ApplyOne(&g, Ev(15, {"anonymous_id:erase-tablet", "user_id:keep-dad"}, "m-15"));
  EXPECT_EQ(g.one_ids().Get(tablet), dad);
  EXPECT_EQ(g.Lookup(Id("anonymous_id:erase-tablet")), dad);
  EXPECT_EQ(g.Lookup(Id("user_id:erase-mum")), 0u);
  EXPECT_FALSE(g.Describe(mum));
}

// A split leaves the undone link (and the split edge) in both persons'
// lists; erasing one side keeps the other and its rebuilds intact.
TEST(IdentityErase, EdgesSharedBySplitKeepTheOtherPerson) {
  IdentityGraph g(IdentityRules::Defaults());
  ApplyOne(&g, Ev(1, {"email:erase-a@x.cn"}, "msg-erase-1"));
  ApplyOne(&g, Ev(2, {"email:keep-b@x.cn"}, "m-keep-2"));
  ApplyOne(&g, Ev(3, {"email:erase-a@x.cn", "email:keep-b@x.cn"}, "msg-erase-wrong"));
  ASSERT_TRUE(g.Split(1, "msg-erase-wrong", 10, "m-keep-admin").ok());
  ASSERT_EQ(g.Lookup(Id("email:keep-b@x.cn")), 2u);
  ASSERT_NE(EverythingDescribed(g, 2, 2).find("erase-a"), std::string::npos);

  ASSERT_TRUE(g.ErasePerson(1).ok());
  EXPECT_EQ(g.Lookup(Id("email:keep-b@x.cn")), 2u);
  EXPECT_EQ(EverythingDescribed(g, 1, 10).find(kErasedMark), std::string::npos);
  KvWriteBatch b;
  g.WriteDirty(&b);
  EXPECT_EQ(Holding(b, kErasedMark), std::vector<std::string>{});

  ApplyOne(&g, Ev(0, {"email:keep-b@x.cn", "phone:+8613600000003"}, "m-keep-0"));  // late
  EXPECT_EQ(g.Lookup(Id("phone:+8613600000003")), 2u);
  EXPECT_EQ(g.Lookup(Id("email:erase-a@x.cn")), 0u);
  EXPECT_FALSE(g.Describe(1));
}

TEST(IdentifierInternerErase, EveryOtherKeyStaysFindableInAFullTable) {
  IdentifierInterner in;
  uint32_t ns = in.InternNamespace("email", "");
  // 700 identifiers in the initial 1024 slots (it grows past 70%): long probe
  // runs, so most erasures sit in the middle of one.
  std::vector<std::string> values;
  for (int i = 0; i < 700; ++i) values.push_back("v" + std::to_string(i) + "@x.cn");
  for (const auto& v : values) ASSERT_TRUE(in.Intern(ns, v).second);
  std::mt19937 rng(11);
  std::vector<IdentKey> order(values.size());
  for (size_t i = 0; i < order.size(); ++i) order[i] = static_cast<IdentKey>(i + 1);
  std::shuffle(order.begin(), order.end(), rng);
  std::set<IdentKey> erased;
  for (size_t n = 0; n < 400; ++n) {
    IdentKey k = order[n];
    in.Erase(k);
    erased.insert(k);
    if (n % 20 != 0) continue;
    for (IdentKey key = 1; key <= values.size(); ++key) {
      IdentKey expect = erased.count(key) ? 0 : key;
      ASSERT_EQ(in.Find(ns, values[key - 1]), expect) << "after " << n << " erasures, key " << key;
    }
  }
  for (IdentKey key = 1; key <= values.size(); ++key) {
    if (erased.count(key)) {
      EXPECT_EQ(in.Find(ns, values[key - 1]), 0u);
      EXPECT_EQ(in.ValueOf(key), "");
      EXPECT_EQ(in.ToString(key), "");
      EXPECT_TRUE(in.IsErased(key));
    } else {
      EXPECT_EQ(in.Find(ns, values[key - 1]), key);
      EXPECT_EQ(in.ValueOf(key), values[key - 1]);
    }
  }
  EXPECT_EQ(in.erased_count(), 400u);
  in.Erase(*erased.begin());  // no-ops
  in.Erase(0);
  in.Erase(100000);
  EXPECT_EQ(in.erased_count(), 400u);

  // Interning an erased value again gives a new key; the old stays erased.
  IdentKey old = *erased.begin();
  auto [fresh, added] = in.Intern(ns, values[old - 1]);
  EXPECT_TRUE(added);
  EXPECT_GT(fresh, values.size());
  EXPECT_EQ(in.Find(ns, values[old - 1]), fresh);
  EXPECT_EQ(in.ValueOf(old), "");
  EXPECT_EQ(in.AppendErased(ns), fresh + 1);
  EXPECT_EQ(in.Find(ns, ""), 0u);
}

// Random interns, erasures and growth against a reference map.
TEST(IdentifierInternerErase, MatchesAReferenceThroughGrowth) {
  IdentifierInterner in;
  uint32_t ns[2] = {in.InternNamespace("user_id", ""), in.InternNamespace("phone", "")};
  std::map<std::pair<uint32_t, std::string>, IdentKey> live;
  std::vector<std::pair<uint32_t, std::string>> by_key(1);  // [0] unused
  std::mt19937 rng(5);
  for (int step = 0; step < 30000; ++step) {
    int op = static_cast<int>(rng() % 3);
    if (op < 2) {  // intern (often a value seen before, maybe erased)
      uint32_t n = ns[rng() % 2];
      std::string v = "u" + std::to_string(rng() % 20000);
      auto [k, added] = in.Intern(n, v);
      auto it = live.find({n, v});
      if (it != live.end()) {
        ASSERT_FALSE(added);
        ASSERT_EQ(k, it->second);
      } else {
        ASSERT_TRUE(added);
        ASSERT_EQ(k, by_key.size());
        by_key.emplace_back(n, v);
        live[{n, v}] = k;
      }
    } else if (!live.empty()) {  // erase a random live key
      auto it = live.begin();
      std::advance(it, static_cast<long>(rng() % std::min<size_t>(live.size(), 64)));
      in.Erase(it->second);
      live.erase(it);
    }
  }
  for (IdentKey k = 1; k < by_key.size(); ++k) {
    const auto& [n, v] = by_key[k];
    auto it = live.find({n, v});
    IdentKey expect = it == live.end() ? 0 : it->second;
    ASSERT_EQ(in.Find(n, v), expect) << v;
    ASSERT_EQ(in.IsErased(k), !(it != live.end() && it->second == k)) << k;
  }
  EXPECT_EQ(in.size() - in.erased_count(), live.size());
}

}  // namespace
}  // namespace quanyu::identity
