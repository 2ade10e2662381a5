#include "server/router.h"

#include <nlohmann/json.hpp>

#include "collect/internal/base64.h"
#include "collect/internal/gzip.h"
#include "collect/internal/url.h"
#include "collect/segment_format.h"
#include "collect/sensors_format.h"
#include "common/metrics.h"
#include "common/time_util.h"
#include "server/http_status.h"

namespace quanyu::server {
namespace {

// A 1×1 transparent GIF, the answer Sensors' image beacon expects.
constexpr unsigned char kPixelGif[] = {
    0x47, 0x49, 0x46, 0x38, 0x39, 0x61, 0x01, 0x00, 0x01, 0x00, 0x80, 0x00, 0x00, 0xff, 0xff,
    0xff, 0x00, 0x00, 0x00, 0x21, 0xf9, 0x04, 0x01, 0x00, 0x00, 0x00, 0x00, 0x2c, 0x00, 0x00,
    0x00, 0x00, 0x01, 0x00, 0x01, 0x00, 0x00, 0x02, 0x02, 0x44, 0x01, 0x00, 0x3b};

std::string LowerAscii(std::string_view s) {
  std::string out(s);
  for (auto& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

// The write key from "Authorization: Basic base64(key:)" — Segment's scheme.
std::string BasicAuthUser(std::string_view header) {
  if (header.size() < 6 || LowerAscii(header.substr(0, 6)) != "basic ") return "";
  auto decoded = collect::internal::Base64Decode(header.substr(6));
  if (!decoded.ok()) return "";
  std::string user = *decoded;
  if (auto colon = user.find(':'); colon != std::string::npos) user.resize(colon);
  return user;
}

nlohmann::json RejectionsJson(const std::vector<collect::Rejection>& rejected) {
  auto arr = nlohmann::json::array();
  for (const auto& r : rejected) {
    nlohmann::json j{{"reason", r.reason}, {"message", r.message}};
    if (r.index >= 0) j["index"] = r.index;
    arr.push_back(std::move(j));
  }
  return arr;
}

// Renders an ingest outcome: 200 when everything usable is durable (with the
// rejected ones listed), 400 when nothing was usable, else the status's code.
HttpResponse IngestResponse(const IngestResult& r) {
  if (!r.status.ok()) {
    HttpResponse resp = ErrorResponse(r.status);
    if (r.status.code() == StatusCode::kResourceExhausted)
      resp.headers.push_back({"Retry-After", "1"});
    return resp;
  }
  if (r.accepted == 0 && r.duplicates == 0 && !r.rejected.empty()) {
    nlohmann::json j{{"error",
                      {{"code", "invalid_argument"},
                       {"message", r.rejected.front().message},
                       {"rejected", RejectionsJson(r.rejected)}}}};
    return JsonResponse(400, j.dump());
  }
  nlohmann::json j{{"success", true}};
  if (!r.rejected.empty()) {
    j["accepted"] = r.accepted;
    j["duplicates"] = r.duplicates;
    j["rejected"] = RejectionsJson(r.rejected);
  }
  return JsonResponse(200, j.dump());
}

}  // namespace

std::string_view HttpRequest::Header(std::string_view lower_name) const {
  for (const auto& [k, v] : headers) {
    if (k == lower_name) return v;
  }
  return {};
}

HttpResponse JsonResponse(int status, std::string body) {
  HttpResponse r;
  r.status = status;
  r.body = std::move(body);
  return r;
}

HttpResponse ErrorResponse(const Status& status) {
  return JsonResponse(HttpStatusFor(status.code()), ErrorJson(status));
}

Router::Router(Engine* engine, std::string admin_key, std::string web_dir)
    : engine_(engine), admin_key_(std::move(admin_key)), dashboard_(std::move(web_dir)) {}

Status Router::DecodeBody(HttpRequest& request) {
  std::string encoding = LowerAscii(request.Header("content-encoding"));
  if (encoding.empty() || encoding == "identity") return Status::OK();
  if (encoding != "gzip" && encoding != "deflate") {
    return Status::InvalidArgument("unsupported Content-Encoding \"" + encoding + "\" (use gzip)");
  }
  auto inflated = collect::internal::GunzipCapped(request.body, engine_->limits().max_batch_bytes);
  if (!inflated.ok()) return inflated.status();
  request.body = std::move(*inflated);
  return Status::OK();
}

void Router::Handle(HttpRequest request, Respond respond) {
  const std::string& path = request.path;
  if (request.method == "OPTIONS") {  // CORS preflight from browsers' SDKs
    HttpResponse r = JsonResponse(204, "");
    r.headers.push_back({"Access-Control-Allow-Methods", "GET, POST, OPTIONS"});
    r.headers.push_back(
        {"Access-Control-Allow-Headers", "Authorization, Content-Type, Content-Encoding"});
    r.headers.push_back({"Access-Control-Max-Age", "86400"});
    return respond(std::move(r));
  }
  if (path == "/healthz") return respond(JsonResponse(200, R"({"status":"ok"})"));
  if (path == "/metrics") {
    HttpResponse r;
    r.content_type = "text/plain; version=0.0.4";
    r.body = MetricsRegistry::Default()->RenderPrometheus();
    return respond(std::move(r));
  }
  if (path.starts_with("/v1/")) {
    if (request.method != "POST") {
      return respond(ErrorResponse(Status::InvalidArgument("use POST for " + path)));
    }
    std::string endpoint = path.substr(4);
    return HandleSegment(request, endpoint, std::move(respond));
  }
  if (path == "/sa" || path == "/sa.gif")
    return HandleSensors(request, path == "/sa.gif", std::move(respond));
  if (path.starts_with("/api/v1/") || path == "/api/v1")
    return HandleApi(request, std::move(respond));
  if (DashboardPath(path)) return respond(dashboard_.Answer(request));
  respond(ErrorResponse(Status::NotFound("no route for " + request.method + " " + path)));
}

void Router::HandleSegment(HttpRequest& request, std::string_view endpoint, Respond respond) {
  int64_t received = SystemClock::Default()->NowMicros();
  if (Status st = DecodeBody(request); !st.ok()) {
    engine_->CountRejection(
        st.code() == StatusCode::kPayloadTooLarge ? "body_too_large" : "bad_encoding", "");
    return respond(ErrorResponse(st));
  }
  auto parsed = collect::ParseSegmentRequest(request.body, endpoint, received, engine_->limits());
  if (!parsed.ok()) {
    const char* reason = parsed.status().code() == StatusCode::kPayloadTooLarge ? "body_too_large"
                         : parsed.status().code() == StatusCode::kNotFound      ? "unknown_endpoint"
                                                                                : "invalid_json";
    engine_->CountRejection(reason, "");
    return respond(ErrorResponse(parsed.status()));
  }
  IngestRequest ingest;
  ingest.write_key = BasicAuthUser(request.Header("authorization"));
  ingest.parsed = std::move(*parsed);
  engine_->Ingest(std::move(ingest), [respond = std::move(respond)](IngestResult r) {
    HttpResponse resp = IngestResponse(r);
    resp.headers.push_back({"Access-Control-Allow-Origin", "*"});
    respond(std::move(resp));
  });
}

void Router::HandleSensors(HttpRequest& request, bool gif, Respond respond) {
  int64_t received = SystemClock::Default()->NowMicros();
  if (Status st = DecodeBody(request); !st.ok()) {
    engine_->CountRejection(
        st.code() == StatusCode::kPayloadTooLarge ? "body_too_large" : "bad_encoding", "");
    return respond(ErrorResponse(st));
  }
  collect::SensorsRequest sreq;
  collect::ParseSensorsForm(request.query, &sreq);
  std::string content_type = LowerAscii(request.Header("content-type"));
  if (!request.body.empty()) {
    if (content_type.find("json") != std::string::npos ||
        (!request.body.empty() && (request.body[0] == '{' || request.body[0] == '['))) {
      sreq.raw_body = request.body;
    } else {
      collect::ParseSensorsForm(request.body, &sreq);
    }
  }
  // The write key: Basic auth user, ?token=, or ?project= (SDKs can only set a URL).
  IngestRequest ingest;
  ingest.write_key = BasicAuthUser(request.Header("authorization"));
  if (ingest.write_key.empty())
    ingest.write_key = collect::internal::QueryParam("?" + request.query, "token");
  if (ingest.write_key.empty())
    ingest.write_key = collect::internal::QueryParam("?" + request.query, "project");
  auto parsed = collect::ParseSensorsRequest(sreq, received, engine_->limits());
  if (!parsed.ok()) {
    engine_->CountRejection(parsed.status().code() == StatusCode::kPayloadTooLarge
                                ? "body_too_large"
                                : "invalid_payload",
                            "");
    return respond(ErrorResponse(parsed.status()));
  }
  ingest.parsed = std::move(*parsed);
  engine_->Ingest(std::move(ingest), [gif, respond = std::move(respond)](IngestResult r) {
    HttpResponse resp = IngestResponse(r);
    if (gif && resp.status == 200) {
      resp.content_type = "image/gif";
      resp.body.assign(reinterpret_cast<const char*>(kPixelGif), sizeof kPixelGif);
    }
    resp.headers.push_back({"Access-Control-Allow-Origin", "*"});
    respond(std::move(resp));
  });
}

}  // namespace quanyu::server
