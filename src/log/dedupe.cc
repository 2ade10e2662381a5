#include "log/dedupe.h"

#include <array>
#include <cstring>
#include <mutex>
#include <unordered_map>

#include "common/coding.h"
#include "common/hash.h"
#include "log/internal/log_file.h"
#include "log/internal/seen_table.h"

namespace quanyu::log {
namespace {

constexpr size_t kShards = 16;                    // a power of two
constexpr uint32_t kSnapshotMagic = 0x44445951u;  // bytes 51 59 44 44, "QYDD"
constexpr uint32_t kSnapshotVersion = 2;
constexpr size_t kSnapshotHeaderBytes = 32;  // magic, version, window_us, covered_lsn, count
constexpr size_t kSnapshotEntryBytes = 32;   // hash lo, hash hi, first_seen_us, lsn
constexpr size_t kSnapshotTrailerBytes = 4;  // checksum

// lsn is MessageDedupe::kPending until Commit().
using Seen = internal::SeenValue;
using SeenMap = internal::SeenTable;

size_t ShardIndex(const Hash128& key) { return key.hi >> 60 & (kShards - 1); }

Hash128 KeyOf(std::string_view source, std::string_view message_id) {
  thread_local std::string buf;
  buf.assign(source);
  buf.push_back('\0');
  buf.append(message_id);
  return Hash128Of(buf);
}

}  // namespace

struct MessageDedupe::Impl {
  struct alignas(64) Shard {
    mutable std::mutex mu;
    SeenMap seen;
  };

  explicit Impl(int64_t window) : window_us(window) {}

  Shard& ShardOf(const Hash128& key) { return shards[ShardIndex(key)]; }
  const Shard& ShardOf(const Hash128& key) const { return shards[ShardIndex(key)]; }

