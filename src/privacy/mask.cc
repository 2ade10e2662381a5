#include "privacy/mask.h"

#include <algorithm>
#include <array>
#include <cctype>
#include <nlohmann/json.hpp>

#include "privacy/pii.h"

namespace quanyu::privacy {
namespace {

using ojson = nlohmann::ordered_json;

// Personal keys (pii.h) and a birthday: masked for roles that may not see
// them, though only the former are tokenized at rest.
bool IsMaskedKey(std::string_view key) {
  return IsPersonalKey(key) || key == "birthday" || key == "$birthday";
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
  // Already masked where a token was revealed (PiiVault::RevealText with
  // mask): "1***@qq.com" stays, rather than becoming "***".
  if (v.find("***") != std::string_view::npos) return;
  // "ns:value" / "ns:scope:value" identifiers of a direct namespace.
  const size_t colon = v.find(':');
  if (colon != std::string_view::npos && colon + 1 < v.size() &&
      IsDirectNamespace(v.substr(0, colon))) {
    std::string ns(v.substr(0, colon));
    *s = ns + ":" + MaskValue(ns, v.substr(colon + 1));
    return;
  }
  if (IsMaskedKey(key)) {
    std::string kind = LooksLikeEmail(v) ? "email" : LooksLikePhone(v) ? "phone" : "";
    *s = MaskValue(kind, v);
    return;
  }
  if (LooksLikeEmail(v)) {
    *s = MaskEmail(v);
  } else if (LooksLikePhone(v)) {
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
  } else if (j->is_number() && IsMaskedKey(key)) {
    *j = "***";  // a phone number sent as a number
  }
}

}  // namespace

std::string MaskValue(std::string_view kind, std::string_view value) {
  if (kind == "email" || (kind != "phone" && LooksLikeEmail(value))) return MaskEmail(value);
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
