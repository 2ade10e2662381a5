// A real Engine behind a real Server on a loopback port, for the server
// tests: Start in SetUp, Stop (or the destructor) in TearDown.
#pragma once

#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <thread>

#include "engine/engine.h"
#include "server/server.h"

namespace quanyu::testing {

struct ServedEngine {
  std::unique_ptr<Engine> engine;
  std::unique_ptr<server::Server> server;
  std::thread serving;

  // Opens the engine on `config` and serves it (2 threads, port chosen by
  // the system) with `admin_key`, and the dashboard from `web_dir` ("" =
  // not built).
  Status Start(const Config& config, const std::string& admin_key,
               const std::string& web_dir = "") {
    auto opened = Engine::Open(config);
    if (!opened.ok()) return opened.status();
    engine = std::move(*opened);
    server::ServerOptions options;
    options.listen = "127.0.0.1:0";
    options.threads = 2;
    options.admin_key = admin_key;
    options.web_dir = web_dir;
    auto created = server::Server::Create(engine.get(), options);
    if (!created.ok()) return created.status();
    server = std::move(*created);
    serving = std::thread([this] { server->Run(); });
    return Status::OK();
  }

  int port() const { return server->port(); }

  // Stops serving and closes the engine (which must close cleanly).
  // The engine closes before the server is destroyed, as in `quanyu serve`:
  // a query worker or the log's completion thread may still hold the last
  // reference to an HTTP session for a moment after its answer was sent,
  // and the session must not outlive the server's io_context.
  void Stop() {
    if (server) server->Stop();
    if (serving.joinable()) serving.join();
    if (engine) {
      EXPECT_TRUE(engine->Close().ok());
    }
    server.reset();
    engine.reset();
  }

  ~ServedEngine() { Stop(); }
};

}  // namespace quanyu::testing
