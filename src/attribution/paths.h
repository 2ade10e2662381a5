// Conversion paths (docs/attribution.md, "Paths"): the channels a person
// touched, in order, before converting or not, aggregated over identical
// paths — the input of every attribution model. Read from and written to
// ChannelAttribution's aggregated format:
//
//   path;total_conversions;total_conversion_value;total_null
//   eta > iota > alpha;1;0.244;3
//
// (a header line, then one path per line: channels joined by " > ", the
// conversions and their value, and how many times the path ended without
// one). A comma also separates fields when the header uses commas.
//
// Stateless; thread-safe.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"

namespace quanyu::attribution {

struct Path {
  std::vector<uint32_t> touches;  // channel indexes (PathSet::channels), oldest first
  // Microseconds from each touch to the conversion (or to the end of the
  // path, for a non-converting one); empty when unknown (a file's paths).
  std::vector<int64_t> age_us;
  double conversions = 0;
  double value = 0;
  double nulls = 0;  // times the path ended without a conversion
};

struct PathSet {
  std::vector<std::string> channels;  // index -> name
  std::vector<Path> paths;
  // Conversions (and their value) with no touch in their lookback: in no
  // path, so no model credits them. Only paths from the store count them.
  double untouched_conversions = 0;
  double untouched_value = 0;

  // The index of `name`, added if new.
  uint32_t Channel(std::string_view name);
  double total_conversions() const;
  double total_value() const;
  double total_nulls() const;
  // Merges paths with the same touches (summing conversions, value and
  // nulls; their ages are dropped when they differ).
  void Aggregate();
};

// Parses ChannelAttribution's format. InvalidArgument, naming the line and
// the field, for a missing header, an empty path or channel, a non-number
// or negative count, or a line with the wrong number of fields. At most
// `max_paths` lines.
Result<PathSet> ReadPathsCsv(std::string_view text, size_t max_paths = 10'000'000);

// The same format, ';'-separated, paths in the set's order.
std::string WritePathsCsv(const PathSet& set);

// Consecutive repeats of a channel collapsed into one touch ("a > a > b" ->
// "a > b"; the last repeat's age is kept), then aggregated if `aggregate`.
PathSet CollapseRepeats(const PathSet& set, bool aggregate = true);

}  // namespace quanyu::attribution
