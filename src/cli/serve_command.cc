// quanyu serve | source add | demo
#include <fmt/format.h>
#include <openssl/rand.h>
#include <spdlog/spdlog.h>

#include <csignal>
#include <filesystem>
#include <thread>

#include "cli/commands.h"
#include "cli/sim_runner.h"
#include "engine/engine.h"
#include "models/run.h"
#include "server/audience_api.h"
#include "server/server.h"
#include "server/static_files.h"

namespace quanyu::cli {
namespace {

constexpr const char* kWebHelp =
    "The dashboard's built files (default: web/dist here, else beside the binary: "
    "<exe>/../web/dist)";

std::string RandomKey(const char* prefix) {
  static constexpr char kAlphabet[] = "abcdefghijklmnopqrstuvwxyz0123456789";
  unsigned char buf[24];
  RAND_bytes(buf, sizeof buf);
  std::string key = prefix;
  for (unsigned char b : buf) key.push_back(kAlphabet[b % 36]);
  return key;
}

sigset_t ShutdownSignals() {
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGTERM);
  return signals;
}

// Blocks SIGINT/SIGTERM in this thread so every thread started afterwards
// (the engine's and the server's) inherits the mask and Serve() can take the
// signal with sigwait. REQUIRES: called before Engine::Open.
void BlockShutdownSignals() {
  sigset_t signals = ShutdownSignals();
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);
}

// Runs the server until SIGINT/SIGTERM, then shuts the engine down cleanly.
// `banner` is printed once the socket is bound.
// REQUIRES: BlockShutdownSignals() was called before the engine was opened.
Status Serve(Engine* engine, const Config& config, const std::function<void(int port)>& banner) {
  sigset_t signals = ShutdownSignals();

  server::ServerOptions so;
  so.listen = config.listen;
  so.threads = config.threads;
  so.read_timeout_s = config.read_timeout_s;
  so.idle_timeout_s = config.idle_timeout_s;
  so.admin_key = config.admin_key;
  so.web_dir = server::ResolveWebDir(config.web_dir);
  if (!so.web_dir.empty()) {
    spdlog::info("serving the dashboard from {}", so.web_dir);
  } else if (!config.web_dir.empty()) {
    spdlog::warn("no dashboard at {} (no index.html): / answers 404 until it is built there",
                 config.web_dir);
  } else {
    spdlog::warn(
        "the dashboard is not built (no web/dist here or beside the binary): / answers 404; "
        "run `npm --prefix web ci && npm --prefix web run build`");
  }
  ASSIGN_OR_RETURN(auto server, server::Server::Create(engine, so));
  if (banner) banner(server->port());
  std::thread waiter([&] {
    int sig = 0;
    sigwait(&signals, &sig);
    spdlog::info("received signal {}, shutting down", sig);
    server->Stop();
  });
  server->Run();
  // Run() returns after Stop(); make sure the waiter exits if Run ended otherwise.
  pthread_kill(waiter.native_handle(), SIGTERM);
  waiter.join();
  return engine->Close();
}

}  // namespace

void RegisterServe(CLI::App& app) {
  auto* cmd = app.add_subcommand("serve",
                                 "Run the HTTP server (collection endpoints, admin API, /metrics)");
  struct Flags {
    std::string data, listen, config, web;
  };
  auto flags = std::make_shared<Flags>();
  cmd->add_option("--data", flags->data, "Data directory (or QUANYU_DATA)");
  cmd->add_option("--listen", flags->listen, "HOST:PORT to listen on (default 127.0.0.1:8080)");
  cmd->add_option("--config", flags->config, "quanyu.toml")->check(CLI::ExistingFile);
  cmd->add_option("--web", flags->web, kWebHelp);
  cmd->callback([flags] {
    BlockShutdownSignals();
    auto config = LoadEffectiveConfig(flags->config, flags->data);
    if (!config.ok()) return Fail(config.status());
    if (!flags->listen.empty()) config->listen = flags->listen;
    if (!flags->web.empty()) config->web_dir = flags->web;
    auto engine = Engine::Open(*config);
    if (!engine.ok()) return Fail(engine.status());
    Status st = Serve(engine->get(), *config, [&](int port) {
      spdlog::info("quanyu serving on http://{} (port {}), data in {}", config->listen, port,
                   config->data_dir);
      if (config->admin_key.empty()) {
        spdlog::warn(
            "no admin key: /api/v1 takes only API keys made by `quanyu key create` "
            "(set QUANYU_ADMIN_KEY for a bootstrap admin key)");
      }
    });
    if (!st.ok()) Fail(st);
  });
}

