#include "query/filter.h"

#include <charconv>
#include <cmath>

#include "common/event.h"

namespace quanyu::query {
namespace {

using store::Column;

Status Bad(std::string m) { return Status::InvalidArgument(std::move(m)); }

std::string FormatNumber(double d) {
  if (std::isfinite(d) && d == std::floor(d) && std::fabs(d) < 1e15) {
    return std::to_string(static_cast<int64_t>(d));
  }
  char buf[32];
  auto [p, ec] = std::to_chars(buf, buf + sizeof buf, d);
  return std::string(buf, ec == std::errc() ? p : buf);
}

Result<Value> ValueOf(const Json& j, const std::string& where) {
  Value v;
  if (j.is_number()) {
    v.kind = Value::kNumber;
    v.number = j.get<double>();
    v.text = FormatNumber(v.number);
  } else if (j.is_string()) {
    v.kind = Value::kString;
    v.text = j.get<std::string>();
  } else if (j.is_boolean()) {
    v.kind = Value::kBool;
    v.number = j.get<bool>() ? 1 : 0;
    v.text = j.get<bool>() ? "true" : "false";
  } else if (j.is_null()) {
    v.kind = Value::kNull;
    v.text = "null";
  } else {
    return Bad(where + ": value must be a number, string, boolean or null");
  }
  return v;
}

struct OpName {
  std::string_view name;
  Op op;
};
constexpr OpName kOps[] = {
    {"=", Op::kEq},        {"==", Op::kEq},         {"!=", Op::kNe},
    {">", Op::kGt},        {">=", Op::kGe},         {"<", Op::kLt},
    {"<=", Op::kLe},       {"contains", Op::kContains}, {"not_contains", Op::kNotContains},
    {"in", Op::kIn},       {"not_in", Op::kNotIn},  {"is_set", Op::kIsSet},
    {"is_not_set", Op::kIsNotSet},
};

// Compares a row value with a condition value: <0, 0, >0, or nullopt when
// they are not comparable (different kinds).
std::optional<int> Compare(const Value& a, const Value& b) {
  if (a.kind == Value::kNumber && b.kind == Value::kNumber) {
    return a.number < b.number ? -1 : a.number > b.number ? 1 : 0;
  }
  if (a.kind == Value::kString && b.kind == Value::kString) {
    int c = a.text.compare(b.text);
    return c < 0 ? -1 : c > 0 ? 1 : 0;
  }
  if (a.kind == Value::kBool && b.kind == Value::kBool) {
    return a.number == b.number ? std::optional<int>(0) : std::nullopt;
  }
  if (a.kind == Value::kNull && b.kind == Value::kNull) return 0;
  // A number stored as a string (or the reverse) compares by text equality.
  if ((a.kind == Value::kString || a.kind == Value::kNumber) &&
      (b.kind == Value::kString || b.kind == Value::kNumber)) {
    if (a.text == b.text) return 0;
  }
  return std::nullopt;
}

}  // namespace

std::string Value::Label() const {
  if (kind == kMissing || kind == kNull) return "(none)";
  if (kind == kString && text.empty()) return "(none)";
  return text;
}

Result<std::vector<Condition>> ParseWhere(const Json& where, std::string_view where_name) {
  std::vector<Condition> out;
  const std::string name(where_name);
  if (where.is_null()) return out;
  if (!where.is_array()) return Bad(name + " must be an array of conditions");
  for (size_t i = 0; i < where.size(); ++i) {
    const std::string at = name + "[" + std::to_string(i) + "]";
    const Json& c = where[i];
    if (!c.is_object()) return Bad(at + " must be an object {property, op, value}");
    if (!c.contains("property") || !c["property"].is_string() ||
        c["property"].get<std::string>().empty()) {
      return Bad(at + ".property must be a non-empty string");
    }
    Condition cond;
    cond.field = FieldNamed(c["property"].get<std::string>());
    const std::string op = c.contains("op") && c["op"].is_string() ? c["op"].get<std::string>() : "=";
    bool found = false;
    for (const auto& o : kOps) {
      if (o.name == op) {
        cond.op = o.op;
        found = true;
      }
    }
    if (!found) {
      return Bad(at + ".op \"" + op +
                 "\" is unknown: use =, !=, >, >=, <, <=, contains, not_contains, in, not_in, "
                 "is_set or is_not_set");
    }
    if (cond.op == Op::kIsSet || cond.op == Op::kIsNotSet) {
      out.push_back(std::move(cond));
      continue;
    }
    if (!c.contains("value")) return Bad(at + ".value is required for op " + op);
    const Json& v = c["value"];
    if (cond.op == Op::kIn || cond.op == Op::kNotIn) {
      if (!v.is_array() || v.empty()) return Bad(at + ".value must be a non-empty array for " + op);
      for (const Json& item : v) {
        ASSIGN_OR_RETURN(auto val, ValueOf(item, at + ".value"));
        cond.values.push_back(std::move(val));
      }
    } else {
      ASSIGN_OR_RETURN(auto val, ValueOf(v, at + ".value"));
      if ((cond.op == Op::kContains || cond.op == Op::kNotContains) && val.kind != Value::kString) {
        return Bad(at + ".value must be a string for " + op);
      }
      cond.values.push_back(std::move(val));
    }
    out.push_back(std::move(cond));
  }
  return out;
}

bool Satisfies(const Condition& c, const Value& v) {
  const bool missing = v.kind == Value::kMissing;
  switch (c.op) {
    case Op::kIsSet:
      return !missing && v.kind != Value::kNull;
    case Op::kIsNotSet:
      return missing || v.kind == Value::kNull;
    case Op::kEq:
    case Op::kNe: {
      const bool eq = !missing && Compare(v, c.values[0]) == 0;
      return c.op == Op::kEq ? eq : !eq;
    }
    case Op::kGt:
    case Op::kGe:
    case Op::kLt:
    case Op::kLe: {
      if (missing) return false;
      auto cmp = Compare(v, c.values[0]);
      if (!cmp) return false;
      switch (c.op) {
        case Op::kGt: return *cmp > 0;
        case Op::kGe: return *cmp >= 0;
        case Op::kLt: return *cmp < 0;
        default: return *cmp <= 0;
      }
    }
    case Op::kContains:
    case Op::kNotContains: {
      const bool has = !missing && v.kind != Value::kNull &&
                       v.text.find(c.values[0].text) != std::string::npos;
      return c.op == Op::kContains ? has : !has;
    }
    case Op::kIn:
    case Op::kNotIn: {
      bool in = false;
      if (!missing) {
        for (const Value& x : c.values) in = in || Compare(v, x) == 0;
      }
      return c.op == Op::kIn ? in : !in;
    }
  }
  return false;
}

void FieldReader::AddColumns(const Field& f, store::ColumnSet* columns) {
  columns->Add(f.kind == FieldKind::kType ? Column::kType : f.column);
}

double FieldReader::Number(const Field& f, const store::ColumnBatch& b, size_t row) {
  double v = 0;
  if (f.kind == FieldKind::kNumber) {
    v = b.Doubles(f.column)[row].value_or(0);
  } else {
    const Value value = Read(f, b, row);
    if (value.kind == Value::kNumber) v = value.number;
  }
  return std::isfinite(v) ? v : 0;
}

Value FieldReader::Read(const Field& f, const store::ColumnBatch& b, size_t row) {
  Value v;
  switch (f.kind) {
    case FieldKind::kType:
      v.kind = Value::kString;
      v.text = std::string(EventTypeName(static_cast<EventType>(b.Types()[row])));
      return v;
    case FieldKind::kDictionary:
    case FieldKind::kString: {
      std::string_view s = b.String(f.column, row);
      if (s.empty()) return v;  // missing
      v.kind = Value::kString;
      v.text = std::string(s);
      return v;
    }
    case FieldKind::kNumber: {
      const std::optional<double>& d = b.Doubles(f.column)[row];
      if (!d) return v;
      v.kind = Value::kNumber;
      v.number = *d;
      v.text = FormatNumber(*d);
      return v;
    }
    case FieldKind::kProperty:
      break;
  }
  std::string_view json = b.String(Column::kProperties, row);
  if (json.empty()) return v;
  buffer_.assign(json);
  buffer_.append(simdjson::SIMDJSON_PADDING, '\0');
  auto doc = parser_.iterate(buffer_.data(), json.size(), buffer_.size());
  if (doc.error()) return v;
  simdjson::ondemand::value cur;
  {
    auto obj = doc.get_object();
    if (obj.error()) return v;
    // Walk the dotted path.
    std::string_view path = f.path;
    simdjson::ondemand::object o = obj.value_unsafe();
    while (true) {
      const size_t dot = path.find('.');
      const std::string_view key = path.substr(0, dot);
      auto field = o.find_field_unordered(key);
      if (field.error() && dot != std::string_view::npos) {
        // A key containing dots: try the whole remaining path once.
        auto whole = o.find_field_unordered(path);
        if (whole.error()) return v;
        cur = whole.value_unsafe();
        break;
      }
      if (field.error()) return v;
      cur = field.value_unsafe();
      if (dot == std::string_view::npos) break;
      auto next = cur.get_object();
      if (next.error()) return v;
      o = next.value_unsafe();
      path = path.substr(dot + 1);
    }
  }
  auto type = cur.type();
  if (type.error()) return v;
  switch (type.value_unsafe()) {
    case simdjson::ondemand::json_type::number: {
      double d;
      if (cur.get_double().get(d)) return v;
      v.kind = Value::kNumber;
      v.number = d;
      v.text = FormatNumber(d);
      break;
    }
    case simdjson::ondemand::json_type::string: {
      std::string_view s;
      if (cur.get_string().get(s)) return v;
      v.kind = Value::kString;
      v.text = std::string(s);
      break;
    }
    case simdjson::ondemand::json_type::boolean: {
      bool x;
      if (cur.get_bool().get(x)) return v;
      v.kind = Value::kBool;
      v.number = x;
      v.text = x ? "true" : "false";
      break;
    }
    case simdjson::ondemand::json_type::null:
      v.kind = Value::kNull;
      v.text = "null";
      break;
    default: {  // arrays and objects: their JSON text
      std::string_view raw;
      if (simdjson::to_json_string(cur).get(raw)) return v;
      v.kind = Value::kString;
      v.text = std::string(raw);
      break;
    }
  }
  return v;
}

void RowFilter::AddColumns(store::ColumnSet* columns) const {
  for (const auto& c : conditions_) FieldReader::AddColumns(c.field, columns);
}

void RowFilter::Prepare(const store::ColumnBatch& b) {
  dict_ok_.assign(conditions_.size(), {});
  for (size_t i = 0; i < conditions_.size(); ++i) {
    const Condition& c = conditions_[i];
    if (c.field.kind != FieldKind::kDictionary) continue;
    const auto& dict = b.Dictionary(c.field.column);
    auto& ok = dict_ok_[i];
    ok.resize(dict.size());
    for (size_t k = 0; k < dict.size(); ++k) {
      Value v;
      if (!dict[k].empty()) {
        v.kind = Value::kString;
        v.text = dict[k];
      }
      ok[k] = Satisfies(c, v);
    }
  }
}

bool RowFilter::Matches(const store::ColumnBatch& b, size_t row) {
  for (size_t i = 0; i < conditions_.size(); ++i) {
    const Condition& c = conditions_[i];
    if (c.field.kind == FieldKind::kDictionary) {
      if (!dict_ok_[i][b.Codes(c.field.column)[row]]) return false;
    } else if (!Satisfies(c, reader_.Read(c.field, b, row))) {
      return false;
    }
  }
  return true;
}

}  // namespace quanyu::query
