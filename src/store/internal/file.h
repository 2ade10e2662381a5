// POSIX file access for the store: the one place that calls open/pread/
// fsync/rename, returning Status instead of errno. Durability helpers follow
// the usual recipe for atomic replacement: write a temporary, fsync it,
// rename it over the target, fsync the directory.
//
// Thread-safety: free functions are thread-safe; a WritableFile is used by
// one thread; a RandomAccessFile may be read from several threads.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"

namespace quanyu::store::internal {

// A file being written from the start; Close() happens in the destructor if
// the caller did not call it (errors then are ignored).
class WritableFile {
 public:
  // Creates or truncates `path`.
  static Result<std::unique_ptr<WritableFile>> Create(const std::string& path);
  ~WritableFile();
  Status Append(std::string_view data);
  Status Sync();  // fdatasync
  Status Close();
  uint64_t size() const { return size_; }

 private:
  WritableFile(std::string path, int fd) : path_(std::move(path)), fd_(fd) {}
  std::string path_;
  int fd_;
  uint64_t size_ = 0;
};

// A file read by offset. Every byte read is added to `*bytes_read` if given,
// so callers can prove which parts of a file a query touched.
class RandomAccessFile {
 public:
  static Result<std::unique_ptr<RandomAccessFile>> Open(const std::string& path,
                                                        std::atomic<uint64_t>* bytes_read);
  ~RandomAccessFile();
  // Reads exactly n bytes at offset; IOError if the file is shorter.
  Result<std::string> Read(uint64_t offset, size_t n) const;
  uint64_t size() const { return size_; }

 private:
  RandomAccessFile(std::string path, int fd, uint64_t size, std::atomic<uint64_t>* bytes_read)
      : path_(std::move(path)), fd_(fd), size_(size), bytes_read_(bytes_read) {}
  std::string path_;
  int fd_;
  uint64_t size_;
  std::atomic<uint64_t>* bytes_read_;
};

// mkdir -p; fsyncs each parent whose entry it creates.
Status CreateDirs(const std::string& path);
Status SyncDir(const std::string& path);
// rename(2); the caller syncs the directory.
Status RenameFile(const std::string& from, const std::string& to);
Status RemoveFile(const std::string& path);
bool FileExists(const std::string& path);
Result<std::string> ReadWholeFile(const std::string& path);
// Writes `contents` to path + ".tmp", fsyncs, renames over `path`, fsyncs the
// directory. After a crash `path` holds either the old or the new contents.
Status WriteFileAtomically(const std::string& path, std::string_view contents);

struct DirEntry {
  std::string name;
  bool is_dir = false;
};
// Entries other than "." and ".."; NotFound if the directory does not exist.
Result<std::vector<DirEntry>> ListDir(const std::string& path);

}  // namespace quanyu::store::internal
