// StaticFiles: the dashboard (web/dist, built by Vite) served from a
// directory: "/" is index.html, "/assets/..." the built files, and any other
// path without a dot in its last segment index.html too, so the single-page
// app's own routes ("/funnels") load it. Only paths no other route owns are
// the dashboard's (DashboardPath). Files are read per request: they are few
// and small, and a rebuilt dashboard is served without a restart.
//
// A path is percent-decoded before it is checked; one with a ".." segment,
// a NUL or a backslash, or resolving (through symlinks) outside the
// directory, answers 404.
//
// Thread-safety: immutable after construction; Answer is safe to call
// concurrently.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "server/http_message.h"

namespace quanyu::server {

// Whether `path` (a request path, without the query string) belongs to the
// dashboard: everything but /v1/*, /sa*, /api/*, /healthz and /metrics.
bool DashboardPath(std::string_view path);

// The file a dashboard path names, relative to the dashboard directory:
// percent-decoded, empty segments dropped ("//a/" is "a"), "index.html" for
// "/"; nullopt for a path that could leave the directory (a "." or ".."
// segment, a NUL, a backslash). Lexical only: symlinks are checked by
// StaticFiles::Answer.
std::optional<std::string> DashboardFile(std::string_view path);

// The directory to serve: `configured` ([server] web_dir, --web) if given,
// else web/dist under the current directory, else web/dist beside the
// directory holding the running executable (build/quanyu →
// build/../web/dist). Returns the directory's canonical path, or "" when
// the chosen one holds no index.html (the dashboard is not built).
std::string ResolveWebDir(const std::string& configured);

class StaticFiles {
 public:
  // `root`: a canonical directory path from ResolveWebDir; "" = none, every
  // dashboard path answers 404 with a page saying how to build it.
  explicit StaticFiles(std::string root);

  const std::string& root() const { return root_; }

  // The answer to a GET or HEAD of a dashboard path. Any other method: 405
  // JSON error with Allow for "/" and the dashboard's files, 404 for a path
  // naming nothing. HEAD gets the same headers; the server drops the body.
  HttpResponse Answer(const HttpRequest& request) const;

 private:
  std::string root_;
};

}  // namespace quanyu::server
