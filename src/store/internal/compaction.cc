#include "store/internal/compaction.h"

#include <algorithm>
#include <map>

namespace quanyu::store::internal {
namespace {

int TierOf(uint64_t rows, size_t fanin) {
  int tier = 0;
  for (uint64_t r = rows; r >= fanin; r /= fanin) ++tier;
  return tier;
}

}  // namespace

std::vector<CompactionJob> PlanCompaction(const std::vector<SegmentEntry>& segments, bool full,
                                          size_t fanin, size_t max_segment_rows) {
  // (day, tier) -> small segments; tier 0 for everything on a full pass.
  std::map<std::pair<std::string, int>, CompactionJob> groups;
  for (const SegmentEntry& e : segments) {
    if (e.rows * 2 >= max_segment_rows) continue;
    const int tier = full ? 0 : TierOf(e.rows, fanin);
    CompactionJob& job = groups[{e.day, tier}];
    job.day = e.day;
    job.seqs.push_back(e.seq);
    job.rows += e.rows;
  }
  std::vector<CompactionJob> jobs;
  const size_t needed = full ? 2 : fanin;
  for (auto& [key, job] : groups) {
    if (job.seqs.size() < needed) continue;
    std::sort(job.seqs.begin(), job.seqs.end());
    jobs.push_back(std::move(job));
  }
  return jobs;
}

}  // namespace quanyu::store::internal
