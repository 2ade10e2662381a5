// Deletion over real HTTP (docs/privacy.md, "Deletion"): a person's events
// (in segments, in the store's buffer and in the log), identifiers, traits,
// consent and audience memberships are erased; a search of every file of
// the data directory — zstd frames decoded — finds none of them while it
// still finds another person's (the control that the search can see); and
// re-sent events of the person are dropped, before and after a restart.
#include <gtest/gtest.h>

#include <chrono>
#include <nlohmann/json.hpp>
#include <sstream>
#include <thread>

#include "common/clock.h"
#include "common/time_util.h"
#include "erasure_test_util.h"
#include "served_api_test.h"

namespace quanyu {
namespace {

using nlohmann::json;
using ::quanyu::testing::FilesHolding;
using ::quanyu::testing::HttpAnswer;
using ::quanyu::testing::Send;

// What the victim sent; none of it may survive the deletion.
const std::vector<std::string> kVictimData = {
    "victim-u-7731",             // user id
    "victim-dev-5512",           // device (anonymous id)
    "13912345678",               // phone
    "victim.zhang@example.com",  // email
    "Victimovich",               // name trait
    "Hangzhou-victim",           // city trait
    "ORD-VICTIM-90210",          // order property
    "victim-secret-note",        // free-text property
    "victim-msg-",               // message ids
};
// Another person's, which must stay (and be found: the search works).
const std::vector<std::string> kOtherData = {"other-u-4242", "ORD-OTHER-31337"};

class ServerPrivacyDeleteTest : public ::quanyu::testing::ServedApiTest {
 protected:
  void Configure(Config& config) override {
    config.audience_refresh_interval_s = 86400;  // only the test refreshes
    config.retention_profiles_inactive_days = profiles_inactive_days_;
    config.retention_interval_s = 1;
  }
  // Start, with profiles inactive for `profiles_inactive_days` erased by
  // retention from now on (0, the default, erases none).
  using ServedApiTest::Start;
  void Start(int profiles_inactive_days) {
    profiles_inactive_days_ = profiles_inactive_days;
    Start();
  }

  json Admin(const std::string& method, const std::string& target, const json& body = nullptr,
             int status = 200) {
    return AsJson(kAdminKey, method, target, body, status);
  }
  double Metric(const std::string& name, const std::vector<std::string>& labels) {
    HttpAnswer m = Send(served_.port(), "GET", "/metrics", "");
    std::istringstream lines(m.body);
    double sum = 0;
    for (std::string line; std::getline(lines, line);) {
      if (!line.starts_with(name + "{") && !line.starts_with(name + " ")) continue;
      bool all = true;
      for (const auto& l : labels) all = all && line.find(l) != std::string::npos;
      if (all) sum += std::stod(line.substr(line.rfind(' ') + 1));
    }
    return sum;
  }

  // The request once it is no longer running (or after 30 s).
  json AwaitRequest(const std::string& id) {
    json r;
    for (int i = 0; i < 600; ++i) {
      r = Admin("GET", "/api/v1/privacy/requests/" + id);
      if (r["status"] != "running") break;
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    return r;
  }

  static std::string VictimEvents(const std::string& suffix) {
    return R"(
      {"type":"identify","userId":"victim-u-7731","anonymousId":"victim-dev-5512",
       "messageId":"victim-msg-id)" +
           suffix + R"(",
       "traits":{"phone":"+8613912345678","email":"victim.zhang@example.com",
                 "name":"Zhang Victimovich","city":"Hangzhou-victim"}},
      {"type":"track","anonymousId":"victim-dev-5512","event":"Order Completed",
       "messageId":"victim-msg-order)" +
           suffix + R"(",
       "properties":{"order_id":"ORD-VICTIM-90210","note":"victim-secret-note","revenue":88}},
      {"type":"track","userId":"victim-u-7731","event":"Consent Changed",
       "messageId":"victim-msg-consent)" +
           suffix + R"(",
       "context":{"consent":{"categoryPreferences":{"marketing":true}}}})";
  }

