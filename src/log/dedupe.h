// MessageDedupe: remembers (source, messageId) pairs seen within a window so
// an event re-sent by a retrying client or a re-run import is stored once
// (ARCHITECTURE.md §5). Keys are 128-bit XXH3 hashes; memory is ~32 bytes per
// remembered id. Survives restarts through a snapshot file written at store
// checkpoints plus replay of the log after the checkpoint.
//
// Thread-safety: all methods are safe to call concurrently.
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

  // Returns true and remembers the id if it was not seen within the window;
  // false if it is a duplicate.
  bool Insert(std::string_view source, std::string_view message_id, int64_t now_us);
  // Forgets an id (used when the append that inserted it failed).
  void Erase(std::string_view source, std::string_view message_id);
  bool Contains(std::string_view source, std::string_view message_id) const;
  // Drops ids first seen before now_us - window.
  void Expire(int64_t now_us);
  size_t size() const;

  // Atomic write (temp file + rename + fsync) / read of the remembered ids.
  // Load of a missing file is OK (empty); a corrupt file is Corruption.
  Status SaveSnapshot(const std::string& path) const;
  Status LoadSnapshot(const std::string& path);

 private:
  struct Impl;
  Impl* impl_;
};

}  // namespace quanyu::log
