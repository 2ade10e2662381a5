// BatchSink: collects the rows of a scan into batches of at most
// kMaxScanBatchRows and hands each to the caller's ScanFn.
//
// The Event objects are reused from batch to batch: a producer overwrites
// every column the scan asked for and leaves the rest at their defaults, so
// reuse is invisible to the caller and saves constructing, destroying and
// re-allocating the strings of each row. Keeping batches small keeps them in
// cache (measured in bench/store_bench.cc).
//
// Not synchronized: owned by the scanning thread.
#pragma once

#include "common/event.h"
#include "common/status.h"
#include "store/event_store.h"

namespace quanyu::store::internal {

class BatchSink {
 public:
  explicit BatchSink(const ScanFn& fn) : fn_(fn) {}

  // A row to fill: the requested columns hold stale values from an earlier
  // batch (or defaults) and must all be overwritten; the others are default.
  Event* NewRow() {
    if (used_ < batch_.size()) return &batch_[used_++];
    ++used_;
    return &batch_.emplace_back();
  }
  // Passes the batch to fn once it is full; returns fn's status.
  Status MaybeEmit() { return used_ >= kMaxScanBatchRows ? Emit() : Status::OK(); }
  // Passes any rows not yet passed to fn; returns fn's status.
  Status Emit() {
    if (used_ == 0) return Status::OK();
    if (used_ < batch_.size()) batch_.resize(used_);  // only the last batch is short
    used_ = 0;
    return fn_(batch_);
  }

 private:
  const ScanFn& fn_;
  EventBatch batch_;
  size_t used_ = 0;  // rows of batch_ filled for the current batch
};

}  // namespace quanyu::store::internal
