// LiveCatalog: the store's EventCatalog kept current — the catalog of the
// segments plus that of the buffered rows, which change with every Add and
// every flush.
//
// Buffered chunks are summarized once each (CatalogBuilder) and folded into
// a running catalog of the buffer, so Snapshot costs a merge of three small
// catalogs however many rows are buffered. Parsing happens outside every
// store lock: in Fold (the background flusher calls it about once a second,
// so queries rarely find anything left to parse), in Snapshot for whatever
// Fold has not reached yet, and in a flush for the rows it takes.
//
// The buffer's life cycle mirrors the store's (event_store.cc):
//   Add            a chunk joins the buffer            (under the store's lock)
//   HoldFolds      a flush is about to take the buffer (before the store's lock)
//   Take           ... takes it                        (under both)
//   Taken          ... and summarizes what it took     (HoldFolds still held)
//   Commit/Restore ... the flush committed / failed    (under the store's lock)
// Because Add and Take run inside the same critical sections that change the
// store's buffer, the catalog's view of what is buffered, taken or in
// segments is always the store's: a snapshot counts every event once.
//
// Thread-safety: all methods are safe to call concurrently, with the
// REQUIRES above. Lock order: the fold lock, then the store's lock, then
// this object's own lock.
#pragma once

#include <cstdint>
#include <memory>
#include <mutex>

#include "store/catalog.h"
#include "store/internal/row_chunk.h"

namespace quanyu::store::internal {

class LiveCatalog {
 public:
  // `segments`: the catalog of the live segments (RecoverCatalog).
  explicit LiveCatalog(EventCatalog segments);

  // A chunk joined the buffer. O(1): no parsing.
  // REQUIRES: the store's lock held (the order of Add and Take is the store's).
  void Add(std::shared_ptr<const RowChunk> chunk);

  // Serializes parsing; a flush holds it from before it takes the buffer
  // until Taken returns, so no Fold is half-way through the taken chunks.
  std::unique_lock<std::mutex> HoldFolds() { return std::unique_lock(fold_mu_); }
  // The whole buffer was taken by a flush. O(1).
  // REQUIRES: HoldFolds held and the store's lock held.
  void Take();
  // The catalog of the taken rows (parses what no Fold reached).
  // REQUIRES: HoldFolds held, after Take.
  std::shared_ptr<const EventCatalog> Taken();
  // The taken rows are in segments now; `segments` is the new catalog of
  // all segments (the old one merged with Taken()).
  // REQUIRES: the store's lock held.
  void Commit(std::shared_ptr<const EventCatalog> segments);
  // The flush failed: the taken rows are buffered again.
  // REQUIRES: the store's lock held.
  void Restore();

  // The catalog of the segments alone (changes only in Commit).
  std::shared_ptr<const EventCatalog> segments() const;

  // Summarizes buffered chunks no one has parsed yet.
  void Fold();
  // Segments + taken + buffered rows, as of the call. Cached until the next
  // change.
  std::shared_ptr<const EventCatalog> Snapshot();

 private:
  // Rows summarized in `folded` plus chunks not parsed yet.
  struct Part {
    std::shared_ptr<const EventCatalog> folded = std::make_shared<const EventCatalog>();
    RowChunks pending;
  };
  // Parses the pending chunks of *part (Part::pending at the time of the call)
  // and folds them in. REQUIRES: fold_mu_ held.
  void FoldPart(Part* part);

  std::mutex fold_mu_;
  mutable std::mutex mu_;
  // Guarded by mu_.
  std::shared_ptr<const EventCatalog> segments_;
  Part taken_, buffered_;
  uint64_t version_ = 0;  // bumped by every change
  std::shared_ptr<const EventCatalog> snapshot_;
  uint64_t snapshot_version_ = UINT64_MAX;
};

}  // namespace quanyu::store::internal
