// Realtime membership (issue 5, docs/audiences.md "Realtime membership"):
// events ingested after a baseline reach the audiences through the realtime
// thread alone — no Refresh is called — and the membership it records
// (baseline plus the audience_entered / audience_exited feed) must equal a
// from-scratch evaluation of every audience afterwards. The audiences cover
// each kind of condition the realtime path updates in place: did counts,
// sums and relative windows, sequences, traits (=, !=), consent, NOT, and
// audience references; the events cover orders, views, trait changes,
// consent changes, brand-new persons and newcomers signing in (merging
// their anonymous person into a known user's).
#include <gtest/gtest.h>

#include <algorithm>
#include <iterator>
#include <map>
#include <mutex>
#include <random>
#include <set>
#include <unordered_map>

#include "audience/language.h"
#include "common/clock.h"
#include "engine/engine.h"
#include "sim/sim.h"
#include "sim_test_util.h"
#include "test_util.h"

namespace quanyu {
namespace {

using ::quanyu::testing::LoadSimulation;
using ::quanyu::testing::TempDir;

const std::map<std::string, std::string>& Definitions() {
  static const std::map<std::string, std::string> defs = {
      {"recent_buyer", "did(\"Order Completed\", count >= 1, within 30d)"},
      {"big_spender", "did(\"Order Completed\", sum(revenue) >= 1500)"},
      {"repeat", "did(\"Order Completed\", count >= 3)"},
      {"viewed_then_bought", "sequence(\"Product Viewed\", \"Order Completed\", within 1d)"},
      {"shanghai_gold", "trait.city = \"上海\" AND trait.tier = \"金卡\""},
      {"not_gold", "trait.tier != \"金卡\""},
      {"opted_in", "consent.marketing = true"},
      {"never_bought", "NOT did(\"Order Completed\")"},
      {"few_views", "did(\"Product Viewed\", count <= 2)"},
      {"z_recent_not_refused", "audience(\"recent_buyer\") AND NOT consent.marketing = false"},
  };
  return defs;
}

class AudiencesRealtime : public ::testing::Test {
 protected:
  void SetUp() override {
    Config c;
    // Every simulated event is ingested, those of persons who refused
    // analytics too ([privacy] analytics_consent = "accept").
    c.privacy_analytics_consent = "accept";
    c.data_dir = dir_.path() + "/data";
    c.audience_refresh_interval_s = 1'000'000;  // only the realtime thread records changes
    c.audience_recompute_interval_s = 1'000'000;
    auto opened = Engine::Open(c);
    ASSERT_TRUE(opened.ok()) << opened.status().ToString();
    engine_ = std::move(*opened);
    sim::SimOptions o;
    o.persons = 1000;
    o.days = 30;
    o.seed = 5;
    auto loaded = LoadSimulation(engine_.get(), o);
    ASSERT_TRUE(loaded.ok()) << loaded.status().ToString();

    // User ids that name exactly one person each.
    std::set<std::string> seen;
    store::ScanRequest req;
    ASSERT_TRUE(engine_->ScanEvents(req, [&](const store::EventBatch& batch) {
      for (const Event& e : batch) {
        if (!e.user_id.empty() && seen.insert(e.user_id).second) users_.push_back(e.user_id);
      }
      return Status::OK();
    }).ok());
    ASSERT_GE(users_.size(), 200u);
  }
  void TearDown() override {
    if (engine_) {
      ASSERT_TRUE(engine_->Close().ok());
    }
  }

  void IngestBatch(std::vector<Event> events) {
    IngestRequest req;
    req.write_key = engine_->ListSources().front().write_key;
    const size_t n = events.size();
    req.parsed.events = std::move(events);
    IngestResult r = engine_->IngestSync(std::move(req));
    ASSERT_TRUE(r.status.ok()) << r.status.ToString();
    ASSERT_EQ(r.accepted, n);
  }

