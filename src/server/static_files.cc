#include "server/static_files.h"

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "collect/internal/url.h"
#include "server/router.h"

namespace quanyu::server {
namespace {

namespace fs = std::filesystem;

constexpr std::string_view kCsp =
    "default-src 'self'; img-src 'self' data: blob:; style-src 'self' 'unsafe-inline'; "
    "connect-src 'self'; frame-ancestors 'none'";

constexpr std::string_view kNotBuiltPage =
    "<!doctype html>\n<html><head><meta charset=\"utf-8\"><title>Quanyu</title></head>\n"
    "<body><h1>The dashboard is not built</h1>\n"
    "<p>The API is running. To build the dashboard, run</p>\n"
    "<pre>npm --prefix web ci &amp;&amp; npm --prefix web run build</pre>\n"
    "<p>(or <code>./scripts/demo.sh</code>) and restart <code>quanyu serve</code>; "
    "or point <code>--web DIR</code> / <code>[server] web_dir</code> at a built "
    "dashboard.</p></body></html>\n";

std::string_view ContentTypeOf(std::string_view file) {
  auto dot = file.rfind('.');
  std::string_view ext = dot == std::string_view::npos ? "" : file.substr(dot + 1);
  if (ext == "html") return "text/html; charset=utf-8";
  if (ext == "js" || ext == "mjs") return "text/javascript; charset=utf-8";
  if (ext == "css") return "text/css; charset=utf-8";
  if (ext == "svg") return "image/svg+xml";
  if (ext == "png") return "image/png";
  if (ext == "jpg" || ext == "jpeg") return "image/jpeg";
  if (ext == "ico") return "image/x-icon";
  if (ext == "json" || ext == "map") return "application/json";
  if (ext == "woff2") return "font/woff2";
  if (ext == "txt") return "text/plain; charset=utf-8";
  return "application/octet-stream";
}

HttpResponse NotFoundResponse(std::string_view path) {
  return ErrorResponse(Status::NotFound("no dashboard file at " + std::string(path)));
}

// Headers every HTML page of the dashboard carries.
void AddHtmlHeaders(HttpResponse* r) {
  r->headers.push_back({"Content-Security-Policy", std::string(kCsp)});
  r->headers.push_back({"Referrer-Policy", "no-referrer"});
}

// `path` under `root` after symlinks are resolved, if it is a regular file
// there; nullopt otherwise (missing, a directory, or outside `root`).
std::optional<fs::path> FileUnder(const std::string& root, const std::string& relative) {
  std::error_code ec;
  fs::path resolved = fs::weakly_canonical(fs::path(root) / relative, ec);
  if (ec) return std::nullopt;
  const std::string& text = resolved.native();
  if (text.size() <= root.size() || !text.starts_with(root) || text[root.size()] != '/') {
    return std::nullopt;
  }
  if (!fs::is_regular_file(resolved, ec)) return std::nullopt;
  return resolved;
}

bool ReadWholeFile(const fs::path& path, std::string* out) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return false;
  std::ostringstream ss;
  ss << in.rdbuf();
  *out = std::move(ss).str();
  return !in.bad();
}

}  // namespace

bool DashboardPath(std::string_view path) {
  auto under = [&](std::string_view prefix) {
    return path == prefix || (path.starts_with(prefix) && path[prefix.size()] == '/');
  };
  return path.starts_with("/") && !under("/v1") && !under("/api") && !path.starts_with("/sa") &&
         path != "/healthz" && path != "/metrics";
}

std::optional<std::string> DashboardFile(std::string_view path) {
  std::string decoded = collect::internal::PercentDecode(path, /*plus_is_space=*/false);
  if (decoded.find('\0') != std::string::npos || decoded.find('\\') != std::string::npos) {
    return std::nullopt;
  }
  std::string out;
  std::string_view rest = decoded;
  while (!rest.empty()) {
    auto slash = rest.find('/');
    std::string_view segment = rest.substr(0, slash);
    rest = slash == std::string_view::npos ? std::string_view{} : rest.substr(slash + 1);
    if (segment.empty()) continue;
    if (segment == "." || segment == "..") return std::nullopt;
    if (!out.empty()) out.push_back('/');
    out.append(segment);
  }
  if (out.empty()) return "index.html";
  return out;
}

std::string ResolveWebDir(const std::string& configured) {
  std::error_code ec;
  fs::path dir;
  if (!configured.empty()) {
    dir = configured;
  } else if (fs::is_directory("web/dist", ec)) {
    dir = "web/dist";
  } else {
    fs::path exe = fs::read_symlink("/proc/self/exe", ec);
    if (ec) return "";
    dir = exe.parent_path() / ".." / "web" / "dist";
  }
  if (!fs::is_regular_file(dir / "index.html", ec)) return "";
  fs::path canonical = fs::canonical(dir, ec);
  return ec ? "" : canonical.string();
}

StaticFiles::StaticFiles(std::string root) : root_(std::move(root)) {}

HttpResponse StaticFiles::Answer(const HttpRequest& request) const {
  if (request.method != "GET" && request.method != "HEAD") {
    // 405 for what the dashboard has ("/" and its files); a path naming
    // nothing is a 404, as everywhere (a mistyped collection endpoint).
    std::optional<std::string> relative = DashboardFile(request.path);
    const bool exists = request.path == "/" ||
                        (!root_.empty() && relative && FileUnder(root_, *relative).has_value());
    if (!exists) {
      return ErrorResponse(Status::NotFound("no route for " + request.method + " " + request.path));
    }
    HttpResponse r = JsonResponse(
        405, nlohmann::json{{"error",
                             {{"code", "method_not_allowed"},
                              {"message", "use GET or HEAD for the dashboard's " + request.path}}}}
                 .dump());
    r.headers.push_back({"Allow", "GET, HEAD"});
    return r;
  }
  HttpResponse r;
  r.headers.push_back({"X-Content-Type-Options", "nosniff"});
  if (root_.empty()) {
    r.status = 404;
    r.content_type = "text/html; charset=utf-8";
    r.body = kNotBuiltPage;
    r.headers.push_back({"Cache-Control", "no-cache"});
    AddHtmlHeaders(&r);
    return r;
  }
  std::optional<std::string> relative = DashboardFile(request.path);
  if (!relative) return NotFoundResponse(request.path);
  std::optional<fs::path> file = FileUnder(root_, *relative);
  if (!file) {
    // A route of the single-page app: no dot in its last segment.
    auto slash = relative->rfind('/');
    std::string_view last = slash == std::string::npos
                                ? std::string_view(*relative)
                                : std::string_view(*relative).substr(slash + 1);
    if (last.find('.') != std::string_view::npos) return NotFoundResponse(request.path);
    relative = "index.html";
    file = FileUnder(root_, *relative);
    if (!file) return NotFoundResponse(request.path);
  }
  if (!ReadWholeFile(*file, &r.body)) {
    return ErrorResponse(Status::IOError("cannot read dashboard file " + *relative));
  }
  r.content_type = ContentTypeOf(*relative);
  const bool asset = relative->starts_with("assets/");
  r.headers.push_back(
      {"Cache-Control", asset ? "public, max-age=31536000, immutable" : "no-cache"});
  if (r.content_type.starts_with("text/html")) AddHtmlHeaders(&r);
  return r;
}

}  // namespace quanyu::server
