// The dashboard over real HTTP (server/static_files.h): index.html and
// assets with their types and cache headers, the single-page app's
// fallback, traversal refused (plain, percent-encoded, through a symlink),
// methods other than GET/HEAD, a dashboard that is not built, and the API
// routes beside it unchanged.
#include <gtest/gtest.h>

#include <filesystem>
#include <nlohmann/json.hpp>

#include "http_test_util.h"
#include "served_engine.h"
#include "server/static_files.h"
#include "test_util.h"

namespace quanyu {
namespace {

using ::quanyu::testing::HttpAnswer;
using ::quanyu::testing::Send;

constexpr char kAdminKey[] = "dashboard-admin-key";
constexpr char kIndex[] = "<!doctype html><title>Quanyu</title><div id=app></div>";
constexpr char kAppJs[] = "console.log('quanyu');";

// The value of header `name` (as the server spells it) in `a`, or "".
std::string HeaderOf(const HttpAnswer& a, const std::string& name) {
  auto at = a.headers.find("\r\n" + name + ": ");
  if (at == std::string::npos) return "";
  at += name.size() + 4;
  return a.headers.substr(at, a.headers.find("\r\n", at) - at);
}

class ServerDashboardTest : public ::testing::Test {
 protected:
  void SetUp() override {
    namespace fs = std::filesystem;
    fs::create_directories(web_ / "assets");
    ::quanyu::testing::WriteFile(web_ / "index.html", kIndex);
    ::quanyu::testing::WriteFile(web_ / "assets/app.js", kAppJs);
    ::quanyu::testing::WriteFile(web_ / "assets/app.css", "body{}");
    // A file outside the dashboard, and a symlink inside pointing at it.
    ::quanyu::testing::WriteFile(outside_ / "secret.txt", "s3cr3t-content");
    fs::create_symlink(outside_ / "secret.txt", web_ / "assets/leak.txt");
    fs::create_symlink(outside_.path(), web_ / "escape");
  }

  void Serve(const std::string& web_dir) {
    Config config;
    config.data_dir = data_.path();
    Status started = served_.Start(config, kAdminKey, web_dir);
    ASSERT_TRUE(started.ok()) << started.ToString();
  }
  HttpAnswer Get(const std::string& target, const std::string& method = "GET") {
    return Send(served_.port(), method, target, "");
  }

