// EventLog: the durable write-ahead log every accepted event passes through
// before it is acknowledged (ARCHITECTURE.md §5). Format: docs/log_format.md.
//
// Records are opaque payloads (the engine stores EncodeEventBatch output).
// Appends from many threads are queued and written by one writer thread in
// groups: one write() and one fdatasync() per group ("group commit"); each
// append's callback runs only after its record is on disk. Records get a
// log sequence number (LSN) that increases by one per record and survives
// restarts.
//
// Thread-safety: all public methods are safe to call concurrently.
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

struct LogOptions {
  std::string dir;                      // created if missing
  size_t file_bytes = 64u << 20;        // roll to a new file past this size
  int max_delay_us = 2000;              // how long the writer may wait to grow a group
  size_t max_queue_bytes = 256u << 20;  // Append refuses with ResourceExhausted above this
  bool sync = true;                     // fdatasync before acknowledging (tests of speed only set false)
  const Clock* clock = nullptr;         // nullptr = SystemClock
};

struct ReplayStats {
  uint64_t records = 0;
  uint64_t corrupt_records_skipped = 0;  // bad checksum in the middle of a file
  uint64_t torn_bytes_truncated = 0;     // incomplete tail cut off during Open
};

// Called once per durable record during replay, in LSN order.
using ReplayFn = std::function<Status(Lsn lsn, std::string_view payload)>;
// Called when an append is durable (status OK, its LSN) or has failed.
// Runs on the log's writer thread: must be quick and must not call Append
// synchronously and wait.
using AppendCallback = std::function<void(const Status& status, Lsn lsn)>;

class EventLog {
 public:
  // Opens (or creates) the log in options.dir. Recovery happens here: a torn
  // record at the tail of the last file is truncated away (never an error);
  // records with bad checksums elsewhere are reported in `stats` and skipped.
  static Result<std::unique_ptr<EventLog>> Open(const LogOptions& options, ReplayStats* stats = nullptr);
  virtual ~EventLog() = default;

  // Queues `payload` as one record. Returns ResourceExhausted (and never calls
  // `done`) when more than max_queue_bytes are waiting; Unavailable after
  // Close. Otherwise returns OK and later calls `done` exactly once.
  // An empty payload writes nothing: `done` fires once every record appended
  // before it is durable (a barrier), with the LSN of the last such record.
  virtual Status Append(std::string payload, AppendCallback done) = 0;

  // Append and wait. Convenience for importers and tests.
  virtual Result<Lsn> AppendSync(std::string payload) = 0;

  // Calls fn for every durable record with LSN > after, in order. Stops and
  // returns fn's error if it returns one.
  virtual Status Replay(Lsn after, const ReplayFn& fn, ReplayStats* stats = nullptr) = 0;

  // Deletes log files all of whose records have LSN <= upto (they are
  // covered by a store checkpoint). The current file is never deleted.
  virtual Status TruncateUpTo(Lsn upto) = 0;

  // Highest LSN known durable.
  virtual Lsn LastDurableLsn() const = 0;
  // Bytes queued and not yet durable (exported as a gauge for /metrics).
  virtual size_t QueuedBytes() const = 0;

  // Flushes the queue, stops the writer thread. Idempotent.
  virtual void Close() = 0;
};

}  // namespace quanyu::log
