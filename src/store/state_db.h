// StateDb: a small key-value adapter over RocksDB for Quanyu's mutable state
// (ARCHITECTURE.md §5): sources (keys "source/..."), ad spend ("spend/..."),
// and whatever else the engine keeps by key prefix. Keys are ordered
// bytewise. RocksDB's statuses and any exception it raises are converted to
// quanyu::Status here and never escape.
//
// Thread-safety: all methods are safe to call concurrently (RocksDB is).
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/kv.h"
#include "common/result.h"

namespace rocksdb {
class DB;
}  // namespace rocksdb

namespace quanyu::store {

struct StateDbOptions {
  bool create_if_missing = true;
  // fsync the RocksDB WAL on every write. Off only where the state can be
  // rebuilt (e.g. by replaying the event log).
  bool sync = true;
};

// A group of writes applied atomically by StateDb::Write.
using StateWriteBatch = KvWriteBatch;
using StateScanFn = KvScanFn;

class StateDb final : public KvStore {
 public:
  // Opens (creating if allowed) the database directory at `path`. Returns
  // IOError (or InvalidArgument for a bad path) naming RocksDB's reason,
  // e.g. when another process holds the lock.
  static Result<std::unique_ptr<StateDb>> Open(const std::string& path,
                                               const StateDbOptions& options = {});
  ~StateDb() override;
  StateDb(const StateDb&) = delete;
  StateDb& operator=(const StateDb&) = delete;

  Status Put(std::string_view key, std::string_view value);
  // NotFound if the key is absent.
  Result<std::string> Get(std::string_view key) const override;
  // OK whether or not the key existed.
  Status Delete(std::string_view key);
  // All of the batch or none of it.
  Status Write(const StateWriteBatch& batch) override;
  Status PutMany(const std::vector<std::pair<std::string, std::string>>& kvs);

  // Keys in [start, end) in order; an empty `end` means no upper bound.
  Status Scan(std::string_view start, std::string_view end, const StateScanFn& fn) const;
  // Keys that begin with `prefix`, in order.
  Status ScanPrefix(std::string_view prefix, const StateScanFn& fn) const override;
  // Flushes the memtable and rewrites every table file, so values deleted
  // or overwritten before the call leave the files on disk (a data-subject
  // deletion); the write-ahead log files that held them are deleted with
  // the flush. Slow on a large database: seconds per GiB.
  Status CompactAll();
  // The largest key that begins with `prefix` ("" if none): one seek.
  Result<std::string> LastKeyWithPrefix(std::string_view prefix) const;

 private:
  StateDb(std::unique_ptr<rocksdb::DB> db, StateDbOptions options);

  std::unique_ptr<rocksdb::DB> db_;
  StateDbOptions options_;
};

}  // namespace quanyu::store