  ::quanyu::testing::TempDir data_, web_, outside_;
  ::quanyu::testing::ServedEngine served_;
};

TEST_F(ServerDashboardTest, ServesIndexAndAssetsWithTypesAndCacheHeaders) {
  Serve(server::ResolveWebDir(web_.path()));
  HttpAnswer index = Get("/");
  ASSERT_EQ(index.status, 200) << index.body;
  EXPECT_EQ(index.body, kIndex);
  EXPECT_EQ(HeaderOf(index, "Content-Type"), "text/html; charset=utf-8");
  EXPECT_EQ(HeaderOf(index, "Cache-Control"), "no-cache");
  EXPECT_EQ(HeaderOf(index, "X-Content-Type-Options"), "nosniff");
  EXPECT_EQ(HeaderOf(index, "Referrer-Policy"), "no-referrer");
  EXPECT_EQ(HeaderOf(index, "Content-Security-Policy"),
            "default-src 'self'; img-src 'self' data: blob:; style-src 'self' 'unsafe-inline'; "
            "connect-src 'self'; frame-ancestors 'none'");

  HttpAnswer js = Get("/assets/app.js?v=1");
  ASSERT_EQ(js.status, 200) << js.body;
  EXPECT_EQ(js.body, kAppJs);
  EXPECT_EQ(HeaderOf(js, "Content-Type"), "text/javascript; charset=utf-8");
  EXPECT_EQ(HeaderOf(js, "Cache-Control"), "public, max-age=31536000, immutable");
  EXPECT_EQ(HeaderOf(js, "X-Content-Type-Options"), "nosniff");
  EXPECT_EQ(HeaderOf(js, "Content-Security-Policy"), "");  // HTML only
  EXPECT_EQ(HeaderOf(Get("/assets/app.css"), "Content-Type"), "text/css; charset=utf-8");

  // HEAD: the GET's headers and length, no body.
  HttpAnswer head = Get("/assets/app.js", "HEAD");
  EXPECT_EQ(head.status, 200);
  EXPECT_EQ(head.body, "");
  EXPECT_EQ(HeaderOf(head, "Content-Length"), std::to_string(sizeof kAppJs - 1));
  EXPECT_EQ(HeaderOf(head, "Content-Type"), "text/javascript; charset=utf-8");
}

TEST_F(ServerDashboardTest, AppRoutesFallBackToIndexButMissingFilesAre404) {
  Serve(server::ResolveWebDir(web_.path()));
  for (const char* route : {"/funnels", "/profiles/42", "/funnels/", "/assets"}) {
    HttpAnswer a = Get(route);
    EXPECT_EQ(a.status, 200) << route;
    EXPECT_EQ(a.body, kIndex) << route;
    EXPECT_EQ(HeaderOf(a, "Cache-Control"), "no-cache") << route;
  }
  HttpAnswer missing = Get("/assets/gone.js");
  EXPECT_EQ(missing.status, 404);
  EXPECT_EQ(missing.Json()["error"]["code"], "not_found") << missing.body;
  EXPECT_EQ(Get("/favicon.ico").status, 404);
}

TEST_F(ServerDashboardTest, TraversalIsRefused) {
  Serve(server::ResolveWebDir(web_.path()));
  for (const char* target :
       {"/../etc/passwd", "/assets/../../etc/passwd", "/%2e%2e/x", "/%2E%2E/%2e%2e/etc/passwd",
        "/assets/%2e%2e/%2e%2e/etc/passwd", "/assets%2f..%2f..%2fetc%2fpasswd",
        "/assets/..%5c..%5cetc%5cpasswd", "/index.html%00.js", "/assets/leak.txt",
        "/escape/secret.txt", "/./index.html"}) {
    HttpAnswer a = Get(target);
    EXPECT_EQ(a.status, 404) << target << " → " << a.body;
    EXPECT_EQ(a.body.find("s3cr3t"), std::string::npos) << target;
    EXPECT_EQ(a.body.find("root:"), std::string::npos) << target;
  }
  // A symlink to a directory outside is an app route like any other.
  EXPECT_EQ(Get("/escape").body, kIndex);

  EXPECT_EQ(server::DashboardFile("/"), "index.html");
  EXPECT_EQ(server::DashboardFile("//assets//app.js"), "assets/app.js");
  EXPECT_EQ(server::DashboardFile("/a/%2e%2e/b"), std::nullopt);
  EXPECT_EQ(server::DashboardFile("/a%5cb"), std::nullopt);
  EXPECT_EQ(server::DashboardFile("/a%00b"), std::nullopt);
}

TEST_F(ServerDashboardTest, OtherMethodsOnDashboardFilesAre405) {
  Serve(server::ResolveWebDir(web_.path()));
  for (const char* method : {"POST", "PUT", "DELETE"}) {
    HttpAnswer a = Get("/", method);
    EXPECT_EQ(a.status, 405) << method;
    EXPECT_EQ(a.Json()["error"]["code"], "method_not_allowed") << a.body;
    EXPECT_EQ(HeaderOf(a, "Allow"), "GET, HEAD");
  }
  EXPECT_EQ(Get("/assets/app.js", "POST").status, 405);
  // A path naming nothing is a 404, as before the dashboard (a mistyped
  // collection endpoint, say).
  for (const char* target : {"/v2/track", "/funnels", "/assets/gone.js"}) {
    HttpAnswer a = Get(target, "POST");
    EXPECT_EQ(a.status, 404) << target;
    EXPECT_EQ(a.Json()["error"]["code"], "not_found") << a.body;
  }
}

TEST_F(ServerDashboardTest, NotBuiltAnswers404PageAndTheApiStillWorks) {
  // A directory without index.html is not a built dashboard.
  ::quanyu::testing::TempDir empty;
  EXPECT_EQ(server::ResolveWebDir(empty.path()), "");
  EXPECT_EQ(server::ResolveWebDir(empty / "missing"), "");
  Serve("");
  for (const char* target : {"/", "/funnels", "/assets/app.js"}) {
    HttpAnswer a = Get(target);
    EXPECT_EQ(a.status, 404) << target;
    EXPECT_EQ(HeaderOf(a, "Content-Type"), "text/html; charset=utf-8") << target;
    EXPECT_NE(a.body.find("npm --prefix web ci &amp;&amp; npm --prefix web run build"),
              std::string::npos)
        << a.body;
  }
  HttpAnswer health = Get("/healthz");
  EXPECT_EQ(health.status, 200);
  EXPECT_EQ(health.body, R"({"status":"ok"})");
  HttpAnswer stats =
      Send(served_.port(), "GET", "/api/v1/stats", std::string("Bearer ") + kAdminKey);
  EXPECT_EQ(stats.status, 200) << stats.body;
  EXPECT_TRUE(stats.Json().contains("events")) << stats.body;
}

TEST_F(ServerDashboardTest, OtherRoutesAnswerAsBefore) {
  Serve(server::ResolveWebDir(web_.path()));
  EXPECT_EQ(Get("/healthz").body, R"({"status":"ok"})");
  EXPECT_EQ(HeaderOf(Get("/metrics"), "Content-Type"), "text/plain; version=0.0.4");
  // The API keeps its own authentication and JSON 404s.
  EXPECT_EQ(Get("/api/v1/stats").status, 401);
  HttpAnswer unknown_api = Get("/api/v2/stats");
  EXPECT_EQ(unknown_api.status, 404);
  EXPECT_EQ(HeaderOf(unknown_api, "Content-Type"), "application/json");
  EXPECT_EQ(Send(served_.port(), "GET", "/api/v1/stats", std::string("Bearer ") + kAdminKey).status,
            200);
  // Collection: /v1/* wants POST, /sa* is Sensors' or nobody's.
  EXPECT_EQ(Get("/v1/track").status, 400);
  EXPECT_EQ(HeaderOf(Get("/sabc"), "Content-Type"), "application/json");
  EXPECT_EQ(Get("/sabc").status, 404);
}

}  // namespace
}  // namespace quanyu
