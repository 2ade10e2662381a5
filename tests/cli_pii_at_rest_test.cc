// Personal information at rest (docs/privacy.md): phones, emails and names
// sent through Segment's API, Sensors' protocol, a CSV import, the consent
// API and an uploaded list are nowhere in the data directory in plaintext —
// every file searched, zstd frames decoded, with a control value that is
// found — while the API still finds the person by phone and email and shows
// the plaintext to an admin and the mask to an analyst. Key rotation
// (`quanyu privacy-key rotate`) re-encrypts every record under the new key.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "cli_test_util.h"
#include "collect/internal/base64.h"
#include "engine/importer.h"
#include "erasure_test_util.h"
#include "served_api_test.h"

namespace quanyu {
namespace {

using nlohmann::json;
using ::quanyu::testing::FilesHolding;
using ::quanyu::testing::HttpAnswer;
using ::quanyu::testing::Send;

constexpr char kAppKey[] = "pii-app-write-key";
constexpr char kCrmKey[] = "pii-crm-write-key";

// Every personal value the test sends, in the forms it is sent and stored.
const std::vector<std::string> kPlaintexts = {
    "13800138000",              // phone identifier and trait (as +8613800138000 too)
    "138 0013 8000",            // the trait as typed
    "zhang.wei@example.com",    // email identifier
    "Zhang.Wei@Example.com",    // email trait as typed
    "张伟",                     // name trait
    "南京西路",                 // address trait
    "li.na@example.org",        // an email inside free text
    "13700137000",              // a phone inside free text
    "13900139000",              // a number under a contact key
    "wang.fang%40example.com",  // an email in a URL query
    "13600136000",              // Sensors login id (a phone)
    "sensors.user@example.cn",  // Sensors profile email
    "13500135000",              // CSV import phone
    "csv.buyer@example.com",    // CSV import email
    "13300133000",              // consent API identifier
    "list.member@example.com",  // uploaded list identifier
};
// Not personal: stays in plaintext, and the search must find it.
const std::vector<std::string> kControl = {"ORD-PII-CONTROL-777", "Shanghai-control-city"};

// `quanyu ARGS...` with extra environment variables.
::quanyu::testing::CliRun RunQuanyu(
    const std::vector<std::string>& args,
    const std::vector<std::pair<std::string, std::string>>& env = {}) {
  std::string command;
  for (const auto& [k, v] : env) command += k + "=" + ::quanyu::testing::Quote(v) + " ";
  command += ::quanyu::testing::Quote(::quanyu::testing::Binary());
  for (const auto& a : args) command += " " + ::quanyu::testing::Quote(a);
  ::quanyu::testing::TempDir scratch;
  return ::quanyu::testing::RunShell(command, scratch.path() + "/stderr");
}

class CliPiiAtRestTest : public ::quanyu::testing::ServedApiTest {
 protected:
  void Configure(Config& config) override {
    config.sources.push_back({"app", "android", kAppKey});
    config.sources.push_back({"crm", "crm", kCrmKey});
    config.audience_refresh_interval_s = 86400;
  }

  json Admin(const std::string& method, const std::string& target, const json& body = nullptr,
             int status = 200) {
    return AsJson(kAdminKey, method, target, body, status);
  }

  void SendEverything() {
    // Segment: identifiers, traits as typed, free text, a number under a
    // contact key, an email in the page URL.
    const std::string segment = R"({"batch":[
      {"type":"identify","userId":"u-pii-1","messageId":"p-1",
       "traits":{"phone":"138 0013 8000","email":"Zhang.Wei@Example.com","name":"张伟",
                 "address":"静安区, 南京西路 1号","city":"Shanghai-control-city"}},
      {"type":"track","userId":"u-pii-1","event":"Order Completed","messageId":"p-2",
       "properties":{"order_id":"ORD-PII-CONTROL-777","revenue":10,
                     "note":"call 13700137000 or write li.na@example.org",
                     "mobile":13900139000},
       "context":{"page":{"url":"https://shop.example.com/p?email=wang.fang%40example.com&x=1"}}}]})";
    HttpAnswer a = Collect("/v1/batch", segment);
    ASSERT_EQ(a.status, 200) << a.body;
    // Sensors: a login id that is a phone, a profile_set with an email.
    const std::string sensors = R"([
      {"type":"track","event":"ViewProduct","distinct_id":"13600136000","login_id":"13600136000",
       "time":1760000000000,"properties":{"$lib":"js"}},
      {"type":"profile_set","distinct_id":"13600136000","login_id":"13600136000",
       "time":1760000000001,"properties":{"email":"sensors.user@example.cn"}}])";
    HttpAnswer s = Send(served_.port(), "POST", std::string("/sa?project=") + kAppKey, "", sensors);
    ASSERT_EQ(s.status, 200) << s.body;
    // A CSV import of orders through the engine, as `quanyu import` does.
    const std::string csv =
        "phone,email,order_id,amount,time\n"
        "13500135000,csv.buyer@example.com,ORD-CSV-1,20,2026-10-01T10:00:00Z\n";
    auto imported = ImportCsvText(csv);
    ASSERT_TRUE(imported.ok()) << imported.status().ToString();
    // The consent API and an uploaded list name new identifiers.
    Admin("POST", "/api/v1/consent",
          {{"identifier", "phone:13300133000"}, {"purposes", {{"marketing", "granted"}}}}, 201);
    Admin("POST", "/api/v1/tags",
          {{"category", "vip"},
           {"name", "seed"},
           {"identifiers", json::array({"email:list.member@example.com"})}},
          201);
  }

  Result<size_t> ImportCsvText(const std::string& csv) {
    ::quanyu::testing::TempDir in;
    const std::string path = in.path() + "/orders.csv";
    ::quanyu::testing::WriteFile(path, csv);
    ImportOptions options;
    options.source = "crm";
    options.source_type = "crm";
    options.csv_mapping =
        "phone=id.phone,email=id.email,order_id=order_id,amount=revenue,time=timestamp";
    options.csv_event = "Order Completed";
    ASSIGN_OR_RETURN(ImportReport report, ImportEventsFile(served_.engine.get(), path, options));
    return report.accepted;
  }
};

