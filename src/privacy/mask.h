// Masking of personal data in API answers for roles that may not see it raw
// (analyst, marketer; docs/privacy.md, "Roles and audit"). Masks, in any
// JSON document:
//   * identifier strings of a direct-identifier namespace ("phone:+86138…",
//     "email:…", "taobao_nick:…") — the value part;
//   * email-shaped strings anywhere and "+"-prefixed phone numbers (E.164);
//   * the values of personal trait keys (name, address, id card, birthday,
//     phone, mobile, email, ...), wherever they appear.
// A phone keeps its country code and last 4 digits (+86138****8000), an
// email its first character and domain (a***@example.com); anything else
// becomes "***".
//
// Thread-safety: stateless; thread-safe.
#pragma once

#include <string>
#include <string_view>

namespace quanyu::privacy {

// The document with personal data masked; a text that is not JSON is
// returned as "" (never the unmasked text).
std::string MaskPiiJson(std::string_view json_text);

// One value masked as its kind asks ("phone", "email", or anything else).
std::string MaskValue(std::string_view kind, std::string_view value);

}  // namespace quanyu::privacy