  int profiles_inactive_days_ = 0;
};

TEST_F(ServerPrivacyDeleteTest, DeletionLeavesNoTraceInAnyFileAndSuppressesResentEvents) {
  const std::string other = R"(
    {"type":"identify","userId":"other-u-4242","anonymousId":"other-dev-1","messageId":"o-1",
     "traits":{"city":"Chengdu","phone":"+8613800004242"}},
    {"type":"track","userId":"other-u-4242","event":"Order Completed","messageId":"o-2",
     "properties":{"order_id":"ORD-OTHER-31337","revenue":12}})";
  // Part of the data reaches segments (checkpointed, the log truncated),
  // part stays in the store's buffer and the log.
  EXPECT_EQ(TryIngest(VictimEvents("1") + "," + other)["accepted"], 5);
  ASSERT_TRUE(served_.engine->Checkpoint().ok());
  EXPECT_EQ(TryIngest(VictimEvents("2"))["accepted"], 3);
  Admin("POST", "/api/v1/audiences", {{"name", "buyers"}, {"tree", {{"did", "Order Completed"}}}},
        201);
  // An uploaded list names the victim (by email, in another case) and the other person.
  Admin("POST", "/api/v1/tags",
        {{"category", "vip"},
         {"name", "seed"},
         {"identifiers", json::array({"email:Victim.Zhang@example.com", "user_id:other-u-4242"})}},
        201);
  Admin("POST", "/api/v1/audiences/refresh", {{"full", true}});
  EXPECT_EQ(Admin("GET", "/api/v1/audiences/buyers/members")["members"].size(), 2u);
  json before = Admin("GET", "/api/v1/profiles?identifier=user_id:victim-u-7731");
  EXPECT_EQ(before["traits"]["city"], "Hangzhou-victim") << before;
  const uint32_t victim = before["one_id"].get<uint32_t>();
  // The vault records (privacy/pii.h) that hold the victim's phone, email
  // and name encrypted, and the other person's phone: the deletion must
  // take the victim's out of every file and leave the other's.
  auto record_keys = [&](std::string_view identifier) {
    auto one_id = served_.engine->LookupPerson(identifier);
    EXPECT_TRUE(one_id.ok()) << identifier;
    std::vector<std::string> tokens, keys;
    if (one_id.ok()) privacy::CollectPiiTokens(*served_.engine->ProfileJson(*one_id), &tokens);
    // The 16 bytes after "pii/": RocksDB stores a key's shared prefix once.
    for (const auto& t : tokens) keys.push_back(privacy::PiiVault::RecordKeyOf(t)->substr(4));
    return keys;
  };
  const std::vector<std::string> victim_records = record_keys("user_id:victim-u-7731");
  const std::vector<std::string> other_records = record_keys("user_id:other-u-4242");
  EXPECT_GE(victim_records.size(), 3u) << "phone, email and name at least";
  EXPECT_EQ(other_records.size(), 2u) << "the other person's phone (identifier and trait)";

  // The request is accepted at once and completes in the background.
  json accepted = Admin("POST", "/api/v1/privacy/requests",
                        {{"type", "delete"}, {"identifier", "phone:+8613912345678"}}, 202);
  ASSERT_TRUE(accepted.contains("request")) << accepted;
  EXPECT_EQ(accepted["request"]["status"], "running") << accepted;
  const std::string id = accepted["request"]["id"];
  json done = AwaitRequest(id);
  ASSERT_EQ(done["status"], "completed") << done;
  EXPECT_NE(done["outcome"].get<std::string>().find("erased 6 stored events"), std::string::npos)
      << done;

