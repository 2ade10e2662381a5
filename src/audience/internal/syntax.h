// The vocabulary the segment language's text and JSON forms share
// (docs/segment-language.md): operator spellings, namespaces, durations,
// dates, limits and the per-condition rules both parsers enforce, so the two
// forms accept exactly the same trees.
//
// Stateless; thread-safe.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "audience/definition.h"

namespace quanyu::audience::internal {

inline constexpr size_t kMaxTextBytes = 64 * 1024;
inline constexpr int kMaxDepth = 64;
inline constexpr int kMaxConditions = 256;
// Durations and count bounds stay well inside what a double and an int64
// hold exactly, so every accepted value prints back to itself.
inline constexpr int64_t kMaxDurationSeconds = 1000LL * 366 * 86400;  // ~1000 years
inline constexpr double kMaxCount = 9007199254740992.0;               // 2^53

// The text prefix of a namespace ("trait") and back; nullopt for an unknown
// word. The JSON form uses the same word as the key.
std::string_view NamespaceName(Namespace ns);
std::optional<Namespace> NamespaceFromName(std::string_view word);

// JSON spellings of the comparison operators: "=", "in", "between"...
std::string_view CmpOpJsonName(CmpOp op);
std::optional<CmpOp> CmpOpFromJsonName(std::string_view name);
// "=", "!=", "<", "<=", ">", ">=" only (also the bound operators).
std::optional<CmpOp> CmpOpFromSymbol(std::string_view symbol);
bool IsBoundOp(std::string_view op);
// Number of values `op` takes: 1, 2 (BETWEEN), 0 (EXISTS); -1 for "one or
// more" (IN).
int CmpOpArity(CmpOp op);

// Query filter operators (docs/metrics.md, "Filters").
bool IsFilterOp(std::string_view op);
bool FilterOpTakesList(std::string_view op);     // in, not_in
bool FilterOpTakesNoValue(std::string_view op);  // is_set, is_not_set

// "30d" -> 2592000. Nullopt unless a whole number followed by one of s, m,
// h, d, w (either case), positive and at most kMaxDurationSeconds.
std::optional<int64_t> ParseDuration(std::string_view text);
// The largest unit that divides exactly: 2592000 -> "30d", 90 -> "90s".
std::string FormatDuration(int64_t seconds);
inline constexpr std::string_view kDurationHelp =
    "expected a whole number followed by s, m, h, d or w, e.g. 30d";

// True for a real calendar date written "YYYY-MM-DD".
bool IsValidDate(std::string_view date);

// Rules on an attribute condition whose name, op and values are already
// set: RFM field names, consent values. "" when fine, otherwise the message.
std::string CheckAttribute(const Node& n);
// Rules on a count bound: a whole number in [0, kMaxCount]. "" when fine.
std::string CheckCount(double value);

// True when a name can be written without quotes: dot-separated non-empty
// segments of [A-Za-z0-9_-].
bool IsBareName(std::string_view name);
bool IsNameChar(char c);

// Byte offset of the first invalid UTF-8 sequence (overlong forms and
// surrogates included), or npos when `s` is valid UTF-8.
size_t FindInvalidUtf8(std::string_view s);

// A bound's value as JSON: an integer when it is one (2, not 2.0).
Json BoundValueJson(double value);

// Tree depth (a condition is 1; and/or/not add one) and number of
// conditions (attribute, event, sequence and audience nodes).
int TreeDepth(const Node& n);
int CountConditions(const Node& n);

}  // namespace quanyu::audience::internal
