// TextParser: the recursive-descent parser behind ParseText (language.h),
// one method per rule of the grammar in docs/segment-language.md. Boolean
// structure and attribute conditions are in text_parser.cc; event, sequence
// and audience conditions in text_events.cc.
//
// Not thread-safe; one per parse.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "audience/definition.h"
#include "audience/internal/scanner.h"
#include "common/result.h"

namespace quanyu::audience::internal {

class TextParser {
 public:
  // REQUIRES: `text` is valid UTF-8 and outlives the parser.
  explicit TextParser(std::string_view text) : text_(text), s_(text) {}

  // The whole text as one definition; errors as ParseText promises.
  Result<Node> ParseDefinition();

 private:
  // Boolean structure (text_parser.cc).
  Result<Node> ParseBoolean(Node::Kind kind);
  Result<Node> ParseUnary();
  Result<Node> ParseCondition();
  Status CheckDepth(const Node& n, size_t start);
  std::string Where(size_t offset) const;

  // Attribute conditions and literals (text_parser.cc).
  Result<Node> ParseAttribute(Namespace ns, size_t start);
  Status ParseComparison(const std::string& subject, Node* n);
  Status AppendLiteral(std::string_view after, std::vector<Literal>* out);
  Result<Json> ParseValue(std::string_view after);

  // Event, sequence and audience conditions (text_events.cc).
  Result<Node> ParseDid();
  Status ParseDidArgument(Node* n, bool* has_count, bool* has_window);
  Result<Node> ParseSequence();
  Result<Node> ParseStep();
  Status ParseSequenceArgument(Node* n, bool* has_gap, bool* has_window);
  Result<Node> ParseAudience();
  Result<Json> ParseFilter();
  Result<double> ParseBound(std::string_view what, std::string* op);
  Status ParseDates(Window* w);
  Result<std::string> ParseQuotedName(std::string_view what);
  Status ExpectOpenParen(std::string_view keyword);

  std::string_view text_;
  Scanner s_;
  int nesting_ = 0;     // open "(" and NOT around the current position
  int conditions_ = 0;  // conditions read so far
};

}  // namespace quanyu::audience::internal
