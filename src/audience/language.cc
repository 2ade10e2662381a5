// Printing both forms, and the references a definition makes. The parsers
// are in internal/text_parser.cc and internal/json_parser.cc.
#include "audience/language.h"

#include <set>

#include "audience/internal/syntax.h"

namespace quanyu::audience {
namespace {

using internal::BoundValueJson;
using internal::FormatDuration;

// Never throws: bytes that are not UTF-8 (only possible in a hand-built
// tree; the parsers reject them) print as U+FFFD.
std::string Dump(const Json& j) { return j.dump(-1, ' ', false, Json::error_handler_t::replace); }

std::string Quote(const std::string& s) { return Dump(Json(s)); }

std::string Name(const std::string& s) { return internal::IsBareName(s) ? s : Quote(s); }

std::string LiteralText(const Literal& l) {
  if (l.ago_seconds >= 0) return "ago(" + FormatDuration(l.ago_seconds) + ")";
  return Dump(l.value);
}

Json LiteralJson(const Literal& l) {
  if (l.ago_seconds >= 0) return Json{{"ago", FormatDuration(l.ago_seconds)}};
  return l.value;
}

std::string BoundText(const Bound& b) { return b.op + " " + Dump(BoundValueJson(b.value)); }

std::string ValueListText(const Json& list) {
  std::string out = "(";
  if (list.is_array()) {
    for (size_t i = 0; i < list.size(); ++i) out += (i ? ", " : "") + Dump(list[i]);
  }
  return out + ")";
}

std::string FilterText(const Json& f) {
  if (!f.is_object()) return Dump(f);
  const Json property = f.contains("property") ? f["property"] : Json("");
  const std::string op = f.contains("op") && f["op"].is_string() ? f["op"].get<std::string>() : "";
  const Json value = f.contains("value") ? f["value"] : Json();
  std::string out = property.is_string() ? Name(property.get<std::string>()) : Dump(property);
  if (op == "contains") return out + " CONTAINS " + Dump(value);
  if (op == "not_contains") return out + " NOT CONTAINS " + Dump(value);
  if (op == "in") return out + " IN " + ValueListText(value);
  if (op == "not_in") return out + " NOT IN " + ValueListText(value);
  if (op == "is_set") return out + " EXISTS";
  if (op == "is_not_set") return out + " NOT EXISTS";
  return out + " " + op + " " + Dump(value);
}

std::string WindowText(const Window& w, std::string_view last_keyword) {
  switch (w.kind) {
    case Window::kAllTime:
      return "";
    case Window::kLast:
      return ", " + std::string(last_keyword) + " " + FormatDuration(w.seconds);
    case Window::kBetween:
      return ", between(" + Quote(w.from_date) + ", " + Quote(w.to_date) + ")";
  }
  return "";
}

std::string AttributeText(const Node& n) {
  std::string out = std::string(internal::NamespaceName(n.ns)) + "." + Name(n.name);
  switch (n.op) {
    case CmpOp::kExists:
      return out + " EXISTS";
    case CmpOp::kIn: {
      out += " IN (";
      for (size_t i = 0; i < n.values.size(); ++i) {
        out += (i ? ", " : "") + LiteralText(n.values[i]);
      }
      return out + ")";
    }
    case CmpOp::kBetween:
      if (n.values.size() != 2) return out + " BETWEEN";
      return out + " BETWEEN " + LiteralText(n.values[0]) + " AND " + LiteralText(n.values[1]);
    case CmpOp::kContains:
      out += " CONTAINS";
      break;
    default:
      out += " " + std::string(internal::CmpOpJsonName(n.op));
  }
  return n.values.empty() ? out : out + " " + LiteralText(n.values[0]);
}

std::string EventText(const Node& n) {
  std::string out = "did(" + Quote(n.event);
  for (const Json& f : n.where) out += ", where " + FilterText(f);
  if (n.count != Bound{">=", 1}) out += ", count " + BoundText(n.count);
  if (!n.sum_property.empty()) out += ", sum(" + Name(n.sum_property) + ") " + BoundText(n.sum);
  return out + WindowText(n.window, "within") + ")";
}

std::string SequenceText(const Node& n) {
  std::string out = "sequence(";
  for (size_t i = 0; i < n.steps.size(); ++i) {
    const Node& step = n.steps[i];
    out += i ? ", " : "";
    if (step.where.empty()) {
      out += Quote(step.event);
      continue;
    }
    out += "step(" + Quote(step.event);
    for (const Json& f : step.where) out += ", where " + FilterText(f);
    out += ")";
  }
  if (n.max_gap_seconds > 0) out += ", within " + FormatDuration(n.max_gap_seconds);
  return out + WindowText(n.window, "during") + ")";
}

// OR 1, AND 2, NOT 3, a condition 4: a child binding no tighter than its
// parent needs parentheses.
int Precedence(const Node& n) {
  switch (n.kind) {
    case Node::kOr:
      return 1;
    case Node::kAnd:
      return 2;
    case Node::kNot:
      return 3;
    default:
      return 4;
  }
}

void AppendText(const Node& n, std::string* out);

void AppendOperand(const Node& child, int min_precedence, std::string* out) {
  const bool parens = Precedence(child) < min_precedence;
  if (parens) *out += "(";
  AppendText(child, out);
  if (parens) *out += ")";
}

void AppendText(const Node& n, std::string* out) {
  switch (n.kind) {
    case Node::kAnd:
    case Node::kOr:
      for (size_t i = 0; i < n.children.size(); ++i) {
        if (i) *out += n.kind == Node::kAnd ? " AND " : " OR ";
        AppendOperand(n.children[i], Precedence(n) + 1, out);
      }
      return;
    case Node::kNot:
      *out += "NOT ";
      if (!n.children.empty()) AppendOperand(n.children[0], 3, out);
      return;
    case Node::kAttribute:
      *out += AttributeText(n);
      return;
    case Node::kEvent:
      *out += EventText(n);
      return;
    case Node::kSequence:
      *out += SequenceText(n);
      return;
    case Node::kAudience:
      *out += "audience(" + Quote(n.audience) + ")";
      return;
  }
}

void AddWindowJson(const Window& w, const char* last_key, Json* out) {
  if (w.kind == Window::kLast) (*out)[last_key] = FormatDuration(w.seconds);
  if (w.kind == Window::kBetween) (*out)["between"] = Json::array({w.from_date, w.to_date});
}

Json AttributeJson(const Node& n) {
  Json out{{std::string(internal::NamespaceName(n.ns)), n.name},
           {"op", std::string(internal::CmpOpJsonName(n.op))}};
  if (n.op == CmpOp::kIn || n.op == CmpOp::kBetween) {
    Json list = Json::array();
    for (const Literal& l : n.values) list.push_back(LiteralJson(l));
    out["value"] = std::move(list);
  } else if (n.op != CmpOp::kExists && !n.values.empty()) {
    out["value"] = LiteralJson(n.values[0]);
  }
  return out;
}

Json EventJson(const Node& n) {
  Json out{{"did", n.event}};
  if (!n.where.empty()) out["where"] = n.where;
  if (n.count != Bound{">=", 1}) {
    out["count"] = Json{{"op", n.count.op}, {"value", BoundValueJson(n.count.value)}};
  }
  if (!n.sum_property.empty()) {
    out["sum"] = Json{
        {"property", n.sum_property}, {"op", n.sum.op}, {"value", BoundValueJson(n.sum.value)}};
  }
  AddWindowJson(n.window, "within", &out);
  return out;
}

Json SequenceJson(const Node& n) {
  Json steps = Json::array();
  for (const Node& step : n.steps) {
    Json s{{"event", step.event}};
    if (!step.where.empty()) s["where"] = step.where;
    steps.push_back(std::move(s));
  }
  Json out{{"sequence", std::move(steps)}};
  if (n.max_gap_seconds > 0) out["within"] = FormatDuration(n.max_gap_seconds);
  AddWindowJson(n.window, "during", &out);
  return out;
}

void CollectReferences(const Node& n, std::set<std::string>* audiences,
                       std::set<std::string>* events) {
  if (n.kind == Node::kAudience) audiences->insert(n.audience);
  if (n.kind == Node::kEvent) events->insert(n.event);
  for (const Node& step : n.steps) events->insert(step.event);
  for (const Node& c : n.children) CollectReferences(c, audiences, events);
}

}  // namespace

std::string PrintText(const Node& n) {
  std::string out;
  AppendText(n, &out);
  return out;
}

Json PrintJson(const Node& n) {
  switch (n.kind) {
    case Node::kAnd:
    case Node::kOr: {
      Json list = Json::array();
      for (const Node& c : n.children) list.push_back(PrintJson(c));
      return Json{{n.kind == Node::kAnd ? "and" : "or", std::move(list)}};
    }
    case Node::kNot:
      return Json{{"not", n.children.empty() ? Json::object() : PrintJson(n.children[0])}};
    case Node::kAttribute:
      return AttributeJson(n);
    case Node::kEvent:
      return EventJson(n);
    case Node::kSequence:
      return SequenceJson(n);
    case Node::kAudience:
      return Json{{"audience", n.audience}};
  }
  return Json::object();
}

std::vector<std::string> ReferencedAudiences(const Node& n) {
  std::set<std::string> audiences, events;
  CollectReferences(n, &audiences, &events);
  return {audiences.begin(), audiences.end()};
}

std::vector<std::string> ReferencedEvents(const Node& n) {
  std::set<std::string> audiences, events;
  CollectReferences(n, &audiences, &events);
  return {events.begin(), events.end()};
}

}  // namespace quanyu::audience