  // Nothing answers for the person any more; the other person is intact.
  Admin("GET", "/api/v1/profiles?identifier=user_id:victim-u-7731", nullptr, 404);
  Admin("GET", "/api/v1/profiles?identifier=anonymous_id:victim-dev-5512", nullptr, 404);
  Admin("GET", "/api/v1/profiles/" + std::to_string(victim), nullptr, 404);
  json kept = Admin("GET", "/api/v1/profiles?identifier=user_id:other-u-4242");
  EXPECT_EQ(kept["traits"]["city"], "Chengdu") << kept;
  EXPECT_EQ(Admin("GET", "/api/v1/audiences/buyers/members")["members"],
            json::array({kept["one_id"]}));
  json tags = Admin("GET", "/api/v1/tags");
  ASSERT_EQ(tags["tags"].size(), 1u) << tags;
  EXPECT_EQ(tags["tags"][0]["identifiers"], json::array({"user_id:other-u-4242"})) << tags;
  json access = Admin("POST", "/api/v1/privacy/requests",
                      {{"type", "access"}, {"identifier", "user_id:victim-u-7731"}}, 201);
  EXPECT_TRUE(access["data"].is_null()) << access;

  // Re-sent events — old message ids and new ones, any identifier — are
  // dropped and counted; consent for the identifier is refused.
  const double suppressed_before =
      Metric("quanyu_events_rejected_total", {"reason=\"suppressed\""});
  json resent = TryIngest(VictimEvents("1") + "," + VictimEvents("3"));
  EXPECT_EQ(resent["accepted"], 0) << resent;
  ASSERT_EQ(resent["rejected"].size(), 6u) << resent;
  for (const auto& r : resent["rejected"]) EXPECT_EQ(r["reason"], "suppressed") << resent;
  EXPECT_EQ(Metric("quanyu_events_rejected_total", {"reason=\"suppressed\""}) - suppressed_before,
            6);
  Admin("POST", "/api/v1/consent",
        {{"identifier", "user_id:victim-u-7731"}, {"purposes", {{"marketing", "granted"}}}}, 400);
  Admin("GET", "/api/v1/profiles?identifier=user_id:victim-u-7731", nullptr, 404);

  // Every file of the data directory, with zstd frames decoded.
  served_.Stop();
  std::vector<std::string> found;
  EXPECT_EQ(FilesHolding(dir_.path(), kVictimData), std::vector<std::string>{});
  // The control: the other person's data is found, in the segments and in
  // the state DB (so the search does see through their compression).
  std::vector<std::string> control = FilesHolding(dir_.path(), kOtherData, &found);
  bool in_segments = false, in_state = false;
  for (const auto& hit : control) {
    in_segments = in_segments || hit.starts_with("events/");
    in_state = in_state || hit.starts_with("state/");
  }
  EXPECT_TRUE(in_segments && in_state) << ::testing::PrintToString(control);
  // Encrypted form: the victim's vault records are gone from every file;
  // the other person's record is still found (in the state DB).
  EXPECT_EQ(FilesHolding(dir_.path(), victim_records), std::vector<std::string>{});
  std::vector<std::string> other_record_files = FilesHolding(dir_.path(), other_records);
  ASSERT_FALSE(other_record_files.empty());
  EXPECT_TRUE(other_record_files.front().starts_with("state/"));

