#include "log/event_log.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <condition_variable>
#include <deque>
#include <future>
#include <mutex>
#include <shared_mutex>
#include <thread>
#include <utility>
#include <vector>

#include "common/metrics.h"
#include "log/internal/log_file.h"
#include "log/internal/log_record.h"

namespace quanyu::log {
namespace {

// A group stops growing at this size (at least one append is always taken),
// so one fsync never carries an unbounded amount of data.
constexpr size_t kMaxGroupBytes = size_t{8} << 20;
// Queued bytes past which the writer never waits for more company.
constexpr size_t kGroupTargetBytes = size_t{512} << 10;

struct PendingAppend {
  std::string payload;  // empty = barrier
  AppendCallback done;
  bool roll = false;  // a barrier that also starts a new file (Roll)
};

struct LogFileEntry {
  Lsn base_lsn;  // every record in the file has LSN >= base_lsn
  std::string path;
};

struct LogMetrics {
  Histogram* fsync_seconds;
  Gauge* queue_bytes;
  Counter* records;
  Counter* bytes;
  Counter* group_commits;

  static LogMetrics Get() {
    MetricsRegistry* r = MetricsRegistry::Default();
    return {
        r->GetHistogram("quanyu_log_fsync_seconds", "Latency of the event log's fdatasync.",
                        {0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05,
                         0.1, 0.25, 0.5, 1}),
        r->GetGauge("quanyu_log_queue_bytes", "Bytes appended to the event log, not yet durable."),
        r->GetCounter("quanyu_log_records_total", "Records made durable in the event log."),
        r->GetCounter("quanyu_log_bytes_total",
                      "Bytes (headers included) written to the event log."),
        r->GetCounter("quanyu_log_group_commits_total",
                      "Groups written with one write and one sync."),
    };
  }
};

class EventLogImpl final : public EventLog {
 public:
  explicit EventLogImpl(const LogOptions& options)
      : options_(options),
        fs_(options.fs ? options.fs : PosixLogFs()),
        clock_(options.clock ? options.clock : SystemClock::Default()),
        metrics_(LogMetrics::Get()) {}

  ~EventLogImpl() override { Close(); }

  Status Recover(ReplayStats* stats);
  void Start() {
    writer_ = std::thread([this] { WriterLoop(); });
    completer_ = std::thread([this] { CompleterLoop(); });
  }

  Status Append(std::string payload, AppendCallback done) override;
  Result<Lsn> AppendSync(std::string payload) override;
  Status Roll(AppendCallback done) override;
  Result<Lsn> RollSync() override;
  Status Replay(Lsn after, const ReplayFn& fn, ReplayStats* stats) override;
  Status TruncateUpTo(Lsn upto) override;
  Lsn LastDurableLsn() const override { return durable_lsn_.load(std::memory_order_acquire); }
  size_t QueuedBytes() const override {
    std::lock_guard<std::mutex> l(mu_);
    return pending_bytes_ + inflight_bytes_;
  }
  void Close() override;

 private:
  void WriterLoop();
  // Runs the callbacks of written groups, in order, on their own thread so
  // the writer can already write and sync the next group (pipelining).
  void CompleterLoop();
  // Waits (bounded by max_delay_us) for as many appends as the last group had.
  void WaitForCompany(std::unique_lock<std::mutex>& lock);
  void TakeGroup(std::vector<PendingAppend>* group);
  void CommitGroup(std::vector<PendingAppend>* group);
  // Writes and syncs the records of `group`, numbering them from next_lsn_.
  Status WriteRecords(const std::vector<PendingAppend>& group);
  // Starts a new file whose name is next_lsn_.
  Status RollFile();
  std::string PathOf(Lsn base) const { return options_.dir + "/" + LogFileName(base); }

  const LogOptions options_;
  const std::shared_ptr<LogFs> fs_;
  const Clock* const clock_;
  const LogMetrics metrics_;

  // Owned by the writer thread once started (by Open before that).
  std::unique_ptr<AppendFile> file_;
  Lsn next_lsn_ = 1;
  bool file_suspect_ = false;  // a failed write could not be undone: roll first
  size_t last_group_size_ = 0;
  RecordHeaderWriter header_writer_;

