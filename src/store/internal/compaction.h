// Which segments to merge (EventStore::Compact). Flushes write one segment
// per day they touch, so a store fed steadily (a flush every 10 s) or a bulk
// load spread over many days ends up with thousands of small segments per
// day, and every scan pays per segment (open, footer, column lookups, one
// batch per segment for the operators). Compaction merges a day's small
// segments into large ones, rows in time order.
//
// The plan is size-tiered: a segment's tier is floor(log_fanin(rows)); a
// background pass merges the segments of one day and one tier once `fanin`
// of them exist, so every row is rewritten about log_fanin(day's rows)
// times, not once per flush. A full pass merges every small segment of a
// day. Segments of at least max_segment_rows / 2 rows are never inputs, and
// one merge takes at most kMaxJobSegments * max_segment_rows rows (it holds
// them in memory), so a large day is merged in several jobs.
//
// Pure functions; thread-safe.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "store/internal/manifest.h"

namespace quanyu::store::internal {

inline constexpr size_t kMaxJobSegments = 2;

struct CompactionJob {
  std::string day;
  std::vector<uint64_t> seqs;  // input segments, ascending
  uint64_t rows = 0;           // their rows in total
};

// REQUIRES: fanin >= 2 unless full.
std::vector<CompactionJob> PlanCompaction(const std::vector<SegmentEntry>& segments, bool full,
                                          size_t fanin, size_t max_segment_rows);

}  // namespace quanyu::store::internal
