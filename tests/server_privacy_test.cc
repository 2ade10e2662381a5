// Privacy over real HTTP (docs/privacy.md): the consent ledger fed by
// Segment context.consent and POST /api/v1/consent, the gate at collect
// (analytics consent, sensitive properties, children) counted in /metrics,
// the export gate, and the role × endpoint matrix with masking and audit.
#include <gtest/gtest.h>

#include <map>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>
#include <thread>

#include "collect/internal/url.h"
#include "common/clock.h"
#include "common/time_util.h"
#include "served_api_test.h"

namespace quanyu {
namespace {

using nlohmann::json;
using ::quanyu::testing::HttpAnswer;
using ::quanyu::testing::Send;

class ServerPrivacyTest : public ::quanyu::testing::ServedApiTest {
 protected:
  json Admin(const std::string& method, const std::string& target, const json& body = nullptr,
             int status = 200) {
    return AsJson(kAdminKey, method, target, body, status);
  }
  std::string NewKey(const std::string& role) {
    json k = Admin("POST", "/api/v1/keys", {{"name", role + " key"}, {"role", role}}, 201);
    return k.value("key", "");
  }
  // The value of the /metrics series `name` with all of `labels`
  // (k="v"), 0 if absent.
  double Metric(const std::string& name, const std::vector<std::string>& labels) {
    HttpAnswer m = Send(served_.port(), "GET", "/metrics", "");
    std::istringstream lines(m.body);
    for (std::string line; std::getline(lines, line);) {
      if (!line.starts_with(name + "{")) continue;
      bool all = true;
      for (const auto& l : labels) all = all && line.find(l) != std::string::npos;
      if (all) return std::stod(line.substr(line.rfind(' ') + 1));
    }
    return 0;
  }
};

TEST_F(ServerPrivacyTest, WithdrawnAnalyticsConsentDropsLaterBehaviouralEvents) {
  json first = TryIngest(R"(
    {"type":"track","userId":"u1","event":"Product Viewed","messageId":"p1"},
    {"type":"track","userId":"u1","event":"Consent Updated","messageId":"c1",
     "context":{"consent":{"categoryPreferences":{"Analytics":false}}}},
    {"type":"track","userId":"u1","event":"Product Viewed","messageId":"p2"},
    {"type":"identify","userId":"u1","messageId":"i1","traits":{"plan":"pro"}})");
  // p2 follows the withdrawal in the same batch: dropped; the consent event
  // itself and the identify are kept.
  ASSERT_EQ(first["rejected"].size(), 1u) << first;
  EXPECT_EQ(first["rejected"][0]["reason"], "analytics_consent") << first;
  EXPECT_EQ(first["accepted"], 3) << first;
  // A later request: the ledger now knows.
  json later = TryIngest(R"({"type":"page","userId":"u1","name":"Home","messageId":"p3"})");
  ASSERT_EQ(later["rejected"].size(), 1u) << later;
  // Somebody else is unaffected.
  json other =
      TryIngest(R"({"type":"track","userId":"u2","event":"Product Viewed","messageId":"p4"})");
  EXPECT_FALSE(other.contains("rejected")) << other;

  EXPECT_EQ(
      Metric("quanyu_privacy_decisions_total", {"decision=\"drop\"", "rule=\"analytics_consent\"",
                                                "source=\"website\"", "stage=\"collect\""}),
      2);
  json consent = Admin("GET", "/api/v1/consent?identifier=user_id:u1");
  EXPECT_EQ(consent["purposes"]["analytics"]["status"], "denied") << consent;
  EXPECT_EQ(consent["purposes"]["analytics"]["message_id"], "c1") << consent;
  EXPECT_EQ(consent["purposes"]["marketing"]["status"], "unknown") << consent;
  // The profile shows the state too.
  json profile = Admin("GET", "/api/v1/profiles?identifier=user_id:u1");
  EXPECT_EQ(profile["consent"]["analytics"], "denied") << profile;
}

TEST_F(ServerPrivacyTest, SensitivePropertiesAreStoredOnlyWithSensitiveConsent) {
  TryIngest(R"(
    {"type":"track","userId":"u1","event":"Store Visited","messageId":"s1",
     "properties":{"store":"徐汇店","$latitude":31.19,"$longitude":121.44,"bank_card_number":"6222"},
     "context":{"location":{"latitude":31.19,"longitude":121.44,"city":"上海"}}},
    {"type":"track","userId":"u2","event":"Consent Updated","messageId":"c2",
     "context":{"consent":{"purposes":{"sensitive":"granted"}}}},
    {"type":"track","userId":"u2","event":"Store Visited","messageId":"s2",
     "properties":{"store":"静安店","$latitude":31.22}})");
  json events = Admin("GET", "/api/v1/events?event=Store%20Visited");
  ASSERT_EQ(events["count"], 2) << events;
  std::map<std::string, json> by_id;
  for (const auto& e : events["events"]) by_id[e["messageId"]] = e;
  EXPECT_EQ(by_id["s1"]["properties"], json({{"store", "徐汇店"}})) << by_id["s1"];
  EXPECT_EQ(by_id["s1"]["context"]["location"], json({{"city", "上海"}})) << by_id["s1"];
  EXPECT_EQ(by_id["s2"]["properties"]["$latitude"], 31.22) << by_id["s2"];
  EXPECT_EQ(
      Metric("quanyu_privacy_decisions_total", {"decision=\"strip\"", "rule=\"sensitive_property\"",
                                                "source=\"website\"", "stage=\"collect\""}),
      5);
}

TEST_F(ServerPrivacyTest, ChildDataIsDroppedWithoutGuardianConsent) {
  json r = TryIngest(R"({"type":"identify","userId":"kid","messageId":"k1","traits":{"age":9}})");
  ASSERT_EQ(r["rejected"].size(), 1u) << r;
  EXPECT_EQ(r["rejected"][0]["reason"], "child_data");
  Admin("GET", "/api/v1/profiles?identifier=user_id:kid", nullptr, 404);
}

TEST_F(ServerPrivacyTest, PostConsentRecordsDecisionsAndTheExportGateHonoursThem) {
  TryIngest(R"(
    {"type":"identify","userId":"u1","messageId":"i1","traits":{"email":"a@example.com"}},
    {"type":"identify","userId":"u2","messageId":"i2","traits":{"email":"b@example.com"}},
    {"type":"track","userId":"u1","event":"Order Completed","messageId":"o1","properties":{"revenue":5}},
    {"type":"track","userId":"u2","event":"Order Completed","messageId":"o2","properties":{"revenue":7}})");
  json posted = Admin("POST", "/api/v1/consent",
                      {{"identifier", "user_id:u2"},
                       {"purposes", {{"marketing", "granted"}}},
                       {"policy_version", "2026-01"},
                       {"source", "crm"}},
                      201);
  EXPECT_FALSE(posted.value("message_id", "").empty()) << posted;
  EXPECT_EQ(posted["purposes"]["marketing"]["status"], "granted") << posted;
  EXPECT_EQ(posted["purposes"]["marketing"]["policy_version"], "2026-01") << posted;
  EXPECT_EQ(posted["purposes"]["marketing"]["source"], "crm") << posted;
  Admin("POST", "/api/v1/audiences",
        {{"name", "buyers"}, {"definition", "did(\"Order Completed\")"}}, 201);
  json csv = Admin("POST", "/api/v1/audiences/buyers/export", {{"destination", "csv"}});
  EXPECT_EQ(csv["exported"], 2) << csv;
  // Ad platforms: only explicit marketing consent; a withdrawal excludes
  // the person from every export.
  json ads = Admin("POST", "/api/v1/audiences/buyers/export", {{"destination", "tencent_ads"}});
  EXPECT_EQ(ads["exported"], 1) << ads;
  json meta = Admin("POST", "/api/v1/audiences/buyers/export", {{"destination", "meta"}});
  EXPECT_EQ(meta["exported"], 0) << "Meta is abroad: cross-border consent is missing " << meta;
  Admin("POST", "/api/v1/consent",
        {{"identifier", "user_id:u2"}, {"purposes", {{"marketing", "withdrawn"}}}}, 201);
  json after = Admin("POST", "/api/v1/audiences/buyers/export", {{"destination", "csv"}});
  EXPECT_EQ(after["exported"], 1) << after;
  json ads_after =
      Admin("POST", "/api/v1/audiences/buyers/export", {{"destination", "tencent_ads"}});
  EXPECT_EQ(ads_after["exported"], 0) << ads_after;
  json state = Admin("GET", "/api/v1/consent?identifier=user_id:u2");
  EXPECT_EQ(state["purposes"]["marketing"]["status"], "withdrawn") << state;
  EXPECT_EQ(state["history"].size(), 2u) << state;
  EXPECT_EQ(Metric("quanyu_privacy_use_decisions_total",
                   {"decision=\"exclude\"", "destination=\"tencent_ads\"",
                    "rule=\"purpose_refused\"", "stage=\"export\""}),
            1);

  // Bad bodies: a precise 400, nothing recorded.
  for (const char* bad :
       {R"({"identifier":"user_id:u2"})", R"({"identifier":"user_id:u2","purposes":{"ads":"yes"}})",
        R"({"purposes":{"marketing":"granted"}})", R"({"identifier":"user_id:u2","purpose":{}})",
        R"({"identifier":"nonsense","purposes":{"marketing":"granted"}})", "[1]", "{"}) {
    HttpAnswer a = As(kAdminKey, "POST", "/api/v1/consent", bad);
    EXPECT_EQ(a.status, 400) << bad << " → " << a.body;
  }
  EXPECT_EQ(Admin("GET", "/api/v1/consent?identifier=user_id:u2")["history"].size(), 2u);
}

TEST_F(ServerPrivacyTest, TrackingPlanBlocksFlagsAndReportsPerSourceAndEvent) {
  const std::string plan = R"({"mode":"flag","unplanned":"allow","events":[
    {"name":"Order Completed","mode":"block","properties":{
      "order_id":{"type":"string","required":true},
      "revenue":{"type":"number","required":true}}},
    {"name":"Product Viewed","properties":{
      "sku":{"type":"string","required":true},
      "color":{"type":"string","enum":["red","blue"]}}}]})";
  HttpAnswer put = As(kAdminKey, "PUT", "/api/v1/tracking-plan", plan);
  ASSERT_EQ(put.status, 200) << put.body;
  json r = TryIngest(R"(
    {"type":"track","userId":"u1","event":"Order Completed","messageId":"o1",
     "properties":{"order_id":"A1","revenue":9.5}},
    {"type":"track","userId":"u1","event":"Order Completed","messageId":"o2",
     "properties":{"revenue":"lots"}},
    {"type":"track","userId":"u1","event":"Product Viewed","messageId":"v1",
     "properties":{"sku":"S1","color":"green"}},
    {"type":"track","userId":"u1","event":"Signed Up","messageId":"x1"})");
  ASSERT_EQ(r["rejected"].size(), 1u) << r;
  EXPECT_EQ(r["rejected"][0]["reason"], "tracking_plan") << r;
  const std::string why = r["rejected"][0]["message"];
  EXPECT_NE(why.find("order_id"), std::string::npos) << why;
  EXPECT_EQ(r["accepted"], 3) << r;  // o1, the flagged v1, the unplanned x1

  json v = Admin("GET", "/api/v1/tracking-plan/violations");
  std::map<std::string, json> by_kind;
  for (const auto& x : v["violations"])
    by_kind[x["event"].get<std::string>() + "/" + x["kind"].get<std::string>()] = x;
  ASSERT_TRUE(by_kind.count("Order Completed/missing_required")) << v;
  EXPECT_EQ(by_kind["Order Completed/missing_required"]["verdict"], "block");
  EXPECT_EQ(by_kind["Order Completed/missing_required"]["source"], "website");
  ASSERT_TRUE(by_kind.count("Product Viewed/not_in_enum")) << v;
  EXPECT_EQ(by_kind["Product Viewed/not_in_enum"]["verdict"], "flag");
  EXPECT_EQ(by_kind["Product Viewed/not_in_enum"]["count"], 1);
  EXPECT_EQ(Metric("quanyu_tracking_plan_violations_total",
                   {"kind=\"not_in_enum\"", "source=\"website\"", "verdict=\"flag\""}),
            1);

  // A bad plan changes nothing; an analyst may read the plan, not set it.
  HttpAnswer bad = As(kAdminKey, "PUT", "/api/v1/tracking-plan",
                      R"({"events":[{"name":"X","properties":{"a":{"type":"float"}}}]})");
  EXPECT_EQ(bad.status, 400) << bad.body;
  EXPECT_NE(bad.body.find("events[0].properties.a.type"), std::string::npos) << bad.body;
  json now = Admin("GET", "/api/v1/tracking-plan");
  EXPECT_EQ(now["events"].size(), 2u) << now;
  const std::string analyst = NewKey("analyst");
  EXPECT_EQ(As(analyst, "GET", "/api/v1/tracking-plan").status, 200);
  EXPECT_EQ(As(analyst, "PUT", "/api/v1/tracking-plan", plan).status, 403);

  // The plan survives a restart.
  served_.Stop();
  ASSERT_NO_FATAL_FAILURE(Start());
  json again =
      TryIngest(R"({"type":"track","userId":"u1","event":"Order Completed","messageId":"o3"})");
  ASSERT_EQ(again["rejected"].size(), 1u) << again;
}

