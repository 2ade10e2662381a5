// The analytics API over real HTTP: a Server on a loopback port in front of
// a real Engine; events arrive through Segment's /v1/batch with a write key,
// then POST /api/v1/query/{kind} and GET /api/v1/catalog/events answer with
// the admin key — before and after the events are flushed — and every error
// is a JSON {"error": {"code", "message"}} with the right status.
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

using ::quanyu::testing::HttpAnswer;
using ::quanyu::testing::Send;

// Three shoppers over two days (2024-05-01 and 02, UTC):
//   a: Product Viewed d1 10:00, Order Completed d1 11:00 (1 h later)
//   b: Product Viewed d1 12:00, nothing else
//   c: Product Viewed d2 09:00, Order Completed d2 09:30 (30 min later)
constexpr char kEvents[] = R"(
  {"type":"track","anonymousId":"a","event":"Product Viewed","messageId":"a1",
   "properties":{"price":99,"category":"serum"},"timestamp":"2024-05-01T10:00:00Z"},
  {"type":"track","anonymousId":"a","event":"Order Completed","messageId":"a2",
   "properties":{"revenue":120,"coupon":"X"},"timestamp":"2024-05-01T11:00:00Z"},
  {"type":"track","anonymousId":"b","event":"Product Viewed","messageId":"b1",
   "properties":{"price":10},"timestamp":"2024-05-01T12:00:00Z"},
  {"type":"track","anonymousId":"c","event":"Product Viewed","messageId":"c1",
   "properties":{"price":99,"category":"serum"},"timestamp":"2024-05-02T09:00:00Z"},
  {"type":"track","anonymousId":"c","event":"Order Completed","messageId":"c2",
   "properties":{"revenue":80},"timestamp":"2024-05-02T09:30:00Z"})";

constexpr char kTrends[] =
    R"({"from":"2024-05-01","to":"2024-05-03","series":[{"event":"Product Viewed"},
        {"event":"Order Completed","measure":"persons"}]})";
constexpr char kFunnel[] =
    R"({"from":"2024-05-01T00:00:00Z","to":"2024-05-03T00:00:00Z","window":"1d",
        "steps":[{"event":"Product Viewed"},{"event":"Order Completed"}]})";

class ServerQueryTest : public ::quanyu::testing::ServedApiTest {
 protected:
  void Configure(Config& config) override {
    config.flush_interval_s = 3600;  // segments only when the test checkpoints
  }

  HttpAnswer Admin(const std::string& method, const std::string& target,
                   const std::string& body = "") {
    return As(kAdminKey, method, target, body);
  }
  json Query(const std::string& kind, const std::string& body, int expected_status = 200) {
    HttpAnswer a = Admin("POST", "/api/v1/query/" + kind, body);
    EXPECT_EQ(a.status, expected_status) << kind << " " << body << " → " << a.body;
    EXPECT_NE(a.headers.find("Content-Type: application/json"), std::string::npos) << a.headers;
    return a.Json();
  }
  // Posts the three shoppers' events.
  void Ingest() {
    HttpAnswer a = PostBatch(kEvents);
    ASSERT_EQ(a.status, 200) << a.body;
  }
  // Error bodies are {"error": {"code", "message"}}; returns the message.
  static std::string ErrorOf(const json& j, const std::string& code) {
    EXPECT_TRUE(j.contains("error")) << j.dump();
    if (!j.contains("error")) return "";
    EXPECT_EQ(j["error"]["code"], code) << j.dump();
    return j["error"].value("message", "");
  }
};

TEST_F(ServerQueryTest, CatalogListsNamesCountsTimesAndPropertiesBufferedAndFlushed) {
  HttpAnswer empty = Admin("GET", "/api/v1/catalog/events");
  ASSERT_EQ(empty.status, 200) << empty.body;
  EXPECT_EQ(empty.Json(), json::parse(R"({"events": []})"));
  Ingest();
  const json expected = json::parse(R"({"events": [
    {"name": "Order Completed", "count": 2, "first_seen": "2024-05-01T11:00:00.000Z",
     "last_seen": "2024-05-02T09:30:00.000Z", "properties": ["coupon"]},
    {"name": "Product Viewed", "count": 3, "first_seen": "2024-05-01T10:00:00.000Z",
     "last_seen": "2024-05-02T09:00:00.000Z", "properties": ["category", "price"]}]})");
  HttpAnswer buffered = Admin("GET", "/api/v1/catalog/events");
  ASSERT_EQ(buffered.status, 200) << buffered.body;
  EXPECT_EQ(buffered.Json(), expected) << buffered.body;
  ASSERT_TRUE(served_.engine->Checkpoint().ok());
  HttpAnswer flushed = Admin("GET", "/api/v1/catalog/events");
  EXPECT_EQ(flushed.Json(), expected) << flushed.body;
}

