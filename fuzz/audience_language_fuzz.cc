// libFuzzer target for the segment language's parsers (audience/language.h).
//
// Input: a definition in the text form. Whatever parses must print to text
// and JSON that parse back to the same tree; a difference aborts. Input that
// happens to be JSON is also fed to ParseJson, with the same round trip.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "audience/language.h"

namespace {

using quanyu::audience::Node;

void CheckRoundTrip(const Node& tree) {
  using namespace quanyu::audience;
  auto from_text = ParseText(PrintText(tree));
  if (!from_text.ok() || !(*from_text == tree)) __builtin_trap();
  auto from_json = ParseJson(PrintJson(tree));
  if (!from_json.ok() || !(*from_json == tree)) __builtin_trap();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace quanyu::audience;
  std::string_view text(reinterpret_cast<const char*>(data), size);

  auto parsed = ParseText(text);
  if (parsed.ok()) CheckRoundTrip(*parsed);

  Json json = Json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (!json.is_discarded()) {
    auto tree = ParseJson(json);
    if (tree.ok()) CheckRoundTrip(*tree);
  }
  return 0;
}
