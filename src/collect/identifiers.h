// Identifier normalization (ARCHITECTURE.md §3), done once at ingest:
// phone numbers to E.164 (default region configurable, CN = +86), emails
// trimmed and lower-cased, hashed forms (phone_sha256, email_sha256, ...)
// lower-case hex, scoped namespaces (wechat_openid:APPID, douyin_openid:APPID,
// wechat_unionid:OPEN_ACCOUNT, wecom_external_userid:CORP) keep their scope.
// Junk values (null, undefined, anonymous, 0, -1, all-zero device ids,
// empty, and a configured block list) are never linked: they are dropped.
//
// Thread-safety: immutable after construction; safe to share.
#pragma once

#include <string>
#include <string_view>
#include <unordered_set>
#include <vector>

#include "common/event.h"

namespace quanyu::collect {

class IdentifierNormalizer {
 public:
  IdentifierNormalizer(std::string default_region, const std::vector<std::string>& junk_values);

  // Normalizes one identifier in place. Returns false if it must be dropped
  // (junk, or a value that cannot be a valid identifier of its namespace).
  bool Normalize(Identifier* id) const;

  // Normalizes every identifier of the event, dropping junk and duplicates.
  void NormalizeAll(std::vector<Identifier>* ids) const;

  // True for junk values of any namespace.
  bool IsJunk(std::string_view value) const;

 private:
  std::string default_region_;
  std::unordered_set<std::string> junk_;
};

// Known namespaces, for validation of externalIds types.
bool IsKnownNamespace(std::string_view ns);

}  // namespace quanyu::collect
