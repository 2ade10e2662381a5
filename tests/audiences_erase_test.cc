// Audiences::ErasePersons (a data-subject deletion, docs/privacy.md): the
// erased person leaves every saved membership of audiences and tags, the
// change feed and history, computed and predicted traits and RFM scores —
// in memory, after a restart, and in every value under "au/" in the state
// DB — while the other persons keep all of theirs, with the same feed SEQs.
#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <roaring/roaring.hh>
#include <set>
#include <string>
#include <vector>

#include "audience/audiences.h"
#include "audience/internal/keys.h"
#include "audience/language.h"
#include "common/clock.h"
#include "engine/engine.h"
#include "privacy/requests.h"
#include "store/state_db.h"
#include "test_util.h"

namespace quanyu {
namespace {

using audience::Json;
using audience::MembershipChange;
using ::quanyu::testing::TempDir;

constexpr int64_t kDayUs = 86400LL * 1'000'000;
const char* const kPersons[] = {"erase-victim", "keep-a", "keep-b", "keep-c"};
constexpr int kOrders[] = {3, 2, 1, 0};  // per person, as kPersons
const std::map<std::string, std::string> kAudiences = {
    {"at_risk", "predicted.churn >= 0.5"},
    {"buyers", "computed.orders >= 1"},
    {"champs", "rfm.f >= 1"},
};

// The "au/..." keys (by kind: "au/m", "au/c", ...) that hold `one_id`: in a
// membership bitmap, a change record or its key, or a chunk of values.
std::set<std::string> KindsHolding(const store::StateDb& db, uint32_t one_id) {
  std::set<std::string> kinds;
  Status st = db.ScanPrefix("au/", [&](std::string_view k, std::string_view v) {
    const std::string kind(k.substr(0, k.find('/', 3)));
    if (kind == "au/m") {
      Roaring bits = Roaring::readSafe(v.data(), v.size());
      if (bits.contains(one_id)) kinds.insert(kind);
    } else if (kind == "au/c" || kind == "au/h") {
      const Json j = Json::parse(v);
      if (j.at("one_id").get<uint32_t>() == one_id) kinds.insert(kind);
      if (kind == "au/h" && audience::internal::DecodeBigEndian32(k.data() + 5) == one_id) {
        kinds.insert(kind);
      }
    } else if (kind == "au/cv" || kind == "au/pv" || kind == "au/rfmv") {
      for (size_t p = 0; p < v.size();) {
        EXPECT_GE(v.size() - p, 8u) << k;
        if (v.size() - p < 8) break;
        if (audience::internal::DecodeBigEndian32(v.data() + p) == one_id) kinds.insert(kind);
        p += 8 + audience::internal::DecodeBigEndian32(v.data() + p + 4);
      }
    }
    return Status::OK();
  });
  EXPECT_TRUE(st.ok()) << st.ToString();
  return kinds;
}

// Every key and value under "au/", to show nothing changed.
std::map<std::string, std::string> Dump(const store::StateDb& db) {
  std::map<std::string, std::string> out;
  EXPECT_TRUE(db.ScanPrefix("au/", [&](std::string_view k, std::string_view v) {
                  out.emplace(k, v);
                  return Status::OK();
                }).ok());
  return out;
}

std::set<uint32_t> Set(const Roaring& r) { return std::set<uint32_t>(r.begin(), r.end()); }

class AudiencesErase : public ::testing::Test {
 protected:
  void SetUp() override {
    Open();
    ASSERT_TRUE(engine_->AddSource("web", "web").ok());
    const int64_t now = SystemClock::Default()->NowMicros();
    std::vector<Event> events;
    int n = 0;
    for (int p = 0; p < 4; ++p) {
      Event id;
      id.type = EventType::kIdentify;
      id.user_id = kPersons[p];
      id.message_id = "erase-" + std::to_string(n++);
      id.timestamp_us = now - 20 * kDayUs;
      id.traits_json = R"({"tier":"gold"})";
      events.push_back(id);
      for (int o = 0; o < kOrders[p]; ++o) {
        Event e;
        e.type = EventType::kTrack;
        e.name = "Order Completed";
        e.user_id = kPersons[p];
        e.message_id = "erase-" + std::to_string(n++);
        e.timestamp_us = now - (10 - o) * kDayUs;
        e.revenue = 100.0 * (o + 1);
        events.push_back(e);
      }
    }
    IngestRequest req;
    req.write_key = engine_->ListSources().front().write_key;
    req.parsed.events = std::move(events);
    IngestResult r = engine_->IngestSync(std::move(req));
    ASSERT_TRUE(r.status.ok()) << r.status.ToString();
    ASSERT_EQ(r.accepted, static_cast<size_t>(n));
    for (const char* p : kPersons) {
      auto id = engine_->LookupPerson(std::string("user_id:") + p);
      ASSERT_TRUE(id.ok()) << p;
      ids_.push_back(*id);
    }
    victim_ = ids_[0];
  }
  void TearDown() override {
    if (engine_) {
      EXPECT_TRUE(engine_->Close().ok());
    }
  }
  void Open() {
    Config c;
    c.privacy_analytics_consent = "accept";
    c.data_dir = dir_.path() + "/data";
    c.audience_refresh_interval_s = 1'000'000;  // only the test refreshes
    c.audience_recompute_interval_s = 1'000'000;
    auto opened = Engine::Open(c);
    ASSERT_TRUE(opened.ok()) << opened.status().ToString();
    engine_ = std::move(*opened);
  }
  void Reopen() {
    ASSERT_TRUE(engine_->Close().ok());
    engine_.reset();  // releases the data directory
    Open();
  }
  // The state DB, with the engine closed; reopened afterwards.
  template <typename F>
  void WithStateDb(F f) {
    ASSERT_TRUE(engine_->Close().ok());
    engine_.reset();
    {
      auto db = store::StateDb::Open(dir_.path() + "/data/state");
      ASSERT_TRUE(db.ok()) << db.status().ToString();
      f(**db);
    }
    Open();
  }
  audience::Audiences& a() { return engine_->audiences(); }

