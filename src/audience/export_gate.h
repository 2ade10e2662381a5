// Which consent an audience export needs (docs/audience-export.md,
// "Consent"). The decision itself is privacy::MayUse — the one function that
// decides for every export and activation — asked through the engine so it
// reads the consent ledger and is counted in /metrics:
//   * the members CSV (used in-house) leaves out persons who refused
//     analytics or marketing; persons who never answered are included;
//   * an ad platform (Tencent Ads, Ocean Engine, Meta, Google) is a third
//     party: marketing consent must be granted explicitly (PIPL art. 23;
//     silence is not consent) and third-party sharing not refused; Meta and
//     Google are outside China, so they also need cross-border transfer
//     consent (PIPL art. 39).
//
// Thread-safety: stateless; thread-safe.
#pragma once

#include <functional>
#include <optional>
#include <roaring/roaring.hh>
#include <string_view>
#include <vector>

#include "common/result.h"
#include "privacy/gate.h"

namespace quanyu::audience {

enum class ExportTarget { kMembersCsv, kTencentAds, kOceanEngine, kMeta, kGoogle };

// "csv", "tencent_ads", "ocean_engine", "meta", "google"; InvalidArgument
// listing them.
Result<ExportTarget> ExportTargetNamed(std::string_view name);
std::string_view ExportTargetName(ExportTarget t);

// The uses an export to `target` makes of each person: all must be allowed.
std::vector<privacy::Use> UsesOf(ExportTarget target);

// Asks whether one person may be used so (Engine::MayUse).
using UseCheck = std::function<privacy::UseDecision(uint32_t one_id, const privacy::Use& use)>;

// The persons of `members` every use of UsesOf(target) allows.
Roaring ExportablePersons(ExportTarget target, const Roaring& members, const UseCheck& may_use);

}  // namespace quanyu::audience
