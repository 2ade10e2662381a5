// LogFs: the few file-system operations the event log performs, behind an
// interface so tests can inject faults (a full disk, a stalled fsync, a
// failing rename) the way leveldb's Env and rocksdb's FaultInjectionFs do.
// PosixLogFs() is the real implementation; tests wrap it.
//
// Thread-safety: a LogFs may be used from several threads at once. A single
// AppendFile or ReadFile is used by one thread at a time.
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"

namespace quanyu::log {

// A file opened for appending. Writes go to the end of the file.
class AppendFile {
 public:
  virtual ~AppendFile() = default;
  // Writes the pieces back to back at the end of the file (writev). On error
  // some prefix of the bytes may have reached the file; the caller truncates.
  virtual Status Append(std::span<const std::string_view> pieces) = 0;
  // fdatasync: returns once every appended byte is durable.
  virtual Status Sync() = 0;
  // Cuts the file to `size` bytes; later appends continue from there.
  virtual Status Truncate(uint64_t size) = 0;
  // Current size in bytes, as seen by this handle's appends and truncates.
  virtual uint64_t Size() const = 0;
  // Idempotent; the destructor closes too but drops the error.
  virtual Status Close() = 0;
};

// A file opened for positional reads.
class ReadFile {
 public:
  virtual ~ReadFile() = default;
  // Reads up to n bytes at `offset` into `buf`; returns the count read, which
  // is less than n only at end of file.
  virtual Result<size_t> ReadAt(uint64_t offset, size_t n, char* buf) = 0;
  virtual Result<uint64_t> Size() = 0;
};

class LogFs {
 public:
  virtual ~LogFs() = default;
  // Creates `dir` and any missing parents; OK if it exists.
  virtual Status CreateDir(const std::string& dir) = 0;
  // Names (not paths) of the entries in `dir`, unordered.
  virtual Result<std::vector<std::string>> ListDir(const std::string& dir) = 0;
  // Opens `path` for appending, creating it if missing.
  virtual Result<std::unique_ptr<AppendFile>> OpenAppend(const std::string& path) = 0;
  virtual Result<std::unique_ptr<ReadFile>> OpenRead(const std::string& path) = 0;
  virtual Status Remove(const std::string& path) = 0;
  virtual Status Rename(const std::string& from, const std::string& to) = 0;
  // fsync on the directory, so created, renamed and removed names persist.
  virtual Status SyncDir(const std::string& dir) = 0;
};

// The process-wide POSIX implementation. Never destroyed.
std::shared_ptr<LogFs> PosixLogFs();

// Reads all of `path`. NotFound if it does not exist.
Result<std::string> ReadWholeFile(LogFs* fs, const std::string& path);

// Replaces `path` with `data` atomically: writes `path`.tmp, syncs it,
// renames it over `path` and syncs the directory. After a crash `path` holds
// either the old or the new contents, never a mix.
Status WriteFileAtomically(LogFs* fs, const std::string& path, std::string_view data);

}  // namespace quanyu::log
