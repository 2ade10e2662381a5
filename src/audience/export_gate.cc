#include "audience/export_gate.h"

namespace quanyu::audience {

Result<ExportTarget> ExportTargetNamed(std::string_view name) {
  if (name == "csv") return ExportTarget::kMembersCsv;
  if (name == "tencent_ads") return ExportTarget::kTencentAds;
  if (name == "ocean_engine") return ExportTarget::kOceanEngine;
  if (name == "meta") return ExportTarget::kMeta;
  if (name == "google") return ExportTarget::kGoogle;
  return Status::InvalidArgument("unknown export destination \"" + std::string(name) +
                                 "\": use csv, tencent_ads, ocean_engine, meta or google");
}

std::string_view ExportTargetName(ExportTarget t) {
  switch (t) {
    case ExportTarget::kMembersCsv:
      return "csv";
    case ExportTarget::kTencentAds:
      return "tencent_ads";
    case ExportTarget::kOceanEngine:
      return "ocean_engine";
    case ExportTarget::kMeta:
      return "meta";
    case ExportTarget::kGoogle:
      return "google";
  }
  return "?";
}

std::vector<privacy::Use> UsesOf(ExportTarget target) {
  const std::string name(ExportTargetName(target));
  if (target == ExportTarget::kMembersCsv) {
    return {privacy::Use{privacy::Topic::kAnalytics, std::nullopt, false, false, name},
            privacy::Use{privacy::Topic::kMarketing, std::nullopt, false, false, name}};
  }
  const bool abroad = target == ExportTarget::kMeta || target == ExportTarget::kGoogle;
  return {privacy::Use{privacy::Topic::kMarketing, std::nullopt, true, abroad, name}};
}

Roaring ExportablePersons(ExportTarget target, const Roaring& members, const UseCheck& may_use) {
  const std::vector<privacy::Use> uses = UsesOf(target);
  Roaring out;
  for (uint32_t id : members) {
    bool ok = true;
    for (const auto& use : uses) {
      if (!may_use(id, use).allowed) {
        ok = false;
        break;
      }
    }
    if (ok) out.add(id);
  }
  return out;
}

}  // namespace quanyu::audience
