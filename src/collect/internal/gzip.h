// Inflation of compressed request bodies with a hard cap on the output, so a
// small "zip bomb" cannot make the collector allocate gigabytes. Used by the
// Sensors Data parser (gzip=1) and by the HTTP layer for
// Content-Encoding: gzip / deflate.
//
// Stateless; thread-safe.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

#include "common/result.h"

namespace quanyu::collect::internal {

// Inflates `in`, auto-detecting the container from its first bytes: gzip
// (RFC 1952, 1f 8b; concatenated members are all inflated, as gunzip does),
// zlib (RFC 1950, as HTTP "deflate" is specified) or, failing both headers,
// raw deflate (RFC 1951, what some clients send as "deflate").
// Returns PayloadTooLarge as soon as the output would exceed `cap` bytes, and
// InvalidArgument naming the problem for empty input, a corrupt or truncated
// stream, or bytes after the end of the stream.
Result<std::string> GunzipCapped(std::string_view in, size_t cap);

// True when `in` starts with the gzip magic bytes 1f 8b.
bool LooksGzipped(std::string_view in);

}  // namespace quanyu::collect::internal
