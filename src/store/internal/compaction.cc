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
  // (day, tier) -> its small segments; tier 0 for everything on a full pass.
  std::map<std::pair<std::string, int>, std::vector<const SegmentEntry*>> groups;
  for (const SegmentEntry& e : segments) {
    if (e.rows * 2 >= max_segment_rows) continue;
    groups[{e.day, full ? 0 : TierOf(e.rows, fanin)}].push_back(&e);
  }
  std::vector<CompactionJob> jobs;
  const size_t needed = full ? 2 : fanin;
  const uint64_t max_job_rows = uint64_t{kMaxJobSegments} * max_segment_rows;
  for (auto& [key, group] : groups) {
    if (group.size() < needed) continue;
    std::sort(group.begin(), group.end(),
              [](const SegmentEntry* a, const SegmentEntry* b) { return a->seq < b->seq; });
    // A merge holds its rows in memory: cut the group into jobs of at most
    // max_job_rows rows (a job of one segment would rewrite it for nothing).
    CompactionJob job;
    auto emit = [&] {
      if (job.seqs.size() >= 2) jobs.push_back(std::move(job));
      job = CompactionJob();
    };
    for (const SegmentEntry* e : group) {
      if (!job.seqs.empty() && job.rows + e->rows > max_job_rows) emit();
      job.day = e->day;
      job.seqs.push_back(e->seq);
      job.rows += e->rows;
    }
    emit();
  }
  return jobs;
}

}  // namespace quanyu::store::internal
