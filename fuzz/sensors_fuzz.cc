// libFuzzer target for the Sensors Data parser (collect/sensors_format.h).
//
// Input: one mode byte, then the payload. The mode picks how the payload
// reaches the parser, so the fuzzer explores each layer — form decoding,
// base64, gzip, JSON, record mapping — rather than dying at the first:
//   0  raw JSON body            3  a whole form / query string
//   1  data = base64(payload)   4  data = payload (as base64 text)
//   2  data_list = base64(gzip(payload)), gzip=1
//   5  data_list = base64(payload), gzip=1 (payload as compressed bytes)
// Bit 3 of the mode byte shrinks the limits to exercise their paths.
// Every parsed event then goes through identifier normalization and channel
// classification, as at ingest.
#include <zlib.h>

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "collect/channel.h"
#include "collect/identifiers.h"
#include "collect/internal/base64.h"
#include "collect/sensors_format.h"

namespace {

std::string Gzip(std::string_view data) {
  z_stream zs{};
  if (deflateInit2(&zs, 1, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK) return "";
  std::string out(deflateBound(&zs, data.size()) + 32, '\0');
  zs.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(data.data()));
  zs.avail_in = static_cast<uInt>(data.size());
  zs.next_out = reinterpret_cast<Bytef*>(out.data());
  zs.avail_out = static_cast<uInt>(out.size());
  deflate(&zs, Z_FINISH);
  out.resize(zs.total_out);
  deflateEnd(&zs);
  return out;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace quanyu::collect;
  if (size < 1) return 0;
  const uint8_t mode = data[0];
  std::string_view payload(reinterpret_cast<const char*>(data + 1), size - 1);

  SensorsRequest request;
  switch (mode % 6) {
    case 0:
      request.raw_body = std::string(payload);
      break;
    case 1:
      request.data = internal::Base64Encode(payload);
      break;
    case 2:
      request.data_list = internal::Base64Encode(Gzip(payload));
      request.gzip = "1";
      break;
    case 3:
      ParseSensorsForm(payload, &request);
      break;
    case 4:
      request.data = std::string(payload);
      break;
    case 5:
      request.data_list = internal::Base64Encode(payload, /*url_safe=*/true);
      request.gzip = "1";
      break;
  }
  Limits limits;
  if (mode & 0x08) {
    limits.max_event_bytes = 256;
    limits.max_batch_bytes = 1024;
    limits.max_batch_events = 4;
  }

  auto parsed = ParseSensorsRequest(request, 1'700'000'000'000'000, limits);
  if (!parsed.ok()) return 0;

  static const IdentifierNormalizer normalizer("CN", {"test"});
  static const ChannelClassifier classifier;
  for (auto& event : parsed->events) {
    normalizer.NormalizeAll(&event.identifiers);
    std::string channel = classifier.Classify(event, "web");
    if (channel.empty()) __builtin_trap();  // Classify promises a channel
  }
  return 0;
}