TEST_F(ServerPrivacyTest, DataSubjectRequestsAccessCorrectWithdrawWithDeadlines) {
  TryIngest(R"(
    {"type":"identify","userId":"u1","anonymousId":"dev-1","messageId":"i1",
     "traits":{"city":"北京","phone":"+8613800138000"}},
    {"type":"track","anonymousId":"dev-1","event":"Product Viewed","messageId":"v1"},
    {"type":"track","userId":"u1","event":"Order Completed","messageId":"o1",
     "properties":{"revenue":10}})");
  auto request = [&](const json& body, int status) {
    return Admin("POST", "/api/v1/privacy/requests", body, status);
  };
  // Access: everything across the merged identities (user id + device).
  json access = request({{"type", "access"}, {"identifier", "anonymous_id:dev-1"}}, 201);
  EXPECT_EQ(access["request"]["status"], "completed") << access;
  EXPECT_EQ(access["data"]["events"].size(), 3u) << access;
  EXPECT_EQ(access["data"]["profile"]["traits"]["city"], "北京") << access;
  std::set<std::string> ids(access["data"]["identity"]["identifiers"].begin(),
                            access["data"]["identity"]["identifiers"].end());
  EXPECT_TRUE(ids.count("user_id:u1") && ids.count("anonymous_id:dev-1")) << access;
  EXPECT_TRUE(access["data"].contains("consent")) << access;
  json nobody = request({{"type", "access"}, {"identifier", "user_id:ghost"}}, 201);
  EXPECT_TRUE(nobody["data"].is_null()) << nobody;

  // Correct, then withdraw under the CCPA (45 days).
  json corrected = request(
      {{"type", "correct"}, {"identifier", "user_id:u1"}, {"traits", {{"city", "上海"}}}}, 201);
  EXPECT_EQ(corrected["request"]["status"], "completed") << corrected;
  json profile = Admin("GET", "/api/v1/profiles?identifier=user_id:u1");
  EXPECT_EQ(profile["traits"]["city"], "上海") << profile;
  json withdrawn =
      request({{"type", "withdraw"}, {"identifier", "user_id:u1"}, {"regime", "ccpa"}}, 201);
  json consent = Admin("GET", "/api/v1/consent?identifier=user_id:u1");
  EXPECT_EQ(consent["purposes"]["marketing"]["status"], "withdrawn") << consent;
  EXPECT_EQ(consent["channels"]["sms"]["status"], "withdrawn") << consent;
  // Later behavioural events of the person are dropped (analytics withdrawn).
  json later =
      TryIngest(R"({"type":"track","userId":"u1","event":"Product Viewed","messageId":"v2"})");
  EXPECT_EQ(later["rejected"].size(), 1u) << later;

  // The queue: deadlines per regime, no identifier values, 404 for unknown ids.
  json list = Admin("GET", "/api/v1/privacy/requests");
  ASSERT_EQ(list["requests"].size(), 4u) << list;
  EXPECT_EQ(list["open"], 0) << list;
  for (const auto& r : list["requests"]) {
    const int64_t received = *ParseTimestamp(r["received_at"].get<std::string>());
    const int64_t deadline = *ParseTimestamp(r["deadline"].get<std::string>());
    const int64_t days = r["regime"] == "ccpa" ? 45 : 30;
    EXPECT_EQ(deadline - received, days * 86400 * int64_t{1'000'000}) << r;
    EXPECT_EQ(r["subject"]["hash"].get<std::string>().size(), 64u) << r;
    EXPECT_EQ(r.dump().find("u1"), std::string::npos) << r;
    EXPECT_EQ(r.dump().find("dev-1"), std::string::npos) << r;
  }
  EXPECT_EQ(Admin("GET", "/api/v1/privacy/requests/" +
                             withdrawn["request"]["id"].get<std::string>())["type"],
            "withdraw");
  Admin("GET", "/api/v1/privacy/requests/dsr_000000000000", nullptr, 404);

  // Bad requests: 400, nothing queued.
  for (const json& bad :
       {json{{"type", "erase"}, {"identifier", "user_id:u1"}},
        json{{"type", "access"}, {"identifier", "user_id:u1"}, {"regime", "lgpd"}},
        json{{"type", "access"}}, json{{"type", "correct"}, {"identifier", "user_id:u1"}},
        json{{"type", "access"}, {"identifier", "nonsense"}},
        json{{"type", "access"}, {"identifier", "user_id:u1"}, {"extra", 1}},
        json{{"type", "delete"}, {"identifier", "nonsense"}}}) {
    HttpAnswer a = As(kAdminKey, "POST", "/api/v1/privacy/requests", bad.dump());
    EXPECT_EQ(a.status, 400) << bad << " → " << a.body;
  }
  EXPECT_EQ(Admin("GET", "/api/v1/privacy/requests")["requests"].size(), 4u);
  // Every request is audited as an access to personal data.
  size_t audited = 0;
  const json audit = Admin("GET", "/api/v1/audit?limit=1000");
  for (const auto& e : audit["entries"]) {
    if (e["path"] == "/api/v1/privacy/requests" && e["method"] == "POST" &&
        e["action"] == "pii_access")
      ++audited;
  }
  EXPECT_EQ(audited, 4u + 7u) << audit;
}

