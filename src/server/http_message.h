// The HTTP request and response as the router and its handlers see them
// (server.cc translates from and to Boost.Beast). Plain value types.
#pragma once

#include <functional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

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

}  // namespace quanyu::server
