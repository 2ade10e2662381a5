// ParseJson (language.h): the dashboard's JSON tree to a Node, with the same
// rules as the text form and errors that name the JSON path of the problem.
#include <cmath>
#include <initializer_list>
#include <string>

#include "audience/internal/syntax.h"
#include "audience/language.h"

namespace quanyu::audience {
namespace {

using namespace internal;  // NOLINT: the language's shared vocabulary

constexpr std::string_view kKindKeys[] = {"and",      "or",       "not",       "trait",
                                          "computed", "rfm",      "predicted", "consent",
                                          "did",      "sequence", "audience"};

std::string Field(const std::string& path, std::string_view key) {
  return path.empty() ? std::string(key) : path + "." + std::string(key);
}
std::string Item(const std::string& path, size_t i) { return path + "[" + std::to_string(i) + "]"; }
Status Error(const std::string& path, std::string_view message) {
  return Status::InvalidArgument((path.empty() ? "(root)" : path) + ": " + std::string(message));
}

// Every key of `j` must be one of `allowed`.
Status CheckKeys(const Json& j, const std::string& path,
                 std::initializer_list<std::string_view> allowed) {
  for (const auto& [key, value] : j.items()) {
    bool known = false;
    for (std::string_view a : allowed) known = known || a == key;
    if (!known) return Error(Field(path, key), "unknown key");
  }
  return Status::OK();
}

Result<std::string> GetString(const Json& j, const std::string& path, std::string_view what) {
  if (!j.is_string()) return Error(path, "expected " + std::string(what) + " as a string");
  std::string s = j.get<std::string>();
  if (s.empty()) return Error(path, std::string(what) + " must not be empty");
  if (FindInvalidUtf8(s) != std::string::npos) return Error(path, "invalid UTF-8");
  return s;
}

// A string (valid UTF-8), finite number, boolean or null.
Status CheckScalar(const Json& j, const std::string& path) {
  if (j.is_string() && FindInvalidUtf8(j.get_ref<const std::string&>()) != std::string::npos) {
    return Error(path, "invalid UTF-8");
  }
  if (j.is_number_float() && !std::isfinite(j.get<double>())) {
    return Error(path, "numbers must be finite");
  }
  if (j.is_primitive() && !j.is_binary()) return Status::OK();
  return Error(path, "expected a string, number, true, false or null");
}

Result<int64_t> GetDuration(const Json& j, const std::string& path) {
  if (j.is_string()) {
    if (auto seconds = ParseDuration(j.get<std::string>())) return *seconds;
  }
  return Error(path, "bad duration " + j.dump(-1, ' ', false, Json::error_handler_t::replace) +
                         ": " + std::string(kDurationHelp) + " (at most 1000 years)");
}

Status GetDates(const Json& j, const std::string& path, Window* w) {
  if (!j.is_array() || j.size() != 2) {
    return Error(path, "expected two dates [\"YYYY-MM-DD\", \"YYYY-MM-DD\"]");
  }
  for (size_t i = 0; i < 2; ++i) {
    if (!j[i].is_string() || !IsValidDate(j[i].get<std::string>())) {
      return Error(Item(path, i), "bad date: expected a real date \"YYYY-MM-DD\"");
    }
  }
  w->kind = Window::kBetween;
  w->from_date = j[0].get<std::string>();
  w->to_date = j[1].get<std::string>();
  if (w->to_date < w->from_date)
    return Error(Item(path, 1), "the end date is before the start date");
  return Status::OK();
}

Result<Literal> GetLiteral(const Json& j, const std::string& path) {
  Literal l;
  if (j.is_object()) {
    if (j.size() != 1 || !j.contains("ago")) {
      return Error(path, "expected a value or a relative time {\"ago\": \"30d\"}");
    }
    ASSIGN_OR_RETURN(l.ago_seconds, GetDuration(j["ago"], Field(path, "ago")));
    return l;
  }
  RETURN_IF_ERROR(CheckScalar(j, path));
  l.value = j;
  return l;
}

// A query filter {"property", "op", "value"} (docs/metrics.md, "Filters").
Result<Json> GetFilter(const Json& j, const std::string& path) {
  if (!j.is_object()) return Error(path, "expected a filter {\"property\", \"op\", \"value\"}");
  RETURN_IF_ERROR(CheckKeys(j, path, {"property", "op", "value"}));
  if (!j.contains("property")) return Error(path, "\"property\" is missing");
  ASSIGN_OR_RETURN(std::string property,
                   GetString(j["property"], Field(path, "property"), "the property"));
  const std::string op = j.contains("op") && j["op"].is_string() ? j["op"].get<std::string>() : "";
  if (!IsFilterOp(op)) {
    return Error(Field(path, "op"), "unknown filter operator " +
                                        (j.contains("op") ? j["op"].dump() : "(missing)") +
                                        "; expected =, !=, >, >=, <, <=, contains, not_contains, "
                                        "in, not_in, is_set or is_not_set");
  }
  Json filter{{"property", property}, {"op", op}};
  const std::string value_path = Field(path, "value");
  if (FilterOpTakesNoValue(op)) {
    if (j.contains("value")) return Error(value_path, op + " takes no value");
    return filter;
  }
  if (!j.contains("value")) return Error(path, "\"value\" is missing");
  const Json& value = j["value"];
  if (FilterOpTakesList(op)) {
    if (!value.is_array() || value.empty())
      return Error(value_path, op + " takes a non-empty list");
    for (size_t i = 0; i < value.size(); ++i)
      RETURN_IF_ERROR(CheckScalar(value[i], Item(value_path, i)));
  } else {
    RETURN_IF_ERROR(CheckScalar(value, value_path));
  }
  filter["value"] = value;
  return filter;
}

Status GetWhere(const Json& j, const std::string& path, std::vector<Json>* out) {
  if (!j.is_array()) return Error(path, "expected a list of filters");
  for (size_t i = 0; i < j.size(); ++i) {
    ASSIGN_OR_RETURN(Json filter, GetFilter(j[i], Item(path, i)));
    out->push_back(std::move(filter));
  }
  return Status::OK();
}

// {"op": BOUNDOP, "value": NUMBER} (and "property" for a sum).
Status GetBound(const Json& j, const std::string& path, bool is_count, Bound* out) {
  if (!j.is_object()) return Error(path, "expected {\"op\": \">=\", \"value\": N}");
  if (is_count) RETURN_IF_ERROR(CheckKeys(j, path, {"op", "value"}));
  if (!j.contains("op") || !j["op"].is_string() || !IsBoundOp(j["op"].get<std::string>())) {
    return Error(Field(path, "op"), "expected one of =, !=, <, <=, >, >=");
  }
  const Json value = j.contains("value") ? j["value"] : Json();
  if (!value.is_number() || !std::isfinite(value.get<double>())) {
    return Error(Field(path, "value"), "expected a number");
  }
  out->op = j["op"].get<std::string>();
  out->value = value.get<double>();
  if (is_count) {
    std::string problem = value.is_number_float() ? CheckCount(0.5) : CheckCount(out->value);
    if (!problem.empty()) return Error(Field(path, "value"), problem);
  }
  return Status::OK();
}

class JsonParser {
 public:
  Result<Node> ParseNode(const Json& j, const std::string& path, int depth);

