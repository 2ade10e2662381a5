// ParseText (language.h) and the boolean and attribute rules of TextParser.
#include "audience/internal/text_parser.h"

#include <cctype>

#include "audience/internal/syntax.h"
#include "audience/language.h"

namespace quanyu::audience {
namespace internal {
namespace {

void Append(Node child, Node* parent) {
  if (child.kind != parent->kind) {
    parent->children.push_back(std::move(child));
    return;
  }
  for (Node& c : child.children) parent->children.push_back(std::move(c));
}

std::string Lower(std::string_view word) {
  std::string out(word);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

}  // namespace

Result<Node> TextParser::ParseDefinition() {
  ASSIGN_OR_RETURN(Node n, ParseBoolean(Node::kOr));
  if (!s_.AtEnd()) return s_.Expected("AND, OR or the end of the definition");
  return n;
}

// or := and ("OR" and)*    and := unary ("AND" unary)*
// A nested group of the same kind is flattened: a AND (b AND c) is
// and[a, b, c], so every tree has one spelling.
Result<Node> TextParser::ParseBoolean(Node::Kind kind) {
  s_.SkipSpace();
  const size_t start = s_.pos();
  const std::string_view keyword = kind == Node::kOr ? "or" : "and";
  auto operand = [&]() { return kind == Node::kOr ? ParseBoolean(Node::kAnd) : ParseUnary(); };
  ASSIGN_OR_RETURN(Node first, operand());
  if (!s_.PeekKeyword(keyword)) return first;
  Node n;
  n.kind = kind;
  Append(std::move(first), &n);
  while (s_.TryKeyword(keyword)) {
    ASSIGN_OR_RETURN(Node next, operand());
    Append(std::move(next), &n);
  }
  RETURN_IF_ERROR(CheckDepth(n, start));
  return n;
}

Status TextParser::CheckDepth(const Node& n, size_t start) {
  if (TreeDepth(n) <= kMaxDepth) return Status::OK();
  return s_.ErrorAt(start, "conditions nested deeper than 64 levels");
}

// unary := "NOT" unary | "(" expr ")" | condition
Result<Node> TextParser::ParseUnary() {
  s_.SkipSpace();
  const size_t start = s_.pos();
  const bool is_not = s_.PeekKeyword("not");
  if (!is_not && s_.Peek() != '(') return ParseCondition();
  // Counted before recursing, so hostile input cannot exhaust the stack.
  if (++nesting_ > kMaxDepth) return s_.ErrorAt(start, "conditions nested deeper than 64 levels");
  Node n;
  if (is_not) {
    s_.TryKeyword("not");
    ASSIGN_OR_RETURN(Node child, ParseUnary());
    n.kind = Node::kNot;
    n.children.push_back(std::move(child));
    RETURN_IF_ERROR(CheckDepth(n, start));
  } else {
    s_.TryChar('(');
    ASSIGN_OR_RETURN(n, ParseBoolean(Node::kOr));
    if (!s_.TryChar(')')) return s_.Expected("\")\" to close the \"(\" at " + Where(start));
  }
  --nesting_;
  return n;
}

std::string TextParser::Where(size_t offset) const {
  const std::string m = s_.ErrorAt(offset, "").message();
  return m.substr(0, m.size() - 2);  // "line L, column C"
}

// condition := attribute | did | sequence | audience
Result<Node> TextParser::ParseCondition() {
  const size_t start = s_.pos();
  if (++conditions_ > kMaxConditions) return s_.ErrorAt(start, "more than 256 conditions");
  const std::string_view word = s_.PeekWord();
  const std::string lower = Lower(word);
  const size_t after = start + word.size();
  const bool dotted = !word.empty() && after < text_.size() && text_[after] == '.';
  if (auto ns = NamespaceFromName(lower)) {
    s_.TryKeyword(lower);
    if (!dotted) return s_.Expected("\".\" and a name after \"" + std::string(word) + "\"");
    s_.TryChar('.');
    return ParseAttribute(*ns, start);
  }
  if (dotted) {
    return s_.ErrorAt(start, "unknown namespace \"" + std::string(word) +
                                 "\": expected trait, computed, rfm, predicted or consent");
  }
  if (lower == "did") return ParseDid();
  if (lower == "sequence") return ParseSequence();
  if (lower == "audience") return ParseAudience();
  return s_.Expected(
      "a condition (trait.NAME ..., did(...), sequence(...), audience(...), NOT or \"(\")");
}

// attribute := NS "." NAME cmp
Result<Node> TextParser::ParseAttribute(Namespace ns, size_t start) {
  Node n;
  n.kind = Node::kAttribute;
  n.ns = ns;
  const std::string prefix = std::string(NamespaceName(ns)) + ".";
  const size_t name_pos = s_.pos();
  ASSIGN_OR_RETURN(n.name, s_.ReadName(prefix));
  RETURN_IF_ERROR(ParseComparison(prefix + n.name, &n));
  if (std::string problem = CheckAttribute(n); !problem.empty()) {
    return s_.ErrorAt(ns == Namespace::kRfm ? name_pos : start, problem);
  }
  return n;
}

// cmp := ("=" | "!=" | "<" | "<=" | ">" | ">=") literal | "IN" "(" literal
//        ("," literal)* ")" | "CONTAINS" literal | "EXISTS"
//        | "BETWEEN" literal "AND" literal
Status TextParser::ParseComparison(const std::string& subject, Node* n) {
  if (const std::string_view symbol = s_.TryComparison(); !symbol.empty()) {
    n->op = *CmpOpFromSymbol(symbol);
    return AppendLiteral(symbol, &n->values);
  }
  if (s_.TryKeyword("exists")) {
    n->op = CmpOp::kExists;
    return Status::OK();
  }
  if (s_.TryKeyword("contains")) {
    n->op = CmpOp::kContains;
    return AppendLiteral("CONTAINS", &n->values);
  }
  if (s_.TryKeyword("between")) {
    n->op = CmpOp::kBetween;
    RETURN_IF_ERROR(AppendLiteral("BETWEEN", &n->values));
    if (!s_.TryKeyword("and")) return s_.Expected("AND in \"BETWEEN low AND high\"");
    return AppendLiteral("AND", &n->values);
  }
  if (s_.TryKeyword("in")) {
    n->op = CmpOp::kIn;
    if (!s_.TryChar('(')) return s_.Expected("\"(\" after IN");
    do {
      RETURN_IF_ERROR(AppendLiteral(n->values.empty() ? "(" : ",", &n->values));
    } while (s_.TryChar(','));
    if (!s_.TryChar(')')) return s_.Expected("\",\" or \")\" in the IN list");
    return Status::OK();
  }
  return s_.Expected("an operator (=, !=, <, <=, >, >=, IN, CONTAINS, EXISTS or BETWEEN) after " +
                     subject);
}

// literal := STRING | NUMBER | true | false | null | "ago(" DURATION ")"
Status TextParser::AppendLiteral(std::string_view after, std::vector<Literal>* out) {
  Literal l;
  if (s_.TryKeyword("ago")) {
    if (!s_.TryChar('(')) return s_.Expected("\"(\" after ago");
    ASSIGN_OR_RETURN(l.ago_seconds, s_.ReadDuration("ago("));
    if (!s_.TryChar(')')) return s_.Expected("\")\" after the duration of ago(...)");
  } else {
    ASSIGN_OR_RETURN(l.value, ParseValue(after));
  }
  out->push_back(std::move(l));
  return Status::OK();
}

// STRING | NUMBER | true | false | null
Result<Json> TextParser::ParseValue(std::string_view after) {
  const char c = s_.Peek();
  if (c == '"') {
    ASSIGN_OR_RETURN(std::string str, s_.ReadString());
    return Json(std::move(str));
  }
  if (c == '-' || (c >= '0' && c <= '9')) return s_.ReadNumber();
  if (s_.TryKeyword("true")) return Json(true);
  if (s_.TryKeyword("false")) return Json(false);
  if (s_.TryKeyword("null")) return Json(nullptr);
  return s_.Expected("a value after \"" + std::string(after) + "\"");
}

}  // namespace internal

Result<Node> ParseText(std::string_view text) {
  internal::Scanner scanner(text);
  if (text.size() > internal::kMaxTextBytes) {
    return scanner.ErrorAt(0, "the definition is " + std::to_string(text.size()) +
                                  " bytes; the limit is 65536 (64 KiB)");
  }
  if (const size_t bad = internal::FindInvalidUtf8(text); bad != std::string_view::npos) {
    return scanner.ErrorAt(bad, "invalid UTF-8");
  }
  return internal::TextParser(text).ParseDefinition();
}

}  // namespace quanyu::audience
