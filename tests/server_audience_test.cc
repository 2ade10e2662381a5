// The audience API over real HTTP: a Server on a loopback port in front of a
// real Engine; four hand-made persons arrive through Segment's /v1/batch,
// then /api/v1/audiences (preview, CRUD, members, export, refresh, changes,
// history), /api/v1/tags, /api/v1/computed-traits and /api/v1/rfm answer
// with the admin key, and the profile shows what the audience stage knows.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>
#include <vector>

#include "engine/engine.h"
#include "served_api_test.h"
#include "server/server.h"

namespace quanyu {
namespace {

using nlohmann::json;

using ::quanyu::testing::HttpAnswer;
using ::quanyu::testing::Send;

// Four persons (May 2024, UTC):
//   u1  上海, pro, phone + email; orders 120 and 80; consent: marketing, analytics and
//       cross-border transfer granted
//   u2  北京, free, email;         order 30;         consent: both withdrawn
//   u3  上海;                       viewed a product; never answered consent
//   a4  anonymous;                  viewed a product
constexpr char kPersons[] = R"(
  {"type":"identify","userId":"u1","messageId":"i1","timestamp":"2024-05-01T08:00:00Z",
   "traits":{"city":"上海","plan":"pro","phone":"+8613800138000","email":"alice@example.com"}},
  {"type":"identify","userId":"u2","messageId":"i2","timestamp":"2024-05-01T08:00:00Z",
   "traits":{"city":"北京","plan":"free","email":"bob@example.com"}},
  {"type":"identify","userId":"u3","messageId":"i3","timestamp":"2024-05-01T08:00:00Z",
   "traits":{"city":"上海"}},
  {"type":"track","userId":"u1","event":"Consent Updated","messageId":"k1",
   "timestamp":"2024-05-01T09:00:00Z",
   "context":{"consent":{"categoryPreferences":{"marketing":true,"analytics":true,
                                               "cross_border":true}}}},
  {"type":"track","userId":"u2","event":"Consent Updated","messageId":"k2",
   "timestamp":"2024-05-01T09:00:00Z",
   "context":{"consent":{"categoryPreferences":{"marketing":false,"analytics":false}}}},
  {"type":"track","userId":"u1","event":"Order Completed","messageId":"o1",
   "properties":{"revenue":120},"timestamp":"2024-05-01T10:00:00Z"},
  {"type":"track","userId":"u1","event":"Order Completed","messageId":"o2",
   "properties":{"revenue":80},"timestamp":"2024-05-03T10:00:00Z"},
  {"type":"track","userId":"u2","event":"Order Completed","messageId":"o3",
   "properties":{"revenue":30},"timestamp":"2024-05-02T10:00:00Z"},
  {"type":"track","userId":"u3","event":"Product Viewed","messageId":"v3",
   "timestamp":"2024-05-02T11:00:00Z"},
  {"type":"track","anonymousId":"a4","event":"Product Viewed","messageId":"v4",
   "timestamp":"2024-05-02T12:00:00Z"})";

class ServerAudienceTest : public ::quanyu::testing::ServedApiTest {
 protected:
  void SetUp() override {
    ASSERT_NO_FATAL_FAILURE(ServedApiTest::SetUp());
    Ingest(kPersons);
  }
  void Configure(Config& config) override {
    // u2 refused analytics before its order; the fixture keeps the order
    // ([privacy] analytics_consent = "accept") — the gate has its own tests.
    config.privacy_analytics_consent = "accept";
    config.flush_interval_s = 3600;
    // Only the test refreshes membership: the maintenance thread must not
    // take the baseline or the changes first.
    config.audience_refresh_interval_s = 86400;
    config.audience_recompute_interval_s = 86400;
  }