TEST_F(ServerPrivacyTest, RetentionJobRemovesEventsOlderThanRawEventsDays) {
  // Events 40 and 10 days old and one of today.
  const int64_t now = SystemClock::Default()->NowMicros();
  auto at = [&](int days_ago) { return FormatTimestamp(now - days_ago * 86400 * 1'000'000LL); };
  TryIngest(R"({"type":"track","userId":"u1","event":"Old","messageId":"a","timestamp":")" +
            at(40) +
            R"("},{"type":"track","userId":"u1","event":"Recent","messageId":"b","timestamp":")" +
            at(10) + R"("},{"type":"track","userId":"u1","event":"Today","messageId":"c"})");
  ASSERT_TRUE(served_.engine->Checkpoint().ok());
  // Restart with a 30-day TTL checked every second: the background job
  // removes the old day by itself.
  Config config;
  config.data_dir = dir_.path();
  config.sources.push_back({"website", "web", kWebKey});
  config.retention_raw_events_days = 30;
  config.retention_interval_s = 1;
  served_.Stop();
  ASSERT_TRUE(served_.Start(config, kAdminKey).ok());
  json events;
  for (int i = 0; i < 100; ++i) {
    events = Admin("GET", "/api/v1/events");
    if (events["count"] == 2) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  ASSERT_EQ(events["count"], 2) << events;
  for (const auto& e : events["events"]) EXPECT_NE(e["event"], "Old") << e;
  EXPECT_EQ(Metric("quanyu_retention_events_deleted_total", {"data_class=\"raw_events\""}), 1);
}