  // After a restart the suppression still holds and nothing came back.
  Start();
  json again = TryIngest(VictimEvents("4"));
  EXPECT_EQ(again["accepted"], 0) << again;
  Admin("GET", "/api/v1/profiles?identifier=user_id:victim-u-7731", nullptr, 404);
  EXPECT_EQ(Admin("GET", "/api/v1/privacy/requests/" + id)["status"], "completed");
  served_.Stop();
  EXPECT_EQ(FilesHolding(dir_.path(), kVictimData), std::vector<std::string>{});
}

TEST_F(ServerPrivacyDeleteTest, DeletingAnUnknownIdentifierSuppressesItAndErasesNothingElse) {
  EXPECT_EQ(
      TryIngest(R"({"type":"track","userId":"someone","event":"A","messageId":"s1"})")["accepted"],
      1);
  json accepted = Admin("POST", "/api/v1/privacy/requests",
                        {{"type", "delete"}, {"identifier", "email:ghost@example.com"}}, 202);
  const std::string id = accepted["request"]["id"];
  json done = AwaitRequest(id);
  EXPECT_EQ(done["status"], "completed") << done;
  EXPECT_TRUE(done["one_id"].is_null()) << done;
  // The ghost's events are refused from now on; others' still flow.
  json ghost = TryIngest(
      R"({"type":"identify","userId":"g1","messageId":"g1","traits":{"email":"ghost@example.com"}})");
  EXPECT_EQ(ghost["accepted"], 0) << ghost;
  EXPECT_EQ(
      TryIngest(R"({"type":"track","userId":"someone","event":"B","messageId":"s2"})")["accepted"],
      1);
  json someone = Admin("POST", "/api/v1/privacy/requests",
                       {{"type", "access"}, {"identifier", "user_id:someone"}}, 201);
  EXPECT_EQ(someone["data"]["events"].size(), 2u) << "the other person's events are all kept";
}

// Retention of inactive profiles: a person with no event for longer than
// profiles_inactive_days is erased by the background job like a deletion
// request — everywhere — but not suppressed; active persons keep all their
// events, old ones included.
TEST_F(ServerPrivacyDeleteTest, InactiveProfilesAreErasedButMayComeBack) {
  const int64_t now = SystemClock::Default()->NowMicros();
  auto at = [&](int days_ago) { return FormatTimestamp(now - days_ago * 86400 * 1'000'000LL); };
  TryIngest(R"({"type":"identify","userId":"stale-u-5150","messageId":"st-1","timestamp":")" +
            at(100) + R"(","traits":{"city":"Stale-city-77"}},
           {"type":"track","userId":"stale-u-5150","event":"Old","messageId":"st-2",
            "properties":{"note":"stale-note-88"},"timestamp":")" +
            at(95) + R"("},
           {"type":"track","userId":"active-u-1","event":"Old","messageId":"ac-1",
            "properties":{"note":"active-old-note"},"timestamp":")" +
            at(100) + R"("},
           {"type":"track","userId":"active-u-1","event":"New","messageId":"ac-2"})");
  ASSERT_TRUE(served_.engine->Checkpoint().ok());
  served_.Stop();
  Start(/*profiles_inactive_days=*/90);
  double erased = 0;
  for (int i = 0; i < 200 && erased == 0; ++i) {
    erased = Metric("quanyu_retention_persons_deleted_total", {});
    if (erased == 0) std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  EXPECT_EQ(erased, 1);
  EXPECT_EQ(Metric("quanyu_retention_events_deleted_total", {"data_class=\"inactive_profiles\""}),
            2);
  Admin("GET", "/api/v1/profiles?identifier=user_id:stale-u-5150", nullptr, 404);
  json active = Admin("POST", "/api/v1/privacy/requests",
                      {{"type", "access"}, {"identifier", "user_id:active-u-1"}}, 201);
  EXPECT_EQ(active["data"]["events"].size(), 2u) << "an active person keeps old events too";
  served_.Stop();
  EXPECT_EQ(FilesHolding(dir_.path(), {"stale-u-5150", "Stale-city-77", "stale-note-88"}),
            std::vector<std::string>{});
  EXPECT_FALSE(FilesHolding(dir_.path(), {"active-old-note"}).empty());
  // Not suppressed: the person may come back, as a new profile.
  Start(90);
  EXPECT_EQ(
      TryIngest(R"({"type":"track","userId":"stale-u-5150","event":"Back","messageId":"st-3"})")
          ["accepted"],
      1);
  json back = Admin("GET", "/api/v1/profiles?identifier=user_id:stale-u-5150");
  EXPECT_FALSE(back["traits"].contains("city")) << back;
}

}  // namespace
}  // namespace quanyu
