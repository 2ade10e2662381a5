// `where` conditions on event fields (docs/metrics.md, "Filters") and
// reading a field's value from a row of a columnar scan.
//
// A condition is {"property": NAME, "op": OP, "value": V}; a list of them
// holds when all hold. Ops: "=", "!=", ">", ">=", "<", "<=", "contains",
// "not_contains", "in", "not_in" (value is an array), "is_set",
// "is_not_set" (no value). Numbers compare as numbers, strings as strings
// (bytewise), booleans with =/!=. A field the event lacks satisfies only
// "!=", "not_in", "not_contains" and "is_not_set".
//
// Not synchronized: a RowFilter / FieldReader belongs to one scan.
#pragma once

#include <simdjson.h>

#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"
#include "query/fields.h"
#include "query/params.h"
#include "store/event_store.h"

namespace quanyu::query {

enum class Op { kEq, kNe, kGt, kGe, kLt, kLe, kContains, kNotContains, kIn, kNotIn, kIsSet, kIsNotSet };

// One field value as read from a row.
struct Value {
  enum Kind { kMissing, kNull, kBool, kNumber, kString } kind = kMissing;
  double number = 0;     // kNumber, and kBool as 0/1
  std::string text;      // kString; for other kinds a display form ("true", "12.5")

  // The label a breakdown groups by: the text, "(none)" when missing/null.
  std::string Label() const;
};

struct Condition {
  Field field;
  Op op = Op::kEq;
  std::vector<Value> values;  // one, several for in/not_in, none for is_set/is_not_set
};

// Parses a `where` array; `where_name` (e.g. "steps[1].where") prefixes
// errors. An absent/null value is an empty list.
Result<std::vector<Condition>> ParseWhere(const Json& where, std::string_view where_name);

// Whether `v` satisfies `c`.
bool Satisfies(const Condition& c, const Value& v);

// Reads fields of rows of a ColumnBatch.
class FieldReader {
 public:
  // The columns reading `f` needs.
  static void AddColumns(const Field& f, store::ColumnSet* columns);
  Value Read(const Field& f, const store::ColumnBatch& b, size_t row);
  // The field as a number (a sum's term): 0 when missing, not a number or
  // not finite.
  double Number(const Field& f, const store::ColumnBatch& b, size_t row);

 private:
  simdjson::ondemand::parser parser_;
  std::string buffer_;  // padded copy of the row's JSON
};

// Conditions joined by AND, evaluated row by row. Dictionary-column
// conditions are decided once per dictionary entry per batch.
class RowFilter {
 public:
  RowFilter() = default;
  explicit RowFilter(std::vector<Condition> conditions) : conditions_(std::move(conditions)) {}

  bool empty() const { return conditions_.empty(); }
  const std::vector<Condition>& conditions() const { return conditions_; }
  void AddColumns(store::ColumnSet* columns) const;
  // Call once per batch before Matches.
  void Prepare(const store::ColumnBatch& b);
  bool Matches(const store::ColumnBatch& b, size_t row);

 private:
  std::vector<Condition> conditions_;
  // Per condition on a dictionary column: does dictionary entry i satisfy it.
  std::vector<std::vector<char>> dict_ok_;
  FieldReader reader_;
};

}  // namespace quanyu::query
