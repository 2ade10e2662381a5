// A minimal appender for the small JSON objects the simulator puts in
// properties_json / traits_json / context_json. Hand-written because it runs
// for most of ~20 M events: no DOM, no allocation beyond the output string.
// Keys are trusted literals; string values are escaped per RFC 8259.
//
// Thread-safety: a JsonObjectWriter writes one string owned by its caller.
#pragma once

#include <charconv>
#include <cstdint>
#include <string>
#include <string_view>

#include "common/json_text.h"

namespace quanyu::sim::internal {

class JsonObjectWriter {
 public:
  // Starts an object in *out, replacing its contents.
  explicit JsonObjectWriter(std::string* out) : out_(out) {
    out_->clear();
    out_->push_back('{');
  }
  JsonObjectWriter(const JsonObjectWriter&) = delete;
  JsonObjectWriter& operator=(const JsonObjectWriter&) = delete;
  ~JsonObjectWriter() { out_->push_back('}'); }

  JsonObjectWriter& Str(std::string_view key, std::string_view value) {
    Key(key);
    AppendJsonString(out_, value);
    return *this;
  }
  JsonObjectWriter& Int(std::string_view key, int64_t value) {
    Key(key);
    char buf[24];
    out_->append(buf, static_cast<size_t>(std::to_chars(buf, buf + sizeof(buf), value).ptr - buf));
    return *this;
  }
  // Money and prices: two decimals. REQUIRES: |value| < 1e15.
  JsonObjectWriter& Money(std::string_view key, double value) {
    Key(key);
    char buf[32];
    const auto r = std::to_chars(buf, buf + sizeof(buf), value, std::chars_format::fixed, 2);
    out_->append(buf, static_cast<size_t>(r.ptr - buf));
    return *this;
  }
  JsonObjectWriter& Bool(std::string_view key, bool value) {
    Key(key);
    out_->append(value ? "true" : "false");
    return *this;
  }
  // Opens a nested object; close it with EndObject().
  JsonObjectWriter& Object(std::string_view key) {
    Key(key);
    out_->push_back('{');
    first_ = true;
    return *this;
  }
  JsonObjectWriter& EndObject() {
    out_->push_back('}');
    first_ = false;
    return *this;
  }

 private:
  void Key(std::string_view key) {
    if (!first_) out_->push_back(',');
    first_ = false;
    out_->push_back('"');
    out_->append(key);
    out_->append("\":");
  }

  std::string* out_;
  bool first_ = true;
};

}  // namespace quanyu::sim::internal