struct Route {
  const char* method;
  const char* path;
  const char* body;
  std::set<std::string> roles;  // besides admin, who may call it
};

TEST_F(ServerPrivacyTest, RoleEndpointMatrixMaskingAndAudit) {
  TryIngest(R"({"type":"identify","userId":"u1","messageId":"i1",
             "traits":{"phone":"+8613800138000","email":"alice@example.com","name":"王小明"}})");
  const std::string analyst = NewKey("analyst"), marketer = NewKey("marketer");
  const std::string kpis = R"({"from":"2020-01-01","to":"2030-01-01"})";
  const std::vector<Route> routes = {
      {"GET", "/api/v1/stats", "", {"analyst", "marketer"}},
      {"GET", "/api/v1/catalog/events", "", {"analyst", "marketer"}},
      {"POST", "/api/v1/query/kpis", kpis.c_str(), {"analyst"}},
      {"POST", "/api/v1/attribution", kpis.c_str(), {"analyst"}},
      {"GET", "/api/v1/models", "", {"analyst", "marketer"}},
      {"GET", "/api/v1/spend", "", {"analyst"}},
      {"GET", "/api/v1/events", "", {"analyst"}},
      {"GET", "/api/v1/profiles?identifier=user_id:u1", "", {"analyst", "marketer"}},
      {"GET", "/api/v1/consent?identifier=user_id:u1", "", {"analyst", "marketer"}},
      {"POST", "/api/v1/consent", R"({"identifier":"user_id:u1","channels":{"sms":"denied"}})", {}},
      {"GET", "/api/v1/audiences", "", {"analyst", "marketer"}},
      {"POST", "/api/v1/audiences", R"j({"name":"all","definition":"did(\"x\")"})j", {"marketer"}},
      {"GET", "/api/v1/audiences/all/members", "", {"analyst", "marketer"}},
      {"POST",
       "/api/v1/audiences/preview",
       R"j({"definition":"did(\"x\")"})j",
       {"analyst", "marketer"}},
      {"GET", "/api/v1/audiences/all/members?format=csv&traits=phone", "", {"marketer"}},
      {"GET", "/api/v1/rfm", "", {"analyst", "marketer"}},
      {"POST", "/api/v1/identity/unbind", R"({"identifier":"user_id:nobody"})", {}},
      {"GET", "/api/v1/sources", "", {}},
      {"POST", "/api/v1/sources", R"({"name":"app","type":"ios"})", {}},
      {"GET", "/api/v1/keys", "", {}},
      {"POST", "/api/v1/keys", R"({"name":"x","role":"analyst"})", {}},
      {"GET", "/api/v1/audit", "", {}},
      {"GET", "/api/v1/tracking-plan", "", {"analyst", "marketer"}},
      {"PUT", "/api/v1/tracking-plan", R"({"events":[]})", {}},
      {"GET", "/api/v1/tracking-plan/violations", "", {"analyst", "marketer"}},
      {"GET", "/api/v1/privacy/requests", "", {}},
      {"POST", "/api/v1/privacy/requests", R"({"type":"access","identifier":"user_id:u1"})", {}},
      // The dashboard's routes.
      {"GET", "/api/v1/session", "", {"analyst", "marketer"}},
      {"GET", "/api/v1/ingest", "", {"analyst", "marketer"}},
      {"GET", "/api/v1/consent/coverage", "", {"analyst", "marketer"}},
      {"POST", "/api/v1/sources/website/rotate", "", {}},
      {"GET", "/api/v1/settings", "", {}},
      {"GET", "/api/v1/models/clv/report", "", {"analyst", "marketer"}},
  };
  const std::map<std::string, std::string> keys = {
      {"analyst", analyst}, {"marketer", marketer}, {"admin", kAdminKey}};
  for (const auto& route : routes) {
    for (const auto& [role, key] : keys) {
      HttpAnswer a = As(key, route.method, route.path, route.body);
      const bool allowed = role == "admin" || route.roles.count(role);
      if (allowed) {
        EXPECT_NE(a.status, 403) << role << " " << route.method << " " << route.path << " → "
                                 << a.body;
        EXPECT_NE(a.status, 401) << role << " " << route.path;
      } else {
        EXPECT_EQ(a.status, 403) << role << " " << route.method << " " << route.path << " → "
                                 << a.body;
      }
    }
    // A source's write key, no key and an unknown key never get through.
    EXPECT_EQ(As(kWebKey, route.method, route.path, route.body).status, 403) << route.path;
    EXPECT_EQ(As("", route.method, route.path, route.body).status, 401) << route.path;
    EXPECT_EQ(As("qk_kdeadbeef0000_x", route.method, route.path, route.body).status, 401);
  }

  // Masking: an analyst sees no raw phone, email or name; an admin does.
  HttpAnswer masked = As(analyst, "GET", "/api/v1/profiles?identifier=user_id:u1");
  ASSERT_EQ(masked.status, 200) << masked.body;
  for (const char* raw : {"13800138000", "alice@example.com", "王小明"}) {
    EXPECT_EQ(masked.body.find(raw), std::string::npos) << raw << " in " << masked.body;
  }
  EXPECT_NE(masked.body.find("+86138****8000"), std::string::npos) << masked.body;
  EXPECT_NE(masked.body.find("a***@example.com"), std::string::npos) << masked.body;
  HttpAnswer raw = As(kAdminKey, "GET", "/api/v1/profiles?identifier=user_id:u1");
  EXPECT_NE(raw.body.find("+8613800138000"), std::string::npos) << raw.body;

  // Audit: every raw-PII read and every admin action, with who did it, and
  // never the identifier of the query string.
  json audit = Admin("GET", "/api/v1/audit?limit=1000");
  size_t pii = 0, admin_actions = 0, analyst_entries = 0;
  for (const auto& e : audit["entries"]) {
    if (e["action"] == "pii_access") ++pii;
    if (e["action"] == "admin_action") ++admin_actions;
    if (e["role"] == "analyst") ++analyst_entries;
    EXPECT_EQ(e.dump().find("u1"), std::string::npos) << e;
  }
  // Admin reads of profiles (2: matrix + raw above), events, consent, the
  // request queue, the access request; the members CSV by the marketer and
  // the admin.
  EXPECT_EQ(pii, 8u) << audit;
  // Two keys created in NewKey, then POST consent, audiences, unbind,
  // sources, keys, PUT tracking-plan and the source rotation (refused: the
  // source is in the config) by the admin in the matrix; marketer's POST
  // audiences. The consent coverage is counts, not personal data: no entry.
  EXPECT_EQ(admin_actions, 10u) << audit;
  EXPECT_EQ(analyst_entries, 0u) << audit;

  // Key lifecycle: rotation retires the old secret, revocation the key.
  json listed = Admin("GET", "/api/v1/keys");
  std::string id;
  for (const auto& k : listed["keys"]) {
    if (k["role"] == "analyst" && k["name"] == "analyst key") id = k["id"];
    EXPECT_FALSE(k.contains("key")) << "a listed key must not show its secret: " << k;
  }
  ASSERT_FALSE(id.empty()) << listed;
  json rotated = Admin("POST", "/api/v1/keys/" + id + "/rotate");
  EXPECT_EQ(As(analyst, "GET", "/api/v1/stats").status, 401);
  EXPECT_EQ(As(rotated["key"], "GET", "/api/v1/stats").status, 200);
  Admin("DELETE", "/api/v1/keys/" + id);
  EXPECT_EQ(As(rotated["key"], "GET", "/api/v1/stats").status, 401);
  Admin("DELETE", "/api/v1/keys/" + id, nullptr, 404);
  HttpAnswer bad_role = As(kAdminKey, "POST", "/api/v1/keys", R"({"name":"x","role":"root"})");
  EXPECT_EQ(bad_role.status, 400) << bad_role.body;
  for (const char* bad : {"limit=0", "limit=10001", "limit=-1", "after=x", "from=yesterday"}) {
    HttpAnswer a = As(kAdminKey, "GET", std::string("/api/v1/audit?") + bad);
    EXPECT_EQ(a.status, 400) << bad << " → " << a.body;
  }
}

}  // namespace
}  // namespace quanyu