  HttpAnswer Admin(const std::string& method, const std::string& target,
                   const std::string& body = "") {
    return As(kAdminKey, method, target, body);
  }
  // The JSON answer of an admin request, expecting `status`.
  json Call(const std::string& method, const std::string& target, const json& body,
            int status = 200) {
    return AsJson(kAdminKey, method, target, body, status);
  }
  uint32_t OneIdOf(const std::string& identifier) {
    json p = Get("/api/v1/profiles?identifier=" + identifier);
    return p.value("one_id", 0u);
  }
  size_t PreviewCount(const std::string& definition) {
    json j = Call("POST", "/api/v1/audiences/preview", {{"definition", definition}});
    return j.value("count", size_t{999});
  }
  // The message of a request answered with an error: `status`, `code`.
  std::string Refused(int status, const std::string& code, const std::string& method,
                      const std::string& target, const json& body = nullptr) {
    return ErrorOf(Call(method, target, body, status), code);
  }
  json Get(const std::string& target) { return Call("GET", target, nullptr); }
  // GET /api/v1/audiences/changes?after=AFTER until it lists `n` changes
  // (the realtime thread records them moments after the ingest returns), or
  // 10 s have passed.
  json PollChanges(uint64_t after, size_t n) {
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    json page;
    do {
      page = Get("/api/v1/audiences/changes?after=" + std::to_string(after));
      if (page["changes"].size() >= n) break;
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    } while (std::chrono::steady_clock::now() < deadline);
    return page;
  }
  static std::string ErrorOf(const json& j, const std::string& code) {
    EXPECT_TRUE(j.contains("error")) << j.dump();
    if (!j.contains("error")) return "";
    EXPECT_EQ(j["error"]["code"], code) << j.dump();
    return j["error"].value("message", "");
  }
};

TEST_F(ServerAudienceTest, PreviewTextAndTreeAgreeAndErrorsAre400) {
  std::vector<uint32_t> shanghai = {OneIdOf("user_id:u1"), OneIdOf("user_id:u3")};
  std::sort(shanghai.begin(), shanghai.end());
  json text = Call("POST", "/api/v1/audiences/preview", {{"definition", "trait.city = \"上海\""}});
  EXPECT_EQ(text["count"], 2) << text;
  EXPECT_EQ(text["sample"], json(shanghai)) << text;
  EXPECT_EQ(text["tree"], json::parse(R"({"trait": "city", "op": "=", "value": "上海"})"));
  json tree = Call("POST", "/api/v1/audiences/preview", {{"tree", text["tree"]}});
  EXPECT_EQ(tree["count"], 2) << tree;
  EXPECT_EQ(tree["definition"], text["definition"]) << tree;

  EXPECT_EQ(PreviewCount("did(\"Order Completed\")"), 2u);
  EXPECT_EQ(PreviewCount("did(\"Order Completed\", count >= 2)"), 1u);
  EXPECT_EQ(PreviewCount("trait.city = \"上海\" AND did(\"Order Completed\")"), 1u);
  // A person without the value satisfies != (u1, u3 and the anonymous a4).
  EXPECT_EQ(PreviewCount("trait.city != \"北京\""), 3u);
  EXPECT_EQ(PreviewCount("NOT did(\"Order Completed\")"), 2u);
  EXPECT_EQ(PreviewCount("did(\"Order Completed\", count <= 1)"), 3u);
  EXPECT_EQ(PreviewCount("consent.marketing = true"), 1u);
  json one = Call("POST", "/api/v1/audiences/preview",
                  {{"definition", "trait.city EXISTS"}, {"sample", 1}});
  EXPECT_EQ(one["count"], 3) << one;
  EXPECT_EQ(one["sample"].size(), 1u) << one;

  std::string parse = Refused(400, "invalid_argument", "POST", "/api/v1/audiences/preview",
                              {{"definition", "trait.city = AND"}});
  EXPECT_NE(parse.find("line 1, column 14"), std::string::npos) << parse;
  Refused(400, "invalid_argument", "POST", "/api/v1/audiences/preview", json::object());
  Refused(400, "invalid_argument", "POST", "/api/v1/audiences/preview",
          {{"definition", "trait.a EXISTS"}, {"tree", {{"trait", "a"}, {"op", "exists"}}}});
  HttpAnswer bad_json = Admin("POST", "/api/v1/audiences/preview", "{nope");
  EXPECT_EQ(bad_json.status, 400) << bad_json.body;
  // A computed trait that was never defined is a 400 naming it.
  std::string computed = Refused(400, "invalid_argument", "POST", "/api/v1/audiences/preview",
                                 {{"definition", "computed.nothing >= 1"}});
  EXPECT_NE(computed.find("computed.nothing"), std::string::npos) << computed;

  HttpAnswer none = Send(served_.port(), "POST", "/api/v1/audiences/preview", "",
                         R"({"definition": "trait.city EXISTS"})");
  EXPECT_EQ(none.status, 401) << none.body;
  ErrorOf(none.Json(), "unauthenticated");
  HttpAnswer get = Admin("GET", "/api/v1/audiences/preview");
  EXPECT_EQ(get.status, 404) << get.body;
  EXPECT_NE(get.body.find("use POST"), std::string::npos) << get.body;
}

// consent.* conditions read what the consent ledger reads: a decision made
// through POST /api/v1/consent, a withdrawal request, Sensors-style
// "$consent" and Segment's categoryPreferences on any event, by purpose,
// channel or consent-manager category name.
TEST_F(ServerAudienceTest, ConsentConditionsSeeEveryWayConsentIsRecorded) {
  ASSERT_EQ(PreviewCount("consent.marketing = true"), 1u);  // the fixture's categoryPreferences
  Call("POST", "/api/v1/consent",
       {{"identifier", "user_id:u3"},
        {"purposes", {{"marketing", "granted"}}},
        {"channels", {{"sms", "denied"}}}},
       201);
  EXPECT_EQ(PreviewCount("consent.marketing = true"), 2u);
  EXPECT_EQ(PreviewCount("consent.advertising = true"), 2u) << "a category name of the purpose";
  EXPECT_EQ(PreviewCount("consent.sms = false"), 1u);
  Ingest(R"({"type":"track","anonymousId":"a4","event":"Page Liked","messageId":"c-a4",
             "properties":{"$consent":{"purposes":{"marketing":true}}}})");
  EXPECT_EQ(PreviewCount("consent.marketing = true"), 3u);
  Call("POST", "/api/v1/privacy/requests", {{"type", "withdraw"}, {"identifier", "user_id:u3"}},
       201);
  EXPECT_EQ(PreviewCount("consent.marketing = true"), 2u);
  EXPECT_EQ(PreviewCount("consent.marketing = false"), 2u) << "u3 withdrew; the fixture's refusal";
}

