// Base64 (RFC 4648) for the wire formats of src/collect, written to accept
// what real SDKs send rather than only the canonical form:
//  - both alphabets, standard ('+' '/') and URL-safe ('-' '_'), even mixed;
//  - padding optional ("eyJhIjoxfQ" and "eyJhIjoxfQ==" decode alike);
//  - ASCII whitespace anywhere is skipped (MIME encoders such as Java's and
//    Android's Base64.DEFAULT break lines every 76 characters).
// Anything else is an error naming the offending byte and its offset.
//
// Stateless; thread-safe.
#pragma once

#include <string>
#include <string_view>

#include "common/result.h"

namespace quanyu::collect::internal {

// Decodes `in`. Returns InvalidArgument when `in` holds a byte outside both
// alphabets ("invalid base64 character '!' (0x21) at offset 12"), data after
// the padding, more than two '=', or a dangling final character that cannot
// carry a whole byte. Trailing bits of the last quantum are ignored.
Result<std::string> Base64Decode(std::string_view in);

// Encodes `in` with padding, standard alphabet unless `url_safe`.
std::string Base64Encode(std::string_view in, bool url_safe = false);

}  // namespace quanyu::collect::internal
