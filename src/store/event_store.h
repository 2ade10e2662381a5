// EventStore: the columnar event store (ARCHITECTURE.md §5).
//
// Events arrive through Add() after they are durable in the log, are
// buffered in memory, and are written by a background flush into immutable,
// zstd-compressed, time-partitioned (one folder per UTC day) columnar segment
// files. A manifest names the live segments and the highest log LSN they
// cover (the checkpoint); after a restart the engine replays the log from
// that LSN. Format specified byte by byte in docs/segment_format.md.
//
// Scan() reads only the requested columns of the segments overlapping the
// requested time range, plus matching buffered events.
//
// Thread-safety: Add, Scan, Flush and Stats are safe to call concurrently.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "common/clock.h"
#include "common/event.h"
#include "common/result.h"

namespace quanyu::store {

// Columns of a segment. Values are persisted column ids: append only.
enum class Column : uint16_t {
  kTimestamp = 0,
  kReceived,
  kType,
  kName,           // dictionary
  kMessageId,
  kSource,         // dictionary
  kChannel,        // dictionary
  kUserId,
  kAnonymousId,
  kIdentifiers,
  kCampaignSource, // dictionary
  kCampaignMedium, // dictionary
  kCampaignName,   // dictionary
  kCampaignTerm,
  kCampaignContent,
  kReferrer,
  kUrl,
  kRevenue,
  kValue,
  kQuantity,
  kCurrency,       // dictionary
  kOrderId,
  kProductId,
  kProperties,
  kTraits,
  kContext,
};
inline constexpr int kColumnCount = 26;

// A set of columns, as a bit mask (bit i = Column i).
class ColumnSet {
 public:
  ColumnSet() = default;
  ColumnSet(std::initializer_list<Column> cols) {
    for (auto c : cols) Add(c);
  }
  static ColumnSet All() {
    ColumnSet s;
    s.bits_ = (uint64_t{1} << kColumnCount) - 1;
    return s;
  }
  void Add(Column c) { bits_ |= uint64_t{1} << static_cast<int>(c); }
  bool Has(Column c) const { return bits_ >> static_cast<int>(c) & 1; }
  uint64_t bits() const { return bits_; }

 private:
  uint64_t bits_ = 0;
};

struct StoreOptions {
  std::string dir;               // created if missing
  size_t flush_events = 500'000; // Add() triggers a background flush past this many buffered
  int zstd_level = 3;
  const Clock* clock = nullptr;  // nullptr = SystemClock
};

struct ScanRequest {
  int64_t from_us = INT64_MIN;   // inclusive, event time
  int64_t to_us = INT64_MAX;     // exclusive
  ColumnSet columns = ColumnSet::All();
  bool include_buffered = true;  // also scan events not yet flushed
};

// Rows of one scan step. Only the requested columns are filled; the others
// keep their default values. Events within a batch are not sorted.
using EventBatch = std::vector<Event>;
using ScanFn = std::function<Status(const EventBatch& batch)>;

struct StoreStats {
  uint64_t segments = 0;
  uint64_t segment_events = 0;
  uint64_t segment_bytes = 0;     // on disk
  uint64_t buffered_events = 0;
  uint64_t buffered_bytes = 0;    // approximate resident size of the buffer
  uint64_t checkpoint_lsn = 0;
  int64_t min_timestamp_us = 0;   // over all stored events (0 if empty)
  int64_t max_timestamp_us = 0;
};

class EventStore {
 public:
  static Result<std::unique_ptr<EventStore>> Open(const StoreOptions& options);
  virtual ~EventStore() = default;

  // Buffers events that are durable in the log up to `lsn` (LSNs passed to
  // successive calls need not be increasing when called from several
  // threads; the checkpoint is the highest LSN below which every Add has
  // completed... the caller guarantees that by calling Add in LSN order).
  virtual void Add(std::vector<Event> events, uint64_t lsn) = 0;

  // Writes all buffered events to segments, then the manifest (atomically,
  // fsync'd) with the new checkpoint LSN. Returns the checkpoint.
  virtual Result<uint64_t> Flush() = 0;

  // The highest log LSN whose events are all in segments on disk.
  virtual uint64_t CheckpointLsn() const = 0;

  // Calls fn with batches of the events in the range; stops on fn's error.
  virtual Status Scan(const ScanRequest& request, const ScanFn& fn) const = 0;

  virtual StoreStats Stats() const = 0;

  // Stops the background flusher after a final flush. Idempotent.
  virtual Status Close() = 0;
};

}  // namespace quanyu::store
