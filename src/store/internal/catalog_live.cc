#include "store/internal/catalog_live.h"

#include <spdlog/spdlog.h>

#include "store/internal/catalog_builder.h"

namespace quanyu::store::internal {

LiveCatalog::LiveCatalog(EventCatalog segments)
    : segments_(std::make_shared<const EventCatalog>(std::move(segments))) {}

void LiveCatalog::Add(std::shared_ptr<const RowChunk> chunk) {
  std::lock_guard l(mu_);
  buffered_.pending.push_back(std::move(chunk));
  ++version_;
}

void LiveCatalog::Take() {
  std::lock_guard l(mu_);
  taken_ = std::exchange(buffered_, Part());
  ++version_;
}

std::shared_ptr<const EventCatalog> LiveCatalog::Taken() {
  FoldPart(&taken_);
  std::lock_guard l(mu_);
  return taken_.folded;
}

void LiveCatalog::Commit(std::shared_ptr<const EventCatalog> segments) {
  std::lock_guard l(mu_);
  segments_ = std::move(segments);
  taken_ = Part();
  ++version_;
}

void LiveCatalog::Restore() {
  std::lock_guard l(mu_);
  // Merging is order-free, so the taken rows join the buffer's summary and
  // their unparsed chunks its tail (a concurrent Fold only ever removes the
  // head of the pending list it saw).
  auto merged = std::make_shared<EventCatalog>(*buffered_.folded);
  merged->Merge(*taken_.folded);
  buffered_.folded = std::move(merged);
  buffered_.pending.insert(buffered_.pending.end(), taken_.pending.begin(), taken_.pending.end());
  taken_ = Part();
  ++version_;
}

std::shared_ptr<const EventCatalog> LiveCatalog::segments() const {
  std::lock_guard l(mu_);
  return segments_;
}

void LiveCatalog::FoldPart(Part* part) {
  RowChunks pending;
  {
    std::lock_guard l(mu_);
    pending = part->pending;
  }
  if (pending.empty()) return;
  CatalogBuilder builder;
  for (const auto& chunk : pending) builder.AddChunk(*chunk);
  if (builder.skipped_rows() > 0) {
    spdlog::warn("event store: {} buffered rows do not decode; left out of the catalog",
                 builder.skipped_rows());
  }
  std::lock_guard l(mu_);
  auto merged = std::make_shared<EventCatalog>(*part->folded);
  builder.MergeInto(merged.get());
  part->folded = std::move(merged);
  // Only Add (appends) and Restore (appends) changed the list meanwhile:
  // Take needs fold_mu_, which the caller holds.
  part->pending.erase(part->pending.begin(), part->pending.begin() + pending.size());
  ++version_;
}

void LiveCatalog::Fold() {
  auto hold = HoldFolds();
  FoldPart(&buffered_);
}

std::shared_ptr<const EventCatalog> LiveCatalog::Snapshot() {
  bool parse;
  {
    std::lock_guard l(mu_);
    parse = !buffered_.pending.empty() || !taken_.pending.empty();
  }
  if (parse) {
    // A flush that took chunks nobody parsed holds the fold lock until it
    // has parsed them; waiting for it is waiting for that work.
    auto hold = HoldFolds();
    FoldPart(&taken_);
    FoldPart(&buffered_);
  }
  std::shared_ptr<const EventCatalog> segments, taken, buffered;
  uint64_t version;
  {
    std::lock_guard l(mu_);
    if (snapshot_version_ == version_) return snapshot_;
    segments = segments_;
    taken = taken_.folded;
    buffered = buffered_.folded;
    version = version_;
    // Chunks added since the fold above are left for the next call: a
    // snapshot is as of the moment the fold started.
  }
  auto merged = std::make_shared<EventCatalog>(*segments);
  merged->Merge(*taken);
  merged->Merge(*buffered);
  std::lock_guard l(mu_);
  snapshot_ = merged;
  snapshot_version_ = version;
  return merged;
}

}  // namespace quanyu::store::internal
