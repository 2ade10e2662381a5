// The segment language (docs/segment-language.md): an audience definition's
// text form (API, CLI) and JSON form (dashboard), both parsed into and printed
// from the tree of definition.h.
//
// Both parsers accept exactly the same trees and normalize them the same way:
// nested AND inside AND (and OR inside OR) is flattened, parentheses around a
// single condition vanish, filters become query filter objects
// {"property", "op", "value"}. So for any tree `n` a parser returned,
// ParseText(PrintText(n)) == n and ParseJson(PrintJson(n)) == n.
//
// Limits: text over 64 KiB, nesting deeper than 64 and more than 256
// conditions are rejected.
//
// Stateless functions; thread-safe.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "audience/definition.h"
#include "common/result.h"

namespace quanyu::audience {

// Text form -> tree. On any error InvalidArgument with the message
// "line L, column C: MESSAGE" (both 1-based, columns counting UTF-8 code
// points) pointing at the offending token, e.g.
// `line 1, column 14: expected a value after "=", found "AND"`.
Result<Node> ParseText(std::string_view text);

// JSON tree -> tree. On any error InvalidArgument whose message starts with
// the JSON path of the problem, e.g. `and[1].op: unknown operator "=>"`
// ("(root)" for the top object itself).
Result<Node> ParseJson(const Json& tree);

// The canonical text form: keywords AND, OR, NOT, IN, CONTAINS, EXISTS,
// BETWEEN upper-case; function-like forms (did, sequence, step, audience,
// where, count, sum, within, during, between, ago) lower-case; one space
// around operators; parentheses only where precedence needs them (NOT binds
// tightest, then AND, then OR); durations in the largest exact unit. Never
// fails.
std::string PrintText(const Node& n);

// The JSON form, defaults omitted (no "count" when it is >= 1, no "where"
// when empty, no window when all time). Never fails.
Json PrintJson(const Node& n);

// The names of other audiences `n` refers to (for cycle checks), sorted and
// without duplicates.
std::vector<std::string> ReferencedAudiences(const Node& n);

// The event names `n` uses (did conditions and sequence steps), sorted and
// without duplicates.
std::vector<std::string> ReferencedEvents(const Node& n);

}  // namespace quanyu::audience
