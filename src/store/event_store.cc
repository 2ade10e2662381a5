#include "store/event_store.h"

#include <spdlog/spdlog.h>
#include <zstd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <deque>
#include <future>
#include <mutex>
#include <system_error>
#include <thread>
#include <unordered_map>

#include "common/metrics.h"
#include "common/time_util.h"
#include "store/internal/batch_sink.h"
#include "store/internal/catalog_file.h"
#include "store/internal/catalog_live.h"
#include "store/internal/column_cache.h"
#include "store/internal/compaction.h"
#include "store/internal/file.h"
#include "store/internal/manifest.h"
#include "store/internal/row_chunk.h"
#include "store/internal/segment_reader.h"
#include "store/internal/segment_writer.h"

namespace quanyu::store {
namespace {

using internal::BatchSink;
using internal::Manifest;
using internal::RowChunk;
using internal::RowChunks;
using internal::SegmentEntry;
using internal::SegmentFooter;
using internal::SegmentReader;
using internal::SegmentRows;
using internal::SegmentWriter;

// A segment named by the manifest, with its footer cached so scans read only
// column blocks.
struct LiveSegment {
  SegmentEntry entry;
  std::string path;
  SegmentFooter footer;
  // Set when compaction replaced this segment in the manifest: the file is
  // deleted when the last scan holding it lets go.
  mutable std::atomic<bool> remove_when_released{false};

  LiveSegment() = default;
  LiveSegment(const LiveSegment&) = delete;
  LiveSegment& operator=(const LiveSegment&) = delete;
  ~LiveSegment() {
    if (remove_when_released.load()) (void)internal::RemoveFile(path);
  }
};
using SegmentList = std::vector<std::shared_ptr<const LiveSegment>>;

struct StoreMetrics {
  Gauge* segments;
  Gauge* events;
  Gauge* bytes;
  Histogram* flush_seconds;
  Counter* compactions;
  Histogram* compaction_seconds;
};

StoreMetrics RegisterMetrics() {
  auto* r = MetricsRegistry::Default();
  return {r->GetGauge("quanyu_store_segments", "Live segment files in the event store"),
          r->GetGauge("quanyu_store_events", "Events in segment files"),
          r->GetGauge("quanyu_store_bytes", "Bytes of segment files on disk"),
          r->GetHistogram("quanyu_store_flush_seconds", "Duration of event store flushes",
                          {0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30}),
          r->GetCounter("quanyu_store_compactions_total",
                        "Groups of small segments merged into larger ones"),
          r->GetHistogram("quanyu_store_compaction_seconds", "Duration of one segment merge",
                          {0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60})};
}

// The one_id an identity key resolves to now (ScanRequest::one_ids); key 0
// (no identifier) never resolves, whatever one_ids holds at index 0.
uint32_t ResolveOneId(const DenseArray<uint32_t>& one_ids, uint32_t identity_key) {
  return identity_key == 0 ? 0 : one_ids.Get(identity_key);
}

// Sort key of one buffered row during a flush.
struct RowRef {
  int64_t timestamp_us;
  uint32_t chunk;
  uint32_t row;
};

class EventStoreImpl final : public EventStore {
 public:
  explicit EventStoreImpl(const StoreOptions& options)
      : options_(options),
        clock_(options.clock != nullptr ? options.clock : SystemClock::Default()),
        metrics_(RegisterMetrics()) {}
  ~EventStoreImpl() override {
    Status s = Close();
    if (!s.ok()) spdlog::error("event store: final flush failed: {}", s.ToString());
  }

  Status Init();

  void Add(std::vector<Event> events, uint64_t lsn) override;
  Status AddEncodedBatch(std::string payload, uint64_t lsn,
                         std::vector<uint32_t> identity_keys) override;
  void AddChunks(RowChunks chunks, uint64_t lsn);
  Result<uint64_t> Flush() override;
  Status FlushIfDue() override;
  uint64_t CheckpointLsn() const override {
    std::lock_guard l(mu_);
    return manifest_.checkpoint_lsn;
  }
  Status Scan(const ScanRequest& request, const ScanFn& fn) const override;
  Status ScanColumns(const ScanRequest& request, const ColumnScanFn& fn) const override;
  Status ScanColumnsParallel(const ScanRequest& request, int workers,
                             const ParallelColumnScanFn& fn) const override;
  StoreStats Stats() const override;
  Result<CompactionResult> Compact(bool full) override;
  Result<RetentionResult> DropBefore(int64_t cutoff_us) override;
  Result<EraseResult> EraseRows(const EraseRequest& request) override;
  // Makes `next` (already written) the live manifest: the segments in
  // `gone` (sorted seqs) leave the live list, their files deleted once no
  // scan holds them; `added` join it; `catalog` becomes the segments'
  // catalog. Deletes the orphans of failed manifests. REQUIRES: flush_mu_
  // held (DropBefore, EraseRows).
  void InstallSegments(Manifest next, const std::vector<uint64_t>& gone,
                       const std::vector<std::shared_ptr<LiveSegment>>& added,
                       EventCatalog catalog);
  std::shared_ptr<const EventCatalog> Catalog() const override { return catalog_->Snapshot(); }
  Status Close() override;

 private:
  std::string PathOf(const SegmentEntry& e) const { return options_.dir + "/" + e.RelativePath(); }
  void BackgroundLoop();
  bool FlushDueLocked() const;
  // Writes `chunks` as segments numbered from *next_seq. Appends each file
  // it renamed into place to *written, also on failure.
  Result<SegmentList> WriteSegments(const RowChunks& chunks, uint64_t* next_seq,
                                    std::vector<std::string>* written) const;
  // Writes one segment file (rows appended by `fill`, in time order) at
  // seg->path and fills in seg's entry counts and footer.
  Status WriteSegmentFile(LiveSegment* seg,
                          const std::function<Status(SegmentWriter*)>& fill) const;
  // Compact(false) when the segments changed since the last look; on the
  // background thread, between flushes.
  void CompactInBackground();
  // Compact, with compact_mu_ held.
  Result<CompactionResult> CompactLocked(bool full);
  // Merges one group of segments (Compact), with compact_mu_ held.
  Status RunCompaction(const internal::CompactionJob& job, CompactionResult* result);
  Status ScanSegments(const SegmentList& segments, const ScanRequest& request,
                      BatchSink* sink) const;
  Status ScanBuffered(const RowChunks& chunks, const ScanRequest& request, BatchSink* sink) const;
  // The segments overlapping the request's range (by min timestamp) and,
  // if asked, the buffered chunks: a scan's snapshot.
  void TakeSnapshot(const ScanRequest& request, SegmentList* segments, RowChunks* buffered) const;
  Status ScanBufferedColumns(const RowChunks& chunks, const ScanRequest& request,
                             const ColumnScanFn& fn) const;
  void PublishGauges() const;  // REQUIRES: mu_ held
  // Writes CATALOG for `segments` (the manifest just written): logged, not
  // returned, on failure — the catalog is derived data, and the next flush
  // or open writes it again.
  void WriteCatalog(const Manifest& manifest, const EventCatalog& segments) const;