  // churn of each person, as ids_ (none when negative).
  void PutChurn(std::vector<double> churn) {
    std::vector<audience::PersonValue> values;
    for (size_t i = 0; i < ids_.size(); ++i) {
      if (churn[i] >= 0) values.push_back({ids_[i], Json(churn[i])});
    }
    std::sort(values.begin(), values.end(),
              [](const auto& x, const auto& y) { return x.one_id < y.one_id; });
    ASSERT_TRUE(a().PutPredicted("churn", std::move(values), Json{{"model", "test"}}).ok());
  }

  // Stored attributes, audiences, a tag, and a feed whose newest changes
  // are the victim's.
  void Build() {
    auto spec = audience::ParseComputedTrait(
        Json{{"name", "orders"}, {"kind", "count"}, {"event", "Order Completed"}});
    ASSERT_TRUE(spec.ok()) << spec.status().ToString();
    auto traits = a().PutComputedTrait(*spec);
    ASSERT_TRUE(traits.ok()) << traits.status().ToString();
    ASSERT_EQ(*traits, 3u);
    audience::RfmOptions rfm;
    rfm.analysis_time_us = SystemClock::Default()->NowMicros();
    auto scores = a().RunRfm(rfm);
    ASSERT_TRUE(scores.ok()) << scores.status().ToString();
    ASSERT_EQ(scores->size(), 3u);
    PutChurn({0.9, 0.9, 0.1, 0.1});
    for (const auto& [name, text] : kAudiences) {
      audience::AudienceRecord r;
      r.name = name;
      auto def = audience::ParseText(text);
      ASSERT_TRUE(def.ok()) << text;
      r.definition = *def;
      ASSERT_TRUE(a().Create(r).ok()) << name;
    }
    tag_.category = "risk";
    tag_.name = "high";
    tag_.rule = *audience::ParseText("predicted.churn >= 0.5");
    ASSERT_TRUE(a().PutTag(tag_).ok());
    ASSERT_EQ(*a().Refresh(true), 0u);  // the baseline
    PutChurn({0.2, 0.9, 0.8, 0.1});     // the victim leaves at_risk, keep-b enters
    ASSERT_EQ(*a().Refresh(false), 4u);
    PutChurn({0.95, 0.9, 0.8, 0.1});  // the victim comes back: the newest changes
    ASSERT_EQ(*a().Refresh(false), 2u);
  }

