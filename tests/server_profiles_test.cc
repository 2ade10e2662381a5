// The One-ID admin API over real HTTP: a Server on a loopback port in front
// of a real Engine; events arrive through Segment's /v1/batch with a write
// key, and /api/v1/profiles and /api/v1/identity are read and corrected with
// the admin key.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <memory>
#include <nlohmann/json.hpp>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "engine/engine.h"
#include "served_api_test.h"
#include "server/server.h"

namespace quanyu {
namespace {

using nlohmann::json;

constexpr char kAppKey[] = "profiles-app-write-key";
constexpr char kPhone[] = "phone:+8613800138000";

using ::quanyu::testing::HttpAnswer;
using ::quanyu::testing::Send;

class ServerProfilesTest : public ::quanyu::testing::ServedApiTest {
 protected:
  void Configure(Config& config) override {
    config.sources.push_back({"app", "ios", kAppKey});
    config.flush_interval_s = 3600;  // segments only when the test checkpoints
  }

  HttpAnswer Admin(const std::string& method, const std::string& target,
                   const std::string& body = "") {
    return As(kAdminKey, method, target, body);
  }
  json AdminJson(const std::string& target, int expected_status = 200) {
    HttpAnswer a = Admin("GET", target);
    EXPECT_EQ(a.status, expected_status) << target << " → " << a.body;
    return a.Json();
  }
  // Posts a Segment batch with Basic auth and expects every event accepted.
  void Batch(const char* write_key, const std::string& events) {
    HttpAnswer a = PostBatch(events, write_key);
    ASSERT_EQ(a.status, 200) << a.body;
    ASSERT_EQ(a.Json(), json({{"success", true}})) << a.body;
  }
  uint32_t PersonOf(const std::string& identifier) {
    json j = AdminJson("/api/v1/profiles?identifier=" + identifier);
    return j.value("one_id", 0u);
  }
  std::set<std::string> IdentifiersOf(uint32_t one_id) {
    json j = AdminJson("/api/v1/profiles/" + std::to_string(one_id));
    return j["identifiers"].get<std::set<std::string>>();
  }
  // A web visitor who identifies (u1, phone), then the same user on the app;
  // both identifies carry the messageIds "identify-web" / "identify-app".
  void IngestTwoDevices() {
    Batch(kWebKey, R"(
      {"type":"page","anonymousId":"web-anon-A","name":"Home","messageId":"w1",
       "timestamp":"2024-05-01T10:00:00.000Z"},
      {"type":"track","anonymousId":"web-anon-A","event":"Product Viewed","messageId":"w2",
       "timestamp":"2024-05-01T10:01:00.000Z"},
      {"type":"identify","userId":"u1","anonymousId":"web-anon-A","messageId":"identify-web",
       "traits":{"name":"Li","phone":"138 0013 8000"},"timestamp":"2024-05-01T10:02:00.000Z"},
      {"type":"track","anonymousId":"web-anon-A","event":"Order Completed","messageId":"w4",
       "properties":{"revenue":99},"timestamp":"2024-05-01T10:03:00.000Z"})");
    ASSERT_TRUE(served_.engine->Checkpoint().ok());  // the timeline spans segments and the buffer
    Batch(kAppKey, R"(
      {"type":"screen","anonymousId":"app-anon-B","name":"Launch","messageId":"a1",
       "timestamp":"2024-05-01T10:10:00.000Z"},
      {"type":"track","anonymousId":"app-anon-B","event":"App Opened","messageId":"a2",
       "timestamp":"2024-05-01T10:11:00.000Z"})");
    app_only_person_ = PersonOf("anonymous_id:app-anon-B");
    Batch(kAppKey, R"(
      {"type":"identify","userId":"u1","anonymousId":"app-anon-B","messageId":"identify-app",
       "timestamp":"2024-05-01T10:12:00.000Z"},
      {"type":"track","anonymousId":"app-anon-B","event":"Coupon Claimed","messageId":"a4",
       "timestamp":"2024-05-01T10:13:00.000Z"},
      {"type":"track","anonymousId":"app-anon-B","event":"Tie","messageId":"tie-b",
       "timestamp":"2024-05-01T10:20:00.000Z"})");
    Batch(kWebKey, R"(
      {"type":"track","anonymousId":"web-anon-A","event":"Tie","messageId":"tie-a",
       "timestamp":"2024-05-01T10:20:00.000Z"},
      {"type":"track","anonymousId":"web-anon-A","event":"Cart Viewed","messageId":"w5",
       "timestamp":"2024-05-01T10:21:00.000Z"})");
  }

