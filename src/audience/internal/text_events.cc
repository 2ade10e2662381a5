// TextParser rules for event, sequence and audience conditions and the
// query filters inside them (docs/metrics.md, "Filters").
#include <string>

#include "audience/internal/syntax.h"
#include "audience/internal/text_parser.h"

namespace quanyu::audience::internal {

Status TextParser::ExpectOpenParen(std::string_view keyword) {
  if (s_.TryChar('(')) return Status::OK();
  return s_.Expected("\"(\" after " + std::string(keyword));
}

Result<std::string> TextParser::ParseQuotedName(std::string_view what) {
  if (s_.Peek() != '"') return s_.Expected(std::string(what) + " in double quotes");
  const size_t at = s_.pos();
  ASSIGN_OR_RETURN(std::string name, s_.ReadString());
  if (name.empty()) return s_.ErrorAt(at, std::string(what) + " must not be empty");
  return name;
}

// did := "did" "(" STRING ("," did_arg)* ")"
Result<Node> TextParser::ParseDid() {
  s_.TryKeyword("did");
  RETURN_IF_ERROR(ExpectOpenParen("did"));
  Node n;
  n.kind = Node::kEvent;
  ASSIGN_OR_RETURN(n.event, ParseQuotedName("the event name"));
  bool has_count = false, has_window = false;
  while (s_.TryChar(',')) RETURN_IF_ERROR(ParseDidArgument(&n, &has_count, &has_window));
  if (!s_.TryChar(')')) return s_.Expected("\",\" or \")\" in did(...)");
  return n;
}

// did_arg := "where" filter | "count" BOUNDOP NUMBER | "sum(" PROP ")" BOUNDOP
//            NUMBER | "within" DURATION | "between(" STRING "," STRING ")"
Status TextParser::ParseDidArgument(Node* n, bool* has_count, bool* has_window) {
  s_.SkipSpace();
  const size_t at = s_.pos();
  if (s_.TryKeyword("where")) {
    ASSIGN_OR_RETURN(Json filter, ParseFilter());
    n->where.push_back(std::move(filter));
    return Status::OK();
  }
  if (s_.TryKeyword("count")) {
    if (*has_count) return s_.ErrorAt(at, "count is given twice");
    *has_count = true;
    s_.SkipSpace();
    ASSIGN_OR_RETURN(n->count.value, ParseBound("count", &n->count.op));
    return Status::OK();
  }
  if (s_.TryKeyword("sum")) {
    if (!n->sum_property.empty()) return s_.ErrorAt(at, "sum is given twice");
    RETURN_IF_ERROR(ExpectOpenParen("sum"));
    s_.SkipSpace();
    ASSIGN_OR_RETURN(n->sum_property, s_.ReadName("sum("));
    if (!s_.TryChar(')')) return s_.Expected("\")\" after the property of sum(...)");
    ASSIGN_OR_RETURN(n->sum.value, ParseBound("sum(...)", &n->sum.op));
    return Status::OK();
  }
  const bool within = s_.PeekKeyword("within");
  if (within || s_.PeekKeyword("between")) {
    if (*has_window) return s_.ErrorAt(at, "a did(...) takes one time window (within or between)");
    *has_window = true;
    if (!within) return ParseDates(&n->window);
    s_.TryKeyword("within");
    n->window.kind = Window::kLast;
    ASSIGN_OR_RETURN(n->window.seconds, s_.ReadDuration("within"));
    return Status::OK();
  }
  return s_.Expected("where, count, sum, within or between in did(...)");
}

// BOUNDOP NUMBER; a count takes a whole number from 0 to 2^53.
Result<double> TextParser::ParseBound(std::string_view what, std::string* op) {
  const std::string_view symbol = s_.TryComparison();
  if (symbol.empty()) {
    return s_.Expected("a comparison (=, !=, <, <=, >, >=) after " + std::string(what));
  }
  *op = std::string(symbol);
  const char c = s_.Peek();
  if (c != '-' && (c < '0' || c > '9')) {
    return s_.Expected("a number after \"" + std::string(what) + " " + *op + "\"");
  }
  const size_t at = s_.pos();
  ASSIGN_OR_RETURN(Json number, s_.ReadNumber());
  const double value = number.get<double>();
  if (what == "count") {
    std::string problem = number.is_number_float() ? CheckCount(0.5) : CheckCount(value);
    if (!problem.empty()) return s_.ErrorAt(at, problem);
  }
  return value;
}

// "between" "(" STRING "," STRING ")", dates YYYY-MM-DD, start <= end.
Status TextParser::ParseDates(Window* w) {
  s_.TryKeyword("between");
  RETURN_IF_ERROR(ExpectOpenParen("between"));
  size_t at[2];
  std::string dates[2];
  for (int i = 0; i < 2; ++i) {
    if (i == 1 && !s_.TryChar(',')) return s_.Expected("\",\" between the two dates");
    if (s_.Peek() != '"') return s_.Expected("a date \"YYYY-MM-DD\"");
    at[i] = s_.pos();
    ASSIGN_OR_RETURN(dates[i], s_.ReadString());
    if (!IsValidDate(dates[i])) {
      return s_.ErrorAt(at[i], "bad date \"" + dates[i] + "\": expected a real date YYYY-MM-DD");
    }
  }
  if (dates[1] < dates[0]) {
    return s_.ErrorAt(at[1], "the end date " + dates[1] + " is before the start date " + dates[0]);
  }
  if (!s_.TryChar(')')) return s_.Expected("\")\" after the two dates");
  w->kind = Window::kBetween;
  w->from_date = std::move(dates[0]);
  w->to_date = std::move(dates[1]);
  return Status::OK();
}

// filter := PROP (= | != | > | >= | < | <=) value | PROP [NOT] CONTAINS value
//         | PROP not_contains value | PROP [NOT] IN (value, ...) | PROP [NOT] EXISTS
Result<Json> TextParser::ParseFilter() {
  s_.SkipSpace();
  ASSIGN_OR_RETURN(std::string property, s_.ReadName("where"));
  Json filter{{"property", property}};
  std::string op(s_.TryComparison());
  if (op.empty()) {
    const bool negated = s_.TryKeyword("not");
    if (s_.TryKeyword("contains")) {
      op = negated ? "not_contains" : "contains";
    } else if (s_.TryKeyword("in")) {
      op = negated ? "not_in" : "in";
    } else if (s_.TryKeyword("exists")) {
      op = negated ? "is_not_set" : "is_set";
    } else if (negated) {
      return s_.Expected("CONTAINS, IN or EXISTS after NOT");
    } else if (s_.TryKeyword("not_contains")) {
      op = "not_contains";
    } else {
      return s_.Expected(
          "an operator (=, !=, <, <=, >, >=, CONTAINS, IN, EXISTS or NOT ...) after " + property);
    }
  }
  filter["op"] = op;
  if (FilterOpTakesNoValue(op)) return filter;
  if (!FilterOpTakesList(op)) {
    ASSIGN_OR_RETURN(filter["value"], ParseValue(op));
    return filter;
  }
  if (!s_.TryChar('(')) return s_.Expected("\"(\" after IN");
  Json list = Json::array();
  do {
    ASSIGN_OR_RETURN(Json value, ParseValue(list.empty() ? "(" : ","));
    list.push_back(std::move(value));
  } while (s_.TryChar(','));
  if (!s_.TryChar(')')) return s_.Expected("\",\" or \")\" in the IN list");
  filter["value"] = std::move(list);
  return filter;
}

// sequence := "sequence" "(" step "," step ("," step)* ("," seq_arg)* ")"
Result<Node> TextParser::ParseSequence() {
  const size_t start = s_.pos();
  s_.TryKeyword("sequence");
  RETURN_IF_ERROR(ExpectOpenParen("sequence"));
  Node n;
  n.kind = Node::kSequence;
  bool has_gap = false, has_window = false;
  do {
    s_.SkipSpace();
    const size_t at = s_.pos();
    if (s_.Peek() == '"' || s_.PeekKeyword("step")) {
      if (has_gap || has_window) {
        return s_.ErrorAt(at, "steps come before within, during and between in sequence(...)");
      }
      ASSIGN_OR_RETURN(Node step, ParseStep());
      n.steps.push_back(std::move(step));
    } else if (s_.PeekKeyword("within") || s_.PeekKeyword("during") || s_.PeekKeyword("between")) {
      RETURN_IF_ERROR(ParseSequenceArgument(&n, &has_gap, &has_window));
    } else {
      return s_.Expected("a step (\"EVENT\" or step(...)), within, during or between");
    }
  } while (s_.TryChar(','));
  if (!s_.TryChar(')')) return s_.Expected("\",\" or \")\" in sequence(...)");
  if (n.steps.size() < 2) return s_.ErrorAt(start, "a sequence needs at least 2 steps");
  return n;
}

// step := STRING | "step" "(" STRING ("," "where" filter)* ")"
Result<Node> TextParser::ParseStep() {
  Node step;
  step.kind = Node::kEvent;
  if (s_.Peek() == '"') {
    ASSIGN_OR_RETURN(step.event, ParseQuotedName("the event name"));
    return step;
  }
  s_.TryKeyword("step");
  RETURN_IF_ERROR(ExpectOpenParen("step"));
  ASSIGN_OR_RETURN(step.event, ParseQuotedName("the event name"));
  while (s_.TryChar(',')) {
    if (!s_.TryKeyword("where")) return s_.Expected("where in step(...)");
    ASSIGN_OR_RETURN(Json filter, ParseFilter());
    step.where.push_back(std::move(filter));
  }
  if (!s_.TryChar(')')) return s_.Expected("\",\" or \")\" in step(...)");
  return step;
}

// seq_arg := "within" DURATION | "during" DURATION | "between(" STRING "," STRING ")"
Status TextParser::ParseSequenceArgument(Node* n, bool* has_gap, bool* has_window) {
  const size_t at = s_.pos();
  if (s_.TryKeyword("within")) {
    if (*has_gap) return s_.ErrorAt(at, "within is given twice");
    *has_gap = true;
    ASSIGN_OR_RETURN(n->max_gap_seconds, s_.ReadDuration("within"));
    return Status::OK();
  }
  if (*has_window) {
    return s_.ErrorAt(at, "a sequence(...) takes one time window (during or between)");
  }
  *has_window = true;
  if (!s_.TryKeyword("during")) return ParseDates(&n->window);
  n->window.kind = Window::kLast;
  ASSIGN_OR_RETURN(n->window.seconds, s_.ReadDuration("during"));
  return Status::OK();
}

// audience := "audience" "(" STRING ")"
Result<Node> TextParser::ParseAudience() {
  s_.TryKeyword("audience");
  RETURN_IF_ERROR(ExpectOpenParen("audience"));
  Node n;
  n.kind = Node::kAudience;
  ASSIGN_OR_RETURN(n.audience, ParseQuotedName("the audience name"));
  if (!s_.TryChar(')')) return s_.Expected("\")\" after the audience name");
  return n;
}

}  // namespace quanyu::audience::internal
