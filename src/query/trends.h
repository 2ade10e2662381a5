// Trends (POST /api/v1/query/trends, docs/metrics.md "Trends"): event
// counts, unique persons, and the sum or average of a numeric property per
// day, week or month, for up to 20 series, each with its own `where`
// filters, optionally broken down by channel, source or a property.
//
// Counts, sums and averages are read straight off the scan batches; unique
// persons go into a PersonSet (a bitset over one_ids once it is large) per
// (series, bucket), so no per-person grouping or hashing happens.
//
// Stateless; thread-safe (each call owns its state).
#pragma once

#include <algorithm>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "common/result.h"
#include "query/fields.h"
#include "query/filter.h"
#include "query/params.h"
#include "query/query.h"

namespace quanyu::query {

// A set of persons (one_ids), built for many sets filled row by row during
// a scan. The id space is cut into chunks of 65,536 ids; a chunk is first a
// list of the ids' low 16 bits as they arrive (duplicates included: no
// sorting, no hashing) and becomes an 8 KB bitset once the list would be
// larger. So Add is an append or one OR, a set never takes more than 2
// bytes per Add nor more than 8 KB per chunk, and duplicates are removed
// only when counting. Also used by the KPIs (kpis.h).
//
// Not synchronized.
class PersonSet {
 public:
  void Add(uint32_t one_id) {
    const size_t c = one_id >> kChunkBits;
    if (c >= chunks_.size()) chunks_.resize(c + 1);
    Chunk& chunk = chunks_[c];
    const uint32_t low = one_id & kLowMask;
    if (chunk.bits) {
      chunk.bits[low >> 6] |= uint64_t{1} << (low & 63);
      return;
    }
    // Lists start at 32 entries: with thousands of small sets, growing from
    // 1 by doubling costs more in malloc than the appends themselves.
    if (chunk.list.size() == chunk.list.capacity())
      chunk.list.reserve(std::max<size_t>(32, 2 * chunk.list.size()));
    chunk.list.push_back(static_cast<uint16_t>(low));
    if (chunk.list.size() >= kListMax) Densify(&chunk);
  }
  // Adds every member of `other`.
  void AddAll(const PersonSet& other);
  // The number of distinct members.
  uint64_t Count() const;
  // Calls fn(one_id) for each member once, in ascending order.
  template <class Fn>
  void ForEach(Fn&& fn) const {
    std::vector<uint16_t> sorted;
    for (size_t c = 0; c < chunks_.size(); ++c) {
      const Chunk& chunk = chunks_[c];
      const auto base = static_cast<uint32_t>(c << kChunkBits);
      if (chunk.bits) {
        for (size_t w = 0; w < kWords; ++w) {
          for (uint64_t x = chunk.bits[w]; x != 0; x &= x - 1) {
            fn(base + static_cast<uint32_t>(w * 64 + static_cast<size_t>(__builtin_ctzll(x))));
          }
        }
        continue;
      }
      sorted.assign(chunk.list.begin(), chunk.list.end());
      std::sort(sorted.begin(), sorted.end());
      sorted.erase(std::unique(sorted.begin(), sorted.end()), sorted.end());
      for (uint16_t low : sorted) fn(base + low);
    }
  }

 private:
  static constexpr uint32_t kChunkBits = 16;
  static constexpr uint32_t kLowMask = (uint32_t{1} << kChunkBits) - 1;
  static constexpr size_t kWords = (size_t{1} << kChunkBits) / 64;  // 1,024 words = 8 KB
  static constexpr size_t kListMax = kWords * sizeof(uint64_t) / sizeof(uint16_t);
  struct Chunk {
    std::vector<uint16_t> list;        // while sparse: low bits as added
    std::unique_ptr<uint64_t[]> bits;  // once dense: kWords words
  };
  static void Densify(Chunk* chunk);

  std::vector<Chunk> chunks_;  // by one_id >> kChunkBits
};

enum class TrendsMeasure { kCount, kPersons, kSum, kAvg };
std::string_view TrendsMeasureName(TrendsMeasure m);

struct TrendsSeriesSpec {
  std::string event;  // an event name, or "$any" (every event, of any type)
  TrendsMeasure measure = TrendsMeasure::kCount;
  std::optional<Field> property;  // required for kSum / kAvg, unused otherwise
  std::vector<Condition> where;
};

inline constexpr std::string_view kAnyEvent = "$any";
inline constexpr size_t kMaxTrendsSeries = 20;
inline constexpr int64_t kMaxTrendsBuckets = 3700;  // ten years of days
// Distinct breakdown values tracked per query, in the order they are met;
// events with values met later are counted in "(other)" (memory stays
// bounded for a breakdown on a URL or an id).
inline constexpr uint32_t kMaxTrendsBreakdownValues = 10'000;

struct TrendsSpec {
  TimeRange range;
  TimeZone timezone;
  Granularity interval = Granularity::kDay;
  std::vector<TrendsSeriesSpec> series;  // 1..kMaxTrendsSeries
  std::optional<Field> breakdown;
  int64_t breakdown_limit = 25;  // values kept; the rest are summed up as "(other)"
};

// One series' numbers (or one breakdown value's): a value per bucket and
// the total over the whole range. nullopt = undefined (the average of no
// values). Counts and persons are whole numbers.
struct TrendsValues {
  std::vector<std::optional<double>> values;
  std::optional<double> total;
};

struct TrendsBreakdownValue {
  std::string value;  // the breakdown label; "(none)" when missing, "(other)" for the rest
  TrendsValues values;
};

struct TrendsSeriesResult {
  TrendsValues values;
  // Ranked by total (for avg: by the number of values), largest first, ties
  // by value; "(other)" last. Empty without a breakdown.
  std::vector<TrendsBreakdownValue> breakdown;
};

struct TrendsResult {
  TrendsSpec spec;
  std::vector<std::string> buckets;        // local start date of each bucket
  std::vector<TrendsSeriesResult> series;  // as spec.series
};

// InvalidArgument naming the field for a malformed body, unknown event or
// property names (with a catalog), an empty or inverted range, or more than
// kMaxTrendsBuckets buckets.
Result<TrendsSpec> ParseTrendsSpec(const Json& body, const QueryContext& ctx);
// IOError / Corruption from the store.
Result<TrendsResult> ComputeTrends(const TrendsSpec& spec, const QueryContext& ctx);
Json ToJson(const TrendsResult& result);

}  // namespace quanyu::query