  uint32_t app_only_person_ = 0;
};

const std::set<std::string> kAllMessageIds = {
    "w1", "w2", "identify-web", "w4", "a1", "a2", "identify-app", "a4", "tie-b", "tie-a", "w5"};

TEST_F(ServerProfilesTest, ProfileJoinsBothDevicesAndAnswersByEveryIdentifier) {
  IngestTwoDevices();
  uint32_t person = PersonOf("user_id:u1");
  ASSERT_NE(person, 0u);
  json profile = AdminJson("/api/v1/profiles/" + std::to_string(person));
  EXPECT_EQ(profile["one_id"], person);
  EXPECT_FALSE(profile.contains("requested_one_id"));
  auto ids = profile["identifiers"].get<std::set<std::string>>();
  EXPECT_TRUE(ids.count("anonymous_id:web-anon-A")) << profile.dump();
  EXPECT_TRUE(ids.count("anonymous_id:app-anon-B")) << profile.dump();
  EXPECT_TRUE(ids.count("user_id:u1")) << profile.dump();
  EXPECT_TRUE(ids.count(kPhone)) << profile.dump();
  EXPECT_EQ(profile["traits"]["name"], "Li");
  EXPECT_EQ(profile["events"], kAllMessageIds.size());
  EXPECT_TRUE(profile["sources"].contains("website"));
  EXPECT_TRUE(profile["sources"].contains("app"));
  ASSERT_FALSE(profile["merge_history"].empty());
  EXPECT_EQ(profile["merge_history"].back()["message_id"], "identify-app");

  // The phone as typed (a literal '+'), escaped, and in national form.
  EXPECT_EQ(PersonOf("phone:+8613800138000"), person);
  EXPECT_EQ(PersonOf("phone%3A%2B8613800138000"), person);
  EXPECT_EQ(PersonOf("phone:13800138000"), person);
  EXPECT_EQ(PersonOf("anonymous_id:web-anon-A"), person);
  EXPECT_EQ(PersonOf("anonymous_id:app-anon-B"), person);
}

TEST_F(ServerProfilesTest, AliasOneIdAnswersWithTheSurvivor) {
  IngestTwoDevices();
  uint32_t person = PersonOf("user_id:u1");
  ASSERT_NE(app_only_person_, 0u);
  ASSERT_NE(app_only_person_, person) << "the app visitor was a person of its own before";
  json alias = AdminJson("/api/v1/profiles/" + std::to_string(app_only_person_));
  EXPECT_EQ(alias["one_id"], person);
  EXPECT_EQ(alias["requested_one_id"], app_only_person_);
  json identity = AdminJson("/api/v1/profiles/" + std::to_string(app_only_person_) + "/identity");
  EXPECT_EQ(identity["one_id"], person);
  EXPECT_EQ(identity["requested_one_id"], app_only_person_);
  json events = AdminJson("/api/v1/profiles/" + std::to_string(app_only_person_) + "/events");
  EXPECT_EQ(events["one_id"], person);
  EXPECT_EQ(events["events"].size(), kAllMessageIds.size());
}

TEST_F(ServerProfilesTest, TimelineIsNewestFirstAndPaginatesWithoutGapsOrRepeats) {
  IngestTwoDevices();
  uint32_t person = PersonOf("user_id:u1");
  std::string base = "/api/v1/profiles/" + std::to_string(person) + "/events?limit=2";
  std::vector<std::string> seen;
  std::vector<std::string> times;
  std::string cursor;
  int pages = 0;
  for (;;) {
    std::string target = base;
    if (!cursor.empty()) target += "&cursor=" + cursor;
    json page = AdminJson(target);
    ASSERT_EQ(page["one_id"], person);
    ASSERT_TRUE(page["events"].is_array());
    ASSERT_LE(page["events"].size(), 2u);
    for (const auto& e : page["events"]) {
      seen.push_back(e["messageId"]);
      times.push_back(e["timestamp"]);
      EXPECT_EQ(e["one_id"], person);
    }
    ++pages;
    ASSERT_LT(pages, 10) << "pagination does not end";
    if (page["next_cursor"].is_null()) break;
    cursor = page["next_cursor"].get<std::string>();
    ASSERT_FALSE(cursor.empty());
  }
  EXPECT_EQ(pages, 6);  // 11 events in pages of 2; tie-b | tie-a straddle a page break
  EXPECT_EQ(std::set<std::string>(seen.begin(), seen.end()), kAllMessageIds);
  EXPECT_EQ(seen.size(), kAllMessageIds.size()) << "an event appeared on two pages";
  EXPECT_TRUE(std::is_sorted(times.rbegin(), times.rend())) << "not newest first";
  EXPECT_EQ(seen.front(), "w5");
  EXPECT_EQ(seen.back(), "w1");

  // Both devices, rendered as /api/v1/events renders them.
  json all = AdminJson("/api/v1/profiles/" + std::to_string(person) + "/events");
  EXPECT_TRUE(all["next_cursor"].is_null());
  std::set<std::string> sources;
  for (const auto& e : all["events"]) sources.insert(e["source"]);
  EXPECT_EQ(sources, (std::set<std::string>{"website", "app"}));
  EXPECT_EQ(all["events"][0]["type"], "track");
  EXPECT_EQ(all["events"][0]["event"], "Cart Viewed");
}

TEST_F(ServerProfilesTest, IdentityShowsLinksWithTheirMessageIds) {
  IngestTwoDevices();
  uint32_t person = PersonOf("user_id:u1");
  json identity = AdminJson("/api/v1/profiles/" + std::to_string(person) + "/identity");
  EXPECT_EQ(identity["one_id"], person);
  EXPECT_EQ(identity["identifiers"].size(), 4u);
  EXPECT_GE(identity["merges"].get<int>(), 1);
  std::set<std::string> link_messages;
  bool merged_by_app_identify = false;
  for (const auto& link : identity["links"]) {
    link_messages.insert(link["message_id"]);
    if (link["message_id"] == "identify-app") {
      ASSERT_FALSE(link["merges"].empty());
      EXPECT_EQ(link["merges"][0]["survivor"], person);
      EXPECT_EQ(link["merges"][0]["absorbed"], app_only_person_);
      merged_by_app_identify = true;
    }
  }
  EXPECT_TRUE(link_messages.count("identify-web")) << identity.dump();
  EXPECT_TRUE(merged_by_app_identify) << identity.dump();
}

TEST_F(ServerProfilesTest, SplitUndoesALinkAndUnbindDetachesAnIdentifier) {
  IngestTwoDevices();
  uint32_t person = PersonOf("user_id:u1");

  HttpAnswer split = Admin("POST", "/api/v1/identity/split",
                           json{{"one_id", person}, {"message_id", "identify-app"}}.dump());
  ASSERT_EQ(split.status, 200) << split.body;
  json s = split.Json();
  EXPECT_FALSE(s["message_id"].get<std::string>().empty());
  uint32_t app_person = PersonOf("anonymous_id:app-anon-B");
  EXPECT_NE(app_person, person);
  EXPECT_EQ(PersonOf("user_id:u1"), person);
  EXPECT_EQ(s["persons"].get<std::set<uint32_t>>(), (std::set<uint32_t>{person, app_person}));
  EXPECT_FALSE(IdentifiersOf(person).count("anonymous_id:app-anon-B"));
  // Splitting the same link again finds nothing to undo.
  HttpAnswer again = Admin("POST", "/api/v1/identity/split",
                           json{{"one_id", person}, {"message_id", "identify-app"}}.dump());
  EXPECT_EQ(again.status, 404) << again.body;

  HttpAnswer unbind =
      Admin("POST", "/api/v1/identity/unbind", R"({"identifier":"anonymous_id:web-anon-A"})");
  ASSERT_EQ(unbind.status, 200) << unbind.body;
  json u = unbind.Json();
  EXPECT_FALSE(u["message_id"].get<std::string>().empty());
  uint32_t web_person = u["one_id"];
  EXPECT_NE(web_person, 0u);
  EXPECT_EQ(PersonOf("anonymous_id:web-anon-A"), web_person);
  // docs/identity.md: after the rebuild the oldest resulting person (here the
  // bare web visitor, first seen at 10:00) keeps the old one_id, so the user
  // is looked up again rather than assumed to stay `person`.
  uint32_t user_person = PersonOf("user_id:u1");
  EXPECT_NE(web_person, user_person);
  EXPECT_EQ(IdentifiersOf(web_person), (std::set<std::string>{"anonymous_id:web-anon-A"}));
  std::set<std::string> remaining = IdentifiersOf(user_person);
  EXPECT_FALSE(remaining.count("anonymous_id:web-anon-A"));
  EXPECT_TRUE(remaining.count("user_id:u1"));
  EXPECT_TRUE(remaining.count(kPhone));
}

TEST_F(ServerProfilesTest, UnknownPersonsAndIdentifiersAre404WithAJsonError) {
  IngestTwoDevices();
  for (const char* target :
       {"/api/v1/profiles/999999", "/api/v1/profiles/999999/events",
        "/api/v1/profiles/999999/identity", "/api/v1/profiles?identifier=user_id:nobody",
        "/api/v1/profiles?identifier=phone:+8613900000000"}) {
    json j = AdminJson(target, 404);
    EXPECT_EQ(j["error"]["code"], "not_found") << target;
    EXPECT_FALSE(j["error"]["message"].get<std::string>().empty()) << target;
  }
  HttpAnswer unbind =
      Admin("POST", "/api/v1/identity/unbind", R"({"identifier":"user_id:nobody"})");
  EXPECT_EQ(unbind.status, 404) << unbind.body;
  EXPECT_EQ(unbind.Json()["error"]["code"], "not_found");
  uint32_t person = PersonOf("user_id:u1");
  HttpAnswer split = Admin("POST", "/api/v1/identity/split",
                           json{{"one_id", person}, {"message_id", "no-such-message"}}.dump());
  EXPECT_EQ(split.status, 404) << split.body;
  HttpAnswer nobody = Admin("POST", "/api/v1/identity/split",
                            json{{"one_id", 999999}, {"message_id", "identify-app"}}.dump());
  EXPECT_EQ(nobody.status, 404) << nobody.body;
}

TEST_F(ServerProfilesTest, BadInputIs400WithAJsonError) {
  IngestTwoDevices();
  std::string events = "/api/v1/profiles/" + std::to_string(PersonOf("user_id:u1")) + "/events";
  for (const std::string& target :
       {std::string("/api/v1/profiles/abc"), std::string("/api/v1/profiles/0"),
        std::string("/api/v1/profiles/-1"), std::string("/api/v1/profiles/4294967296"),
        std::string("/api/v1/profiles/1.5"), std::string("/api/v1/profiles/abc/identity"),
        std::string("/api/v1/profiles"), std::string("/api/v1/profiles?identifier="),
        std::string("/api/v1/profiles?identifier=nonsense"),
        std::string("/api/v1/profiles?identifier=foo:bar"),
        std::string("/api/v1/profiles?identifier=phone:not-a-phone"),
        std::string("/api/v1/profiles?identifier=user_id:null"), events + "?limit=0",
        events + "?limit=10000", events + "?limit=abc", events + "?limit=-5",
        events + "?cursor=zzz", events + "?cursor=12.xyz"}) {
    json j = AdminJson(target, 400);
    EXPECT_EQ(j["error"]["code"], "invalid_argument") << target;
  }
  EXPECT_EQ(AdminJson(events + "?limit=1000")["events"].size(), kAllMessageIds.size());
  for (auto [path, body] : std::vector<std::pair<std::string, std::string>>{
           {"/api/v1/identity/unbind", "not json"},
           {"/api/v1/identity/unbind", "[]"},
           {"/api/v1/identity/unbind", "{}"},
           {"/api/v1/identity/unbind", R"({"identifier":5})"},
           {"/api/v1/identity/unbind", R"({"identifier":"nonsense"})"},
           {"/api/v1/identity/split", "{"},
           {"/api/v1/identity/split", R"({"message_id":"identify-app"})"},
           {"/api/v1/identity/split", R"({"one_id":"1","message_id":"identify-app"})"},
           {"/api/v1/identity/split", R"({"one_id":-1,"message_id":"identify-app"})"},
           {"/api/v1/identity/split", R"({"one_id":4294967296,"message_id":"x"})"},
           {"/api/v1/identity/split", R"({"one_id":1})"}}) {
    HttpAnswer a = Admin("POST", path, body);
    EXPECT_EQ(a.status, 400) << path << " " << body << " → " << a.body;
    EXPECT_EQ(a.Json()["error"]["code"], "invalid_argument") << path << " " << body;
  }
}

TEST_F(ServerProfilesTest, AdminKeyIsRequiredAndWrongMethodsAreUnknownRoutes) {
  IngestTwoDevices();
  for (auto [method, target] : std::vector<std::pair<std::string, std::string>>{
           {"GET", "/api/v1/profiles/1"},
           {"GET", "/api/v1/profiles?identifier=user_id:u1"},
           {"GET", "/api/v1/profiles/1/events"},
           {"GET", "/api/v1/profiles/1/identity"},
           {"POST", "/api/v1/identity/unbind"},
           {"POST", "/api/v1/identity/split"}}) {
    HttpAnswer none = Send(served_.port(), method, target, "", "{}");
    EXPECT_EQ(none.status, 401) << target;
    EXPECT_EQ(none.Json()["error"]["code"], "unauthenticated") << target;
    HttpAnswer wrong = Send(served_.port(), method, target, "Bearer not-the-key", "{}");
    EXPECT_EQ(wrong.status, 401) << target;
  }
  // The identifier survives the refusals: nothing was unbound.
  EXPECT_EQ(IdentifiersOf(PersonOf("user_id:u1")).size(), 4u);
  // Existing convention: a known path with another method is an unknown route.
  HttpAnswer post = Admin("POST", "/api/v1/profiles/1", "{}");
  EXPECT_EQ(post.status, 404);
  EXPECT_NE(post.Json()["error"]["message"].get<std::string>().find("use GET"), std::string::npos);
  EXPECT_EQ(Admin("GET", "/api/v1/identity/unbind").status, 404);
  EXPECT_EQ(Admin("GET", "/api/v1/profiles/1/nothing").status, 404);
}

}  // namespace
}  // namespace quanyu
