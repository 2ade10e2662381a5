// EventLog: the durable write-ahead log every accepted event passes through
// before it is acknowledged (ARCHITECTURE.md §5). Format: docs/log_format.md.
//
// Records are opaque payloads (the engine stores EncodeEventBatch output).
// Appends from many threads are queued and written by one writer thread in
// groups: one write() and one fdatasync() per group ("group commit"); each
// append's callback runs only after its record is on disk. Records get a
// log sequence number (LSN) that increases by one per record and survives
// restarts. (The one exception: a write that failed and could not be undone
// burns its LSNs, leaving a gap; see docs/log_format.md "Write failures".)
//
// A group waits up to max_delay_us for company only when the queue holds
// fewer appends than the previous group did and less than 512 KiB, so a lone
// producer is never delayed and a busy log never waits.
//
// Thread-safety: all public methods are safe to call concurrently, except
// that Close and AppendSync must not be called from an AppendCallback.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include "common/clock.h"
#include "common/result.h"

namespace quanyu::log {

using Lsn = uint64_t;  // 0 = "before the first record"

class LogFs;  // log/internal/log_file.h: the file operations, injectable for tests

struct LogOptions {
  std::string dir;                      // created if missing
  size_t file_bytes = 64u << 20;        // roll to a new file past this size (must be > 0)
  int max_delay_us = 2000;              // how long the writer may wait to grow a group
  size_t max_queue_bytes = 256u << 20;  // payload bytes not yet durable; see Append
  bool sync = true;              // fdatasync before acknowledging (tests of speed only set false)
  const Clock* clock = nullptr;  // times fsyncs for metrics; nullptr = SystemClock
  std::shared_ptr<LogFs> fs;     // nullptr = POSIX; tests inject faults here
};

struct ReplayStats {
  uint64_t records = 0;                  // valid records found (Open) / passed to fn (Replay)
  uint64_t corrupt_records_skipped = 0;  // damaged regions skipped, each counted once
                                         // however many records it spanned
  uint64_t torn_bytes_truncated = 0;     // incomplete tail cut off during Open
};

// Called once per durable record during replay, in LSN order.
using ReplayFn = std::function<Status(Lsn lsn, std::string_view payload)>;
// Called when an append is durable (status OK, its LSN) or has failed
// (IOError, LSN 0). Runs on the log's completion thread, one callback at a
// time in LSN order, while the writer already writes and syncs the next
// group: it may call Append but must not wait for it (no AppendSync, Close).
using AppendCallback = std::function<void(const Status& status, Lsn lsn)>;

class EventLog {
 public:
  // Opens (or creates) the log in options.dir. Recovery happens here: a torn
  // record at the tail of the last file is truncated away (never an error);
  // records with bad checksums elsewhere are reported in `stats` and skipped.
  // Every file is read once to find them. InvalidArgument for bad options,
  // IOError if the directory or a file cannot be read or the tail cut.
  static Result<std::unique_ptr<EventLog>> Open(const LogOptions& options,
                                                ReplayStats* stats = nullptr);
  virtual ~EventLog() = default;

  // Queues `payload` as one record. Returns ResourceExhausted (and never calls
  // `done`) when the payload would take the bytes not yet durable past
  // max_queue_bytes (a payload alone bigger than that is accepted when nothing
  // is waiting); PayloadTooLarge over 1 GiB; Unavailable after Close.
  // Otherwise returns OK and later calls `done` exactly once.
  // An empty payload writes nothing: `done` fires once every record appended
  // before it is durable (a barrier), with the LSN of the last such record
  // (LastDurableLsn() if there is none); if one of them failed it fails too.
  // `done` may be empty.
  virtual Status Append(std::string payload, AppendCallback done) = 0;

  // Append and wait; the record's LSN or Append's / the write's error.
  // Convenience for importers and tests.
  virtual Result<Lsn> AppendSync(std::string payload) = 0;

  // Calls fn for every durable record with LSN > after, in order, up to
  // LastDurableLsn() at the call (appends may continue meanwhile). Stops and
  // returns fn's error if it returns one; IOError if a file cannot be read.
  // Damaged regions are skipped and counted in `stats`.
  // `fn` must not call TruncateUpTo (it waits for Replay to finish).
  virtual Status Replay(Lsn after, const ReplayFn& fn, ReplayStats* stats = nullptr) = 0;

  // Closes the current file after every record queued before the call and
  // starts a new one, so that TruncateUpTo can then remove every record up
  // to here (a data-subject deletion must not leave a person's events in the
  // file being written). `done` fires like a barrier's, once the roll is
  // done, with the roll's error if it failed. Unavailable after Close.
  virtual Status Roll(AppendCallback done) = 0;
  // Roll and wait; the LSN of the last record before the roll.
  virtual Result<Lsn> RollSync() = 0;

  // Deletes log files all of whose records have LSN <= upto (they are
  // covered by a store checkpoint). The current file is never deleted.
  // Waits for running Replays to finish. IOError if a file cannot be removed.
  virtual Status TruncateUpTo(Lsn upto) = 0;

  // Highest LSN known durable.
  virtual Lsn LastDurableLsn() const = 0;
  // Bytes queued and not yet durable (exported as a gauge for /metrics).
  virtual size_t QueuedBytes() const = 0;

  // Writes everything queued (callbacks run), stops the writer thread and
  // closes the file. Idempotent; later Appends return Unavailable.
  // The destructor calls it.
  virtual void Close() = 0;
};

}  // namespace quanyu::log
