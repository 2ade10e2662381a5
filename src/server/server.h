// Server: the HTTP/1.1 front door (keep-alive, event loop on N threads).
// Routes collection endpoints (Segment /v1/*, Sensors /sa and /sa.gif), the
// admin API under /api/v1/ (Bearer admin key), /healthz and /metrics to the
// engine, and renders the results; every other GET is the dashboard's
// (static_files.h). No business logic lives here. A HEAD request is answered
// as its GET without the body.
//
// Thread-safety: Run() blocks the calling thread until Stop() (callable from
// any thread or a signal handler via RequestStop()).
#pragma once

#include <memory>
#include <string>

#include "common/result.h"
#include "engine/engine.h"

namespace quanyu::server {

struct ServerOptions {
  std::string listen = "127.0.0.1:8080";  // HOST:PORT
  int threads = 0;                        // 0 = one per core
  int read_timeout_s = 30;                // a request must arrive within this
  int idle_timeout_s = 60;                // keep-alive connections idle longer are closed
  std::string admin_key;                  // Bearer key for /api/v1 ("" = API refuses all)
  std::string web_dir;                    // the dashboard (ResolveWebDir); "" = not built
};

class Server {
 public:
  // Binds the listening socket; errors (address in use, bad HOST:PORT) are
  // returned here, before Run().
  static Result<std::unique_ptr<Server>> Create(Engine* engine, const ServerOptions& options);
  virtual ~Server() = default;

  // The port actually bound (useful with port 0).
  virtual int port() const = 0;
  // Serves until Stop(). Returns when every worker thread has finished.
  virtual void Run() = 0;
  virtual void Stop() = 0;
};

}  // namespace quanyu::server
