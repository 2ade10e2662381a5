// Router: turns one HTTP request into a call on the engine and renders the
// answer. Handlers may complete asynchronously (ingest waits for the log's
// fsync), so every handler answers through a Respond callback, exactly once.
//
// Thread-safety: Handle() is safe to call concurrently.
#pragma once

#include <functional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "engine/engine.h"

namespace quanyu::server {

struct HttpRequest {
  std::string method;                                        // "GET", "POST", ...
  std::string path;                                          // without the query string
  std::string query;                                         // after '?', raw
  std::string body;                                          // as received (possibly gzip)
  std::vector<std::pair<std::string, std::string>> headers;  // names lower-cased

  std::string_view Header(std::string_view lower_name) const;
};

struct HttpResponse {
  int status = 200;
  std::string content_type = "application/json";
  std::string body;
  std::vector<std::pair<std::string, std::string>> headers;
};

using Respond = std::function<void(HttpResponse)>;

class Router {
 public:
  Router(Engine* engine, std::string admin_key);
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
};

// Helpers shared by the handlers.
HttpResponse JsonResponse(int status, std::string body);
HttpResponse ErrorResponse(const Status& status);

}  // namespace quanyu::server
