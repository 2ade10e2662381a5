// An audience definition (docs/audiences.md): the tree the segment language's
// text form and JSON form both parse into, and print from.
//
// Text form (keywords case-insensitive; strings in double quotes with JSON
// escapes; durations N followed by s, m, h, d or w):
//   trait.city = "上海" AND did("Order Completed", count >= 2, within 30d)
//     AND NOT did("Refund Requested", within 30d)
//     AND rfm.segment IN ("Champions", "Loyal")
//
// JSON form (the dashboard's tree):
//   {"and": [...]}, {"or": [...]}, {"not": {...}}
//   {"trait": "city", "op": "=", "value": "上海"}       (also "computed", "rfm",
//                                                        "predicted", "consent")
//   {"did": "Order Completed", "where": [...], "count": {"op": ">=", "value": 2},
//    "sum": {"property": "revenue", "op": ">=", "value": 100}, "within": "30d"}
//   {"sequence": [{"event": "A", "where": [...]}, {"event": "B"}], "within": "7d",
//    "during": "90d"}
//   {"audience": "vip"}
//
// Parse (text or JSON) and Print (text or JSON) live in language.h. This
// header is plain data.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace quanyu::audience {

using Json = nlohmann::json;

// Comparison of an attribute (trait, computed trait, RFM field...) with
// literal values.
enum class CmpOp {
  kEq,        // =        one value
  kNe,        // !=       one value
  kLt,        // <        one value
  kLe,        // <=       one value
  kGt,        // >        one value
  kGe,        // >=       one value
  kIn,        // IN (...) one or more values
  kContains,  // CONTAINS one value: substring of a string, or element of an array
  kExists,    // EXISTS   no value: the attribute is set (not null)
  kBetween,   // BETWEEN a AND b: two values, inclusive
};

// Where an attribute comes from.
enum class Namespace {
  kTrait,      // trait.NAME: the profile's traits (dotted path into objects)
  kComputed,   // computed.NAME: a computed trait (computed_traits.h)
  kRfm,        // rfm.segment | rfm.r | rfm.f | rfm.m | rfm.score (rfm.h)
  kPredicted,  // predicted.NAME (clv, churn_risk...: models, issue 7)
  kConsent,    // consent.CATEGORY: latest consent choice, true / false
};

// A literal in a comparison. JSON strings, numbers, booleans, null; and a
// relative time, written ago(30d) in text and {"ago": "30d"} in JSON, which
// stands for "now minus 30 days" at evaluation (compared with a trait holding
// an ISO-8601 time or epoch seconds).
struct Literal {
  Json value;               // the JSON value (null for a relative time)
  int64_t ago_seconds = -1;  // >= 0: a relative time, value ignored
  bool operator==(const Literal&) const = default;
};

// A time window of an event or sequence condition.
struct Window {
  enum Kind {
    kAllTime,  // no bound (default)
    kLast,     // "within 30d" (did) / "during 90d" (sequence): [now - seconds, now]
    kBetween,  // between("2026-01-01", "2026-02-01"): from the first day's start
               // to the end of the last day (both inclusive), query time zone
  } kind = kAllTime;
  int64_t seconds = 0;          // kLast
  std::string from_date, to_date;  // kBetween, "YYYY-MM-DD"
  bool operator==(const Window&) const = default;
};

// A bound "<op> <number>" on a count or a sum; op is one of
// "=", "!=", "<", "<=", ">", ">=".
struct Bound {
  std::string op;
  double value = 0;
  bool operator==(const Bound&) const = default;
};

struct Node {
  enum Kind {
    kAnd,        // children: two or more
    kOr,         // children: two or more
    kNot,        // children: exactly one
    kAttribute,  // ns, name, op, values
    kEvent,      // event, where, count, sum_property + sum, window
    kSequence,   // steps, max_gap_seconds, window
    kAudience,   // audience: another audience's name
  } kind = kAnd;

  std::vector<Node> children;

  // kAttribute.
  Namespace ns = Namespace::kTrait;
  std::string name;  // without the namespace prefix ("city", "segment")
  CmpOp op = CmpOp::kEq;
  std::vector<Literal> values;

  // kEvent: persons whose events named `event` matching every `where`
  // condition, inside `window`, number `count` (default ">= 1") and, when
  // sum_property is set, whose sum of that property satisfies `sum`.
  // `where` items are query filter objects {"property", "op", "value"}
  // (docs/metrics.md, "Filters"). "did not" is kNot over kEvent.
  std::string event;
  std::vector<Json> where;
  Bound count{">=", 1};
  std::string sum_property;  // "" = no sum condition
  Bound sum;
  Window window;

  // kSequence: an event matching steps[0], then one matching steps[1] at
  // the same time or later within max_gap_seconds (0 = no limit), ..., all
  // inside `window`. Each step uses `event` and `where` of a kEvent node.
  std::vector<Node> steps;
  int64_t max_gap_seconds = 0;

  // kAudience.
  std::string audience;

  bool operator==(const Node&) const = default;
};

}  // namespace quanyu::audience
