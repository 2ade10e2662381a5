#include "audience/export_gate.h"

#include <unordered_map>

#include "audience/internal/event_scan.h"

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
    case ExportTarget::kMembersCsv: return "csv";
    case ExportTarget::kTencentAds: return "tencent_ads";
    case ExportTarget::kOceanEngine: return "ocean_engine";
    case ExportTarget::kMeta: return "meta";
    case ExportTarget::kGoogle: return "google";
  }
  return "?";
}

bool MayExport(ExportTarget target, const PersonConsent& consent) {
  if (target == ExportTarget::kMembersCsv) return consent.analytics.value_or(true);
  return consent.marketing.value_or(false);
}

Result<Roaring> ExportablePersons(ExportTarget target, const Roaring& members,
                                  const query::QueryContext& q) {
  std::unordered_map<uint32_t, PersonConsent> consent;
  RETURN_IF_ERROR(internal::ForEachConsent(q, "analytics", [&](uint32_t id, bool granted) {
    if (members.contains(id)) consent[id].analytics = granted;
  }));
  RETURN_IF_ERROR(internal::ForEachConsent(q, "marketing", [&](uint32_t id, bool granted) {
    if (members.contains(id)) consent[id].marketing = granted;
  }));
  Roaring out;
  const PersonConsent unknown;
  for (uint32_t id : members) {
    auto it = consent.find(id);
    if (MayExport(target, it == consent.end() ? unknown : it->second)) out.add(id);
  }
  return out;
}

}  // namespace quanyu::audience