void RegisterSource(CLI::App& app) {
  auto* cmd = app.add_subcommand("source", "Manage sources and their write keys");
  cmd->require_subcommand(1);
  auto* add = cmd->add_subcommand("add", "Create a source and print its new write key");
  struct Flags {
    std::string name, type = "web", data, config;
  };
  auto flags = std::make_shared<Flags>();
  add->add_option("name", flags->name, "Source name, e.g. website")->required();
  add->add_option("--type", flags->type,
                  "web, ios, android, wechat_mp, wechat_oa, douyin_mp, tmall_store, jd_store, pos, "
                  "crm, server...")
      ->capture_default_str();
  add->add_option("--data", flags->data, "Data directory")->required();
  add->add_option("--config", flags->config, "quanyu.toml")->check(CLI::ExistingFile);
  add->callback([flags] {
    auto config = LoadEffectiveConfig(flags->config, flags->data);
    if (!config.ok()) return Fail(config.status());
    auto engine = Engine::Open(*config);
    if (!engine.ok()) {
      return Fail(
          engine.status().WithContext("cannot open the data directory (if `quanyu serve` is "
                                      "running on it, use POST /api/v1/sources)"));
    }
    auto s = (*engine)->AddSource(flags->name, flags->type);
    if (!s.ok()) return Fail(s.status());
    std::printf("%s\n", s->write_key.c_str());
    std::fprintf(stderr, "created source \"%s\" (type %s)\n", s->name.c_str(), s->type.c_str());
    Status st = (*engine)->Close();
    if (!st.ok()) Fail(st);
  });
  auto* list = cmd->add_subcommand("list", "List sources and write keys");
  list->add_option("--data", flags->data, "Data directory")->required();
  list->callback([flags] {
    auto config = LoadEffectiveConfig(flags->config, flags->data);
    if (!config.ok()) return Fail(config.status());
    auto engine = Engine::Open(*config);
    if (!engine.ok()) return Fail(engine.status());
    for (const auto& s : (*engine)->ListSources()) {
      std::printf("%-20s %-12s %s\n", s.name.c_str(), s.type.c_str(), s.write_key.c_str());
    }
  });
}

void RegisterDemo(CLI::App& app) {
  auto* cmd = app.add_subcommand("demo", "Load simulated omni-channel data and serve it");
  struct Flags {
    std::string data = "demo-data", listen = "127.0.0.1:8080", web;
    int64_t persons = 20000;
    int days = 90;
    uint64_t seed = 42;
  };
  auto flags = std::make_shared<Flags>();
  cmd->add_option("--data", flags->data, "Data directory")->capture_default_str();
  cmd->add_option("--listen", flags->listen, "HOST:PORT")->capture_default_str();
  cmd->add_option("--persons", flags->persons, "Simulated persons")->capture_default_str();
  cmd->add_option("--days", flags->days, "Simulated days")->capture_default_str();
  cmd->add_option("--seed", flags->seed, "Simulation seed")->capture_default_str();
  cmd->add_option("--web", flags->web, kWebHelp);
  cmd->callback([flags] {
    BlockShutdownSignals();
    auto config = LoadEffectiveConfig("", flags->data);
    if (!config.ok()) return Fail(config.status());
    config->listen = flags->listen;
    if (!flags->web.empty()) config->web_dir = flags->web;
    if (config->admin_key.empty()) config->admin_key = RandomKey("qy_admin_");
    auto engine = Engine::Open(*config);
    if (!engine.ok()) return Fail(engine.status());
    Engine* e = engine->get();
    if (e->Stats().store.segment_events + e->Stats().store.buffered_events == 0) {
      SimRunOptions so;
      so.sim.persons = flags->persons;
      so.sim.days = flags->days;
      so.sim.seed = flags->seed;
      so.truth_path = DefaultTruthPath(flags->data);
      auto r = RunSimIntoEngine(e, so);
      if (!r.ok()) return Fail(r.status());
      // Predictions from the first minute (docs/models.md), with defaults.
      for (const auto& kind : models::ModelKinds()) {
        auto run = e->RunModel(kind, nlohmann::json::object());
        if (run.ok()) {
          spdlog::info("model {}: stored {}", kind, (*run)["stored_traits"].dump());
        } else {
          spdlog::warn("model {} not run on the demo data: {}", kind, run.status().ToString());
        }
      }
      // The RFM grid too (docs/rfm.md), so audiences can use rfm.* at once.
      if (auto rfm = server::RunRfm(*e, nlohmann::json::object()); !rfm.ok()) {
        spdlog::warn("RFM not run on the demo data: {}", rfm.status().ToString());
      }
    } else {
      spdlog::info("{} already holds data; serving it as is", flags->data);
    }
    std::string key;
    for (const auto& s : e->ListSources()) {
      if (s.name == "website") key = s.write_key;
    }
    Status st = Serve(e, *config, [&](int port) {
      std::string base = fmt::format("http://{}", config->listen);
      std::printf(
          "\nQuanyu demo is running at %s\n\n"
          "  dashboard : %s/ (sign in with the admin key)\n"
          "  admin key : %s\n  write key : %s (source \"website\")\n\n"
          "Try:\n"
          "  curl %s/healthz\n"
          "  curl -H 'Authorization: Bearer %s' %s/api/v1/stats\n"
          "  curl -H 'Authorization: Bearer %s' '%s/api/v1/events?limit=3'\n"
          "  curl -u %s: %s/v1/track -H 'Content-Type: application/json' \\\n"
          "       -d '{\"userId\":\"u1\",\"event\":\"Order "
          "Completed\",\"properties\":{\"revenue\":99}}'\n"
          "  curl -H 'Authorization: Bearer %s' -X POST %s/api/v1/models/clv\n"
          "  curl %s/metrics\n\nPress Ctrl-C to stop.\n",
          base.c_str(), base.c_str(), config->admin_key.c_str(), key.c_str(), base.c_str(),
          config->admin_key.c_str(), base.c_str(), config->admin_key.c_str(), base.c_str(),
          key.c_str(), base.c_str(), config->admin_key.c_str(), base.c_str(), base.c_str());
      std::fflush(stdout);
      (void)port;
    });
    if (!st.ok()) Fail(st);
  });
}

}  // namespace quanyu::cli
