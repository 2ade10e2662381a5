// EventStore: the columnar event store (ARCHITECTURE.md §5).
//
// Events arrive through Add() after they are durable in the log and are
// buffered in memory (in the compact row encoding of common/event_codec.h).
// A flush writes them into immutable, zstd-compressed, time-partitioned (one
// folder per UTC day of event time) columnar segment files, then atomically
// rewrites the manifest that names the live segments and the highest log LSN
// they cover (the checkpoint). After a restart the engine replays the log
// from CheckpointLsn(). Format specified byte by byte in
// docs/segment_format.md.
//
// Flushes happen on a background thread when flush_events are buffered or
// flush_interval_us has passed since the last flush, on an explicit Flush(),
// and in Close().
//
// Scan() reads only the requested columns of the segments overlapping the
// requested time range (pread of just those byte ranges), plus matching
// buffered events. A scan sees a consistent snapshot: every event added
// before the scan started is seen exactly once, whether a flush completes
// meanwhile or not.
//
// The store also keeps an EventCatalog (store/catalog.h) of every event it
// holds, flushed or buffered: maintained as rows are flushed, persisted as
// <dir>/CATALOG after each manifest, and rebuilt from the segments at Open
// if missing or behind (docs/segment_format.md, "Catalog").
//
// Thread-safety: all methods are safe to call concurrently. Add's `lsn`
// carries an ordering contract (see Add).
#pragma once

#include <array>
#include <cstdint>
#include <functional>
#include <initializer_list>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/clock.h"
#include "common/dense_array.h"
#include "common/event.h"
#include "common/result.h"
#include "store/catalog.h"

namespace quanyu::store {

namespace internal {
class DecodedColumn;
}

// Columns of a segment. Values are persisted column ids: append only.
enum class Column : uint16_t {
  kTimestamp = 0,
  kReceived,
  kType,
  kName,  // dictionary
  kMessageId,
  kSource,   // dictionary
  kChannel,  // dictionary
  kUserId,
  kAnonymousId,
  kIdentifiers,
  kCampaignSource,  // dictionary
  kCampaignMedium,  // dictionary
  kCampaignName,    // dictionary
  kCampaignTerm,
  kCampaignContent,
  kReferrer,
  kUrl,
  kRevenue,
  kValue,
  kQuantity,
  kCurrency,  // dictionary
  kOrderId,
  kProductId,
  kProperties,
  kTraits,
  kContext,
  kIdentityKey,  // Event::identity_key (not in the log's row encoding; see Add)
};
inline constexpr int kColumnCount = 27;

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
  bool empty() const { return bits_ == 0; }
  uint64_t bits() const { return bits_; }

 private:
  uint64_t bits_ = 0;
};

struct StoreOptions {
  std::string dir;                         // created if missing
  size_t flush_events = 500'000;           // the background thread flushes past this many buffered
  int64_t flush_interval_us = 10'000'000;  // ... or when this long has passed since the last flush
  size_t max_segment_rows = 1u << 20;  // a flush splits larger day partitions into several segments
  int zstd_level = 3;
  int scan_threads = 2;  // segments decoded concurrently by one Scan (>= 1)
  // Decoded column blocks kept in memory for ScanColumns (least recently
  // used out); 0 disables the cache. Row scans (Scan) do not use it.
  size_t column_cache_bytes = size_t{1} << 30;
  // Background compaction (Compact(false) after flushes): a day's segments of
  // one size tier are merged once this many exist; 0 turns it off.
  size_t compact_fanin = 8;
  const Clock* clock = nullptr;  // nullptr = SystemClock; measures flush_interval_us
};

// What one Compact call did.
struct CompactionResult {
  uint64_t merges = 0;        // groups of segments merged
  uint64_t segments_in = 0;   // segments replaced
  uint64_t segments_out = 0;  // segments written in their place
  uint64_t rows = 0;          // rows rewritten
};

// What one DropBefore call removed.
struct RetentionResult {
  uint64_t segments = 0;
  uint64_t events = 0;
};

