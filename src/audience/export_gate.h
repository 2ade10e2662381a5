// The one place that decides who may be exported to which destination
// (docs/audience-export.md, "Consent"). Every audience export — the members
// CSV and the hashed files for ad platforms — filters its persons through
// MayExport; activation (journeys, issue 8's consent ledger) is meant to
// call the same function.
//
// The rule today, from each person's latest "Consent Updated" choice per
// category (context.consent.categoryPreferences, Segment's consent model):
//   * an ad platform (Tencent Ads, Ocean Engine, Meta, Google) receives a
//     person only with marketing consent explicitly granted: handing
//     personal information to a third party needs separate consent under
//     PIPL art. 23, and GDPR/CCPA opt-outs must be honoured, so silence is
//     not consent;
//   * the members CSV (used in-house) leaves out persons who withdrew
//     analytics consent; persons who never answered are included.
//
// Thread-safety: stateless; thread-safe.
#pragma once

#include <roaring/roaring.hh>

#include <optional>
#include <string_view>

#include "common/result.h"
#include "query/query.h"

namespace quanyu::audience {

enum class ExportTarget { kMembersCsv, kTencentAds, kOceanEngine, kMeta, kGoogle };

// "csv", "tencent_ads", "ocean_engine", "meta", "google"; InvalidArgument
// listing them.
Result<ExportTarget> ExportTargetNamed(std::string_view name);
std::string_view ExportTargetName(ExportTarget t);

// A person's latest choice per consent category; nullopt = never answered.
struct PersonConsent {
  std::optional<bool> analytics;
  std::optional<bool> marketing;
};

// Whether a person with `consent` may be exported to `target`.
bool MayExport(ExportTarget target, const PersonConsent& consent);

// The persons of `members` MayExport allows for `target`, reading consent
// from the store (a scan of "Consent Updated" events).
Result<Roaring> ExportablePersons(ExportTarget target, const Roaring& members,
                                  const query::QueryContext& q);

}  // namespace quanyu::audience