  mutable std::mutex mu_;
  std::condition_variable work_cv_;  // queue grew, or closing
  std::deque<PendingAppend> queue_;
  size_t pending_bytes_ = 0;   // payload bytes in queue_
  size_t inflight_bytes_ = 0;  // payload bytes of the group being written
  bool closing_ = false;

  std::atomic<Lsn> durable_lsn_{0};

  mutable std::mutex files_mu_;
  std::vector<LogFileEntry> files_;  // by base LSN; back() is being written
  // Replay holds it shared so TruncateUpTo cannot delete a file under it.
  std::shared_mutex truncate_mu_;

  std::once_flag close_once_;
  std::thread writer_;

  // Callbacks of durable (or failed) groups waiting for the completer.
  using Completion = std::function<void()>;
  std::mutex completion_mu_;
  std::condition_variable completion_cv_;
  std::deque<std::vector<Completion>> completions_;
  bool writer_done_ = false;
  std::thread completer_;
};

Status EventLogImpl::Recover(ReplayStats* stats) {
  if (options_.dir.empty()) return Status::InvalidArgument("LogOptions.dir is empty");
  if (options_.file_bytes == 0) return Status::InvalidArgument("LogOptions.file_bytes is 0");
  RETURN_IF_ERROR(fs_->CreateDir(options_.dir));
  ASSIGN_OR_RETURN(std::vector<std::string> names, fs_->ListDir(options_.dir));
  for (const std::string& name : names) {
    if (std::optional<Lsn> base = ParseLogFileName(name)) files_.push_back({*base, PathOf(*base)});
  }
  std::sort(files_.begin(), files_.end(),
            [](const LogFileEntry& a, const LogFileEntry& b) { return a.base_lsn < b.base_lsn; });

  ReplayStats local;
  Lsn last = 0;
  for (size_t i = 0; i < files_.size(); ++i) {
    const LogFileEntry& f = files_[i];
    FileScan scan;
    RETURN_IF_ERROR(
        ScanLogFile(fs_.get(), f.path, std::max(last + 1, f.base_lsn), UINT64_MAX, nullptr, &scan));
    local.records += scan.records;
    local.corrupt_records_skipped += scan.corrupt_regions;
    if (scan.records > 0) last = scan.last_lsn;
    last = std::max(last, f.base_lsn - 1);
    if (scan.valid_end == scan.size) continue;
    if (i + 1 < files_.size()) {
      // Only a failed write that could not be undone leaves a bad tail in an
      // older file; the records after it live in the next file.
      spdlog::warn("event log {}: {} damaged bytes at offset {} skipped", f.path,
                   scan.size - scan.valid_end, scan.valid_end);
      ++local.corrupt_records_skipped;
      continue;
    }
    // The tail of the last file: a write cut short by a crash.
    ASSIGN_OR_RETURN(std::unique_ptr<AppendFile> tail, fs_->OpenAppend(f.path));
    RETURN_IF_ERROR(tail->Truncate(scan.valid_end));
    RETURN_IF_ERROR(tail->Sync());
    RETURN_IF_ERROR(tail->Close());
    spdlog::warn("event log {}: truncated {} torn bytes at offset {}", f.path,
                 scan.size - scan.valid_end, scan.valid_end);
    local.torn_bytes_truncated += scan.size - scan.valid_end;
  }
  next_lsn_ = last + 1;
  durable_lsn_.store(last, std::memory_order_release);

  // Keep appending to the last file unless it is full. A file that holds no
  // record yet is reused whatever its size, as its name is next_lsn_.
  if (!files_.empty()) {
    ASSIGN_OR_RETURN(file_, fs_->OpenAppend(files_.back().path));
    if (file_->Size() >= options_.file_bytes && files_.back().base_lsn != next_lsn_) {
      RETURN_IF_ERROR(RollFile());
    }
  } else {
    RETURN_IF_ERROR(RollFile());
  }
  if (stats != nullptr) *stats = local;
  return Status::OK();
}

Status EventLogImpl::RollFile() {
  const Lsn base = next_lsn_;
  if (file_ != nullptr && !files_.empty() && files_.back().base_lsn == base) {
    // No record since the current file began: a new file would have its name.
    if (!file_suspect_) return Status::OK();
    return Status::Internal("cannot roll an event log file that holds no record");
  }
  const std::string path = PathOf(base);
  ASSIGN_OR_RETURN(std::unique_ptr<AppendFile> next, fs_->OpenAppend(path));
  if (next->Size() != 0) RETURN_IF_ERROR(next->Truncate(0));
  RETURN_IF_ERROR(fs_->SyncDir(options_.dir));
  if (file_ != nullptr) {
    Status s = file_->Close();
    if (!s.ok()) spdlog::warn("event log: closing previous file: {}", s.ToString());
  }
  file_ = std::move(next);
  file_suspect_ = false;
  std::lock_guard<std::mutex> l(files_mu_);
  files_.push_back({base, path});
  return Status::OK();
}

Status EventLogImpl::Append(std::string payload, AppendCallback done) {
  if (payload.size() > kMaxPayloadBytes) {
    return Status::PayloadTooLarge("event log record over " + std::to_string(kMaxPayloadBytes) +
                                   " bytes");
  }
  const size_t n = payload.size();
  {
    std::lock_guard<std::mutex> l(mu_);
    if (closing_) return Status::Unavailable("event log is closed");
    const size_t queued = pending_bytes_ + inflight_bytes_;
    // An append bigger than the whole limit is still taken when nothing is queued.
    if (queued > 0 && queued + n > options_.max_queue_bytes) {
      return Status::ResourceExhausted("event log queue is full (" + std::to_string(queued) +
                                       " bytes waiting)");
    }
    queue_.push_back({std::move(payload), std::move(done)});
    pending_bytes_ += n;
  }
  metrics_.queue_bytes->Add(static_cast<int64_t>(n));
  work_cv_.notify_one();
  return Status::OK();
}

Status EventLogImpl::Roll(AppendCallback done) {
  {
    std::lock_guard<std::mutex> l(mu_);
    if (closing_) return Status::Unavailable("event log is closed");
    queue_.push_back({std::string(), std::move(done), true});
  }
  work_cv_.notify_one();
  return Status::OK();
}

Result<Lsn> EventLogImpl::RollSync() {
  std::promise<std::pair<Status, Lsn>> promise;
  std::future<std::pair<Status, Lsn>> future = promise.get_future();
  RETURN_IF_ERROR(Roll([&promise](const Status& s, Lsn lsn) { promise.set_value({s, lsn}); }));
  auto [status, lsn] = future.get();
  if (!status.ok()) return status;
  return lsn;
}

Result<Lsn> EventLogImpl::AppendSync(std::string payload) {
  std::promise<std::pair<Status, Lsn>> promise;
  std::future<std::pair<Status, Lsn>> future = promise.get_future();
  RETURN_IF_ERROR(Append(std::move(payload), [&promise](const Status& s, Lsn lsn) {
    promise.set_value({s, lsn});
  }));
  auto [status, lsn] = future.get();
  if (!status.ok()) return status;
  return lsn;
}

void EventLogImpl::WriterLoop() {
  std::vector<PendingAppend> group;
  for (;;) {
    {
      std::unique_lock<std::mutex> lock(mu_);
      work_cv_.wait(lock, [this] { return !queue_.empty() || closing_; });
      if (queue_.empty()) return;  // closing, and everything is written
      WaitForCompany(lock);
      TakeGroup(&group);
    }
    CommitGroup(&group);
    group.clear();
  }
}

void EventLogImpl::WaitForCompany(std::unique_lock<std::mutex>& lock) {
  // The last group's size is the best guess at how many producers are
  // active; with one producer (or a full queue) waiting only adds latency.
  const size_t expected = last_group_size_;
  auto enough = [&] {
    return closing_ || queue_.size() >= expected || pending_bytes_ >= kGroupTargetBytes;
  };
  if (options_.max_delay_us <= 0 || expected <= 1 || enough()) return;
  work_cv_.wait_for(lock, std::chrono::microseconds(options_.max_delay_us), enough);
}

void EventLogImpl::TakeGroup(std::vector<PendingAppend>* group) {
  size_t bytes = 0;
  while (!queue_.empty() &&
         (group->empty() || bytes + queue_.front().payload.size() <= kMaxGroupBytes)) {
    bytes += queue_.front().payload.size();
    group->push_back(std::move(queue_.front()));
    queue_.pop_front();
  }
  pending_bytes_ -= bytes;
  inflight_bytes_ += bytes;
  last_group_size_ = group->size();
}

void EventLogImpl::CommitGroup(std::vector<PendingAppend>* group) {
  const Lsn durable_before = durable_lsn_.load(std::memory_order_relaxed);
  const Lsn first = next_lsn_;
  size_t records = 0;
  size_t bytes = 0;
  for (const PendingAppend& a : *group) {
    if (!a.payload.empty()) {
      ++records;
      bytes += a.payload.size();
    }
  }
  Status status;
  if (records > 0) status = WriteRecords(*group);
  {
    std::lock_guard<std::mutex> l(mu_);
    inflight_bytes_ -= bytes;
    if (status.ok() && records > 0) {
      durable_lsn_.store(first + records - 1, std::memory_order_release);
    }
  }
  metrics_.queue_bytes->Add(-static_cast<int64_t>(bytes));
  if (records > 0 && status.ok()) {
    metrics_.records->Add(records);
    metrics_.bytes->Add(bytes + records * kRecordHeaderBytes);
    metrics_.group_commits->Add();
  }

  // Roll before the callbacks so a caller that saw its record durable also
  // sees the file it lives in closed (TruncateUpTo can then remove it).
  const bool asked =
      std::any_of(group->begin(), group->end(), [](const PendingAppend& a) { return a.roll; });
  Status rolled;
  if (status.ok() && (asked || (records > 0 && file_->Size() >= options_.file_bytes))) {
    rolled = RollFile();  // retried after the next group if it fails
    if (!rolled.ok()) spdlog::warn("event log: rolling to a new file: {}", rolled.ToString());
  }

  // Callbacks in LSN order. A barrier reports the LSN of the last record
  // before it, and fails if that record failed.
  Lsn next_record = first;
  Lsn last_record = durable_before;
  bool record_before = false;
  std::vector<Completion> completions;
  completions.reserve(group->size());
  for (PendingAppend& a : *group) {
    if (!a.payload.empty()) {
      last_record = next_record++;
      record_before = true;
    }
    if (!a.done) continue;
    Status s = record_before ? status : Status::OK();
    if (a.roll && s.ok()) s = rolled;
    Lsn lsn = !record_before ? last_record : (status.ok() ? last_record : 0);
    completions.push_back([done = std::move(a.done), s = std::move(s), lsn] { done(s, lsn); });
  }
  if (completions.empty()) return;
  {
    std::lock_guard<std::mutex> l(completion_mu_);
    completions_.push_back(std::move(completions));
  }
  completion_cv_.notify_one();
}

void EventLogImpl::CompleterLoop() {
  for (;;) {
    std::vector<Completion> batch;
    {
      std::unique_lock<std::mutex> lock(completion_mu_);
      completion_cv_.wait(lock, [this] { return !completions_.empty() || writer_done_; });
      if (completions_.empty()) return;  // the writer has stopped and all ran
      batch = std::move(completions_.front());
      completions_.pop_front();
    }
    for (auto& c : batch) c();
  }
}

Status EventLogImpl::WriteRecords(const std::vector<PendingAppend>& group) {
  if (file_suspect_) RETURN_IF_ERROR(RollFile());
  std::vector<std::array<char, kRecordHeaderBytes>> headers;
  std::vector<std::string_view> pieces;
  headers.reserve(group.size());
  pieces.reserve(2 * group.size());
  Lsn lsn = next_lsn_;
  for (const PendingAppend& a : group) {
    if (a.payload.empty()) continue;
    headers.emplace_back();
    header_writer_.Encode(lsn++, a.payload, headers.back().data());
    pieces.emplace_back(headers.back().data(), kRecordHeaderBytes);
    pieces.emplace_back(a.payload);
  }
  const uint64_t size_before = file_->Size();
  Status status = file_->Append(pieces);
  if (status.ok() && options_.sync) {
    const int64_t start = clock_->NowMicros();
    status = file_->Sync();
    metrics_.fsync_seconds->Observe(std::max<int64_t>(0, clock_->NowMicros() - start) / 1e6);
  }
  if (status.ok()) {
    next_lsn_ = lsn;
    return Status::OK();
  }
  // Undo the partial write so the LSNs can be reused. If that fails too the
  // file's tail is unknown: burn the LSNs (a replay may still find those
  // records) and continue in a new file.
  spdlog::error("event log: write of {} records failed: {}", headers.size(), status.ToString());
  // The truncation need not be synced: until the next successful sync the
  // lost records are merely unacknowledged, and that sync covers the new size.
  Status undo = file_->Truncate(size_before);
  if (!undo.ok()) {
    spdlog::error("event log: cannot undo failed write: {}", undo.ToString());
    next_lsn_ = lsn;
    file_suspect_ = true;
  }
  return status;
}

Status EventLogImpl::Replay(Lsn after, const ReplayFn& fn, ReplayStats* stats) {
  std::shared_lock<std::shared_mutex> truncate_lock(truncate_mu_);
  // Read the limit before listing files: every record up to it is then in a
  // listed file, wholly written.
  const Lsn limit = LastDurableLsn();
  std::vector<LogFileEntry> files;
  {
    std::lock_guard<std::mutex> l(files_mu_);
    files = files_;
  }
  ReplayStats local;
  Lsn last = 0;
  Status status;
  for (size_t i = 0; i < files.size() && status.ok(); ++i) {
    // Records of file i are below the next file's base.
    if (i + 1 < files.size() && files[i + 1].base_lsn - 1 <= after) continue;
    if (files[i].base_lsn > limit) break;
    FileScan scan;
    status = ScanLogFile(
        fs_.get(), files[i].path, std::max(last + 1, files[i].base_lsn), limit,
        [&](Lsn lsn, std::string_view payload) {
          if (lsn <= after) return Status::OK();
          ++local.records;
          return fn(lsn, payload);
        },
        &scan);
    local.corrupt_records_skipped += scan.corrupt_regions;
    if (scan.records > 0) last = scan.last_lsn;
    if (scan.stopped_at_limit) break;
    if (i + 1 < files.size() && scan.valid_end != scan.size) ++local.corrupt_records_skipped;
  }
  if (stats != nullptr) *stats = local;
  return status;
}

Status EventLogImpl::TruncateUpTo(Lsn upto) {
  std::unique_lock<std::shared_mutex> truncate_lock(truncate_mu_);
  std::vector<LogFileEntry> doomed;
  {
    std::lock_guard<std::mutex> l(files_mu_);
    // The last file is being written; a file's records all lie below the
    // next file's base.
    size_t n = 0;
    while (n + 1 < files_.size() && files_[n + 1].base_lsn - 1 <= upto) ++n;
    doomed.assign(files_.begin(), files_.begin() + n);
    files_.erase(files_.begin(), files_.begin() + n);
  }
  if (doomed.empty()) return Status::OK();
  for (const LogFileEntry& f : doomed) {
    Status s = fs_->Remove(f.path);
    if (!s.ok() && s.code() != StatusCode::kNotFound) return s;
  }
  return fs_->SyncDir(options_.dir);
}

void EventLogImpl::Close() {
  std::call_once(close_once_, [this] {
    {
      std::lock_guard<std::mutex> l(mu_);
      closing_ = true;
    }
    work_cv_.notify_all();
    if (writer_.joinable()) writer_.join();
    {
      std::lock_guard<std::mutex> l(completion_mu_);
      writer_done_ = true;
    }
    completion_cv_.notify_all();
    if (completer_.joinable()) completer_.join();  // every callback has run
    if (file_ != nullptr) {
      Status s = file_->Sync();
      if (s.ok()) s = file_->Close();
      if (!s.ok()) spdlog::error("event log: closing: {}", s.ToString());
    }
  });
}

}  // namespace

Result<std::unique_ptr<EventLog>> EventLog::Open(const LogOptions& options, ReplayStats* stats) {
  auto log = std::make_unique<EventLogImpl>(options);
  RETURN_IF_ERROR(log->Recover(stats));
  log->Start();
  return std::unique_ptr<EventLog>(std::move(log));
}

}  // namespace quanyu::log