// Which rows EventStore::EraseRows removes: those attributed to one of
// `identity_keys` and those carrying one of `identifiers` ("ns:value" or
// "ns:scope:value", as Identifier::ToString) in their identifiers column.
// `identifier_matches`, when set, names more rows by any identifier it
// answers true for (e.g. a keyed-hash lookup in a suppression list, when the
// plaintext is no longer known). `on_erased`, when set, sees every erased row
// before it goes.
struct EraseRequest {
  std::vector<uint32_t> identity_keys;   // sorted ascending
  std::vector<std::string> identifiers;  // sorted ascending
  std::function<bool(const Identifier&)> identifier_matches;
  std::function<void(const Event&)> on_erased;
  // When set, called once every erased row has been seen by on_erased and
  // before the rewrite is committed (also when no row matched); an error
  // abandons the erasure with nothing changed.
  std::function<Status()> before_commit;
};
struct EraseResult {
  uint64_t segments_rewritten = 0;
  uint64_t rows_erased = 0;
};

struct ScanRequest {
  int64_t from_us = INT64_MIN;  // inclusive, event time
  int64_t to_us = INT64_MAX;    // exclusive
  ColumnSet columns = ColumnSet::All();
  bool include_buffered = true;  // also scan events not yet flushed
  // identity_key -> one_id, as the identity graph resolves it now. When set,
  // the scan reads the identity_key column (whether or not `columns` asks for
  // it) and sets every event's one_id to one_ids->Get(identity_key), or 0 if
  // the key is 0 (no identifier): O(1) per event, no hashing. identity_key
  // itself is filled only if `columns` has kIdentityKey. When nullptr, one_id
  // stays 0. Read without locks while the scan runs, so a mapping changed
  // meanwhile may or may not be seen by it; a later scan sees it.
  // REQUIRES: outlives the Scan call.
  const DenseArray<uint32_t>* one_ids = nullptr;
  // If set, receives the highest LSN passed to Add / AddEncodedBatch when
  // the scan took its snapshot: the scan sees every event added with an LSN
  // up to it and none added later.
  uint64_t* covered_lsn = nullptr;
};

// Rows of one scan step, at most kMaxScanBatchRows (small enough for a batch
// of Events to stay in cache). Only the requested columns (and one_id, if
// ScanRequest::one_ids is set) are filled; the others keep their default
// values. Events within a batch are not sorted by time (segments are, so
// batches are mostly in time order).
inline constexpr size_t kMaxScanBatchRows = 8192;
using EventBatch = std::vector<Event>;
// Called with each batch; the batch is only valid during the call. Calls are
// serialized (never concurrent) and happen on the thread that called Scan.
using ScanFn = std::function<Status(const EventBatch& batch)>;

// Rows of a columnar scan step (EventStore::ScanColumns): the in-range rows
// of one segment, or the in-range buffered rows, as plain arrays, so an
// operator can filter on dictionary codes and never build an Event. Only the
// requested columns may be read (REQUIRES on every accessor); a requested
// column an old segment lacks reads as its default (0, "", no value). Rows
// are sorted by event time within one batch; batches are not ordered
// relative to each other. Valid only during the callback.
class ColumnBatch {
 public:
  using Columns = std::array<const internal::DecodedColumn*, kColumnCount>;
  // For the store: `columns` hold `offset + size` rows each, of which rows
  // [offset, offset + size) are this batch's; `one_ids` resolves the
  // kIdentityKey column (nullptr: the request had none).
  // `resolved`, if not empty, is one_ids() already resolved (size rows).
  ColumnBatch(size_t size, size_t offset, Columns columns, const DenseArray<uint32_t>* one_ids,
              std::vector<uint32_t> resolved = {})
      : size_(size),
        offset_(offset),
        columns_(columns),
        resolver_(one_ids),
        one_ids_(std::move(resolved)),
        resolved_(!one_ids_.empty()) {}

  size_t size() const { return size_; }
  // kTimestamp, kReceived.
  const int64_t* Int64s(Column c) const;
  // kIdentityKey.
  const uint32_t* UInt32s(Column c) const;
  // kType: an EventType per row.
  const uint8_t* Types() const;
  // Dictionary columns (kName, kSource, kChannel, kCampaignSource,
  // kCampaignMedium, kCampaignName, kCurrency): per row, a code into
  // Dictionary(c). Codes are local to the batch.
  const uint32_t* Codes(Column c) const;
  const std::vector<std::string>& Dictionary(Column c) const;
  // Any string column, dictionary-encoded or not.
  std::string_view String(Column c, size_t row) const;
  // kRevenue, kValue, kQuantity.
  const std::optional<double>* Doubles(Column c) const;
  // The one_id of each row (ScanRequest::one_ids resolved; 0 = none), or
  // nullptr when the request had no one_ids. Resolved on the first call
  // (on the calling thread: a batch belongs to one thread).
  const uint32_t* one_ids() const;
  // The one_id of one row, for operators that keep few rows: resolves just
  // that row. REQUIRES: the request had one_ids.
  uint32_t OneId(size_t row) const {
    if (resolved_) return one_ids_[row];
    const uint32_t key = UInt32s(Column::kIdentityKey)[row];
    return key == 0 ? 0 : resolver_->Get(key);
  }
  // out[i] = OneId(rows[i]) for i < n, with the random reads of the
  // identity array overlapped (prefetched): several times faster than a
  // loop of OneId when the array is larger than the caches.
  void OneIds(const uint32_t* rows, size_t n, uint32_t* out) const;