TEST_F(ServerAudienceTest, CreateGetListUpdateDelete) {
  json created = Call("POST", "/api/v1/audiences",
                      {{"name", "shanghai"},
                       {"description", "上海的客户"},
                       {"definition", "trait.city = \"上海\""}},
                      201);
  EXPECT_EQ(created["name"], "shanghai") << created;
  EXPECT_EQ(created["description"], "上海的客户") << created;
  EXPECT_EQ(created["definition"], "trait.city = \"上海\"") << created;
  EXPECT_EQ(created["created"], created["updated"]) << created;

  Refused(409, "already_exists", "POST", "/api/v1/audiences",
          {{"name", "shanghai"}, {"definition", "trait.city EXISTS"}});
  Refused(400, "invalid_argument", "POST", "/api/v1/audiences",
          {{"name", "bad name!"}, {"definition", "trait.a EXISTS"}});
  Refused(400, "invalid_argument", "POST", "/api/v1/audiences", {{"definition", "trait.a EXISTS"}});
  std::string unknown_ref = Refused(400, "invalid_argument", "POST", "/api/v1/audiences",
                                    {{"name", "x"}, {"definition", "audience(\"ghost\")"}});
  EXPECT_NE(unknown_ref.find("ghost"), std::string::npos) << unknown_ref;

  json got = Get("/api/v1/audiences/shanghai");
  EXPECT_EQ(got["count"], 2) << got;
  EXPECT_EQ(got["tree"], created["tree"]) << got;

  Call("POST", "/api/v1/audiences", {{"name", "buyers"}, {"tree", {{"did", "Order Completed"}}}},
       201);
  json list = Get("/api/v1/audiences");
  ASSERT_EQ(list["audiences"].size(), 2u) << list;
  EXPECT_EQ(list["audiences"][0]["name"], "buyers") << list;
  EXPECT_EQ(list["audiences"][1]["name"], "shanghai") << list;

  json put = Call("PUT", "/api/v1/audiences/shanghai",
                  {{"definition", "trait.city = \"上海\" AND audience(\"buyers\")"}});
  EXPECT_EQ(put["created"], created["created"]) << put;
  EXPECT_EQ(Get("/api/v1/audiences/shanghai")["count"], 1);
  Refused(404, "not_found", "PUT", "/api/v1/audiences/ghost", {{"definition", "trait.a EXISTS"}});
  // buyers is used by shanghai: refused until shanghai no longer uses it.
  Refused(400, "invalid_argument", "DELETE", "/api/v1/audiences/buyers");

  HttpAnswer del = Admin("DELETE", "/api/v1/audiences/shanghai");
  EXPECT_EQ(del.status, 204) << del.body;
  Refused(404, "not_found", "GET", "/api/v1/audiences/shanghai");
  Refused(404, "not_found", "DELETE", "/api/v1/audiences/shanghai");
  EXPECT_EQ(Admin("DELETE", "/api/v1/audiences/buyers").status, 204);
  EXPECT_EQ(Get("/api/v1/audiences")["audiences"], json::array());
}

