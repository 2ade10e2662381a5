// Hashed identifier export for ad platforms (issue 5, item 7): turns the
// identifiers of an audience's members into the files Tencent Ads, Ocean
// Engine, Meta Custom Audiences and Google Customer Match accept, each with
// its own normalization and hashing rules. docs/audience-export.md specifies
// every rule and file layout byte by byte.
//
// Identifiers arrive already normalized at ingest (collect/identifiers.h);
// this module applies only each destination's extra rules (an 11-digit
// mainland mobile, upper-case IDFA, no '+' for Meta, ...). Who may be exported
// where is decided elsewhere (export_gate.h, privacy::MayUse): callers pass only the
// persons that gate allowed.
//
// Stateless; every function is thread-safe.
#pragma once

#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "common/event.h"
#include "common/result.h"

namespace quanyu::audience {

enum class AdDestination { kTencentAds, kOceanEngine, kMeta, kGoogle };

// Parses "tencent_ads", "ocean_engine", "meta" or "google" (exact,
// lower-case). InvalidArgument naming the accepted values otherwise.
Result<AdDestination> AdDestinationNamed(std::string_view name);

// The inverse of AdDestinationNamed. Never empty.
std::string_view AdDestinationName(AdDestination d);

// One hashed identifier as a destination receives it. `id_type` is the file
// stem for the one-file-per-type destinations ("mobile_md5", "idfa_md5", ...)
// and the CSV column for the others ("email"/"phone" for Meta,
// "Email"/"Phone" for Google). `hash` is lower-case hex.
struct HashedId {
  std::string id_type;
  std::string hash;
  bool operator==(const HashedId&) const = default;
};

// One person's identifiers -> the rows destination `d` gets: each usable
// identifier normalized and hashed per the destination's rules, duplicates
// (same id_type and hash) removed. Ordered by the destination's id type order
// (the order of the files / columns in docs/audience-export.md), then by the
// first occurrence in `ids`. Identifiers the destination cannot take (another
// namespace, a non-mainland phone for the Chinese platforms, a pre-hashed
// value of another normalization) are skipped; an empty result means the
// person has nothing this destination can match.
std::vector<HashedId> HashForDestination(AdDestination d, const std::vector<Identifier>& ids);

// A whole export: file name -> file content, for `persons` (each the list of
// one person's identifiers), rows in person order. Persons with no usable
// identifier are omitted; a file with no row is not produced, so an export
// where no person is usable is an empty map. Layouts:
//   Tencent Ads, Ocean Engine: one "<id_type>.txt" per id type, one hash per
//     line, each line ending in '\n'.
//   Meta: "meta_customer_list.csv", header "email,phone".
//   Google: "google_customer_match.csv", header "Email,Phone".
//   In the CSVs a person takes max(#emails, #phones) rows, the k-th row holding
//   the k-th email and k-th phone hash, an empty cell when there is none.
std::map<std::string, std::string> BuildExportFiles(
    AdDestination d, const std::vector<std::vector<Identifier>>& persons);

// Lower-case hex MD5 / SHA-256 of the bytes of `s` (OpenSSL EVP). Returns an
// empty string only if OpenSSL refuses the digest (MD5 is unavailable under a
// FIPS-only provider); HashForDestination then skips that identifier.
std::string Md5Hex(std::string_view s);
std::string Sha256Hex(std::string_view s);

}  // namespace quanyu::audience
