// libFuzzer target for the Segment Tracking API parser
// (collect/segment_format.h).
//
// Input: one byte choosing the endpoint, then the body. Parsed events go
// through identifier normalization and channel classification, as at ingest.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "collect/channel.h"
#include "collect/identifiers.h"
#include "collect/segment_format.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace quanyu::collect;
  static constexpr std::string_view kEndpoints[] = {
      "batch", "track", "identify", "page", "screen", "group", "alias",  "b",
      "t",     "i",     "p",        "s",    "g",      "a",     "import", "nope"};
  if (size < 1) return 0;
  std::string_view endpoint = kEndpoints[data[0] % std::size(kEndpoints)];
  std::string_view body(reinterpret_cast<const char*>(data + 1), size - 1);

  auto parsed = ParseSegmentRequest(body, endpoint, 1'700'000'000'000'000, Limits{});
  if (!parsed.ok()) return 0;

  static const IdentifierNormalizer normalizer("CN", {});
  static const ChannelClassifier classifier;
  for (auto& event : parsed->events) {
    normalizer.NormalizeAll(&event.identifiers);
    if (classifier.Classify(event, "web").empty()) __builtin_trap();
  }
  return 0;
}