  const int64_t window_us;
  std::array<Shard, kShards> shards;
};

MessageDedupe::MessageDedupe(int64_t window_us) : impl_(new Impl(window_us)) {}
MessageDedupe::~MessageDedupe() { delete impl_; }

bool MessageDedupe::Insert(std::string_view source, std::string_view message_id, int64_t now_us) {
  const Hash128 key = KeyOf(source, message_id);
  Impl::Shard& shard = impl_->ShardOf(key);
  std::lock_guard<std::mutex> l(shard.mu);
  bool inserted;
  Seen* seen = shard.seen.TryEmplace(key, Seen{now_us, kPending}, &inserted);
  if (inserted) return true;
  if (seen->first_seen_us < now_us - impl_->window_us) {
    *seen = Seen{now_us, kPending};  // remembered, but from before the window: not a duplicate
    return true;
  }
  return false;
}

void MessageDedupe::Commit(std::string_view source, std::string_view message_id, uint64_t lsn) {
  const Hash128 key = KeyOf(source, message_id);
  Impl::Shard& shard = impl_->ShardOf(key);
  std::lock_guard<std::mutex> l(shard.mu);
  if (Seen* seen = shard.seen.Find(key)) seen->lsn = lsn;
}

void MessageDedupe::CommitAllPending(uint64_t lsn) {
  for (Impl::Shard& shard : impl_->shards) {
    std::lock_guard<std::mutex> l(shard.mu);
    shard.seen.ForEachMutable([lsn](const Hash128&, Seen& seen) {
      if (seen.lsn == kPending) seen.lsn = lsn;
    });
  }
}

void MessageDedupe::Erase(std::string_view source, std::string_view message_id) {
  const Hash128 key = KeyOf(source, message_id);
  Impl::Shard& shard = impl_->ShardOf(key);
  std::lock_guard<std::mutex> l(shard.mu);
  shard.seen.Erase(key);
}

bool MessageDedupe::Contains(std::string_view source, std::string_view message_id) const {
  const Hash128 key = KeyOf(source, message_id);
  const Impl::Shard& shard = impl_->ShardOf(key);
  std::lock_guard<std::mutex> l(shard.mu);
  return shard.seen.Find(key) != nullptr;
}

void MessageDedupe::Expire(int64_t now_us) {
  const int64_t cutoff = now_us - impl_->window_us;
  for (Impl::Shard& shard : impl_->shards) {
    std::lock_guard<std::mutex> l(shard.mu);
    shard.seen.EraseIf(
        [cutoff](const Hash128&, const Seen& v) { return v.first_seen_us < cutoff; });
  }
}

size_t MessageDedupe::size() const {
  size_t n = 0;
  for (const Impl::Shard& shard : impl_->shards) {
    std::lock_guard<std::mutex> l(shard.mu);
    n += shard.seen.size();
  }
  return n;
}

Status MessageDedupe::SaveSnapshot(const std::string& path, uint64_t upto_lsn) const {
  std::string buf;
  PutFixed32(&buf, kSnapshotMagic);
  PutFixed32(&buf, kSnapshotVersion);
  PutFixed64(&buf, static_cast<uint64_t>(impl_->window_us));
  PutFixed64(&buf, upto_lsn);
  PutFixed64(&buf, 0);  // count, patched below
  uint64_t count = 0;
  for (const Impl::Shard& shard : impl_->shards) {
    std::lock_guard<std::mutex> l(shard.mu);
    buf.reserve(buf.size() + shard.seen.size() * kSnapshotEntryBytes + kSnapshotTrailerBytes);
    shard.seen.ForEach([&](const Hash128& key, const Seen& seen) {
      if (seen.lsn > upto_lsn) return;  // not yet covered by the checkpoint
      PutFixed64(&buf, key.lo);
      PutFixed64(&buf, key.hi);
      PutFixed64(&buf, static_cast<uint64_t>(seen.first_seen_us));
      PutFixed64(&buf, seen.lsn);
      ++count;
    });
  }
  std::memcpy(buf.data() + 24, &count, 8);
  PutFixed32(&buf, Checksum32(buf));
  return WriteFileAtomically(PosixLogFs().get(), path, buf).WithContext("saving dedupe snapshot");
}

Status MessageDedupe::LoadSnapshot(const std::string& path, uint64_t* covered_lsn) {
  uint64_t covered = 0;
  Result<std::string> read = ReadWholeFile(PosixLogFs().get(), path);
  std::array<SeenMap, kShards> loaded;
  if (!read.ok() && read.status().code() != StatusCode::kNotFound) {
    return read.status().WithContext("loading dedupe snapshot");
  }
  if (read.ok()) {
    const std::string& data = *read;
    auto corrupt = [&path](std::string_view why) {
      return Status::Corruption("dedupe snapshot " + path + ": " + std::string(why));
    };
    if (data.size() < kSnapshotHeaderBytes + kSnapshotTrailerBytes) return corrupt("truncated");
    const size_t body = data.size() - kSnapshotTrailerBytes;
    if (Checksum32(std::string_view(data.data(), body)) != DecodeFixed32(data.data() + body)) {
      return corrupt("checksum mismatch");
    }
    if (DecodeFixed32(data.data()) != kSnapshotMagic) return corrupt("bad magic");
    if (DecodeFixed32(data.data() + 4) != kSnapshotVersion) return corrupt("unknown version");
    covered = DecodeFixed64(data.data() + 16);
    const uint64_t count = DecodeFixed64(data.data() + 24);
    if (count != (body - kSnapshotHeaderBytes) / kSnapshotEntryBytes ||
        (body - kSnapshotHeaderBytes) % kSnapshotEntryBytes != 0) {
      return corrupt("entry count does not match size");
    }
    // Entries per shard, to size each table before inserting (see Reserve).
    std::array<size_t, kShards> per_shard{};
    for (uint64_t i = 0; i < count; ++i) {
      const char* p = data.data() + kSnapshotHeaderBytes + i * kSnapshotEntryBytes;
      ++per_shard[ShardIndex(Hash128{DecodeFixed64(p), DecodeFixed64(p + 8)})];
    }
    for (size_t s = 0; s < kShards; ++s) loaded[s].Reserve(per_shard[s]);
    for (uint64_t i = 0; i < count; ++i) {
      const char* p = data.data() + kSnapshotHeaderBytes + i * kSnapshotEntryBytes;
      const Hash128 key{DecodeFixed64(p), DecodeFixed64(p + 8)};
      bool inserted;
      *loaded[ShardIndex(key)].TryEmplace(key, Seen{}, &inserted) =
          Seen{static_cast<int64_t>(DecodeFixed64(p + 16)), DecodeFixed64(p + 24)};
    }
  }
  for (size_t i = 0; i < kShards; ++i) {
    std::lock_guard<std::mutex> l(impl_->shards[i].mu);
    impl_->shards[i].seen.Swap(loaded[i]);
  }
  if (covered_lsn) *covered_lsn = covered;
  return Status::OK();
}

}  // namespace quanyu::log