 private:
  Result<Node> ParseBoolean(const Json& j, const std::string& path, int depth, Node::Kind kind);
  Result<Node> ParseAttribute(const Json& j, const std::string& path, Namespace ns);
  Result<Node> ParseEvent(const Json& j, const std::string& path);
  Result<Node> ParseSequence(const Json& j, const std::string& path);

  int conditions_ = 0;
};

Result<Node> JsonParser::ParseNode(const Json& j, const std::string& path, int depth) {
  if (!j.is_object()) return Error(path, "expected a condition (a JSON object)");
  if (depth > kMaxDepth) return Error(path, "conditions nested deeper than 64 levels");
  std::string kind;
  for (std::string_view key : kKindKeys) {
    if (!j.contains(key)) continue;
    if (!kind.empty()) {
      return Error(path, "\"" + kind + "\" and \"" + std::string(key) + "\" in one condition");
    }
    kind = key;
  }
  if (kind.empty()) {
    return Error(path,
                 "expected one of the keys and, or, not, trait, computed, rfm, predicted, "
                 "consent, did, sequence, audience");
  }
  if (kind == "and") return ParseBoolean(j, path, depth, Node::kAnd);
  if (kind == "or") return ParseBoolean(j, path, depth, Node::kOr);
  Node n;
  if (kind == "not") {
    RETURN_IF_ERROR(CheckKeys(j, path, {"not"}));
    ASSIGN_OR_RETURN(Node child, ParseNode(j["not"], Field(path, "not"), depth + 1));
    n.kind = Node::kNot;
    n.children.push_back(std::move(child));
    return n;
  }
  if (++conditions_ > kMaxConditions) return Error(path, "more than 256 conditions");
  if (auto ns = NamespaceFromName(kind)) return ParseAttribute(j, path, *ns);
  if (kind == "did") return ParseEvent(j, path);
  if (kind == "sequence") return ParseSequence(j, path);
  RETURN_IF_ERROR(CheckKeys(j, path, {"audience"}));
  n.kind = Node::kAudience;
  ASSIGN_OR_RETURN(n.audience,
                   GetString(j["audience"], Field(path, "audience"), "the audience name"));
  return n;
}

Result<Node> JsonParser::ParseBoolean(const Json& j, const std::string& path, int depth,
                                      Node::Kind kind) {
  const std::string key = kind == Node::kAnd ? "and" : "or";
  RETURN_IF_ERROR(CheckKeys(j, path, {key}));
  const std::string list_path = Field(path, key);
  const Json& list = j[key];
  if (!list.is_array() || list.size() < 2) {
    return Error(list_path, "expected a list of at least 2 conditions");
  }
  Node n;
  n.kind = kind;
  for (size_t i = 0; i < list.size(); ++i) {
    ASSIGN_OR_RETURN(Node child, ParseNode(list[i], Item(list_path, i), depth + 1));
    if (child.kind != kind) {
      n.children.push_back(std::move(child));
      continue;
    }
    for (Node& grandchild : child.children) n.children.push_back(std::move(grandchild));
  }
  return n;
}

Result<Node> JsonParser::ParseAttribute(const Json& j, const std::string& path, Namespace ns) {
  const std::string key(NamespaceName(ns));
  RETURN_IF_ERROR(CheckKeys(j, path, {key, "op", "value"}));
  Node n;
  n.kind = Node::kAttribute;
  n.ns = ns;
  ASSIGN_OR_RETURN(n.name, GetString(j[key], Field(path, key), "the name"));
  const std::string op = j.contains("op") && j["op"].is_string() ? j["op"].get<std::string>() : "";
  auto cmp = CmpOpFromJsonName(op);
  if (!cmp) {
    return Error(Field(path, "op"),
                 (j.contains("op") ? "unknown operator " + j["op"].dump() : "missing operator") +
                     "; expected =, !=, <, <=, >, >=, in, contains, exists or between");
  }
  n.op = *cmp;
  const int arity = CmpOpArity(n.op);
  const std::string value_path = Field(path, "value");
  if (arity == 0) {
    if (j.contains("value")) return Error(value_path, op + " takes no value");
  } else if (!j.contains("value")) {
    return Error(path, "\"value\" is missing");
  } else if (arity == 1) {
    ASSIGN_OR_RETURN(Literal l, GetLiteral(j["value"], value_path));
    n.values.push_back(std::move(l));
  } else {
    const Json& list = j["value"];
    if (!list.is_array() || list.empty() || (arity == 2 && list.size() != 2)) {
      return Error(value_path, arity == 2 ? "between takes a list of 2 values [low, high]"
                                          : "in takes a non-empty list of values");
    }
    for (size_t i = 0; i < list.size(); ++i) {
      ASSIGN_OR_RETURN(Literal l, GetLiteral(list[i], Item(value_path, i)));
      n.values.push_back(std::move(l));
    }
  }
  if (std::string problem = CheckAttribute(n); !problem.empty()) {
    return Error(ns == Namespace::kRfm ? Field(path, key) : path, problem);
  }
  return n;
}

Result<Node> JsonParser::ParseEvent(const Json& j, const std::string& path) {
  RETURN_IF_ERROR(CheckKeys(j, path, {"did", "where", "count", "sum", "within", "between"}));
  Node n;
  n.kind = Node::kEvent;
  ASSIGN_OR_RETURN(n.event, GetString(j["did"], Field(path, "did"), "the event name"));
  if (j.contains("where")) RETURN_IF_ERROR(GetWhere(j["where"], Field(path, "where"), &n.where));
  if (j.contains("count"))
    RETURN_IF_ERROR(GetBound(j["count"], Field(path, "count"), true, &n.count));
  if (j.contains("sum")) {
    const std::string sum_path = Field(path, "sum");
    RETURN_IF_ERROR(GetBound(j["sum"], sum_path, false, &n.sum));
    RETURN_IF_ERROR(CheckKeys(j["sum"], sum_path, {"property", "op", "value"}));
    const Json property = j["sum"].contains("property") ? j["sum"]["property"] : Json();
    ASSIGN_OR_RETURN(n.sum_property,
                     GetString(property, Field(sum_path, "property"), "the property"));
  }
  if (j.contains("within") && j.contains("between")) {
    return Error(path, "a did condition takes one time window: \"within\" or \"between\"");
  }
  if (j.contains("within")) {
    n.window.kind = Window::kLast;
    ASSIGN_OR_RETURN(n.window.seconds, GetDuration(j["within"], Field(path, "within")));
  }
  if (j.contains("between"))
    RETURN_IF_ERROR(GetDates(j["between"], Field(path, "between"), &n.window));
  return n;
}

Result<Node> JsonParser::ParseSequence(const Json& j, const std::string& path) {
  RETURN_IF_ERROR(CheckKeys(j, path, {"sequence", "within", "during", "between"}));
  const std::string steps_path = Field(path, "sequence");
  const Json& steps = j["sequence"];
  if (!steps.is_array() || steps.size() < 2)
    return Error(steps_path, "expected a list of at least 2 steps");
  Node n;
  n.kind = Node::kSequence;
  for (size_t i = 0; i < steps.size(); ++i) {
    const std::string step_path = Item(steps_path, i);
    const Json& s = steps[i];
    if (!s.is_object())
      return Error(step_path, "expected a step {\"event\": NAME, \"where\": [...]}");
    RETURN_IF_ERROR(CheckKeys(s, step_path, {"event", "where"}));
    Node step;
    step.kind = Node::kEvent;
    const Json event = s.contains("event") ? s["event"] : Json();
    ASSIGN_OR_RETURN(step.event, GetString(event, Field(step_path, "event"), "the event name"));
    if (s.contains("where"))
      RETURN_IF_ERROR(GetWhere(s["where"], Field(step_path, "where"), &step.where));
    n.steps.push_back(std::move(step));
  }
  if (j.contains("within")) {
    ASSIGN_OR_RETURN(n.max_gap_seconds, GetDuration(j["within"], Field(path, "within")));
  }
  if (j.contains("during") && j.contains("between")) {
    return Error(path, "a sequence takes one time window: \"during\" or \"between\"");
  }
  if (j.contains("during")) {
    n.window.kind = Window::kLast;
    ASSIGN_OR_RETURN(n.window.seconds, GetDuration(j["during"], Field(path, "during")));
  }
  if (j.contains("between"))
    RETURN_IF_ERROR(GetDates(j["between"], Field(path, "between"), &n.window));
  return n;
}

}  // namespace

Result<Node> ParseJson(const Json& tree) {
  try {
    return JsonParser().ParseNode(tree, "", 1);
  } catch (const Json::exception& e) {  // not expected: every access is type-checked first
    return Status::InvalidArgument(std::string("(root): ") + e.what());
  }
}

}  // namespace quanyu::audience
