#include "server/settings_api.h"

#include <algorithm>
#include <nlohmann/json.hpp>

#include "collect/channel.h"
#include "collect/identifiers.h"
#include "identity/rules.h"
#include "server/router.h"

namespace quanyu::server {
namespace {

using nlohmann::json;

json RuleJson(const identity::NamespaceRule& r) {
  return {{"namespace", r.ns}, {"limit", r.limit}, {"priority", r.priority}};
}

// The rules the engine opened with: the config passed IdentityRules::FromConfig
// at open, so it passes again here.
Result<json> IdentityJson(const Config& config) {
  ASSIGN_OR_RETURN(identity::IdentityRules rules, identity::IdentityRules::FromConfig(config));
  std::vector<identity::NamespaceRule> namespaces = rules.namespaces;
  std::stable_sort(namespaces.begin(), namespaces.end(),
                   [](const auto& a, const auto& b) { return a.priority < b.priority; });
  json listed = json::array();
  for (const auto& r : namespaces) listed.push_back(RuleJson(r));
  json overrides = json::array();
  for (const auto& o : config.identity_rules) {
    overrides.push_back({{"namespace", o.ns}, {"limit", o.limit}, {"priority", o.priority}});
  }
  return json{{"namespaces", std::move(listed)},
              {"other_namespaces",
               {{"limit", rules.fallback.limit}, {"priority", rules.fallback.priority}}},
              {"configured_rules", std::move(overrides)},
              {"max_merges_per_person", rules.max_merges},
              {"max_identifiers_per_person", rules.max_identifiers},
              {"max_rebuild_identifiers", rules.max_rebuild_identifiers},
              {"junk_values",
               {{"builtin", collect::IdentifierNormalizer::BuiltinJunk()},
                {"builtin_rule", "any value made only of '0', '-' and ':'"},
                {"configured", config.junk_identifiers}}},
              {"default_phone_region", config.default_region},
              {"wechat_open_account", config.wechat_open_account}};
}

}  // namespace

HttpResponse SettingsResponse(const Engine& engine) {
  const Config& config = engine.config();
  auto identity = IdentityJson(config);
  if (!identity.ok()) return ErrorResponse(identity.status());
  json channels =
      json::parse(collect::ChannelClassifier(config.channel_rules).TaxonomyJson(), nullptr, false);
  if (channels.is_discarded()) {
    return ErrorResponse(Status::Internal("the channel taxonomy did not render as JSON"));
  }
  return JsonResponse(
      200, json{{"identity", std::move(*identity)}, {"channels", std::move(channels)}}.dump(
               -1, ' ', false, json::error_handler_t::replace));
}

}  // namespace quanyu::server
