// Router: turns one HTTP request into a call on the engine and renders the
// answer. Handlers may complete asynchronously (ingest waits for the log's
// fsync), so every handler answers through a Respond callback, exactly once.
//
// Thread-safety: Handle() is safe to call concurrently.
#pragma once

#include <string>

#include "engine/engine.h"
#include "server/http_message.h"
#include "server/static_files.h"

namespace quanyu::server {

class Router {
 public:
  // `web_dir`: the dashboard's directory (ResolveWebDir; "" = not built).
  Router(Engine* engine, std::string admin_key, std::string web_dir);
  void Handle(HttpRequest request, Respond respond);

 private:
  void HandleSegment(HttpRequest& request, std::string_view endpoint, Respond respond);
  void HandleSensors(HttpRequest& request, bool gif, Respond respond);
  void HandleApi(HttpRequest& request, Respond respond);
  Result<privacy::Principal> Authenticate(const HttpRequest& request) const;
  // Decodes a Content-Encoding: gzip/deflate body in place.
  Status DecodeBody(HttpRequest& request);

  Engine* engine_;
  std::string admin_key_;
  StaticFiles dashboard_;
};

// Helpers shared by the handlers.
HttpResponse JsonResponse(int status, std::string body);
HttpResponse ErrorResponse(const Status& status);

}  // namespace quanyu::server