 private:
  const internal::DecodedColumn& Col(Column c) const;

  size_t size_;
  size_t offset_;
  Columns columns_;
  const DenseArray<uint32_t>* resolver_;
  mutable std::vector<uint32_t> one_ids_;  // resolved by one_ids()
  mutable bool resolved_ = false;
};
// Called with each ColumnBatch; serialized, on the thread that called
// ScanColumns.
using ColumnScanFn = std::function<Status(const ColumnBatch& batch)>;
// Called concurrently from `workers` threads (ScanColumnsParallel); worker is
// in [0, workers) and each worker's calls are serialized.
using ParallelColumnScanFn = std::function<Status(int worker, const ColumnBatch& batch)>;

// `events` as one ColumnBatch (rows in time order, `columns` filled, the
// one_id of events[i] one_ids[i]), for code that applies the operators of
// a columnar scan to events that have just arrived. fn is not called when
// `events` is empty. REQUIRES: one_ids.size() == events.size().
Status ScanEventColumns(const std::vector<Event>& events, const std::vector<uint32_t>& one_ids,
                        ColumnSet columns, const ColumnScanFn& fn);

struct StoreStats {
  uint64_t segments = 0;
  uint64_t segment_events = 0;
  uint64_t segment_bytes = 0;    // on disk
  uint64_t buffered_events = 0;  // including events of a flush in progress
  uint64_t buffered_bytes = 0;   // approximate resident size of the buffer
  uint64_t checkpoint_lsn = 0;
  int64_t min_timestamp_us = 0;  // over all stored and buffered events (0 if empty)
  int64_t max_timestamp_us = 0;
  uint64_t scan_bytes_read = 0;      // bytes read from segment files by scans since Open
  uint64_t flush_failures = 0;       // background flushes that failed since Open (retried)
  uint64_t column_cache_bytes = 0;   // decoded columns held for ScanColumns
  uint64_t column_cache_hits = 0;    // column lookups served from memory since Open
  uint64_t column_cache_misses = 0;  // ... and read from segment files
};

class EventStore {
 public:
  // Opens (or creates) the store in options.dir. Recovery happens here:
  // segment files and temporaries not named by the manifest (left by a crash
  // during a flush) are deleted. Returns Corruption if the manifest is
  // unreadable or a segment it names is missing or has a bad footer,
  // InvalidArgument for bad options, IOError if the directory is unusable.
  static Result<std::unique_ptr<EventStore>> Open(const StoreOptions& options);
  // Closes (final flush) if Close was not called.
  virtual ~EventStore() = default;

  // Buffers `events`, which are durable in the log in records up to and
  // including `lsn`. Each event's identity_key is stored with it (the
  // kIdentityKey column); one_id is ignored (a scan resolves it). The engine
  // calls Add in LSN order from the log's writer thread, so the checkpoint is
  // simply the highest LSN passed to Add whose events are flushed. `events`
  // may be empty (a record without events still advances the checkpoint at
  // the next flush). Events that are not in the log (a bulk load flushed
  // explicitly) are added with lsn 0, which leaves the checkpoint alone.
  // REQUIRES: every event of a log record with LSN <= lsn has been passed to
  // Add by the time this call returns (Add itself is synchronized and may be
  // called from any thread; passing another thread's LastDurableLsn() breaks
  // this, since that record's events may not have been added yet).
  virtual void Add(std::vector<Event> events, uint64_t lsn) = 0;

  // Same contract as Add, for events already encoded by EncodeEventBatch
  // (the log record's payload): adopted as they are, without re-encoding.
  // The row encoding carries no identity key, so `identity_keys` gives one
  // per event of the payload, in order; empty means every key is 0.
  // Corruption (and nothing added) if the payload is malformed;
  // InvalidArgument (and nothing added) if identity_keys is non-empty and its
  // size differs from the payload's event count.
  virtual Status AddEncodedBatch(std::string payload, uint64_t lsn,
                                 std::vector<uint32_t> identity_keys = {}) = 0;

