#include "collect/sensors_format.h"

#include <fmt/format.h>
#include <simdjson.h>

#include <algorithm>
#include <string>

#include "collect/internal/base64.h"
#include "collect/internal/gzip.h"
#include "collect/internal/json_read.h"
#include "collect/internal/sensors_record.h"
#include "collect/internal/url.h"

namespace quanyu::collect {
namespace {

using internal::JsonTypeName;
using simdjson::dom::element;

// Turns one request parameter into JSON text: plain JSON as-is, otherwise
// base64, gzip'd when it carries the gzip magic or `gzip` is "1".
Result<std::string> DecodeParameter(std::string_view name, std::string_view value,
                                    std::string_view gzip, const Limits& limits) {
  auto is_space = [](char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; };
  while (!value.empty() && is_space(value.front())) value.remove_prefix(1);
  while (!value.empty() && is_space(value.back())) value.remove_suffix(1);
  if (value.empty()) return Status::InvalidArgument(fmt::format("{} is empty", name));
  if (gzip == "9") {
    return Status::InvalidArgument(fmt::format(
        "{}: encrypted payloads (gzip=9) are not supported; turn off the SDK's encryption", name));
  }
  auto looks_json = [](std::string_view s) { return !s.empty() && (s[0] == '{' || s[0] == '['); };
  if (looks_json(value)) {  // some clients send the JSON itself, URL-encoded
    if (value.size() > limits.max_batch_bytes) {
      return Status::PayloadTooLarge(fmt::format("{} of {} bytes exceeds the limit of {} bytes",
                                                 name, value.size(), limits.max_batch_bytes));
    }
    return std::string(value);
  }
  // Cheap early-out before decoding: base64 (with MIME line breaks) is under
  // 1.4 times the bytes it carries; the exact limit is checked once decoded.
  if (value.size() > limits.max_batch_bytes / 2 * 3 + 16) {
    return Status::PayloadTooLarge(
        fmt::format("{} of {} bytes cannot decode to within the limit of {} bytes", name,
                    value.size(), limits.max_batch_bytes));
  }
  // A '+' the client did not percent-encode arrives as ' ' after form decoding.
  std::string b64(value);
  std::replace(b64.begin(), b64.end(), ' ', '+');
  auto decoded = internal::Base64Decode(b64);
  if (!decoded.ok()) return decoded.status().WithContext(name);
  if (decoded->size() > limits.max_batch_bytes) {
    return Status::PayloadTooLarge(
        fmt::format("decoded {} of {} bytes exceeds the limit of {} bytes", name, decoded->size(),
                    limits.max_batch_bytes));
  }
  std::string_view text = *decoded;
  while (!text.empty() && is_space(text.front())) text.remove_prefix(1);
  if (internal::LooksGzipped(*decoded) || (gzip == "1" && !looks_json(text))) {
    auto inflated = internal::GunzipCapped(*decoded, limits.max_batch_bytes * 4);
    if (!inflated.ok())
      return inflated.status().WithContext(fmt::format("{} (gzip={})", name, gzip));
    return inflated;
  }
  return decoded;
}

}  // namespace

Result<ParsedRequest> ParseSensorsRequest(const SensorsRequest& request, int64_t received_us,
                                          const Limits& limits) {
  std::string_view name, value;
  if (!request.data_list.empty()) {
    name = "data_list";
    value = request.data_list;
  } else if (!request.data.empty()) {
    name = "data";
    value = request.data;
  } else if (!request.raw_body.empty()) {
    name = "body";
    value = request.raw_body;
  } else {
    return Status::InvalidArgument(
        "no data: expected a data or data_list parameter or a JSON body");
  }
  ASSIGN_OR_RETURN(std::string json, DecodeParameter(name, value, request.gzip, limits));

  thread_local simdjson::dom::parser parser;
  element root;
  if (auto error = parser.parse(json.data(), json.size()).get(root)) {
    return Status::InvalidArgument(
        fmt::format("{} is not valid JSON: {}", name, simdjson::error_message(error)));
  }
  ParsedRequest out;
  auto parse_one = [&](const element& item, int index) {
    if (!item.is_object()) {
      out.rejected.push_back(
          {index, "wrong_type",
           fmt::format("a record must be an object, not {}", JsonTypeName(item.type()))});
      return;
    }
    size_t size = simdjson::minify(item).size();
    if (size > limits.max_event_bytes) {
      out.rejected.push_back({index, "event_too_large",
                              fmt::format("record of {} bytes exceeds the limit of {} bytes", size,
                                          limits.max_event_bytes)});
      return;
    }
    Event e;
    if (auto err =
            internal::ParseSensorsRecord(item.get_object().value_unsafe(), received_us, &e)) {
      out.rejected.push_back({index, std::move(err->reason), std::move(err->message)});
      return;
    }
    out.events.push_back(std::move(e));
  };
  if (root.is_object()) {
    parse_one(root, 0);
    return out;
  }
  if (!root.is_array()) {
    return Status::InvalidArgument(fmt::format("{} must hold a JSON object or array, not {}", name,
                                               JsonTypeName(root.type())));
  }
  auto array = root.get_array().value_unsafe();
  if (array.size() > limits.max_batch_events) {
    return Status::PayloadTooLarge(fmt::format("batch of {} records exceeds the limit of {}",
                                               array.size(), limits.max_batch_events));
  }
  out.events.reserve(array.size());
  int index = 0;
  for (element item : array) parse_one(item, index++);
  return out;
}

void ParseSensorsForm(std::string_view form, SensorsRequest* out) {
  while (!form.empty()) {
    auto amp = form.find('&');
    std::string_view pair = form.substr(0, amp);
    form.remove_prefix(amp == std::string_view::npos ? form.size() : amp + 1);
    auto eq = pair.find('=');
    std::string key = internal::PercentDecode(pair.substr(0, eq));
    std::string_view raw = eq == std::string_view::npos ? std::string_view() : pair.substr(eq + 1);
    if (key == "data") {
      out->data = internal::PercentDecode(raw);
    } else if (key == "data_list") {
      out->data_list = internal::PercentDecode(raw);
    } else if (key == "gzip") {
      out->gzip = internal::PercentDecode(raw);
    }
  }
}

}  // namespace quanyu::collect