TEST_F(ServerAudienceTest, MembersPageAndCsv) {
  Call("POST", "/api/v1/audiences",
       {{"name", "not_beijing"}, {"definition", "trait.city != \"北京\""}}, 201);
  const uint32_t u1 = OneIdOf("user_id:u1"), u3 = OneIdOf("user_id:u3"),
                 a4 = OneIdOf("anonymous_id:a4");
  json all = Get("/api/v1/audiences/not_beijing/members");
  EXPECT_EQ(all["count"], 3) << all;
  EXPECT_EQ(all["members"], json::array({u1, u3, a4})) << all;
  EXPECT_TRUE(all["next_after"].is_null()) << all;

  json page1 = Get("/api/v1/audiences/not_beijing/members?limit=2");
  EXPECT_EQ(page1["members"], json::array({u1, u3})) << page1;
  ASSERT_EQ(page1["next_after"], u3) << page1;
  json page2 = Call(
      "GET", "/api/v1/audiences/not_beijing/members?limit=2&after=" + std::to_string(u3), nullptr);
  EXPECT_EQ(page2["members"], json::array({a4})) << page2;
  EXPECT_TRUE(page2["next_after"].is_null()) << page2;
  Refused(400, "invalid_argument", "GET", "/api/v1/audiences/not_beijing/members?limit=x");
  Refused(404, "not_found", "GET", "/api/v1/audiences/ghost/members");

  HttpAnswer csv =
      Admin("GET", "/api/v1/audiences/not_beijing/members?format=csv&traits=city,plan");
  ASSERT_EQ(csv.status, 200) << csv.body;
  EXPECT_NE(csv.headers.find("Content-Type: text/csv"), std::string::npos) << csv.headers;
  // Nobody here withdrew analytics consent; u3 has no plan, a4 nothing.
  EXPECT_EQ(csv.body, "one_id,city,plan\n" + std::to_string(u1) + ",上海,pro\n" +
                          std::to_string(u3) + ",上海,\n" + std::to_string(a4) + ",,\n");
}

