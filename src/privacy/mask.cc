#include "privacy/mask.h"

#include <algorithm>
#include <array>
#include <cctype>
#include <nlohmann/json.hpp>

namespace quanyu::privacy {
namespace {

using ojson = nlohmann::ordered_json;

constexpr std::array<std::string_view, 3> kDirectNamespaces = {"phone", "email", "taobao_nick"};
constexpr std::array<std::string_view, 17> kPersonalKeys = {
    "name",    "real_name", "first_name", "last_name",      "firstName",      "lastName",
    "address", "street",    "id_card",    "id_card_number", "birthday",       "phone",
    "mobile",  "email",     "$name",      "$phone",         "passport_number"};

bool IsEmail(std::string_view v) {
  auto at = v.find('@');
  return at != std::string_view::npos && at > 0 && v.find('.', at) != std::string_view::npos &&
         v.find(' ') == std::string_view::npos;
}

bool IsE164(std::string_view v) {
  if (v.size() < 8 || v.size() > 16 || v[0] != '+') return false;
  return std::all_of(v.begin() + 1, v.end(), [](char c) { return c >= '0' && c <= '9'; });
}

std::string MaskPhone(std::string_view v) {
  size_t digits = std::count_if(v.begin(), v.end(), [](char c) { return c >= '0' && c <= '9'; });
  if (digits < 7) return "***";
  // Keep "+CC" + the first 3 digits of the number and the last 4.
  size_t keep_head = v[0] == '+' ? 6 : 3;
  if (v.size() < keep_head + 4 + 3) return "***";  // too short to show any part
  std::string out(v.substr(0, keep_head));
  out += "****";
  out += v.substr(v.size() - 4);
  return out;
}

std::string MaskEmail(std::string_view v) {
  auto at = v.find('@');
  if (at == std::string_view::npos || at == 0) return "***";
  return std::string(1, v[0]) + "***" + std::string(v.substr(at));
}

void MaskString(std::string_view key, std::string* s) {
  std::string_view v = *s;
  // "ns:value" / "ns:scope:value" identifiers of a direct namespace.
  for (auto ns : kDirectNamespaces) {
    if (v.size() > ns.size() + 1 && v.starts_with(ns) && v[ns.size()] == ':') {
      std::string_view value = v.substr(ns.size() + 1);
      *s = std::string(ns) + ":" + MaskValue(ns, value);
      return;
    }
  }
  if (std::find(kPersonalKeys.begin(), kPersonalKeys.end(), key) != kPersonalKeys.end()) {
    std::string kind = IsEmail(v)                                               ? "email"
                       : (key == "phone" || key == "mobile" || key == "$phone") ? "phone"
                                                                                : "";
    *s = MaskValue(kind, v);
    return;
  }
  if (IsEmail(v)) {
    *s = MaskEmail(v);
  } else if (IsE164(v)) {
    *s = MaskPhone(v);
  }
}

void Walk(std::string_view key, ojson* j) {
  if (j->is_object()) {
    for (auto it = j->begin(); it != j->end(); ++it) Walk(it.key(), &it.value());
  } else if (j->is_array()) {
    for (auto& x : *j) Walk(key, &x);
  } else if (j->is_string()) {
    MaskString(key, &j->get_ref<std::string&>());
  } else if (j->is_number() &&
             std::find(kPersonalKeys.begin(), kPersonalKeys.end(), key) != kPersonalKeys.end()) {
    *j = "***";  // a phone number sent as a number
  }
}

}  // namespace

std::string MaskValue(std::string_view kind, std::string_view value) {
  if (kind == "email" || (kind != "phone" && IsEmail(value))) return MaskEmail(value);
  if (kind == "phone") return MaskPhone(value);
  return "***";
}

std::string MaskPiiJson(std::string_view json_text) {
  ojson doc = ojson::parse(json_text, nullptr, false);
  if (doc.is_discarded()) return "";
  Walk("", &doc);
  return doc.dump(-1, ' ', false, ojson::error_handler_t::replace);
}

}  // namespace quanyu::privacy