  const StoreOptions options_;
  const Clock* const clock_;
  const StoreMetrics metrics_;
  mutable std::atomic<uint64_t> scan_bytes_read_{0};
  std::unique_ptr<internal::ColumnCache> column_cache_;  // nullptr when disabled
  // The catalog of segments and buffer; its buffer side changes with active_
  // and flushing_, in the same critical sections (catalog_live.h).
  std::unique_ptr<internal::LiveCatalog> catalog_;

  std::mutex flush_mu_;  // one flush at a time; held while writing files; taken before mu_
  std::vector<std::string>
      orphans_;  // guarded by flush_mu_: files to delete after the next manifest

  mutable std::mutex mu_;
  std::condition_variable cv_;
  // Guarded by mu_.
  RowChunks active_;
  RowChunks flushing_;  // taken by the flush in progress; scans still see them
  uint64_t active_events_ = 0, active_bytes_ = 0;
  uint64_t flushing_events_ = 0, flushing_bytes_ = 0;
  uint64_t added_lsn_ = 0;  // highest LSN passed to Add
  Manifest manifest_;       // as last written
  SegmentList segments_;    // manifest_.segments, opened
  int64_t last_flush_us_ = 0;
  uint64_t flush_failures_ = 0;
  // One compaction at a time (a background pass and Compact() from another
  // thread could pick the same segments); taken before flush_mu_.
  std::mutex compact_mu_;
  uint64_t compact_checked_seq_ = 0;  // background thread only: next_segment_seq last planned
  bool opened_ = false;               // Init succeeded: Close has something to flush
  bool stopping_ = false;
  bool closed_ = false;
  std::thread flusher_;
};

Status EventStoreImpl::Init() {
  const std::string& dir = options_.dir;
  if (options_.column_cache_bytes > 0) {
    column_cache_ = std::make_unique<internal::ColumnCache>(options_.column_cache_bytes);
  }
  const std::string events_dir = dir + "/" + std::string(internal::kEventsDir);
  RETURN_IF_ERROR(internal::CreateDirs(dir));
  ASSIGN_OR_RETURN(manifest_, internal::OpenManifest(dir));
  RETURN_IF_ERROR(internal::CreateDirs(events_dir));
  for (const SegmentEntry& e : manifest_.segments) {
    auto seg = std::make_shared<LiveSegment>();
    seg->entry = e;
    seg->path = PathOf(e);
    auto reader = SegmentReader::Open(seg->path, nullptr);
    if (!reader.ok()) {
      return Status::Corruption("segment named by MANIFEST is unreadable: " +
                                reader.status().ToString());
    }
    seg->footer = (*reader)->footer();
    if (seg->footer.rows != e.rows || seg->footer.min_timestamp_us != e.min_timestamp_us ||
        seg->footer.max_timestamp_us != e.max_timestamp_us) {
      return Status::Corruption(seg->path + ": footer disagrees with MANIFEST");
    }
    segments_.push_back(std::move(seg));
  }
  RETURN_IF_ERROR(internal::RemoveUnlistedFiles(dir, manifest_));
  std::vector<internal::CatalogSegment> live;
  for (const auto& seg : segments_) live.push_back({seg->entry.seq, seg->path, &seg->footer});
  ASSIGN_OR_RETURN(EventCatalog catalog,
                   internal::RecoverCatalog(dir, live, std::max(1, options_.scan_threads)));
  catalog_ = std::make_unique<internal::LiveCatalog>(std::move(catalog));
  added_lsn_ = manifest_.checkpoint_lsn;
  last_flush_us_ = clock_->NowMicros();
  {
    std::lock_guard l(mu_);
    PublishGauges();
  }
  opened_ = true;
  flusher_ = std::thread([this] { BackgroundLoop(); });
  return Status::OK();
}

void EventStoreImpl::Add(std::vector<Event> events, uint64_t lsn) {
  AddChunks(internal::EncodeRowChunks(events), lsn);  // encoded outside the lock
}

Status EventStoreImpl::AddEncodedBatch(std::string payload, uint64_t lsn,
                                       std::vector<uint32_t> identity_keys) {
  RowChunks chunks;
  if (!payload.empty()) {
    ASSIGN_OR_RETURN(auto chunk,
                     internal::RowChunkFromBatch(std::move(payload), std::move(identity_keys)));
    chunks.push_back(std::move(chunk));
  } else if (!identity_keys.empty()) {
    return Status::InvalidArgument("identity keys given for an empty batch");
  }
  AddChunks(std::move(chunks), lsn);
  return Status::OK();
}

void EventStoreImpl::AddChunks(RowChunks chunks, uint64_t lsn) {
  bool wake;
  {
    std::lock_guard l(mu_);
    for (auto& c : chunks) {
      active_events_ += c->size();
      active_bytes_ += c->MemoryUsage();
      catalog_->Add(c);
      active_.push_back(std::move(c));
    }
    added_lsn_ = std::max(added_lsn_, lsn);
    wake = active_events_ >= options_.flush_events;
  }
  if (wake) cv_.notify_all();
}

bool EventStoreImpl::FlushDueLocked() const {
  if (active_events_ >= options_.flush_events) return true;
  const bool pending = active_events_ > 0 || added_lsn_ > manifest_.checkpoint_lsn;
  return pending && clock_->NowMicros() - last_flush_us_ >= options_.flush_interval_us;
}

Status EventStoreImpl::FlushIfDue() {
  bool due;
  {
    std::lock_guard l(mu_);
    due = FlushDueLocked();
  }
  return due ? Flush().status() : Status::OK();
}

Result<uint64_t> EventStoreImpl::Flush() {
  std::lock_guard flush_lock(flush_mu_);
  RowChunks chunks;
  uint64_t lsn;
  Manifest next;
  auto folding = catalog_->HoldFolds();
  {
    std::lock_guard l(mu_);
    if (active_.empty() && added_lsn_ == manifest_.checkpoint_lsn) {
      last_flush_us_ = clock_->NowMicros();
      return manifest_.checkpoint_lsn;
    }
    flushing_ = std::move(active_);
    active_.clear();
    catalog_->Take();
    flushing_events_ = std::exchange(active_events_, 0);
    flushing_bytes_ = std::exchange(active_bytes_, 0);
    chunks = flushing_;
    lsn = added_lsn_;
    next = manifest_;
  }
  const auto start = std::chrono::steady_clock::now();
  // Summarized before the segments are written (the rows are in memory
  // either way); usually the background flusher has done most of it.
  const std::shared_ptr<const EventCatalog> taken = catalog_->Taken();
  folding.unlock();
  std::vector<std::string> written;
  std::shared_ptr<const EventCatalog> next_catalog;
  auto segments = WriteSegments(chunks, &next.next_segment_seq, &written);
  Status s = segments.status();
  if (s.ok()) {
    for (const auto& seg : *segments) next.segments.push_back(seg->entry);
    next.checkpoint_lsn = lsn;
    s = internal::WriteManifest(options_.dir, next);
    if (s.ok()) {
      auto catalog = std::make_shared<EventCatalog>(*catalog_->segments());
      catalog->Merge(*taken);
      WriteCatalog(next, *catalog);  // after the commit point: CATALOG may lag, never lead
      next_catalog = std::move(catalog);
    }
    // If the manifest write failed after its rename, the new manifest may be
    // on disk and name these files: keep them until a later manifest
    // certainly does not (Open removes them otherwise).
    if (!s.ok()) orphans_.insert(orphans_.end(), written.begin(), written.end());
  } else {
    for (const auto& path : written) (void)internal::RemoveFile(path);
  }
  std::lock_guard l(mu_);
  if (!s.ok()) {
    // Put the events back, in front of what was added meanwhile.
    active_.insert(active_.begin(), flushing_.begin(), flushing_.end());
    active_events_ += std::exchange(flushing_events_, 0);
    active_bytes_ += std::exchange(flushing_bytes_, 0);
    flushing_.clear();
    catalog_->Restore();
    manifest_.next_segment_seq = next.next_segment_seq;  // never reuse a file name
    return s;
  }
  for (const auto& path : orphans_) (void)internal::RemoveFile(path);
  orphans_.clear();
  manifest_ = std::move(next);
  segments_.insert(segments_.end(), segments->begin(), segments->end());
  flushing_.clear();
  catalog_->Commit(std::move(next_catalog));
  flushing_events_ = flushing_bytes_ = 0;
  last_flush_us_ = clock_->NowMicros();
  PublishGauges();
  metrics_.flush_seconds->Observe(
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
  return lsn;
}

Result<SegmentList> EventStoreImpl::WriteSegments(const RowChunks& chunks, uint64_t* next_seq,
                                                  std::vector<std::string>* written) const {
  std::vector<RowRef> refs;
  for (uint32_t c = 0; c < chunks.size(); ++c) {
    for (uint32_t r = 0; r < chunks[c]->size(); ++r) {
      refs.push_back({chunks[c]->timestamps[r], c, r});
    }
  }
  // Sorting by time also groups rows by day; stable keeps log order on ties.
  std::stable_sort(refs.begin(), refs.end(), [](const RowRef& a, const RowRef& b) {
    return a.timestamp_us < b.timestamp_us;
  });
  // Cut the sorted rows into segments (one day each, at most max_segment_rows),
  // numbered in order, then encode and write them on several threads: the
  // decode + column encoding + zstd of a flush is CPU-bound.
  struct Piece {
    size_t begin, end;
    int64_t day;
    uint64_t seq;
  };
  std::vector<Piece> pieces;
  for (size_t i = 0; i < refs.size();) {
    const int64_t day = DayOf(refs[i].timestamp_us);
    size_t j = i;
    while (j < refs.size() && DayOf(refs[j].timestamp_us) == day &&
           j - i < options_.max_segment_rows)
      ++j;
    pieces.push_back({i, j, day, (*next_seq)++});
    i = j;
  }
  for (const Piece& p : pieces) {
    RETURN_IF_ERROR(internal::CreateDirs(options_.dir + "/" + std::string(internal::kEventsDir) +
                                         "/" + FormatDay(p.day)));
  }
  std::vector<std::shared_ptr<LiveSegment>> segs(pieces.size());
  std::vector<Status> statuses(pieces.size());
  for (size_t k = 0; k < pieces.size(); ++k) {
    segs[k] = std::make_shared<LiveSegment>();
    segs[k]->entry.seq = pieces[k].seq;
    segs[k]->entry.day = FormatDay(pieces[k].day);
    segs[k]->path = PathOf(segs[k]->entry);
    written->push_back(segs[k]->path);  // cleaned up by the caller on failure
  }
  auto write_piece = [&](size_t k) -> Status {
    const Piece& p = pieces[k];
    return WriteSegmentFile(segs[k].get(), [&](SegmentWriter* writer) -> Status {
      Event event;
      for (size_t i = p.begin; i < p.end; ++i) {
        Status s = chunks[refs[i].chunk]->DecodeRow(refs[i].row, &event);
        if (!s.ok()) return Status::Internal("buffered row does not decode: " + s.ToString());
        writer->Append(event);
      }
      return Status::OK();
    });
  };
  std::atomic<size_t> next{0};
  auto worker = [&] {
    for (size_t k; (k = next.fetch_add(1)) < pieces.size();) statuses[k] = write_piece(k);
  };
  size_t threads =
      std::min<size_t>(pieces.size(), std::max(1u, std::thread::hardware_concurrency()));
  std::vector<std::thread> pool;
  for (size_t t = 1; t < threads; ++t) pool.emplace_back(worker);
  worker();
  for (auto& t : pool) t.join();
  for (const Status& st : statuses) RETURN_IF_ERROR(st);
  return SegmentList(segs.begin(), segs.end());
}

Status EventStoreImpl::WriteSegmentFile(LiveSegment* seg,
                                        const std::function<Status(SegmentWriter*)>& fill) const {
  SegmentWriter writer(options_.zstd_level);
  RETURN_IF_ERROR(fill(&writer));
  ASSIGN_OR_RETURN(auto summary, writer.Finish(seg->path));
  RETURN_IF_ERROR(internal::SyncDir(options_.dir + "/" + std::string(internal::kEventsDir) + "/" +
                                    seg->entry.day));
  seg->entry.rows = summary.rows;
  seg->entry.bytes = summary.bytes;
  seg->entry.min_timestamp_us = summary.min_timestamp_us;
  seg->entry.max_timestamp_us = summary.max_timestamp_us;
  ASSIGN_OR_RETURN(auto reader, SegmentReader::Open(seg->path, nullptr));
  seg->footer = reader->footer();
  return Status::OK();
}

Result<CompactionResult> EventStoreImpl::Compact(bool full) {
  std::lock_guard compact_lock(compact_mu_);
  return CompactLocked(full);
}

Result<CompactionResult> EventStoreImpl::CompactLocked(bool full) {
  std::vector<internal::CompactionJob> jobs;
  {
    std::lock_guard l(mu_);
    jobs = internal::PlanCompaction(manifest_.segments, full,
                                    std::max<size_t>(2, options_.compact_fanin),
                                    options_.max_segment_rows);
  }
  CompactionResult result;
  for (const auto& job : jobs) RETURN_IF_ERROR(RunCompaction(job, &result));
  return result;
}

void EventStoreImpl::CompactInBackground() {
  if (options_.compact_fanin < 2) return;
  // A Compact() call in progress does this pass's work anyway: never wait.
  std::unique_lock compact_lock(compact_mu_, std::try_to_lock);
  if (!compact_lock.owns_lock()) return;
  {
    std::lock_guard l(mu_);
    if (manifest_.next_segment_seq == compact_checked_seq_) return;
    compact_checked_seq_ = manifest_.next_segment_seq;
  }
  auto done = CompactLocked(false);
  if (!done.ok()) {
    spdlog::warn("event store: background compaction failed (retried after the next flush): {}",
                 done.status().ToString());
  } else if (done->merges > 0) {
    // Its outputs may fill a higher tier: the next poll looks again.
    spdlog::info("event store: compacted {} segments into {} ({} rows)", done->segments_in,
                 done->segments_out, done->rows);
  }
}

Status EventStoreImpl::RunCompaction(const internal::CompactionJob& job, CompactionResult* result) {
  const auto start = std::chrono::steady_clock::now();
  SegmentList inputs;
  {
    std::lock_guard l(mu_);
    for (const auto& seg : segments_) {
      if (std::binary_search(job.seqs.begin(), job.seqs.end(), seg->entry.seq)) {
        inputs.push_back(seg);
      }
    }
  }
  if (inputs.size() != job.seqs.size()) return Status::OK();  // another pass merged them
  std::sort(inputs.begin(), inputs.end(),
            [](const auto& a, const auto& b) { return a->entry.seq < b->entry.seq; });
  // Every row of the inputs, in time order; ties keep the inputs' order
  // (seq, then row), which is the order they were flushed in.
  std::vector<Event> rows;
  rows.reserve(job.rows);
  for (const auto& seg : inputs) {
    ASSIGN_OR_RETURN(auto reader, SegmentReader::Open(seg->path, nullptr, &seg->footer));
    ASSIGN_OR_RETURN(auto loaded,
                     SegmentRows::Load(*reader, ColumnSet::All(), INT64_MIN, INT64_MAX));
    for (size_t r = loaded.begin(); r < loaded.end(); ++r) loaded.Fill(r, &rows.emplace_back());
  }
  std::stable_sort(rows.begin(), rows.end(),
                   [](const Event& a, const Event& b) { return a.timestamp_us < b.timestamp_us; });
  const size_t pieces = std::max<size_t>(
      1, (rows.size() + options_.max_segment_rows - 1) / options_.max_segment_rows);
  uint64_t first_seq;
  {
    // Under flush_mu_: a flush copies manifest_ at its start and writes it
    // back at its end, so the numbers must be taken between flushes.
    std::lock_guard flush_lock(flush_mu_);
    std::lock_guard l(mu_);
    first_seq = manifest_.next_segment_seq;
    manifest_.next_segment_seq += pieces;
  }
  std::vector<std::shared_ptr<LiveSegment>> outputs;
  Status s;
  for (size_t k = 0; k < pieces && s.ok(); ++k) {
    auto seg = std::make_shared<LiveSegment>();
    seg->entry.seq = first_seq + k;
    seg->entry.day = job.day;
    seg->path = PathOf(seg->entry);
    outputs.push_back(seg);
    const size_t b = rows.size() * k / pieces, e = rows.size() * (k + 1) / pieces;
    s = WriteSegmentFile(seg.get(), [&](SegmentWriter* writer) {
      for (size_t i = b; i < e; ++i) writer->Append(rows[i]);
      return Status::OK();
    });
  }
  std::vector<Event>().swap(rows);
  auto remove_outputs = [&outputs] {
    for (const auto& seg : outputs) (void)internal::RemoveFile(seg->path);
  };
  if (!s.ok()) {
    remove_outputs();
    return s;
  }
  std::lock_guard flush_lock(flush_mu_);
  Manifest next;
  {
    std::lock_guard l(mu_);
    next = manifest_;
  }
  const size_t erased = std::erase_if(next.segments, [&job](const SegmentEntry& e) {
    return std::binary_search(job.seqs.begin(), job.seqs.end(), e.seq);
  });
  if (erased != job.seqs.size()) {  // cannot happen under compact_mu_; never duplicate rows
    remove_outputs();
    return Status::Internal("compaction inputs changed while merging");
  }
  for (const auto& seg : outputs) next.segments.push_back(seg->entry);
  s = internal::WriteManifest(options_.dir, next);
  if (!s.ok()) {
    // As in Flush: a manifest that failed after its rename may name the
    // outputs; the next manifest written will not, and then they go.
    for (const auto& seg : outputs) orphans_.push_back(seg->path);
    return s;
  }
  WriteCatalog(next, *catalog_->segments());  // same rows, new segment list
  for (const auto& path : orphans_) (void)internal::RemoveFile(path);
  orphans_.clear();
  {
    std::lock_guard l(mu_);
    manifest_ = std::move(next);
    std::erase_if(segments_, [&job](const auto& seg) {
      return std::binary_search(job.seqs.begin(), job.seqs.end(), seg->entry.seq);
    });
    segments_.insert(segments_.end(), outputs.begin(), outputs.end());
    PublishGauges();
  }
  for (const auto& seg : inputs) seg->remove_when_released = true;
  result->merges += 1;
  result->segments_in += inputs.size();
  result->segments_out += outputs.size();
  result->rows += job.rows;
  metrics_.compactions->Add();
  metrics_.compaction_seconds->Observe(
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
  return Status::OK();
}

Result<RetentionResult> EventStoreImpl::DropBefore(int64_t cutoff_us) {
  std::lock_guard compact_lock(compact_mu_);  // no merge picks a segment meanwhile
  std::lock_guard flush_lock(flush_mu_);      // the manifest is ours until written
  RetentionResult result;
  std::vector<uint64_t> seqs;
  Manifest next;
  std::vector<internal::CatalogSegment> live;
  {
    std::lock_guard l(mu_);
    next = manifest_;
    for (const auto& seg : segments_) {
      if (seg->entry.max_timestamp_us < cutoff_us) {
        seqs.push_back(seg->entry.seq);
        result.events += seg->entry.rows;
      } else {
        live.push_back({seg->entry.seq, seg->path, &seg->footer});
      }
    }
  }
  if (seqs.empty()) return result;
  std::sort(seqs.begin(), seqs.end());
  std::erase_if(next.segments, [&seqs](const SegmentEntry& e) {
    return std::binary_search(seqs.begin(), seqs.end(), e.seq);
  });
  // The remaining segments' catalog first: CATALOG names the dropped
  // segments, so this rebuilds it from the live ones and writes it. Should
  // the manifest then fail, CATALOG covers a subset of the live segments,
  // which the next open completes.
  ASSIGN_OR_RETURN(
      EventCatalog catalog,
      internal::RecoverCatalog(options_.dir, live, std::max(1, options_.scan_threads)));
  RETURN_IF_ERROR(internal::WriteManifest(options_.dir, next));
  InstallSegments(std::move(next), seqs, {}, std::move(catalog));
  result.segments = seqs.size();
  return result;
}

void EventStoreImpl::InstallSegments(Manifest next, const std::vector<uint64_t>& gone,
                                     const std::vector<std::shared_ptr<LiveSegment>>& added,
                                     EventCatalog catalog) {
  for (const auto& path : orphans_) (void)internal::RemoveFile(path);
  orphans_.clear();
  std::lock_guard l(mu_);
  manifest_ = std::move(next);
  for (const auto& seg : segments_) {
    if (std::binary_search(gone.begin(), gone.end(), seg->entry.seq))
      seg->remove_when_released = true;
  }
  std::erase_if(segments_, [&gone](const auto& seg) {
    return std::binary_search(gone.begin(), gone.end(), seg->entry.seq);
  });
  segments_.insert(segments_.end(), added.begin(), added.end());
  catalog_->Commit(std::make_shared<const EventCatalog>(std::move(catalog)));
  PublishGauges();
}

namespace {

bool Erased(const EraseRequest& req, const Event& e) {
  if (std::binary_search(req.identity_keys.begin(), req.identity_keys.end(), e.identity_key))
    return true;
  if (req.identifiers.empty() && !req.identifier_matches) return false;
  for (const auto& id : e.identifiers) {
    if (!req.identifiers.empty() &&
        std::binary_search(req.identifiers.begin(), req.identifiers.end(), id.ToString()))
      return true;
    if (req.identifier_matches && req.identifier_matches(id)) return true;
  }
  return false;
}

}  // namespace

Result<EraseResult> EventStoreImpl::EraseRows(const EraseRequest& req) {
  RETURN_IF_ERROR(Flush().status());
  std::lock_guard compact_lock(compact_mu_);  // no merge picks a segment meanwhile
  SegmentList all;
  {
    std::lock_guard l(mu_);
    all.assign(segments_.begin(), segments_.end());
  }
  // Which segments hold a named row: read just the two columns.
  const ColumnSet probe{Column::kIdentityKey, Column::kIdentifiers};
  SegmentList hit;
  for (const auto& seg : all) {
    ASSIGN_OR_RETURN(auto reader, SegmentReader::Open(seg->path, nullptr, &seg->footer));
    ASSIGN_OR_RETURN(auto rows, SegmentRows::Load(*reader, probe, INT64_MIN, INT64_MAX));
    Event e;
    for (size_t r = rows.begin(); r < rows.end(); ++r) {
      rows.Fill(r, &e);
      if (Erased(req, e)) {
        hit.push_back(seg);
        break;
      }
    }
  }
  EraseResult result;
  if (hit.empty()) {
    if (req.before_commit) RETURN_IF_ERROR(req.before_commit());
    return result;
  }
  // Each hit segment is rewritten as one segment of the same day without
  // the named rows (rows keep their order).
  uint64_t first_seq;
  {
    std::lock_guard flush_lock(flush_mu_);
    std::lock_guard l(mu_);
    first_seq = manifest_.next_segment_seq;
    manifest_.next_segment_seq += hit.size();
  }
  std::vector<std::shared_ptr<LiveSegment>> outputs;
  auto remove_outputs = [&outputs] {
    for (const auto& seg : outputs) (void)internal::RemoveFile(seg->path);
  };
  for (size_t k = 0; k < hit.size(); ++k) {
    ASSIGN_OR_RETURN(auto reader, SegmentReader::Open(hit[k]->path, nullptr, &hit[k]->footer));
    auto loaded = SegmentRows::Load(*reader, ColumnSet::All(), INT64_MIN, INT64_MAX);
    if (!loaded.ok()) {
      remove_outputs();
      return loaded.status();
    }
    std::vector<Event> kept;
    for (size_t r = loaded->begin(); r < loaded->end(); ++r) {
      Event e;
      loaded->Fill(r, &e);
      if (Erased(req, e)) {
        if (req.on_erased) req.on_erased(e);
        ++result.rows_erased;
      } else {
        kept.push_back(std::move(e));
      }
    }
    if (kept.empty()) continue;
    auto seg = std::make_shared<LiveSegment>();
    seg->entry.seq = first_seq + k;
    seg->entry.day = hit[k]->entry.day;
    seg->path = PathOf(seg->entry);
    outputs.push_back(seg);
    Status s = WriteSegmentFile(seg.get(), [&](SegmentWriter* writer) {
      for (const auto& e : kept) writer->Append(e);
      return Status::OK();
    });
    if (!s.ok()) {
      remove_outputs();
      return s;
    }
  }
  std::vector<uint64_t> seqs;
  for (const auto& seg : hit) seqs.push_back(seg->entry.seq);
  std::sort(seqs.begin(), seqs.end());
  std::lock_guard flush_lock(flush_mu_);
  Manifest next;
  std::vector<internal::CatalogSegment> live;
  {
    std::lock_guard l(mu_);
    next = manifest_;
    for (const auto& seg : segments_) {
      if (!std::binary_search(seqs.begin(), seqs.end(), seg->entry.seq))
        live.push_back({seg->entry.seq, seg->path, &seg->footer});
    }
  }
  for (const auto& seg : outputs) live.push_back({seg->entry.seq, seg->path, &seg->footer});
  std::erase_if(next.segments, [&seqs](const SegmentEntry& e) {
    return std::binary_search(seqs.begin(), seqs.end(), e.seq);
  });
  for (const auto& seg : outputs) next.segments.push_back(seg->entry);
  if (req.before_commit) {
    if (Status s = req.before_commit(); !s.ok()) {
      remove_outputs();
      return s;
    }
  }
  // The catalog of what stays, before the manifest (see DropBefore).
  auto catalog = internal::RecoverCatalog(options_.dir, live, std::max(1, options_.scan_threads));
  if (!catalog.ok()) {
    remove_outputs();
    return catalog.status();
  }
  Status s = internal::WriteManifest(options_.dir, next);
  if (!s.ok()) {
    for (const auto& seg : outputs) orphans_.push_back(seg->path);
    return s;
  }
  InstallSegments(std::move(next), seqs, outputs, std::move(*catalog));
  result.segments_rewritten = hit.size();
  return result;
}

void EventStoreImpl::TakeSnapshot(const ScanRequest& request, SegmentList* segments,
                                  RowChunks* buffered) const {
  {
    std::lock_guard l(mu_);
    if (request.covered_lsn != nullptr) *request.covered_lsn = added_lsn_;
    for (const auto& seg : segments_) {
      if (seg->entry.max_timestamp_us >= request.from_us &&
          seg->entry.min_timestamp_us < request.to_us) {
        segments->push_back(seg);
      }
    }
    if (request.include_buffered) {
      *buffered = flushing_;
      buffered->insert(buffered->end(), active_.begin(), active_.end());
    }
  }
  std::stable_sort(segments->begin(), segments->end(), [](const auto& a, const auto& b) {
    return a->entry.min_timestamp_us < b->entry.min_timestamp_us;
  });
}

Status EventStoreImpl::Scan(const ScanRequest& request, const ScanFn& fn) const {
  SegmentList segments;
  RowChunks buffered;
  TakeSnapshot(request, &segments, &buffered);
  if (request.from_us >= request.to_us) return Status::OK();
  BatchSink sink(fn);
  RETURN_IF_ERROR(ScanSegments(segments, request, &sink));
  RETURN_IF_ERROR(ScanBuffered(buffered, request, &sink));
  return sink.Emit();
}

Status EventStoreImpl::ScanSegments(const SegmentList& segments, const ScanRequest& request,
                                    BatchSink* sink) const {
  // Resolving one_ids needs the keys, requested or not.
  const bool keep_keys = request.columns.Has(Column::kIdentityKey);
  ColumnSet columns = request.columns;
  if (request.one_ids != nullptr) columns.Add(Column::kIdentityKey);
  auto load = [this, &request,
               columns](const std::shared_ptr<const LiveSegment>& seg) -> Result<SegmentRows> {
    ASSIGN_OR_RETURN(auto reader, SegmentReader::Open(seg->path, &scan_bytes_read_, &seg->footer));
    return SegmentRows::Load(*reader, columns, request.from_us, request.to_us);
  };
  auto launch = [&load](std::shared_ptr<const LiveSegment> seg) {
    try {
      return std::async(std::launch::async, load, std::move(seg));
    } catch (const std::system_error&) {  // no thread available: decode on this thread
      return std::async(std::launch::deferred, load, std::move(seg));
    }
  };
  // Up to scan_threads segments decode while this thread materializes one;
  // the futures' destructors wait for stragglers on an early return.
  const size_t window = static_cast<size_t>(std::max(1, options_.scan_threads));
  std::deque<std::future<Result<SegmentRows>>> inflight;
  size_t next = 0;
  while (next < segments.size() || !inflight.empty()) {
    while (next < segments.size() && inflight.size() <= window) {
      inflight.push_back(launch(segments[next++]));
    }
    Result<SegmentRows> rows = inflight.front().get();
    inflight.pop_front();
    if (!rows.ok()) return rows.status();
    for (size_t r = rows->begin(); r < rows->end(); ++r) {
      Event* e = sink->NewRow();
      rows->Fill(r, e);
      if (request.one_ids != nullptr) {
        e->one_id = ResolveOneId(*request.one_ids, e->identity_key);
        if (!keep_keys) e->identity_key = 0;
      }
      RETURN_IF_ERROR(sink->MaybeEmit());
    }
  }
  return Status::OK();
}

Status EventStoreImpl::ScanBuffered(const RowChunks& chunks, const ScanRequest& request,
                                    BatchSink* sink) const {
  for (const auto& chunk : chunks) {
    if (chunk->max_timestamp_us < request.from_us || chunk->min_timestamp_us >= request.to_us) {
      continue;
    }
    for (size_t r = 0; r < chunk->size(); ++r) {
      const int64_t ts = chunk->timestamps[r];
      if (ts < request.from_us || ts >= request.to_us) continue;
      Event* e = sink->NewRow();
      Status s = chunk->DecodeRow(r, e);
      if (!s.ok()) return Status::Internal("buffered row does not decode: " + s.ToString());
      if (request.one_ids != nullptr) e->one_id = ResolveOneId(*request.one_ids, e->identity_key);
      internal::KeepColumns(request.columns, e);  // after resolving: may clear the key
      RETURN_IF_ERROR(sink->MaybeEmit());
    }
  }
  return Status::OK();
}

// A segment's rows decoded for a columnar scan: every requested column
// present (defaults for columns the segment lacks), dictionary columns
// dictionary-encoded (one_ids are resolved by the batch, on demand).
struct ColumnarRows {
  SegmentRows rows;
  std::vector<std::unique_ptr<internal::DecodedColumn>> owned;  // defaults, conversions
  std::vector<uint32_t> one_ids;  // resolved ahead (serial scans: on the loading thread)
};

// A column of `rows` default values.
Result<std::unique_ptr<internal::DecodedColumn>> DefaultColumn(Column c, size_t rows) {
  auto encoder = internal::NewColumnEncoder(c);
  const Event empty;
  for (size_t i = 0; i < rows; ++i) encoder->Append(empty);
  const auto encoding = encoder->encoding();
  return internal::DecodeColumn(c, encoding, encoder->Finish(), rows);
}

bool IsDictionary(Column c) {
  switch (c) {
    case Column::kName:
    case Column::kSource:
    case Column::kChannel:
    case Column::kCampaignSource:
    case Column::kCampaignMedium:
    case Column::kCampaignName:
    case Column::kCurrency:
      return true;
    default:
      return false;
  }
}

// Fills in what SegmentRows::Load leaves out for a columnar scan.
Status CompleteColumns(ColumnSet columns, size_t rows, ColumnarRows* out) {
  for (int i = 0; i < kColumnCount; ++i) {
    const auto c = static_cast<Column>(i);
    if (!columns.Has(c)) continue;
    const internal::DecodedColumn* col = out->rows.column(c);
    if (col == nullptr) {
      ASSIGN_OR_RETURN(auto def, DefaultColumn(c, rows));
      out->rows.set_column(c, std::move(def));
    } else if (IsDictionary(c) && col->Codes() == nullptr) {
      // A dictionary column written with the plain strings encoding.
      std::vector<std::string> dict;
      std::vector<uint32_t> codes(rows);
      std::unordered_map<std::string_view, uint32_t> index;
      std::vector<std::string_view> views(rows);
      for (size_t r = 0; r < rows; ++r) views[r] = col->StringAt(r);
      for (size_t r = 0; r < rows; ++r) {
        auto [it, added] = index.emplace(views[r], static_cast<uint32_t>(dict.size()));
        if (added) dict.emplace_back(views[r]);
        codes[r] = it->second;
      }
      out->rows.set_column(c, internal::NewDictionaryColumn(c, std::move(dict), std::move(codes)));
    }
  }
  return Status::OK();
}

// One segment's in-range rows for a columnar scan.
Result<ColumnarRows> LoadColumnar(const LiveSegment& seg, const ScanRequest& request,
                                  ColumnSet columns, std::atomic<uint64_t>* bytes_read,
                                  internal::ColumnCache* cache) {
  ASSIGN_OR_RETURN(auto reader, SegmentReader::Open(seg.path, bytes_read, &seg.footer));
  ColumnarRows out;
  ASSIGN_OR_RETURN(out.rows,
                   SegmentRows::Load(*reader, columns, request.from_us, request.to_us, cache));
  if (out.rows.begin() >= out.rows.end()) return out;
  RETURN_IF_ERROR(CompleteColumns(columns, seg.footer.rows, &out));
  return out;
}

Status CallWithBatch(ColumnarRows loaded, const ScanRequest& request, const ColumnScanFn& fn) {
  const SegmentRows& rows = loaded.rows;
  if (rows.begin() >= rows.end()) return Status::OK();
  ColumnBatch::Columns cols{};
  for (int i = 0; i < kColumnCount; ++i) cols[i] = rows.column(static_cast<Column>(i));
  ColumnBatch batch(rows.end() - rows.begin(), rows.begin(), cols, request.one_ids,
                    std::move(loaded.one_ids));
  return fn(batch);
}

ColumnSet ColumnarColumns(const ScanRequest& request) {
  ColumnSet columns = request.columns;
  if (request.one_ids != nullptr) columns.Add(Column::kIdentityKey);
  return columns;
}

Status EventStoreImpl::ScanColumns(const ScanRequest& request, const ColumnScanFn& fn) const {
  SegmentList segments;
  RowChunks buffered;
  TakeSnapshot(request, &segments, &buffered);
  if (request.from_us >= request.to_us) return Status::OK();
  const ColumnSet columns = ColumnarColumns(request);
  // One_ids are resolved on the loading threads, off the callback's.
  auto load = [this, &request,
               columns](const std::shared_ptr<const LiveSegment>& seg) -> Result<ColumnarRows> {
    ASSIGN_OR_RETURN(ColumnarRows out,
                     LoadColumnar(*seg, request, columns, &scan_bytes_read_, column_cache_.get()));
    if (request.one_ids != nullptr && out.rows.end() > out.rows.begin()) {
      const uint32_t* keys = out.rows.column(Column::kIdentityKey)->UInt32Data();
      out.one_ids.resize(out.rows.end() - out.rows.begin());
      for (size_t r = out.rows.begin(); r < out.rows.end(); ++r) {
        out.one_ids[r - out.rows.begin()] = ResolveOneId(*request.one_ids, keys[r]);
      }
    }
    return out;
  };
  auto launch = [&load](std::shared_ptr<const LiveSegment> seg) {
    try {
      return std::async(std::launch::async, load, std::move(seg));
    } catch (const std::system_error&) {
      return std::async(std::launch::deferred, load, std::move(seg));
    }
  };
  const size_t window = static_cast<size_t>(std::max(1, options_.scan_threads));
  std::deque<std::future<Result<ColumnarRows>>> inflight;
  size_t next = 0;
  while (next < segments.size() || !inflight.empty()) {
    while (next < segments.size() && inflight.size() <= window) {
      inflight.push_back(launch(segments[next++]));
    }
    Result<ColumnarRows> loaded = inflight.front().get();
    inflight.pop_front();
    if (!loaded.ok()) return loaded.status();
    RETURN_IF_ERROR(CallWithBatch(std::move(*loaded), request, fn));
  }
  return ScanBufferedColumns(buffered, request, fn);
}

Status EventStoreImpl::ScanColumnsParallel(const ScanRequest& request, int workers,
                                           const ParallelColumnScanFn& fn) const {
  SegmentList segments;
  RowChunks buffered;
  TakeSnapshot(request, &segments, &buffered);
  if (request.from_us >= request.to_us) return Status::OK();
  const ColumnSet columns = ColumnarColumns(request);
  workers = std::max(1, std::min<int>(workers, static_cast<int>(segments.size())));
  // Largest segments first, so the last ones to finish are short.
  std::stable_sort(segments.begin(), segments.end(),
                   [](const auto& a, const auto& b) { return a->entry.rows > b->entry.rows; });
  std::atomic<size_t> next{0};
  std::atomic<bool> failed{false};
  std::vector<Status> statuses(workers);
  auto run = [&](int w) {
    const ColumnScanFn mine = [&fn, w](const ColumnBatch& b) { return fn(w, b); };
    for (size_t k;
         !failed.load(std::memory_order_relaxed) && (k = next.fetch_add(1)) < segments.size();) {
      Result<ColumnarRows> loaded =
          LoadColumnar(*segments[k], request, columns, &scan_bytes_read_, column_cache_.get());
      Status s = loaded.ok() ? CallWithBatch(std::move(*loaded), request, mine) : loaded.status();
      if (!s.ok()) {
        statuses[w] = std::move(s);
        failed = true;
      }
    }
  };
  std::vector<std::thread> pool;
  for (int w = 1; w < workers; ++w) {
    try {
      pool.emplace_back(run, w);
    } catch (const std::system_error&) {
      break;  // fewer threads: the others take its share
    }
  }
  run(0);
  for (auto& t : pool) t.join();
  for (const Status& s : statuses) RETURN_IF_ERROR(s);
  return ScanBufferedColumns(buffered, request, [&fn](const ColumnBatch& b) { return fn(0, b); });
}

// `events` (in time order) as one ColumnBatch of `columns`; one_ids
// resolved through `one_ids`, or given in `resolved`.
Status ScanBuiltColumns(const std::vector<Event>& events, ColumnSet columns,
                        const DenseArray<uint32_t>* one_ids, std::vector<uint32_t> resolved,
                        const ColumnScanFn& fn) {
  std::vector<std::unique_ptr<internal::DecodedColumn>> owned;
  ColumnBatch::Columns cols{};
  for (int i = 0; i < kColumnCount; ++i) {
    const auto c = static_cast<Column>(i);
    if (!columns.Has(c) || c == Column::kIdentifiers) continue;
    ASSIGN_OR_RETURN(auto col, internal::BuildColumn(c, events));
    cols[i] = col.get();
    owned.push_back(std::move(col));
  }
  ColumnBatch batch(events.size(), 0, cols, one_ids, std::move(resolved));
  return fn(batch);
}

Status EventStoreImpl::ScanBufferedColumns(const RowChunks& chunks, const ScanRequest& request,
                                           const ColumnScanFn& fn) const {
  std::vector<Event> events;
  for (const auto& chunk : chunks) {
    if (chunk->max_timestamp_us < request.from_us || chunk->min_timestamp_us >= request.to_us) {
      continue;
    }
    for (size_t r = 0; r < chunk->size(); ++r) {
      const int64_t ts = chunk->timestamps[r];
      if (ts < request.from_us || ts >= request.to_us) continue;
      Status s = chunk->DecodeRow(r, &events.emplace_back());
      if (!s.ok()) return Status::Internal("buffered row does not decode: " + s.ToString());
    }
  }
  if (events.empty()) return Status::OK();
  std::stable_sort(events.begin(), events.end(),
                   [](const Event& a, const Event& b) { return a.timestamp_us < b.timestamp_us; });
  ColumnSet columns = request.columns;
  if (request.one_ids != nullptr) columns.Add(Column::kIdentityKey);
  return ScanBuiltColumns(events, columns, request.one_ids, {}, fn);
}

StoreStats EventStoreImpl::Stats() const {
  std::lock_guard l(mu_);
  StoreStats s;
  bool any = false;
  auto widen = [&](int64_t lo, int64_t hi) {
    s.min_timestamp_us = any ? std::min(s.min_timestamp_us, lo) : lo;
    s.max_timestamp_us = any ? std::max(s.max_timestamp_us, hi) : hi;
    any = true;
  };
  for (const auto& seg : segments_) {
    ++s.segments;
    s.segment_events += seg->entry.rows;
    s.segment_bytes += seg->entry.bytes;
    if (seg->entry.rows > 0) widen(seg->entry.min_timestamp_us, seg->entry.max_timestamp_us);
  }
  for (const RowChunks* chunks : {&flushing_, &active_}) {
    for (const auto& c : *chunks) widen(c->min_timestamp_us, c->max_timestamp_us);
  }
  s.buffered_events = active_events_ + flushing_events_;
  s.buffered_bytes = active_bytes_ + flushing_bytes_;
  s.checkpoint_lsn = manifest_.checkpoint_lsn;
  s.scan_bytes_read = scan_bytes_read_.load(std::memory_order_relaxed);
  if (column_cache_) {
    s.column_cache_bytes = column_cache_->bytes();
    s.column_cache_hits = column_cache_->hits();
    s.column_cache_misses = column_cache_->misses();
  }
  s.flush_failures = flush_failures_;
  return s;
}

void EventStoreImpl::WriteCatalog(const Manifest& manifest, const EventCatalog& segments) const {
  internal::CatalogFile file;
  for (const auto& e : manifest.segments) file.segments.push_back(e.seq);
  std::sort(file.segments.begin(), file.segments.end());
  file.catalog = segments;
  if (Status s = internal::WriteCatalogFile(options_.dir, file); !s.ok()) {
    spdlog::warn("event store: cannot write CATALOG ({}); the next flush or open rewrites it",
                 s.ToString());
  }
}

void EventStoreImpl::PublishGauges() const {
  uint64_t events = 0, bytes = 0;
  for (const auto& seg : segments_) {
    events += seg->entry.rows;
    bytes += seg->entry.bytes;
  }
  metrics_.segments->Set(static_cast<int64_t>(segments_.size()));
  metrics_.events->Set(static_cast<int64_t>(events));
  metrics_.bytes->Set(static_cast<int64_t>(bytes));
}

void EventStoreImpl::BackgroundLoop() {
  using std::chrono::microseconds;
  // Poll at least once a second so flush_interval_us is measured by the
  // injected clock, not by the condition variable's.
  const auto poll = microseconds(std::clamp<int64_t>(options_.flush_interval_us, 1000, 1'000'000));
  std::unique_lock l(mu_);
  while (!stopping_) {
    cv_.wait_for(l, poll, [&] { return stopping_ || active_events_ >= options_.flush_events; });
    if (stopping_) continue;
    if (!FlushDueLocked()) {
      // Summarize new buffered rows for the catalog now, off the ingest
      // path, so Catalog() finds little left to parse.
      l.unlock();
      catalog_->Fold();
      CompactInBackground();
      l.lock();
      continue;
    }
    l.unlock();
    Status s = Flush().status();
    l.lock();
    if (!s.ok()) {
      ++flush_failures_;
      spdlog::warn("event store: background flush failed (will retry): {}", s.ToString());
      cv_.wait_for(l, std::chrono::seconds(1), [&] { return stopping_; });
    }
  }
}

Status EventStoreImpl::Close() {
  bool first;
  {
    std::lock_guard l(mu_);
    if (!opened_) return Status::OK();
    first = !closed_;
    closed_ = stopping_ = true;
  }
  if (first) {
    cv_.notify_all();
    flusher_.join();
  }
  return Flush().status();  // a no-op unless something was added since
}

Status ValidateOptions(const StoreOptions& o) {
  if (o.dir.empty()) return Status::InvalidArgument("store dir is empty");
  if (o.flush_events == 0) return Status::InvalidArgument("flush_events must be positive");
  if (o.flush_interval_us <= 0)
    return Status::InvalidArgument("flush_interval_us must be positive");
  if (o.max_segment_rows == 0) return Status::InvalidArgument("max_segment_rows must be positive");
  if (o.scan_threads < 1) return Status::InvalidArgument("scan_threads must be at least 1");
  if (o.zstd_level < ZSTD_minCLevel() || o.zstd_level > ZSTD_maxCLevel()) {
    return Status::InvalidArgument("zstd_level out of range");
  }
  return Status::OK();
}

}  // namespace

// ---- ColumnBatch ------------------------------------------------------------

const internal::DecodedColumn& ColumnBatch::Col(Column c) const {
  return *columns_[static_cast<size_t>(c)];
}
const int64_t* ColumnBatch::Int64s(Column c) const { return Col(c).Int64Data() + offset_; }
const uint32_t* ColumnBatch::UInt32s(Column c) const { return Col(c).UInt32Data() + offset_; }
void ColumnBatch::OneIds(const uint32_t* rows, size_t n, uint32_t* out) const {
  if (resolved_) {
    for (size_t i = 0; i < n; ++i) out[i] = one_ids_[rows[i]];
    return;
  }
  constexpr size_t kAhead = 16;
  const uint32_t* keys = UInt32s(Column::kIdentityKey);
  for (size_t i = 0; i < n && i < kAhead; ++i) resolver_->Prefetch(keys[rows[i]]);
  for (size_t i = 0; i < n; ++i) {
    if (i + kAhead < n) resolver_->Prefetch(keys[rows[i + kAhead]]);
    out[i] = ResolveOneId(*resolver_, keys[rows[i]]);
  }
}

const uint32_t* ColumnBatch::one_ids() const {
  if (resolved_) return one_ids_.data();
  if (resolver_ == nullptr) return nullptr;
  if (!resolved_) {
    const uint32_t* keys = UInt32s(Column::kIdentityKey);
    one_ids_.resize(size_);
    constexpr size_t kAhead = 16;
    for (size_t r = 0; r < size_; ++r) {
      if (r + kAhead < size_) resolver_->Prefetch(keys[r + kAhead]);
      one_ids_[r] = ResolveOneId(*resolver_, keys[r]);
    }
    resolved_ = true;
  }
  return one_ids_.data();
}
const uint8_t* ColumnBatch::Types() const { return Col(Column::kType).TypeData() + offset_; }
const uint32_t* ColumnBatch::Codes(Column c) const { return Col(c).Codes() + offset_; }
const std::vector<std::string>& ColumnBatch::Dictionary(Column c) const {
  return *Col(c).DictionaryValues();
}
std::string_view ColumnBatch::String(Column c, size_t row) const {
  return Col(c).StringAt(offset_ + row);
}
const std::optional<double>* ColumnBatch::Doubles(Column c) const {
  return Col(c).DoubleData() + offset_;
}

Result<std::unique_ptr<EventStore>> EventStore::Open(const StoreOptions& options) {
  RETURN_IF_ERROR(ValidateOptions(options));
  auto store = std::make_unique<EventStoreImpl>(options);
  RETURN_IF_ERROR(store->Init());
  return std::unique_ptr<EventStore>(std::move(store));
}

Status ScanEventColumns(const std::vector<Event>& events, const std::vector<uint32_t>& one_ids,
                        ColumnSet columns, const ColumnScanFn& fn) {
  if (events.empty()) return Status::OK();
  std::vector<size_t> order(events.size());
  for (size_t i = 0; i < order.size(); ++i) order[i] = i;
  std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) {
    return events[a].timestamp_us < events[b].timestamp_us;
  });
  std::vector<Event> sorted;
  sorted.reserve(events.size());
  std::vector<uint32_t> ids;
  ids.reserve(events.size());
  for (size_t i : order) {
    sorted.push_back(events[i]);
    ids.push_back(one_ids[i]);
  }
  return ScanBuiltColumns(sorted, columns, nullptr, std::move(ids), fn);
}

}  // namespace quanyu::store