TEST_F(ServerAudienceTest, ExportPassesOnlyPersonsTheConsentGateAllows) {
  Call("POST", "/api/v1/audiences",
       {{"name", "buyers"}, {"definition", "did(\"Order Completed\")"}}, 201);
  const uint32_t u1 = OneIdOf("user_id:u1");
  // csv: u2 withdrew analytics consent.
  json csv = Call("POST", "/api/v1/audiences/buyers/export",
                  {{"destination", "csv"}, {"traits", json::array({"city"})}});
  EXPECT_EQ(csv["members"], 2) << csv;
  EXPECT_EQ(csv["exported"], 1) << csv;
  EXPECT_EQ(csv["excluded_by_consent"], 1) << csv;
  EXPECT_EQ(csv["files"]["members.csv"], "one_id,city\n" + std::to_string(u1) + ",上海\n") << csv;
  // The members CSV route applies the same gate.
  HttpAnswer members_csv = Admin("GET", "/api/v1/audiences/buyers/members?format=csv");
  EXPECT_EQ(members_csv.body, "one_id\n" + std::to_string(u1) + "\n");

  // meta: only u1 granted marketing; one row of its hashed email and phone.
  json meta = Call("POST", "/api/v1/audiences/buyers/export", {{"destination", "meta"}});
  EXPECT_EQ(meta["exported"].get<int>() + meta["excluded_by_consent"].get<int>(),
            meta["members"].get<int>())
      << meta;
  EXPECT_EQ(meta["exported"], 1) << meta;
  ASSERT_TRUE(meta["files"].contains("meta_customer_list.csv")) << meta;
  const std::string file = meta["files"]["meta_customer_list.csv"];
  EXPECT_EQ(file.rfind("email,phone\n", 0), 0u) << file;
  EXPECT_EQ(std::count(file.begin(), file.end(), '\n'), 2) << file;
  EXPECT_EQ(file.size(), std::string("email,phone\n").size() + 64 + 1 + 64 + 1) << file;

  Refused(400, "invalid_argument", "POST", "/api/v1/audiences/buyers/export",
          {{"destination", "myspace"}});
  Refused(400, "invalid_argument", "POST", "/api/v1/audiences/buyers/export", json::object());
  Refused(404, "not_found", "POST", "/api/v1/audiences/ghost/export", {{"destination", "csv"}});
}

TEST_F(ServerAudienceTest, TagsByRuleAndByListShowInProfiles) {
  json rule =
      Call("POST", "/api/v1/tags",
           {{"category", "地区"}, {"name", "上海"}, {"definition", "trait.city = \"上海\""}}, 201);
  EXPECT_EQ(rule["definition"], "trait.city = \"上海\"") << rule;
  json list = Call(
      "POST", "/api/v1/tags",
      {{"category", "vip"},
       {"name", "seed"},
       {"identifiers", json::array({"user_id:u2", "email:Bob@Example.com", "user_id:nobody"})}},
      201);
  EXPECT_EQ(list["identifiers"],
            json::array({"user_id:u2", "email:bob@example.com", "user_id:nobody"}))
      << list;
  Refused(400, "invalid_argument", "POST", "/api/v1/tags",
          {{"category", "vip"},
           {"name", "x"},
           {"identifiers", json::array()},
           {"definition", "trait.a EXISTS"}});
  Refused(400, "invalid_argument", "POST", "/api/v1/tags",
          {{"category", "vip"}, {"identifiers", json::array()}});

  json tags = Get("/api/v1/tags");
  ASSERT_EQ(tags["tags"].size(), 2u) << tags;
  const uint32_t u1 = OneIdOf("user_id:u1"), u2 = OneIdOf("user_id:u2"), u3 = OneIdOf("user_id:u3");
  json seed = Get("/api/v1/tags/vip/seed");
  EXPECT_EQ(seed["count"], 1) << seed;
  EXPECT_EQ(seed["members"], json::array({u2})) << seed;
  json region = Get("/api/v1/tags/%E5%9C%B0%E5%8C%BA/%E4%B8%8A%E6%B5%B7");
  EXPECT_EQ(region["members"], json::array({u1, u3})) << region;

  json profile = Get("/api/v1/profiles/" + std::to_string(u1));
  EXPECT_EQ(profile["tags"], json::array({"地区/上海"})) << profile;
  EXPECT_EQ(Get("/api/v1/profiles/" + std::to_string(u2))["tags"], json::array({"vip/seed"}));

  EXPECT_EQ(Admin("DELETE", "/api/v1/tags/vip/seed").status, 204);
  Refused(404, "not_found", "GET", "/api/v1/tags/vip/seed");
  Refused(404, "not_found", "DELETE", "/api/v1/tags/vip/seed");
  EXPECT_EQ(Admin("GET", "/api/v1/tags/vip").status, 404);
}

