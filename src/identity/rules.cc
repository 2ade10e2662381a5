#include "identity/rules.h"

#include <algorithm>

namespace quanyu::identity {

IdentityRules IdentityRules::Defaults() {
  IdentityRules r;
  // Ordered by priority. Login ids first, then contact points, then platform
  // accounts, then devices, then cookies.
  r.namespaces = {
      {"user_id", 1, 1},
      {"member_id", 1, 2},
      {"phone", 3, 3},
      {"phone_sha256", 3, 3},
      {"phone_md5", 3, 3},
      {"email", 5, 4},
      {"email_sha256", 5, 4},
      {"email_md5", 5, 4},
      {"wechat_unionid", 1, 5},
      {"douyin_unionid", 1, 5},
      {"alipay_uid", 1, 6},
      {"taobao_nick", 2, 6},
      {"jd_pin", 2, 6},
      {"pdd_uid", 2, 6},
      {"wechat_openid", 1, 7},
      {"douyin_openid", 1, 7},
      {"wecom_external_userid", 1, 7},
      {"xiaohongshu_id", 2, 8},
      {"weibo_uid", 2, 8},
      {"bilibili_mid", 2, 8},
      {"kuaishou_id", 2, 8},
      {"idfa", 10, 9},
      {"idfv", 10, 9},
      {"oaid", 10, 9},
      {"android_id", 10, 9},
      {"device_id", 10, 9},
      {"anonymous_id", 100, 10},
  };
  return r;
}

Result<IdentityRules> IdentityRules::FromConfig(const Config& config) {
  IdentityRules r = Defaults();
  if (config.identity_max_merges < 1 || config.identity_max_identifiers < 2)
    return Status::InvalidArgument(
        "[identity] max_merges_per_person must be >= 1 and max_identifiers_per_person >= 2");
  r.max_merges = static_cast<uint32_t>(config.identity_max_merges);
  r.max_identifiers = static_cast<uint32_t>(config.identity_max_identifiers);
  for (const auto& o : config.identity_rules) {
    if (o.ns.empty()) return Status::InvalidArgument("[[identity.rules]] needs a namespace");
    if (o.limit < 1 || o.priority < 1)
      return Status::InvalidArgument("[[identity.rules]] " + o.ns +
                                     ": limit and priority must be >= 1");
    auto it = std::find_if(r.namespaces.begin(), r.namespaces.end(),
                           [&](const NamespaceRule& n) { return n.ns == o.ns; });
    NamespaceRule rule{o.ns, static_cast<uint32_t>(o.limit), static_cast<uint32_t>(o.priority)};
    if (it != r.namespaces.end()) {
      *it = rule;
    } else {
      r.namespaces.push_back(rule);
    }
  }
  return r;
}

const NamespaceRule& IdentityRules::For(std::string_view ns) const {
  for (const auto& n : namespaces) {
    if (n.ns == ns) return n;
  }
  return fallback;
}

}  // namespace quanyu::identity