TEST_F(ServerQueryTest, TrendsAndFunnelAnswerBeforeAndAfterTheFlush) {
  Ingest();
  for (int pass = 0; pass < 2; ++pass) {
    SCOPED_TRACE(pass == 0 ? "buffered" : "in segments");
    json trends = Query("trends", kTrends);
    EXPECT_EQ(trends["buckets"], json::parse(R"(["2024-05-01", "2024-05-02"])")) << trends;
    ASSERT_EQ(trends["series"].size(), 2u) << trends;
    EXPECT_EQ(trends["series"][0]["values"], json::parse("[2, 1]")) << trends;
    EXPECT_EQ(trends["series"][0]["total"], 3) << trends;
    EXPECT_EQ(trends["series"][1]["values"], json::parse("[1, 1]")) << trends;
    EXPECT_EQ(trends["series"][1]["total"], 2) << trends;

    json funnel = Query("funnel", kFunnel);
    ASSERT_EQ(funnel["steps"].size(), 2u) << funnel;
    EXPECT_EQ(funnel["steps"][0]["persons"], 3) << funnel;
    EXPECT_EQ(funnel["steps"][1]["persons"], 2) << funnel;
    EXPECT_EQ(funnel["steps"][1]["conversion_from_start"], 0.666667) << funnel;
    EXPECT_EQ(funnel["steps"][1]["drop_off"], 1) << funnel;
    // Nearest rank over {1800, 3600}.
    EXPECT_EQ(funnel["steps"][1]["median_seconds_to_convert"], 1800) << funnel;
    ASSERT_TRUE(served_.engine->Checkpoint().ok());
  }
}

TEST_F(ServerQueryTest, EveryKindAnswersAnObject) {
  Ingest();
  const std::string range = R"("from":"2024-05-01","to":"2024-05-03")";
  for (
      auto [kind, extra] : std::vector<std::pair<std::string, std::string>>{
          {"funnel", R"("steps":[{"event":"Product Viewed"}])"},
          {"retention",
           R"("start_event":{"event":"Product Viewed"},"return_event":{"event":"Order Completed"},"period":"day","periods":2)"},
          {"paths", R"("start_event":"Product Viewed")"},
          {"touchpoints", ""},
          {"kpis", ""},
          {"trends", R"("series":[{"event":"Order Completed"}])"}}) {
    std::string body = "{" + range + (extra.empty() ? "" : "," + extra) + "}";
    HttpAnswer a = Admin("POST", "/api/v1/query/" + kind, body);
    EXPECT_EQ(a.status, 200) << kind << " " << body << " → " << a.body;
    EXPECT_TRUE(a.Json().is_object()) << kind << " → " << a.body;
  }
}

TEST_F(ServerQueryTest, BadRequestsAre400NamingTheProblem) {
  Ingest();
  struct Case {
    std::string kind, body, fragment;
  };
  for (
      const Case& c : std::vector<Case>{
          {"trends", "not json", "not valid JSON"},
          {"trends", "", "not valid JSON"},
          {"funnel", R"({"from": )", "not valid JSON"},
          {"trends", "[1, 2]", "must be a JSON object"},
          {"trends", "\"text\"", "must be a JSON object"},
          {"trends",
           R"({"from":"2024-05-01","to":"2024-05-03","series":[{"event":"Nope Viewed"}]})",
           "Nope Viewed"},
          {"funnel",
           R"({"from":"2024-05-01","to":"2024-05-03","steps":[{"event":"Product Viewed"},{"event":"Ghost"}]})",
           "Ghost"},
          {"funnel",
           R"({"from":"2024-05-01","to":"2024-05-03","steps":[{"event":"Product Viewed","where":[{"property":"colour","op":"=","value":"red"}]}]})",
           "colour"},
          {"trends",
           R"({"from":"2024-05-03","to":"2024-05-01","series":[{"event":"Product Viewed"}]})",
           "range"},
          {"trends", R"({"series":[{"event":"Product Viewed"}]})", "from"},
      }) {
    json j = Query(c.kind, c.body, 400);
    std::string message = ErrorOf(j, "invalid_argument");
    EXPECT_NE(message.find(c.fragment), std::string::npos)
        << c.kind << " " << c.body << " → " << message;
  }
  // More than 32 funnel steps.
  json steps = json::array();
  for (int i = 0; i < 33; ++i) steps.push_back({{"event", "Product Viewed"}});
  json many = {{"from", "2024-05-01"}, {"to", "2024-05-03"}, {"steps", steps}};
  ErrorOf(Query("funnel", many.dump(), 400), "invalid_argument");
}

