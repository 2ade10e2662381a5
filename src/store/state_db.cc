#include "store/state_db.h"

#include <rocksdb/convenience.h>
#include <rocksdb/db.h>
#include <rocksdb/options.h>
#include <rocksdb/write_batch.h>

#include <algorithm>
#include <exception>

namespace quanyu::store {
namespace {

Status FromRocks(const rocksdb::Status& s, std::string_view op) {
  if (s.ok()) return Status::OK();
  std::string msg = "rocksdb " + std::string(op) + ": " + s.ToString();
  if (s.IsNotFound()) return Status::NotFound(std::move(msg));
  if (s.IsCorruption()) return Status::Corruption(std::move(msg));
  if (s.IsInvalidArgument()) return Status::InvalidArgument(std::move(msg));
  if (s.IsBusy() || s.IsTryAgain() || s.IsIncomplete()) return Status::Unavailable(std::move(msg));
  return Status::IOError(std::move(msg));
}

// Runs `body` (returning Status), turning anything RocksDB throws into Internal.
template <typename F>
Status Guard(std::string_view op, F&& body) {
  try {
    return body();
  } catch (const std::exception& e) {
    return Status::Internal("rocksdb " + std::string(op) + " threw: " + e.what());
  }
}

rocksdb::Slice ToSlice(std::string_view s) { return rocksdb::Slice(s.data(), s.size()); }

// The smallest key greater than every key with this prefix; empty if none.
std::string PrefixEnd(std::string_view prefix) {
  std::string end(prefix);
  while (!end.empty()) {
    auto& last = reinterpret_cast<unsigned char&>(end.back());
    if (last != 0xff) {
      ++last;
      return end;
    }
    end.pop_back();
  }
  return end;
}

}  // namespace

StateDb::StateDb(std::unique_ptr<rocksdb::DB> db, StateDbOptions options)
    : db_(std::move(db)), options_(options) {}

StateDb::~StateDb() {
  if (db_) (void)db_->Close();
}

Result<std::unique_ptr<StateDb>> StateDb::Open(const std::string& path,
                                               const StateDbOptions& options) {
  if (path.empty()) return Status::InvalidArgument("state db path is empty");
  std::unique_ptr<rocksdb::DB> db;
  Status s = Guard("open", [&] {
    rocksdb::Options o;
    o.create_if_missing = options.create_if_missing;
    o.IncreaseParallelism(2);
    // zstd where the library has it (Debian's does): smaller files, and a
    // deletion test can decode every block to prove a value is gone.
    const auto supported = rocksdb::GetSupportedCompressions();
    o.compression = std::find(supported.begin(), supported.end(), rocksdb::kZSTD) != supported.end()
                        ? rocksdb::kZSTD
                        : rocksdb::kNoCompression;
    rocksdb::DB* raw = nullptr;
    Status st = FromRocks(rocksdb::DB::Open(o, path, &raw), "open " + path);
    db.reset(raw);
    return st;
  });
  RETURN_IF_ERROR(s);
  return std::unique_ptr<StateDb>(new StateDb(std::move(db), options));
}

Status StateDb::Put(std::string_view key, std::string_view value) {
  return Guard("put", [&] {
    rocksdb::WriteOptions wo;
    wo.sync = options_.sync;
    return FromRocks(db_->Put(wo, ToSlice(key), ToSlice(value)), "put");
  });
}

Result<std::string> StateDb::Get(std::string_view key) const {
  std::string value;
  RETURN_IF_ERROR(Guard("get", [&] {
    return FromRocks(db_->Get(rocksdb::ReadOptions(), ToSlice(key), &value), "get");
  }));
  return value;
}

Status StateDb::CompactAll() {
  return Guard("compact", [&] {
    rocksdb::FlushOptions fo;
    fo.wait = true;
    RETURN_IF_ERROR(FromRocks(db_->Flush(fo), "flush"));
    rocksdb::CompactRangeOptions co;
    co.bottommost_level_compaction = rocksdb::BottommostLevelCompaction::kForce;
    co.exclusive_manual_compaction = true;
    RETURN_IF_ERROR(FromRocks(db_->CompactRange(co, nullptr, nullptr), "compact range"));
    return FromRocks(db_->FlushWAL(true), "flush wal");
  });
}

Status StateDb::Delete(std::string_view key) {
  return Guard("delete", [&] {
    rocksdb::WriteOptions wo;
    wo.sync = options_.sync;
    return FromRocks(db_->Delete(wo, ToSlice(key)), "delete");
  });
}

Status StateDb::Write(const StateWriteBatch& batch) {
  if (batch.empty()) return Status::OK();
  return Guard("write", [&] {
    rocksdb::WriteBatch wb;
    for (const auto& op : batch.ops()) {
      rocksdb::Status s = op.is_delete ? wb.Delete(op.key) : wb.Put(op.key, op.value);
      if (!s.ok()) return FromRocks(s, "batch");
    }
    rocksdb::WriteOptions wo;
    wo.sync = options_.sync;
    return FromRocks(db_->Write(wo, &wb), "write");
  });
}

Status StateDb::PutMany(const std::vector<std::pair<std::string, std::string>>& kvs) {
  StateWriteBatch batch;
  for (const auto& [k, v] : kvs) batch.Put(k, v);
  return Write(batch);
}

Status StateDb::Scan(std::string_view start, std::string_view end, const StateScanFn& fn) const {
  return Guard("scan", [&]() -> Status {
    rocksdb::ReadOptions ro;
    rocksdb::Slice upper = ToSlice(end);
    if (!end.empty()) ro.iterate_upper_bound = &upper;
    std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(ro));
    for (it->Seek(ToSlice(start)); it->Valid(); it->Next()) {
      rocksdb::Slice k = it->key(), v = it->value();
      RETURN_IF_ERROR(
          fn(std::string_view(k.data(), k.size()), std::string_view(v.data(), v.size())));
    }
    return FromRocks(it->status(), "scan");
  });
}

Status StateDb::ScanPrefix(std::string_view prefix, const StateScanFn& fn) const {
  return Scan(prefix, PrefixEnd(prefix), fn);
}

Result<std::string> StateDb::LastKeyWithPrefix(std::string_view prefix) const {
  std::string last;
  Status st = Guard("seek", [&]() -> Status {
    rocksdb::ReadOptions ro;
    rocksdb::Slice lower = ToSlice(prefix);
    ro.iterate_lower_bound = &lower;
    const std::string end = PrefixEnd(prefix);
    std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(ro));
    if (end.empty()) {
      it->SeekToLast();
    } else {
      it->SeekForPrev(ToSlice(end));
      // SeekForPrev lands on `end` itself if that key exists.
      if (it->Valid() && it->key() == ToSlice(end)) it->Prev();
    }
    if (it->Valid() && it->key().starts_with(ToSlice(prefix))) last = it->key().ToString();
    return FromRocks(it->status(), "seek");
  });
  if (!st.ok()) return st;
  return last;
}

}  // namespace quanyu::store