  TempDir dir_;
  std::unique_ptr<Engine> engine_;
  std::vector<uint32_t> ids_;
  uint32_t victim_ = 0;
  audience::TagRecord tag_;
};

// What the read paths say of everyone: compared before and after.
struct Seen {
  std::map<std::string, std::set<uint32_t>> members;  // audiences, "tag" and each attribute
  std::map<uint32_t, std::vector<std::string>> memberships;
  std::map<uint32_t, std::vector<uint64_t>> history;  // SEQs
  std::map<uint32_t, Json> stored;
  std::vector<std::pair<uint64_t, uint32_t>> feed;  // (SEQ, one_id)
  Json rfm_summary, predicted_summary;
};

Seen Look(audience::Audiences& a, const audience::TagRecord& tag,
          const std::vector<uint32_t>& ids) {
  Seen s;
  for (const auto& [name, text] : kAudiences) {
    auto m = a.Members(name);
    EXPECT_TRUE(m.ok()) << name;
    if (m.ok()) s.members[name] = Set(*m);
  }
  auto t = a.TagMembers(tag);
  EXPECT_TRUE(t.ok());
  if (t.ok()) s.members["tag"] = Set(*t);
  const std::pair<audience::Namespace, const char*> attributes[] = {
      {audience::Namespace::kComputed, "orders"},
      {audience::Namespace::kPredicted, "churn"},
      {audience::Namespace::kRfm, "segment"}};
  for (const auto& [ns, name] : attributes) {
    std::set<uint32_t>& got = s.members[std::string("attribute ") + name];
    EXPECT_TRUE(
        a.ForEachStoredAttribute(ns, name, [&](uint32_t id, const Json&) { got.insert(id); }).ok());
  }
  for (uint32_t id : ids) {
    s.memberships[id] = a.MembershipsOf(id);
    auto h = a.History(id);
    EXPECT_TRUE(h.ok());
    for (const MembershipChange& c : *h) s.history[id].push_back(c.seq);
    s.stored[id] = a.StoredAttributesOf(id);
  }
  auto feed = a.Changes(0, 1000);
  EXPECT_TRUE(feed.ok());
  for (const MembershipChange& c : *feed) s.feed.emplace_back(c.seq, c.one_id);
  s.rfm_summary = *a.RfmSummary();
  s.predicted_summary = a.PredictedSummary();
  return s;
}

// `after` is `before` without `victim`, and says nothing of the victim.
void ExpectErased(const Seen& before, const Seen& after, uint32_t victim) {
  for (const auto& [name, members] : before.members) {
    std::set<uint32_t> want = members;
    want.erase(victim);
    EXPECT_EQ(after.members.at(name), want) << name;
  }
  for (const auto& [id, m] : before.memberships) {
    if (id == victim) {
      EXPECT_TRUE(after.memberships.at(id).empty())
          << ::testing::PrintToString(after.memberships.at(id));
      EXPECT_FALSE(after.history.count(id)) << "the victim's history is still there";
      EXPECT_EQ(
          after.stored.at(id),
          (Json{{"computed", Json::object()}, {"rfm", nullptr}, {"predicted", Json::object()}}));
    } else {
      EXPECT_EQ(after.memberships.at(id), m) << id;
      EXPECT_EQ(after.history.count(id) ? after.history.at(id) : std::vector<uint64_t>{},
                before.history.count(id) ? before.history.at(id) : std::vector<uint64_t>{})
          << id;
      EXPECT_EQ(after.stored.at(id), before.stored.at(id)) << id;
    }
  }
  std::vector<std::pair<uint64_t, uint32_t>> feed;
  for (const auto& c : before.feed) {
    if (c.second != victim) feed.push_back(c);
  }
  EXPECT_EQ(after.feed, feed);
  Json rfm = before.rfm_summary;
  const std::string segment = before.stored.at(victim)["rfm"]["segment"].get<std::string>();
  rfm["customers"] = rfm["customers"].get<int64_t>() - 1;
  rfm["segments"][segment] = rfm["segments"][segment].get<int64_t>() - 1;
  EXPECT_EQ(after.rfm_summary, rfm);
  Json predicted = before.predicted_summary;
  predicted["churn"]["persons"] = predicted["churn"]["persons"].get<int64_t>() - 1;
  EXPECT_EQ(after.predicted_summary, predicted);
}

TEST_F(AudiencesErase, ErasedPersonLeavesEveryReadPathAndTheStateDb) {
  Build();
  const Seen before = Look(a(), tag_, ids_);
  // The data set puts the victim everywhere the test looks.
  for (const auto& [name, members] : before.members) {
    EXPECT_TRUE(members.count(victim_)) << name;
  }
  ASSERT_EQ(before.memberships.at(victim_).size(), 3u);
  ASSERT_EQ(before.history.at(victim_).size(), 4u);  // left and came back: at_risk and the tag
  ASSERT_FALSE(before.history.at(ids_[2]).empty());
  ASSERT_EQ(before.feed.back().second, victim_) << "the newest change must be the victim's";
  const uint64_t last_seq = before.feed.back().first;
  WithStateDb([&](const store::StateDb& db) {
    EXPECT_EQ(KindsHolding(db, victim_),
              (std::set<std::string>{"au/m", "au/c", "au/h", "au/cv", "au/pv", "au/rfmv"}));
  });

  ASSERT_TRUE(a().ErasePersons({victim_}).ok());
  ExpectErased(before, Look(a(), tag_, ids_), victim_);
  // A refresh finds nobody missing from the saved memberships: no change
  // names the victim (nor anyone else).
  auto refreshed = a().Refresh(true);
  ASSERT_TRUE(refreshed.ok());
  EXPECT_EQ(*refreshed, 0u);

  Reopen();
  ExpectErased(before, Look(a(), tag_, ids_), victim_);
  WithStateDb([&](const store::StateDb& db) {
    EXPECT_EQ(KindsHolding(db, victim_), std::set<std::string>{});
    EXPECT_EQ(KindsHolding(db, ids_[2]),  // keep-b, who entered at_risk
              (std::set<std::string>{"au/m", "au/c", "au/h", "au/cv", "au/pv", "au/rfmv"}));
  });

  // The victim's SEQs are not handed out again after a restart, so a reader
  // that read up to them misses nothing.
  PutChurn({-1, 0.9, 0.1, 0.1});  // keep-b leaves
  ASSERT_EQ(*a().Refresh(false), 2u);
  auto next = a().Changes(last_seq, 10);
  ASSERT_TRUE(next.ok());
  ASSERT_EQ(next->size(), 2u);
  EXPECT_EQ(next->front().seq, last_seq + 1);
  EXPECT_EQ(next->front().one_id, ids_[2]);
}

TEST_F(AudiencesErase, ErasingAgainOrErasingNobodyChangesNothing) {
  Build();
  ASSERT_TRUE(a().ErasePersons({victim_}).ok());
  std::map<std::string, std::string> once;
  WithStateDb([&](const store::StateDb& db) { once = Dump(db); });
  ASSERT_FALSE(once.empty());
  const Seen seen = Look(a(), tag_, ids_);
  ASSERT_TRUE(a().ErasePersons({victim_, 0, 999'999}).ok());
  ASSERT_TRUE(a().ErasePersons({}).ok());
  const Seen again = Look(a(), tag_, ids_);
  EXPECT_EQ(again.members, seen.members);
  EXPECT_EQ(again.feed, seen.feed);
  EXPECT_EQ(again.stored, seen.stored);
  WithStateDb([&](const store::StateDb& db) { EXPECT_EQ(Dump(db), once); });
}

TEST_F(AudiencesErase, ErasesEveryOneIdGiven) {
  // ErasePersons takes the person and the one_ids merged into it: every
  // one of them goes, the rest stays.
  Build();
  const Seen before = Look(a(), tag_, ids_);
  ASSERT_TRUE(a().ErasePersons({ids_[0], ids_[1]}).ok());
  const Seen after = Look(a(), tag_, ids_);
  for (const auto& [name, members] : before.members) {
    std::set<uint32_t> want = members;
    want.erase(ids_[0]);
    want.erase(ids_[1]);
    EXPECT_EQ(after.members.at(name), want) << name;
  }
  EXPECT_TRUE(after.memberships.at(ids_[1]).empty());
  EXPECT_EQ(after.memberships.at(ids_[2]), before.memberships.at(ids_[2]));
  EXPECT_EQ(after.history.at(ids_[2]), before.history.at(ids_[2]));
  WithStateDb([&](const store::StateDb& db) {
    EXPECT_EQ(KindsHolding(db, ids_[0]), std::set<std::string>{});
    EXPECT_EQ(KindsHolding(db, ids_[1]), std::set<std::string>{});
    EXPECT_FALSE(KindsHolding(db, ids_[2]).empty());
  });
}

TEST_F(AudiencesErase, DeletionRequestLeavesNothingInAudiences) {
  // The whole deletion (Engine::RunPendingDeletions): the identity graph
  // forgets the person too, so audiences on profile traits and events and
  // TraitOf no longer find them, and a full refresh records nothing.
  Build();
  for (const auto& [name, text] : std::map<std::string, std::string>{
           {"gold", "trait.tier = \"gold\""}, {"ordered", "did(\"Order Completed\")"}}) {
    audience::AudienceRecord r;
    r.name = name;
    r.definition = *audience::ParseText(text);
    ASSERT_TRUE(a().Create(r).ok()) << name;
  }
  ASSERT_EQ(*a().Refresh(false), 0u);  // their baseline
  ASSERT_TRUE(a().Members("gold")->contains(victim_));
  ASSERT_TRUE(a().Members("ordered")->contains(victim_));
  ASSERT_TRUE(a().TraitOf(victim_, "tier").has_value());
  const Seen before = Look(a(), tag_, ids_);

  auto request = engine_->DataSubjectRequest(privacy::RequestType::kDelete, privacy::Regime::kGdpr,
                                             "user_id:erase-victim", Json::object());
  ASSERT_TRUE(request.ok()) << request.status().ToString();
  ASSERT_TRUE(engine_->RunPendingDeletions().ok());
  for (int reopened = 0; reopened < 2; ++reopened) {
    SCOPED_TRACE(reopened ? "after a restart" : "before a restart");
    ExpectErased(before, Look(a(), tag_, ids_), victim_);
    auto gold = a().Members("gold");
    auto ordered = a().Members("ordered");
    ASSERT_TRUE(gold.ok() && ordered.ok());
    EXPECT_EQ(Set(*gold), (std::set<uint32_t>{ids_[1], ids_[2], ids_[3]}));
    EXPECT_EQ(Set(*ordered), (std::set<uint32_t>{ids_[1], ids_[2]}));
    EXPECT_FALSE(a().TraitOf(victim_, "tier").has_value());
    auto refreshed = a().Refresh(true);
    ASSERT_TRUE(refreshed.ok());
    EXPECT_EQ(*refreshed, 0u);
    EXPECT_TRUE(a().MembershipsOf(victim_).empty());
    if (!reopened) Reopen();
  }
  WithStateDb([&](const store::StateDb& db) {
    EXPECT_EQ(KindsHolding(db, victim_), std::set<std::string>{});
  });
}

}  // namespace
}  // namespace quanyu