TEST_F(CliPiiAtRestTest, NoPlaintextPhoneOrEmailInAnyFileYetLookupsAndReadsWork) {
  SendEverything();
  // Part in segments and the state DB (checkpointed), part in the log.
  ASSERT_TRUE(served_.engine->Checkpoint().ok());
  std::string auth = "Basic " + collect::internal::Base64Encode(std::string(kWebKey) + ":");
  HttpAnswer late = Send(served_.port(), "POST", "/v1/track", auth,
                         R"({"userId":"u-pii-1","event":"Late","messageId":"p-3",
                             "properties":{"email":"zhang.wei@example.com"}})");
  ASSERT_EQ(late.status, 200) << late.body;

  // Lookups by plaintext find the person (the keyed-hash index).
  json by_phone = Admin("GET", "/api/v1/profiles?identifier=phone:13800138000");
  json by_email = Admin("GET", "/api/v1/profiles?identifier=email:ZHANG.WEI@example.com");
  EXPECT_EQ(by_phone["one_id"], by_email["one_id"]);
  // An admin reads the plaintext, as sent.
  EXPECT_EQ(by_phone["traits"]["name"], "张伟") << by_phone;
  EXPECT_EQ(by_phone["traits"]["email"], "Zhang.Wei@Example.com") << by_phone;
  EXPECT_NE(by_phone.dump().find("phone:+8613800138000"), std::string::npos) << by_phone;
  const std::string one_id = by_phone["one_id"].dump();
  json events = Admin("GET", "/api/v1/profiles/" + one_id + "/events");
  EXPECT_NE(events.dump().find("call 13700137000 or write li.na@example.org"), std::string::npos)
      << events;
  EXPECT_NE(events.dump().find("email=wang.fang%40example.com"), std::string::npos) << events;
  json sensors = Admin("GET", "/api/v1/profiles?identifier=user_id:13600136000");
  EXPECT_EQ(sensors["traits"]["email"], "sensors.user@example.cn") << sensors;
  json csv_buyer = Admin("GET", "/api/v1/profiles?identifier=email:csv.buyer@example.com");
  EXPECT_NE(csv_buyer.dump().find("+8613500135000"), std::string::npos) << csv_buyer;
  // A CSV export carries the plaintext, quoted where it needs to be.
  Admin("POST", "/api/v1/audiences", {{"name", "buyers"}, {"tree", {{"did", "Order Completed"}}}},
        201);
  Admin("POST", "/api/v1/audiences/refresh", {{"full", true}});
  json csv = Admin("POST", "/api/v1/audiences/buyers/export",
                   {{"destination", "csv"}, {"traits", {"name", "address"}}});
  EXPECT_NE(csv["files"]["members.csv"].get<std::string>().find(",张伟,\"静安区, 南京西路 1号\"\n"),
            std::string::npos)
      << csv;
  json tags = Admin("GET", "/api/v1/tags");
  EXPECT_NE(tags.dump().find("email:list.member@example.com"), std::string::npos) << tags;

  // An analyst sees masks, never the plaintext.
  json key = Admin("POST", "/api/v1/keys", {{"name", "bi"}, {"role", "analyst"}}, 201);
  HttpAnswer masked = As(key["key"], "GET", "/api/v1/profiles/" + one_id);
  ASSERT_EQ(masked.status, 200) << masked.body;
  EXPECT_EQ(masked.body.find("13800138000"), std::string::npos) << masked.body;
  EXPECT_EQ(masked.body.find("zhang.wei@"), std::string::npos) << masked.body;
  EXPECT_NE(masked.body.find("+86138****8000"), std::string::npos) << masked.body;
  EXPECT_EQ(json::parse(masked.body)["traits"]["email"], "Z***@Example.com") << masked.body;
  EXPECT_EQ(masked.body.find(privacy::kPiiTokenPrefix), std::string::npos) << masked.body;

  // Stored form: tokens, as the engine's own scan sees them.
  bool saw_token = false;
  ASSERT_TRUE(served_.engine
                  ->ScanEvents({},
                               [&](const store::EventBatch& b) {
                                 for (const auto& e : b) {
                                   for (const auto& id : e.identifiers) {
                                     if (id.ns == "phone" || id.ns == "email") {
                                       EXPECT_TRUE(privacy::IsPiiToken(id.value)) << id.value;
                                       saw_token = true;
                                     }
                                   }
                                 }
                                 return Status::OK();
                               })
                  .ok());
  EXPECT_TRUE(saw_token);

  // Every file of the data directory, with zstd frames decoded: no
  // plaintext (the audit log included: the email above was in a URL), and
  // the control is found.
  served_.Stop();
  EXPECT_EQ(FilesHolding(dir_.path(), kPlaintexts), std::vector<std::string>{});
  EXPECT_EQ(FilesHolding(dir_.path(), kControl).size() >= 2, true)
      << ::testing::PrintToString(FilesHolding(dir_.path(), kControl));
}