TEST_F(ServerQueryTest, UnknownKindsWrongMethodsAuthAndSize) {
  // An unknown kind: 404 with the kinds there are.
  HttpAnswer unknown = Admin("POST", "/api/v1/query/cohorts", "{}");
  EXPECT_EQ(unknown.status, 404) << unknown.body;
  json u = unknown.Json();
  EXPECT_NE(ErrorOf(u, "not_found").find("funnel, retention"), std::string::npos) << unknown.body;
  EXPECT_EQ(u["error"]["kinds"], json::parse(R"(["funnel", "retention", "paths", "touchpoints",
                                                 "kpis", "trends"])"));
  EXPECT_EQ(Admin("POST", "/api/v1/query", "{}").status, 404);
  EXPECT_EQ(Admin("POST", "/api/v1/query/funnel/extra", "{}").status, 404);
  EXPECT_EQ(Admin("POST", "/api/v1/catalog/other", "{}").status, 404);

  // The router answers a known path with another method as an unknown route
  // naming the method to use (the admin API's convention; no 405).
  HttpAnswer get = Admin("GET", "/api/v1/query/funnel");
  EXPECT_EQ(get.status, 404);
  EXPECT_NE(ErrorOf(get.Json(), "not_found").find("use POST"), std::string::npos) << get.body;
  HttpAnswer post = Admin("POST", "/api/v1/catalog/events", "{}");
  EXPECT_EQ(post.status, 404);
  EXPECT_NE(ErrorOf(post.Json(), "not_found").find("use GET"), std::string::npos) << post.body;

  // The admin key, as every /api/v1 route.
  for (auto [method, target] : std::vector<std::pair<std::string, std::string>>{
           {"POST", "/api/v1/query/funnel"}, {"GET", "/api/v1/catalog/events"}}) {
    HttpAnswer none = Send(served_.port(), method, target, "", kFunnel);
    EXPECT_EQ(none.status, 401) << target;
    ErrorOf(none.Json(), "unauthenticated");
    HttpAnswer wrong = Send(served_.port(), method, target, "Bearer nope", kFunnel);
    EXPECT_EQ(wrong.status, 401) << target;
  }

  // A body over 1 MiB: 413 (from the server's own limit, before the handler).
  std::string big =
      R"({"from":"2024-05-01","to":"2024-05-03","pad":")" + std::string(1'100'000, 'x') + "\"}";
  HttpAnswer too_big = Admin("POST", "/api/v1/query/trends", big);
  EXPECT_EQ(too_big.status, 413) << too_big.body;
  ErrorOf(too_big.Json(), "payload_too_large");
}

TEST_F(ServerQueryTest, QueriesRunConcurrentlyWithCollection) {
  Ingest();
  std::vector<std::thread> clients;
  std::atomic<int> ok{0};
  for (int i = 0; i < 6; ++i) {
    clients.emplace_back([&, i] {
      HttpAnswer a = i % 2 ? Admin("POST", "/api/v1/query/funnel", kFunnel)
                           : Admin("POST", "/api/v1/query/trends", kTrends);
      if (a.status == 200) ++ok;
    });
  }
  HttpAnswer health = Send(served_.port(), "GET", "/healthz", "");
  EXPECT_EQ(health.status, 200);
  for (auto& t : clients) t.join();
  EXPECT_EQ(ok.load(), 6);
}

}  // namespace
}  // namespace quanyu
