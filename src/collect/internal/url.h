// URL helpers for collect: host extraction, query parameters, percent
// decoding. Stateless; thread-safe.
#pragma once

#include <string>
#include <string_view>

#include "common/event.h"

namespace quanyu::collect::internal {

// Decodes %XX escapes; '+' becomes a space when `plus_is_space`.
std::string PercentDecode(std::string_view s, bool plus_is_space = true);

// The lower-cased host of an absolute URL ("https://www.Douyin.com/x" →
// "www.douyin.com"), or "" if it has none.
std::string UrlHost(std::string_view url);

// The decoded value of query parameter `name`, or "" if absent. '+' is a
// space (form encoding) when `plus_is_space`, else kept as '+' (for values
// such as E.164 phone numbers that people type unescaped).
std::string QueryParam(std::string_view url, std::string_view name, bool plus_is_space = true);

// Fills the campaign from utm_* query parameters of `url`.
void CampaignFromUrl(std::string_view url, Campaign* campaign);

}  // namespace quanyu::collect::internal