TEST_F(ServerAudienceTest, ComputedTraitsAndRfmFeedAudiencesAndProfiles) {
  json trait = Call("POST", "/api/v1/computed-traits",
                    {{"name", "orders_all"}, {"kind", "count"}, {"event", "Order Completed"}}, 201);
  EXPECT_EQ(trait["persons"], 2) << trait;
  EXPECT_EQ(
      Get("/api/v1/computed-traits")["computed_traits"],
      json::parse(R"([{"name": "orders_all", "kind": "count", "event": "Order Completed"}])"));
  EXPECT_EQ(PreviewCount("computed.orders_all >= 2"), 1u);
  Refused(400, "invalid_argument", "POST", "/api/v1/computed-traits",
          {{"name", "x"}, {"kind", "median"}});

  Refused(404, "not_found", "GET", "/api/v1/rfm");
  json run =
      Call("POST", "/api/v1/rfm", {{"analysis_time", "2024-06-01T00:00:00Z"}, {"window", "365d"}});
  EXPECT_EQ(run["customers"], 2) << run;
  EXPECT_EQ(run["options"]["analysis_time"], "2024-06-01T00:00:00.000Z") << run;
  EXPECT_EQ(Get("/api/v1/rfm"), run);
  EXPECT_EQ(PreviewCount("rfm.segment EXISTS"), 2u);
  // u1 ordered last and more often: R and F above u2's.
  EXPECT_EQ(PreviewCount("rfm.r > 1 AND rfm.f > 1"), 1u);

  const uint32_t u1 = OneIdOf("user_id:u1");
  json profile = Get("/api/v1/profiles/" + std::to_string(u1));
  EXPECT_EQ(profile["computed"], json::parse(R"({"orders_all": 2})")) << profile;
  EXPECT_EQ(profile["rfm"]["frequency"], 2) << profile;
  EXPECT_EQ(profile["rfm"]["monetary"], 200) << profile;

  Call("POST", "/api/v1/audiences",
       {{"name", "repeat"}, {"definition", "computed.orders_all >= 2"}}, 201);
  // In use by an audience: refused; after the audience goes, deleted.
  Refused(400, "invalid_argument", "DELETE", "/api/v1/computed-traits/orders_all");
  EXPECT_EQ(Admin("DELETE", "/api/v1/audiences/repeat").status, 204);
  EXPECT_EQ(Admin("DELETE", "/api/v1/computed-traits/orders_all").status, 204);
  Refused(404, "not_found", "DELETE", "/api/v1/computed-traits/orders_all");
}

TEST_F(ServerAudienceTest, RefreshRecordsEnteredChangesAndHistory) {
  Call("POST", "/api/v1/audiences",
       {{"name", "buyers"}, {"definition", "did(\"Order Completed\")"}}, 201);
  // The first evaluation records the baseline, without changes.
  EXPECT_EQ(Call("POST", "/api/v1/audiences/refresh", nullptr)["changes"], 0);
  EXPECT_EQ(Get("/api/v1/audiences/changes")["changes"], json::array());
  const uint32_t u1 = OneIdOf("user_id:u1"), u3 = OneIdOf("user_id:u3");
  EXPECT_EQ(Get("/api/v1/profiles/" + std::to_string(u1))["audiences"], json::array({"buyers"}));
  EXPECT_EQ(Get("/api/v1/profiles/" + std::to_string(u3))["audiences"], json::array());

  Ingest(R"({"type":"track","userId":"u3","event":"Order Completed","messageId":"o4",
             "properties":{"revenue":55},"timestamp":"2024-05-04T10:00:00Z"})");
  // The realtime thread records the change without any refresh.
  json changes = PollChanges(0, 1);
  ASSERT_EQ(changes["changes"].size(), 1u) << changes;
  const json& c = changes["changes"][0];
  EXPECT_EQ(c["one_id"], u3) << c;
  EXPECT_EQ(c["audience"], "buyers") << c;
  EXPECT_EQ(c["type"], "audience_entered") << c;
  EXPECT_EQ(changes["next_after"], c["seq"]) << changes;
  // The largest `after` is valid and has nothing after it (it once wrapped to 0: everything).
  EXPECT_EQ(Get("/api/v1/audiences/changes?after=18446744073709551615")["changes"], json::array());
  json later = Get("/api/v1/audiences/changes?after=" + c["seq"].dump());
  EXPECT_EQ(later["changes"], json::array()) << later;
  EXPECT_EQ(later["next_after"], c["seq"]) << later;

  json history = Get("/api/v1/audiences/history/" + std::to_string(u3));
  EXPECT_EQ(history["one_id"], u3) << history;
  EXPECT_EQ(history["audiences"], json::array({"buyers"})) << history;
  ASSERT_EQ(history["changes"].size(), 1u) << history;
  EXPECT_EQ(history["changes"][0], c) << history;
  EXPECT_EQ(Get("/api/v1/audiences/history/" + std::to_string(u1))["changes"], json::array());
  EXPECT_EQ(Get("/api/v1/profiles/" + std::to_string(u3))["audiences"], json::array({"buyers"}));
  Refused(400, "invalid_argument", "GET", "/api/v1/audiences/history/0");

  // Nothing new: a full refresh records nothing more.
  EXPECT_EQ(Call("POST", "/api/v1/audiences/refresh", {{"full", true}})["changes"], 0);
}

