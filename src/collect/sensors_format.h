// Parser for the Sensors Data (神策) collection protocol as sent to
// /sa and /sa.gif by its web, app, mini-program and server SDKs.
//
// Request forms: `data=<base64(json object)>` or `data_list=<base64(json
// array)>`, each either plain JSON or gzip (`gzip=1`), in a form POST body
// (application/x-www-form-urlencoded), a GET query string, or a raw JSON
// body. Record `type`s: track, track_signup, profile_set, profile_set_once,
// profile_increment, profile_append, profile_unset, profile_delete,
// track_id_bind, track_id_unbind. `time` is in milliseconds; `_track_id`
// becomes the messageId (de-duplication); `distinct_id`, `login_id`,
// `anonymous_id`, `original_id` and the `identities` object are mapped onto
// identifiers ($identity_login_id → user_id, $identity_anonymous_id /
// $identity_cookie_id → anonymous_id, $identity_mobile → phone,
// $identity_email → email, others by name). Properties $utm_source.. map to
// the campaign, $referrer to the referrer, $url to the url, and the common
// commerce properties (revenue / $revenue / order_amount, order_id,
// product_id, quantity, currency) to the typed columns.
//
// Stateless; thread-safe.
#pragma once

#include <string_view>

#include "collect/ingest.h"
#include "common/result.h"

namespace quanyu::collect {

// The raw parameters of one /sa request, already URL-decoded by the caller
// (the server merges query string and form body). `raw_body` is set instead
// when the body is JSON (not form encoded).
struct SensorsRequest {
  std::string data;       // base64
  std::string data_list;  // base64
  std::string gzip;       // "1" if data is gzip-compressed before base64
  std::string raw_body;   // a JSON object or array sent as the body
};

// Returns InvalidArgument for an unusable request (no data, bad base64, bad
// gzip, not JSON) with a message naming which; per-record problems become
// Rejections. PayloadTooLarge when decoded size or count exceed limits.
Result<ParsedRequest> ParseSensorsRequest(const SensorsRequest& request, int64_t received_us,
                                          const Limits& limits);

// Parses an application/x-www-form-urlencoded string into `out` (keys data,
// data_list, gzip; others ignored). Percent-decoding and '+' as space.
void ParseSensorsForm(std::string_view form, SensorsRequest* out);

}  // namespace quanyu::collect
