// Parser for the Sensors Data (神策) collection protocol as sent to
// /sa and /sa.gif by its web, app, mini-program and server SDKs.
//
// Request forms: `data=<base64(json object)>` or `data_list=<base64(json
// array)>` in a form POST body (application/x-www-form-urlencoded) or a GET
// query string, or a raw JSON body. The payload is decoded leniently, as the
// SDKs really send it: plain JSON if it starts with '{' or '['; otherwise
// base64 (standard or URL-safe, padding optional, line breaks ignored, and a
// ' ' taken as the '+' a client forgot to percent-encode), then gunzipped
// when it carries the gzip magic or `gzip=1` (decompressed size capped at
// 4 × limits.max_batch_bytes). `gzip=9` (the SDKs' AES encryption plugin) is
// refused with a clear error. data_list wins over data; both over raw_body.
//
// Record `type`s: track, track_signup, profile_set, profile_set_once,
// profile_increment, profile_append, profile_unset, profile_delete,
// track_id_bind, track_id_unbind (others, e.g. item_set: "unknown_type").
//   time        epoch milliseconds → timestamp_us; absent → received_us.
//   _track_id   → message_id as a decimal string (negative from the app
//               SDKs); absent → "" (the normalizer generates one).
//   event       → name; required for track, defaults $SignUp / $BindID /
//               $UnbindID; none for profile_*.
// Identity: user_id is `login_id`, else distinct_id when it is a login id
// (`properties.$is_login_id` true, or a track_signup), else
// identities.$identity_login_id. anonymous_id is `anonymous_id`, else a
// non-login distinct_id, else `original_id`, else the anonymous identities.
// `identifiers` carries user_id, anonymous_id (and original_id of a signup)
// plus every `identities` entry, de-duplicated, not yet normalized:
// $identity_login_id → user_id; $identity_anonymous_id, $identity_cookie_id,
// $identity_mp_id → anonymous_id; $identity_mobile → phone; $identity_email →
// email; $identity_android_id, $identity_android_uuid, $identity_ios_uuid →
// device_id; $identity_android_oaid, $identity_oaid → oaid; $identity_idfa →
// idfa; $identity_idfv → idfv; $identity_mp_unionid → wechat_unionid;
// $identity_mp_openid → wechat_openid (scope = properties.$app_id when that
// is a WeChat appid) and $identity_mp_<appid>_openid → wechat_openid:<appid>;
// any other key → its name without "$identity_". For track_id_unbind the
// identifiers are only the `identities` to unbind.
// Properties: of track-like records, $utm_source/medium/campaign/term/content
// → campaign (else utm_* of $url), $referrer → referrer, $url → url, and the
// typed columns: revenue (first numeric of revenue, $revenue, order_amount;
// numeric strings accepted), quantity, currency, order_id, product_id
// (numbers formatted). Values of an unexpected type stay in the JSON. The
// rest → properties_json, or traits_json for profile_* records.
// $is_login_id is dropped. SDK presets describing library, device and network
// ($lib, $lib_version, $os, $model, $screen_width, $network_type, $ip,
// $app_id, ...), the `lib` object, `project` and `_flush_time` →
// context_json.
// Per-record rejections: wrong_type, unknown_type, missing_event,
// missing_identity, invalid_timestamp, event_too_large (minified record over
// limits.max_event_bytes).
//
// Stateless; thread-safe (one simdjson parser per thread).
#pragma once

#include <string>
#include <string_view>

#include "collect/ingest.h"
#include "common/result.h"

namespace quanyu::collect {

// The raw parameters of one /sa request, already URL-decoded by the caller
// (the server merges query string and form body). `raw_body` is set instead
// when the body is JSON (not form encoded).
struct SensorsRequest {
  std::string data;       // base64 (or plain JSON) of one record
  std::string data_list;  // base64 (or plain JSON) of an array of records
  std::string gzip;       // "1": gzip-compressed before base64; "9": encrypted
  std::string raw_body;   // a JSON object or array sent as the body
};

// Returns InvalidArgument for an unusable request (no data, bad base64, bad
// gzip, encrypted, not JSON, JSON neither object nor array) with a message
// naming the parameter and the problem; per-record problems become
// Rejections. PayloadTooLarge when the base64-decoded (or plain JSON) payload
// exceeds limits.max_batch_bytes, its gzip inflation 4 × max_batch_bytes, or
// the records max_batch_events. `write_key` is left empty: Sensors sends
// its project/token in the URL, which the server reads.
Result<ParsedRequest> ParseSensorsRequest(const SensorsRequest& request, int64_t received_us,
                                          const Limits& limits);

// Parses an application/x-www-form-urlencoded string into `out` (keys data,
// data_list, gzip; others such as project, crc, ext are ignored; the last of
// repeated keys wins). Percent-decoding with '+' as space; a malformed
// escape is kept literally. Never fails: bad values surface in
// ParseSensorsRequest.
void ParseSensorsForm(std::string_view form, SensorsRequest* out);

}  // namespace quanyu::collect
