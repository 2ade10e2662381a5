// How an attribute condition (definition.h, kAttribute) compares a person's
// value with its literals (docs/segment-language.md, "Comparisons").
//
// Numbers compare as numbers — a string holding a number compares with a
// number literal as that number; strings compare bytewise; booleans and
// null only with =, != and IN. A relative time literal ago(30d) compares
// with a value that is an ISO-8601 / RFC 3339 time, a YYYY-MM-DD date, or
// epoch seconds (milliseconds above 1e11). CONTAINS is a substring of a
// string, or an element of an array equal to the literal. A person without
// the attribute satisfies only != (see MissingSatisfies).
//
// Stateless; thread-safe.
#pragma once

#include <cstdint>
#include <string_view>
#include <vector>

#include "audience/definition.h"

namespace quanyu::audience::internal {

// Whether `value` (never null/missing here: callers pass set values)
// satisfies `op` against `literals`; `now_us` resolves relative times.
bool Satisfies(const Json& value, CmpOp op, const std::vector<Literal>& literals, int64_t now_us);

// A trait's JSON text as a value: plain strings (no escapes) and numbers
// without the general parser, anything else through it; a discarded Json
// when malformed.
Json ParseTraitValue(std::string_view text);

// Whether a person without the attribute satisfies the condition: only !=.
inline bool MissingSatisfies(CmpOp op) { return op == CmpOp::kNe; }

}  // namespace quanyu::audience::internal
