// Identifier normalization (ARCHITECTURE.md §3), done once at ingest. Every
// namespace: namespace lower-cased, value and scope trimmed, values over 512
// bytes dropped. Then by namespace:
//   phone   E.164. Spaces, dashes, dots and parentheses are ignored; "+CC" or
//           "00CC" keep their country code (and drop a "(0)" trunk digit);
//           otherwise the default region's national format applies, with or
//           without its country code: CN 1xxxxxxxxxx mobiles and 0-prefixed
//           landlines (+86), US (+1, 10 digits), GB (+44), HK (+852),
//           TW (+886), SG (+65), JP (+81). Letters, a misplaced '+', or a
//           number of the wrong shape → dropped; an unknown region accepts
//           only international forms.
//   email   lower-cased; exactly one '@' with text on both sides and no
//           blanks, else dropped.
//   *_sha256, *_md5   lower-case hex of 64 / 32 digits, else dropped.
//   idfa, idfv        upper-cased (Apple's UUID form).
//   others  as sent; scoped namespaces (wechat_openid:APPID,
//           douyin_openid:APPID, wechat_unionid:OPEN_ACCOUNT,
//           wecom_external_userid:CORP) keep their scope; a wechat_unionid
//           without one gets the configured [identity] wechat_open_account.
// Junk values are never linked, in any namespace: compared trimmed and
// case-insensitively, "", null, undefined, anonymous, none, nil, unknown,
// nan, (null), [object object], 0, -1, anything made only of '0', '-' and ':'
// (all-zero device ids and MACs), and the configured
// [identity] junk_identifiers.
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
  // `default_region` is an ISO 3166 code such as "CN" (case-insensitive);
  // `junk_values` extends the built-in junk list.
  // `wechat_open_account` (optional) is the scope given to a wechat_unionid
  // sent without one (Sensors' $identity_mp_unionid carries none), so it
  // matches the scoped form other sources send.
  IdentifierNormalizer(std::string default_region, const std::vector<std::string>& junk_values,
                       std::string wechat_open_account = "");

  // Normalizes one identifier in place. Returns false if it must be dropped
  // (junk, or a value that cannot be a valid identifier of its namespace).
  bool Normalize(Identifier* id) const;

  // Normalizes every identifier of the event, dropping junk, invalid values
  // and duplicates (identical after normalization); keeps the first
  // occurrence's position.
  void NormalizeAll(std::vector<Identifier>* ids) const;

  // True for junk values of any namespace.
  bool IsJunk(std::string_view value) const;

  // The built-in junk values, lower-case (values made only of '0', '-' and
  // ':' are junk too, by rule).
  static std::vector<std::string> BuiltinJunk();

 private:
  std::string default_region_;
  std::string wechat_open_account_;
  std::unordered_set<std::string> junk_;
};

// Known namespaces, for validation of externalIds types: user_id,
// anonymous_id, member_id, phone, email, device_id, idfa, idfv, oaid,
// android_id, the WeChat / Douyin / WeCom / Alipay / Taobao / JD / PDD /
// Xiaohongshu / Weibo / Bilibili / Kuaishou ids, and phone/email _sha256 and
// _md5. Case-sensitive.
bool IsKnownNamespace(std::string_view ns);

// Namespaces whose values are only unique within a scope: wechat_openid and
// douyin_openid (appid), wechat_unionid and douyin_unionid (open-platform
// account), wecom_external_userid (corp).
bool IsScopedNamespace(std::string_view ns);

}  // namespace quanyu::collect