TEST_F(CliPiiAtRestTest, KeyRotationReencryptsEveryRecordAndKeepsLookups) {
  SendEverything();
  const size_t records = served_.engine->vault().size();
  ASSERT_GT(records, 10u);
  served_.Stop();

  // The CLI, as an operator runs it, on the stopped data directory.
  auto status = RunQuanyu({"privacy-key", "status", "--data", dir_.path()});
  ASSERT_EQ(status.exit_code, 0) << status.err;
  json before = json::parse(status.out);
  EXPECT_EQ(before["current"], 1);
  EXPECT_EQ(before["values_by_key"], json({{"1", records}})) << before;

  auto rotated = RunQuanyu({"privacy-key", "rotate", "--data", dir_.path()});
  ASSERT_EQ(rotated.exit_code, 0) << rotated.err;
  EXPECT_EQ(json::parse(rotated.out)["key_id"], 2) << rotated.out;
  EXPECT_EQ(json::parse(rotated.out)["resealed"], records) << rotated.out;

  status = RunQuanyu({"privacy-key", "status", "--data", dir_.path()});
  ASSERT_EQ(status.exit_code, 0) << status.err;
  json after = json::parse(status.out);
  EXPECT_EQ(after["keys"], json::array({1, 2}));
  EXPECT_EQ(after["current"], 2);
  EXPECT_EQ(after["values_by_key"], json({{"2", records}})) << "nothing left under key 1";

  // Everything still opens and every lookup still works.
  Start();
  json by_phone = Admin("GET", "/api/v1/profiles?identifier=phone:13800138000");
  EXPECT_EQ(by_phone["traits"]["name"], "张伟") << by_phone;
  EXPECT_EQ(by_phone["traits"]["email"], "Zhang.Wei@Example.com") << by_phone;
  std::string auth = "Basic " + collect::internal::Base64Encode(std::string(kWebKey) + ":");
  HttpAnswer more = Send(served_.port(), "POST", "/v1/identify", auth,
                         R"({"userId":"u-pii-2","messageId":"p-9",
                             "traits":{"email":"new.after@example.com"}})");
  ASSERT_EQ(more.status, 200) << more.body;
  json fresh = Admin("GET", "/api/v1/profiles?identifier=email:new.after@example.com");
  EXPECT_EQ(fresh["traits"]["email"], "new.after@example.com") << fresh;
  served_.Stop();
  EXPECT_EQ(FilesHolding(dir_.path(), kPlaintexts), std::vector<std::string>{});

  // A ring from QUANYU_PRIVACY_KEY cannot be rotated by the command.
  ::quanyu::testing::TempDir env_dir;
  auto refused = RunQuanyu({"privacy-key", "rotate", "--data", env_dir.path()},
                           {{"QUANYU_PRIVACY_KEY", std::string(64, 'a')}});
  EXPECT_NE(refused.exit_code, 0);
  EXPECT_NE(refused.err.find("QUANYU_PRIVACY_KEY"), std::string::npos) << refused.err;
}

}  // namespace
}  // namespace quanyu
