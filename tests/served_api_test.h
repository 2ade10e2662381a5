// ServedApiTest: the fixture of the server tests. Each test gets a data
// directory of its own and a real Engine served over HTTP on a loopback port
// (served_engine.h), configured with one source, "website" (type web), that
// writes with kWebKey, and with kAdminKey as the bootstrap admin key. The
// helpers send Segment events with a write key (collection, /v1/*) and API
// requests with an API key (/api/v1/*), one connection each (Send).
//
// A test that needs more sources or other options overrides Configure; one
// that restarts the server calls served_.Stop() and then Start(). The
// helpers are for the test's own thread; the server answers on its own.
#pragma once

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <string>

#include "collect/internal/base64.h"
#include "http_test_util.h"
#include "served_engine.h"
#include "test_util.h"

namespace quanyu::testing {

class ServedApiTest : public ::testing::Test {
 protected:
  static constexpr char kAdminKey[] = "served-admin-key";
  static constexpr char kWebKey[] = "served-web-write-key";

  void SetUp() override { Start(); }
  void TearDown() override { served_.Stop(); }

  // Adjusts the config before the engine opens on it: more sources, other
  // options, or data loaded into config.data_dir beforehand. A fatal
  // failure here leaves the engine unopened.
  virtual void Configure(Config& config) {}

  // Opens the engine on dir_ with Configure's config and serves it. Fails
  // the test fatally if it cannot.
  // REQUIRES: nothing is served (before SetUp's call, or after Stop).
  void Start() {
    Config config;
    config.data_dir = dir_.path();
    config.sources.push_back({"website", "web", kWebKey});
    ASSERT_NO_FATAL_FAILURE(Configure(config));
    Status started = served_.Start(config, kAdminKey);
    ASSERT_TRUE(started.ok()) << started.ToString();
  }

  // POSTs `body` to the collection endpoint `path` (/v1/track, /v1/batch,
  // ...) with Basic auth of `write_key`.
  HttpAnswer Collect(const std::string& path, const std::string& body,
                     const std::string& write_key = kWebKey) {
    std::string auth = "Basic " + collect::internal::Base64Encode(write_key + ":");
    return Send(served_.port(), "POST", path, auth, body);
  }

  // POSTs `events`, a comma-separated list of Segment events, to /v1/batch.
  HttpAnswer PostBatch(const std::string& events, const std::string& write_key = kWebKey) {
    return Collect("/v1/batch", "{\"batch\":[" + events + "]}", write_key);
  }

  // Posts `events` as one batch; fails the test fatally unless every event
  // was accepted. Accepted events are durable when this returns.
  void Ingest(const std::string& events) {
    HttpAnswer a = PostBatch(events);
    ASSERT_EQ(a.status, 200) << a.body;
    ASSERT_EQ(a.body.find("rejected"), std::string::npos) << a.body;
  }

  // Posts `events` as one batch, some of which may be rejected. Returns the
  // answer's JSON with the number of events accepted under "accepted" and
  // the rejected ones under "rejected" — also when the collector refused the
  // whole batch (400, none accepted). Any other answer than 200 fails the
  // test.
  nlohmann::json TryIngest(const std::string& events) {
    HttpAnswer a = PostBatch(events);
    nlohmann::json j = a.Json();
    if (a.status == 400 && j.contains("error") && j["error"].contains("rejected")) {
      j["rejected"] = j["error"]["rejected"];
      j["accepted"] = 0;
    } else {
      EXPECT_EQ(a.status, 200) << a.body;
      // "accepted" is said only when some events were rejected.
      if (!j.contains("accepted")) j["accepted"] = nlohmann::json::parse("[" + events + "]").size();
    }
    return j;
  }

  // An API request with `key` as its Bearer token ("" sends none).
  HttpAnswer As(const std::string& key, const std::string& method, const std::string& target,
                const std::string& body = "") {
    return Send(served_.port(), method, target, key.empty() ? "" : "Bearer " + key, body);
  }

  // As, with `body` sent as JSON (null sends none); expects the answer's
  // status to be `status` and returns its JSON.
  nlohmann::json AsJson(const std::string& key, const std::string& method,
                        const std::string& target, const nlohmann::json& body = nullptr,
                        int status = 200) {
    const std::string sent = body.is_null() ? "" : body.dump();
    HttpAnswer a = As(key, method, target, sent);
    EXPECT_EQ(a.status, status) << method << " " << target << " " << sent << " → " << a.body;
    return a.Json();
  }

  TempDir dir_;
  ServedEngine served_;
};

}  // namespace quanyu::testing
