// IdentityRules: which identifiers may be linked into one person
// (ARCHITECTURE.md §4, docs/identity.md "Rules").
//
// Every namespace has a `limit` — how many distinct values of it one person
// may hold; for scoped namespaces (wechat_openid per appid, ...) the limit
// counts values per scope — and a `priority` (1 is the highest). When an
// event would give a person more values than a limit allows, its
// lowest-priority identifier is dropped from linking and the event is tried
// again (Segment Unify's rule). With user_id's limit of 1, two persons that
// hold different user_ids never merge. Caps on merges and identifiers per
// person stop runaway graphs (a shared device, a hard-coded test id).
//
// Plain value type; immutable after construction.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "common/config.h"
#include "common/result.h"

namespace quanyu::identity {

// The namespace an identifier links under. Segment's alias names the id a
// person had before — almost always the anonymousId — as "previous_id"; it
// links as that anonymous id.
inline std::string_view LinkNamespace(std::string_view ns) {
  return ns == "previous_id" ? std::string_view("anonymous_id") : ns;
}

struct NamespaceRule {
  std::string ns;
  uint32_t limit = 0;     // distinct values per person (per scope for scoped namespaces)
  uint32_t priority = 0;  // 1 = highest; the highest-priority identifier is kept longest
};

struct IdentityRules {
  std::vector<NamespaceRule> namespaces;  // the defaults, with config overrides applied
  NamespaceRule fallback{"*", 10, 50};    // namespaces not listed
  uint32_t max_merges = 100;              // merges one person may absorb
  uint32_t max_identifiers = 1000;        // identifiers one person may hold
  // A late event or a correction rebuilds the connected part of the graph it
  // touches; beyond this many identifiers a late event is applied in arrival
  // order instead (documented approximation).
  uint32_t max_rebuild_identifiers = 20'000;

  // The documented defaults (docs/identity.md).
  static IdentityRules Defaults();
  // Defaults overridden by [identity] in quanyu.toml. InvalidArgument for a
  // limit of 0 or a priority of 0.
  static Result<IdentityRules> FromConfig(const Config& config);

  // The rule for `ns` (the fallback if unlisted).
  const NamespaceRule& For(std::string_view ns) const;
};

}  // namespace quanyu::identity