// Regressions: each of these once crashed the server, wrapped a number or
// let a name shadow a route.
TEST_F(ServerAudienceTest, HostileParametersGet400AndTheServerKeepsServing) {
  Call("POST", "/api/v1/audiences",
       {{"name", "buyers"}, {"definition", "did(\"Order Completed\")"}}, 201);
  Refused(400, "invalid_argument", "GET", "/api/v1/audiences/buyers/members?limit=0");
  Refused(400, "invalid_argument", "GET", "/api/v1/audiences/changes?after=18446744073709551619");
  Refused(400, "invalid_argument", "GET", "/api/v1/audiences/buyers/members?after=4294967296");
  Refused(400, "invalid_argument", "POST", "/api/v1/audiences/refresh", R"({"full": "yes"})");
  Refused(400, "invalid_argument", "POST", "/api/v1/tags",
          R"({"category": "c", "name": "t", "description": 5, "definition": "trait.x EXISTS"})");
  for (const char* reserved : {"preview", "refresh", "changes", "history"}) {
    Refused(400, "invalid_argument", "POST", "/api/v1/audiences",
            json{{"name", reserved}, {"definition", "trait.x EXISTS"}}.dump());
  }
  // A tag built on an audience keeps it from being deleted.
  Call("POST", "/api/v1/tags",
       {{"category", "value"}, {"name", "buyer"}, {"definition", "audience(\"buyers\")"}}, 201);
  Refused(400, "invalid_argument", "DELETE", "/api/v1/audiences/buyers");
  EXPECT_EQ(Get("/api/v1/audiences/buyers/members?limit=1")["members"].size(), 1u);
}

// Realtime membership: a consent change, and a new person joining a NOT
// audience, are recorded as the events arrive, without a refresh.
TEST_F(ServerAudienceTest, RealtimeSeesConsentChangesAndNewPersonsInNegatedAudiences) {
  Call("POST", "/api/v1/audiences",
       {{"name", "never_bought"}, {"definition", "NOT did(\"Order Completed\")"}}, 201);
  Call("POST", "/api/v1/audiences",
       {{"name", "opted_in"}, {"definition", "consent.marketing = true"}}, 201);
  Call("POST", "/api/v1/audiences/refresh", nullptr);  // the baseline
  Ingest(R"({"type":"track","userId":"newcomer","event":"Page Viewed","messageId":"n1",
             "timestamp":"2024-05-05T10:00:00Z"},
            {"type":"track","userId":"newcomer","event":"Consent Updated","messageId":"n2",
             "context":{"consent":{"categoryPreferences":{"marketing":true}}},
             "timestamp":"2024-05-05T10:01:00Z"})");
  json changes = PollChanges(0, 2);
  EXPECT_EQ(changes["changes"].size(), 2u) << changes;
  EXPECT_EQ(Call("POST", "/api/v1/audiences/refresh", nullptr)["changes"], 0);  // nothing left
  const uint32_t id = OneIdOf("user_id:newcomer");
  json history = Get("/api/v1/audiences/history/" + std::to_string(id));
  EXPECT_EQ(history["audiences"], json::array({"never_bought", "opted_in"})) << history;
}

}  // namespace
}  // namespace quanyu