  // Writes all buffered events to segments, then the manifest (atomically,
  // fsync'd) with the new checkpoint LSN, then CATALOG (whose failure is
  // only logged). Returns the checkpoint. On failure
  // (IOError) nothing is lost: the events stay buffered and the checkpoint is
  // unchanged. Concurrent flushes are serialized.
  virtual Result<uint64_t> Flush() = 0;

  // Flushes if flush_events are buffered or flush_interval_us (by the clock)
  // has passed since the last flush and there is something to flush. What the
  // background thread calls; public so tests with a FakeClock can drive it.
  virtual Status FlushIfDue() = 0;

  // The highest log LSN whose events are all in segments on disk.
  virtual uint64_t CheckpointLsn() const = 0;

  // Calls fn with batches of the events with from_us <= timestamp < to_us;
  // stops and returns fn's error if it returns one. Returns Corruption if a
  // requested column block fails its checksum or does not decode, IOError if a
  // segment cannot be read. Segments are read and decoded on up to
  // scan_threads threads, but fn is always called on the calling thread, one
  // batch at a time.
  virtual Status Scan(const ScanRequest& request, const ScanFn& fn) const = 0;

  // The same rows as Scan (same snapshot rules and errors), column by column:
  // one call per segment overlapping the range (its in-range rows) and one
  // for the buffered rows. One_ids are resolved as in Scan. The columnar
  // form the query operators use (src/query); no Event is built except for
  // buffered rows.
  virtual Status ScanColumns(const ScanRequest& request, const ColumnScanFn& fn) const = 0;

  // The same batches as ScanColumns, handed out to `workers` threads (the
  // caller's is worker 0) that each load a segment and call fn with it, so
  // an operator's per-row work runs on every core; the buffered rows come
  // last, to worker 0. The first error stops every worker and is returned.
  virtual Status ScanColumnsParallel(const ScanRequest& request, int workers,
                                     const ParallelColumnScanFn& fn) const = 0;

  virtual StoreStats Stats() const = 0;

  // The event names, counts, time ranges and property keys of every event
  // added so far (buffered ones included), as of the call. Cheap enough to
  // call per query: buffered rows are summarized once, mostly by the
  // background flusher, so a call costs a merge of small catalogs (and a
  // parse of only the rows added within the last second or so). Never
  // fails: a buffered row that does not decode is left out (and its flush
  // fails loudly).
  virtual std::shared_ptr<const EventCatalog> Catalog() const = 0;

  // Merges small segments of the same day into larger ones (up to
  // max_segment_rows rows each, rows in time order): with `full`, every
  // day's segments of less than max_segment_rows / 2 rows; otherwise only
  // groups of compact_fanin segments of one size tier (what the background
  // thread runs after flushes; internal/compaction.h). Scans keep working
  // throughout and see every row exactly once: the manifest swaps a day's
  // inputs for its outputs atomically, and an input file is deleted only
  // once no scan holds it. Flushes wait only while a manifest is written. On
  // failure (IOError) the inputs stay live and the outputs are removed.
  virtual Result<CompactionResult> Compact(bool full) = 0;

  // Retention (docs/privacy.md): removes from the manifest every segment
  // whose events are all older than `cutoff_us` (event time) — segments
  // hold one UTC day, so a day goes once its last event is older than the
  // cutoff. A file is deleted once no scan holds it. Buffered events are
  // left alone (a later call takes them once flushed). The catalog is
  // rebuilt from the remaining segments (a scan of their name and property
  // columns). Errors as Compact; on failure nothing is removed.
  virtual Result<RetentionResult> DropBefore(int64_t cutoff_us) = 0;

  // Erasure (a data-subject deletion, docs/privacy.md): flushes, then
  // rewrites every segment holding a row `request` names without those rows
  // (a segment left empty is dropped), swapping them in one manifest write;
  // old files go once no scan holds them. The catalog is rebuilt from the
  // segments. A crash leaves either the old segments or the new ones live
  // (unlisted files are removed at open). Errors as Compact; on failure
  // nothing is erased. Events added while it runs are not looked at.
  virtual Result<EraseResult> EraseRows(const EraseRequest& request) = 0;

  // Stops the background flusher, then flushes; returns that flush's status.
  // Later calls only flush what was added since (nothing: OK). Add, Flush and
  // Scan still work afterwards, without the background thread.
  virtual Status Close() = 0;
};

}  // namespace quanyu::store