  TempDir dir_;
  std::unique_ptr<Engine> engine_;
  std::vector<std::string> users_;
};

TEST_F(AudiencesRealtime, RecordedMembershipEqualsAFreshEvaluation) {
  auto& a = engine_->audiences();
  for (const auto& [name, text] : Definitions()) {
    audience::AudienceRecord r;
    r.name = name;
    auto def = audience::ParseText(text);
    ASSERT_TRUE(def.ok()) << text << ": " << def.status().ToString();
    r.definition = *def;
    ASSERT_TRUE(a.Create(r).ok()) << name;
  }
  ASSERT_TRUE(a.Refresh(true).ok());  // the baseline
  std::map<std::string, std::set<uint32_t>> members;
  for (const auto& [name, text] : Definitions()) {
    auto bits = a.Members(name);
    ASSERT_TRUE(bits.ok()) << name;
    members[name] = std::set<uint32_t>(bits->begin(), bits->end());
  }
  auto before = a.Changes(0, 1'000'000);
  ASSERT_TRUE(before.ok());
  ASSERT_TRUE(before->empty()) << "the baseline recorded changes";
  const uint64_t remaps = engine_->identity().remaps();

  // 25 batches of events stamped within the last two days.
  std::mt19937_64 rng(42);
  auto pick = [&](size_t n) { return std::uniform_int_distribution<size_t>(0, n - 1)(rng); };
  const int64_t now = SystemClock::Default()->NowMicros();
  int next_id = 0, next_anon = 0, next_link = 0;
  for (int b = 0; b < 25; ++b) {
    std::vector<Event> batch;
    for (int k = 0; k < 40; ++k) {
      Event e;
      e.type = EventType::kTrack;
      e.message_id = "rt-" + std::to_string(next_id++);
      e.timestamp_us = now - static_cast<int64_t>(pick(2 * 86400)) * 1'000'000;
      e.user_id = users_[pick(users_.size() / 4)];  // a quarter of them, so some act often
      switch (pick(6)) {
        case 0:
        case 1:
          e.name = "Order Completed";
          e.revenue = 50.0 + static_cast<double>(pick(800));
          break;
        case 2:
          e.name = "Product Viewed";
          break;
        case 3: {
          e.type = EventType::kIdentify;
          static const char* cities[] = {"上海", "北京", "深圳"};
          static const char* tiers[] = {"金卡", "普通会员"};
          e.traits_json = std::string("{\"city\":\"") + cities[pick(3)] + "\",\"tier\":\"" +
                          tiers[pick(2)] + "\"}";
          break;
        }
        case 4:
          e.name = "Consent Updated";
          e.context_json = std::string("{\"consent\":{\"categoryPreferences\":{\"marketing\":") +
                           (pick(2) ? "true" : "false") + "}}}";
          break;
        default:
          e.name = "Product Viewed";
          if (next_link < next_anon && pick(3) == 0) {
            // An earlier newcomer signs in: their person merges into the
            // user's. Stamped after every other link, so the graph merges
            // (a late link rebuilds instead: see the end of the test).
            e.anonymous_id = "rt-anon-" + std::to_string(next_link++);
            e.timestamp_us = now + next_id;
          } else {  // somebody new
            e.user_id.clear();
            e.anonymous_id = "rt-anon-" + std::to_string(next_anon++);
          }
      }
      batch.push_back(std::move(e));
    }
    IngestBatch(std::move(batch));
  }
  EXPECT_GT(engine_->identity().remaps(), remaps) << "no newcomer merged into a user";

  // Waits for the realtime thread, then evaluates from scratch: dropping the
  // cache makes every condition scan the store again.
  a.WaitForRealtime();
  const auto stats = a.realtime_stats();
  EXPECT_EQ(stats.overflows, 0u);
  EXPECT_EQ(stats.rebuilds, 0u) << "merges were not followed person by person";
  EXPECT_GT(stats.merges, 0u);
  EXPECT_GT(stats.changes, 0u);
  uint64_t replayed = 0;  // the feed read so far
  std::map<std::string, size_t> entered, exited;
  auto feed_equals_fresh = [&] {
    auto feed = a.Changes(replayed, 1'000'000);
    ASSERT_TRUE(feed.ok());
    for (const auto& c : *feed) {
      auto& m = members[c.audience];
      if (c.entered) {
        EXPECT_TRUE(m.insert(c.one_id).second) << c.audience << ": " << c.one_id << " entered twice";
        ++entered[c.audience];
      } else {
        EXPECT_EQ(m.erase(c.one_id), 1u) << c.audience << ": " << c.one_id << " exited but was not in";
        ++exited[c.audience];
      }
      replayed = c.seq;
    }
    a.NoteAllChanged();
    for (const auto& [name, text] : Definitions()) {
      auto def = audience::ParseText(text);
      auto fresh = a.Evaluate(*def);
      ASSERT_TRUE(fresh.ok()) << name << ": " << fresh.status().ToString();
      const std::set<uint32_t> want(fresh->begin(), fresh->end());
      std::vector<uint32_t> only_feed, only_fresh;
      std::set_difference(members[name].begin(), members[name].end(), want.begin(), want.end(),
                          std::back_inserter(only_feed));
      std::set_difference(want.begin(), want.end(), members[name].begin(), members[name].end(),
                          std::back_inserter(only_fresh));
      EXPECT_TRUE(only_feed.empty() && only_fresh.empty())
          << name << ": the feed (" << entered[name] << " entered, " << exited[name]
          << " exited) disagrees with a fresh evaluation: " << ::testing::PrintToString(only_feed)
          << " only in the feed, " << ::testing::PrintToString(only_fresh) << " only in the fresh one";
    }
  };
  feed_equals_fresh();
  // Each kind of change happened, so the comparison above proves something.
  for (const char* name : {"recent_buyer", "big_spender", "repeat", "viewed_then_bought",
                           "shanghai_gold", "opted_in", "never_bought", "few_views",
                           "z_recent_not_refused"}) {
    EXPECT_GT(entered[name], 0u) << name;
  }
  for (const char* name : {"not_gold", "never_bought", "few_views", "opted_in"}) {
    EXPECT_GT(exited[name], 0u) << name;
  }
  // Nothing is left for a full refresh to find.
  auto left = a.Refresh(true);
  ASSERT_TRUE(left.ok());
  EXPECT_EQ(*left, 0u);

  // A late link (older than the user's newest link) makes the graph rebuild
  // that part, which the realtime thread does not follow: Refresh records
  // what changed, and the feed still equals a fresh evaluation.
  ASSERT_LT(next_link, next_anon);
  Event late;
  late.type = EventType::kTrack;
  late.name = "Order Completed";
  late.revenue = 2000;
  late.message_id = "rt-late";
  late.user_id = users_[0];
  late.anonymous_id = "rt-anon-" + std::to_string(next_link);
  late.timestamp_us = now - 3 * 86400LL * 1'000'000;
  Event link = late;  // first an in-order link of the user, so the next one is late
  link.message_id = "rt-late-0";
  link.anonymous_id = "rt-anon-late-first";
  link.timestamp_us = now + next_id;
  IngestBatch({link});
  IngestBatch({late});
  a.WaitForRealtime();
  EXPECT_EQ(a.realtime_stats().rebuilds, 1u);
  auto refreshed = a.Refresh(false);
  ASSERT_TRUE(refreshed.ok());
  EXPECT_GT(*refreshed, 0u) << "the late order changed nothing";
  feed_equals_fresh();

  // After a restart the feed goes on from the last seq, and the realtime
  // thread records new changes against the saved membership.
  ASSERT_TRUE(engine_->Close().ok());
  engine_.reset();  // releases the data directory
  Config c;
  c.data_dir = dir_.path() + "/data";
  c.audience_refresh_interval_s = 1'000'000;
  c.audience_recompute_interval_s = 1'000'000;
  auto reopened = Engine::Open(c);
  ASSERT_TRUE(reopened.ok()) << reopened.status().ToString();
  engine_ = std::move(*reopened);
  auto& b = engine_->audiences();
  ASSERT_TRUE(b.Refresh(false).ok());  // re-evaluates everything after the open: no change
  EXPECT_EQ(b.Changes(replayed, 10)->size(), 0u);
  Event newcomer;
  newcomer.type = EventType::kTrack;
  newcomer.name = "Product Viewed";
  newcomer.message_id = "rt-after-restart";
  newcomer.anonymous_id = "rt-after-restart";
  newcomer.timestamp_us = now;
  IngestBatch({newcomer});
  b.WaitForRealtime();
  auto after = b.Changes(replayed, 10);
  ASSERT_TRUE(after.ok());
  ASSERT_FALSE(after->empty()) << "a newcomer joins never_bought, few_views and not_gold";
  EXPECT_EQ(after->front().seq, replayed + 1);
}

}  // namespace
}  // namespace quanyu
