// MessageDedupe: remembers (source, messageId) pairs seen within a window so
// an event re-sent by a retrying client or a re-run import is stored once
// (ARCHITECTURE.md §5). Keys are 128-bit XXH3 hashes of source + '\0' +
// message_id (a false duplicate needs a 2^-128 collision); memory is ~64 bytes
// per remembered id (hash-map node and bucket). Survives restarts through a
// snapshot file written at store checkpoints plus replay of the log after the
// checkpoint. Snapshot format: docs/log_format.md.
//
// Thread-safety: all methods are safe to call concurrently; ids live in 16
// independently locked shards so concurrent ingest threads rarely contend.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "common/result.h"

namespace quanyu::log {

class MessageDedupe {
 public:
  explicit MessageDedupe(int64_t window_us);
  ~MessageDedupe();
  MessageDedupe(const MessageDedupe&) = delete;
  MessageDedupe& operator=(const MessageDedupe&) = delete;

  // Returns true and remembers the id (first seen = now_us) if it was not
  // seen within the window, i.e. not remembered or first seen before
  // now_us - window; false if it is a duplicate. A duplicate does not extend
  // the window: it is measured from the first sighting.
  // A new id is *pending* until Commit() records the log LSN that made its
  // event durable; snapshots only hold committed ids (see SaveSnapshot).
  bool Insert(std::string_view source, std::string_view message_id, int64_t now_us);
  // Records that the event with this id is durable at `lsn`. No-op for an id
  // not remembered.
  void Commit(std::string_view source, std::string_view message_id, uint64_t lsn);
  // Commits every pending id at `lsn` (the end of a bulk load that bypassed
  // the log; REQUIRES: no other appends in flight).
  void CommitAllPending(uint64_t lsn);
  // Forgets an id (used when the append that inserted it failed).
  void Erase(std::string_view source, std::string_view message_id);
  // True if the id is remembered (inserted and not yet erased or expired),
  // whatever its age.
  bool Contains(std::string_view source, std::string_view message_id) const;
  // Drops ids first seen before now_us - window.
  void Expire(int64_t now_us);
  size_t size() const;

  // Atomic write (temp file `path`.tmp + fsync + rename + directory fsync) of
  // the ids committed at an LSN <= upto_lsn, with upto_lsn recorded as the
  // snapshot's covered LSN. Pending ids and ids committed later are left out:
  // after a crash they are rebuilt by replaying the log from the covered LSN,
  // so an id whose event never became durable can never block its re-send.
  // The default includes every id, pending or not (for tests and tools).
  // IOError on failure; the previous snapshot, if any, is then left intact.
  // LoadSnapshot replaces the remembered ids with the file's and reports its
  // covered LSN. A missing file is OK (empty set, covered LSN 0); a
  // truncated, altered or unknown-version file is Corruption and leaves the
  // set unchanged.
  Status SaveSnapshot(const std::string& path, uint64_t upto_lsn = kPending) const;
  Status LoadSnapshot(const std::string& path, uint64_t* covered_lsn = nullptr);

  static constexpr uint64_t kPending = UINT64_MAX;

 private:
  struct Impl;
  Impl* impl_;
};

}  // namespace quanyu::log
