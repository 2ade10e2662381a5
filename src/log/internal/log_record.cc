#include "log/internal/log_record.h"

#include <algorithm>
#include <cstdio>
#include <cstring>

#include "common/coding.h"
#include "common/hash.h"

namespace quanyu::log {
namespace {

constexpr size_t kLogFileNameDigits = 20;
constexpr std::string_view kLogFileSuffix = ".log";
constexpr size_t kReadChunkBytes = size_t{1} << 20;

// A window over a file for sequential scanning with occasional look-ahead.
class FileWindow {
 public:
  FileWindow(ReadFile* file, uint64_t size) : file_(file), size_(size) {}

  uint64_t size() const { return size_; }

  // Makes [offset, offset + n) available in *out.
  // REQUIRES: offset + n <= size().
  Status Get(uint64_t offset, size_t n, std::string_view* out) {
    if (offset < start_ || offset + n > start_ + buf_.size()) {
      size_t want =
          static_cast<size_t>(std::min<uint64_t>(std::max(n, kReadChunkBytes), size_ - offset));
      buf_.resize(want);
      start_ = offset;
      ASSIGN_OR_RETURN(size_t got, file_->ReadAt(offset, want, buf_.data()));
      if (got < n) {
        buf_.clear();
        return Status::IOError("log file shrank while being read");
      }
      buf_.resize(got);
    }
    *out = std::string_view(buf_.data() + (offset - start_), n);
    return Status::OK();
  }

 private:
  ReadFile* file_;
  uint64_t size_;
  uint64_t start_ = 0;
  std::string buf_;
};

struct ParsedRecord {
  Lsn lsn = 0;
  std::string_view payload;  // valid until the window moves
  uint64_t end = 0;          // offset just past the record
};

// Returns true and fills *rec if a valid record starts at `offset`.
Result<bool> TryParse(FileWindow* w, uint64_t offset, Lsn min_lsn, ParsedRecord* rec) {
  if (w->size() - offset < kRecordHeaderBytes) return false;
  std::string_view h;
  RETURN_IF_ERROR(w->Get(offset, kRecordHeaderBytes, &h));
  if (DecodeFixed32(h.data()) != kRecordMagic) return false;
  const uint32_t checksum = DecodeFixed32(h.data() + 4);
  const uint64_t length = DecodeFixed32(h.data() + 8);
  const uint8_t type = static_cast<uint8_t>(h[12]);
  const Lsn lsn = DecodeFixed64(h.data() + 13);
  if (type != kRecordTypeFull || lsn < min_lsn || length > kMaxPayloadBytes ||
      length > w->size() - offset - kRecordHeaderBytes) {
    return false;
  }
  std::string_view whole;
  RETURN_IF_ERROR(w->Get(offset, kRecordHeaderBytes + length, &whole));
  if (Checksum32(whole.substr(kChecksummedHeaderOffset)) != checksum) return false;
  rec->lsn = lsn;
  rec->payload = whole.substr(kRecordHeaderBytes);
  rec->end = offset + kRecordHeaderBytes + length;
  return true;
}

// Finds the first valid record starting after `from`; nullopt if none.
Result<std::optional<uint64_t>> Resync(FileWindow* w, uint64_t from, Lsn min_lsn,
                                       ParsedRecord* rec) {
  char magic[4];
  std::memcpy(magic, &kRecordMagic, 4);
  uint64_t p = from;
  while (p + kRecordHeaderBytes <= w->size()) {
    const size_t n = static_cast<size_t>(std::min<uint64_t>(kReadChunkBytes, w->size() - p));
    std::string_view view;
    RETURN_IF_ERROR(w->Get(p, n, &view));
    const void* hit = ::memmem(view.data(), view.size(), magic, sizeof(magic));
    if (hit == nullptr) {
      if (p + n >= w->size()) break;
      p += n - (sizeof(magic) - 1);  // the magic may straddle the boundary
      continue;
    }
    const uint64_t candidate = p + (static_cast<const char*>(hit) - view.data());
    ASSIGN_OR_RETURN(bool ok, TryParse(w, candidate, min_lsn, rec));
    if (ok) return std::optional<uint64_t>(candidate);
    p = candidate + 1;
  }
  return std::optional<uint64_t>();
}

}  // namespace

std::string LogFileName(Lsn base_lsn) {
  char name[32];
  std::snprintf(name, sizeof(name), "%020llu.log", static_cast<unsigned long long>(base_lsn));
  return name;
}

std::optional<Lsn> ParseLogFileName(std::string_view name) {
  if (name.size() != kLogFileNameDigits + kLogFileSuffix.size() ||
      name.substr(kLogFileNameDigits) != kLogFileSuffix) {
    return std::nullopt;
  }
  Lsn v = 0;
  for (size_t i = 0; i < kLogFileNameDigits; ++i) {
    const char c = name[i];
    if (c < '0' || c > '9') return std::nullopt;
    const Lsn digit = static_cast<Lsn>(c - '0');
    if (v > (UINT64_MAX - digit) / 10) return std::nullopt;
    v = v * 10 + digit;
  }
  if (v == 0) return std::nullopt;  // LSNs start at 1
  return v;
}

RecordHeaderWriter::RecordHeaderWriter() : state_(XXH3_createState()) {}
RecordHeaderWriter::~RecordHeaderWriter() { XXH3_freeState(state_); }

void RecordHeaderWriter::Encode(Lsn lsn, std::string_view payload,
                                char header[kRecordHeaderBytes]) {
  const uint32_t magic = kRecordMagic;
  const uint32_t length = static_cast<uint32_t>(payload.size());
  std::memcpy(header, &magic, 4);
  std::memcpy(header + 8, &length, 4);
  header[12] = static_cast<char>(kRecordTypeFull);
  std::memcpy(header + 13, &lsn, 8);
  // Same value as Checksum32 over the contiguous bytes [8, end) of the record.
  XXH3_64bits_reset(state_);
  XXH3_64bits_update(state_, header + kChecksummedHeaderOffset,
                     kRecordHeaderBytes - kChecksummedHeaderOffset);
  XXH3_64bits_update(state_, payload.data(), payload.size());
  const uint32_t checksum = static_cast<uint32_t>(XXH3_64bits_digest(state_));
  std::memcpy(header + 4, &checksum, 4);
}

Status ScanLogFile(LogFs* fs, const std::string& path, Lsn min_lsn, Lsn limit,
                   const RecordVisitor& visit, FileScan* out) {
  *out = FileScan();
  ASSIGN_OR_RETURN(std::unique_ptr<ReadFile> file, fs->OpenRead(path));
  ASSIGN_OR_RETURN(out->size, file->Size());
  FileWindow window(file.get(), out->size);
  uint64_t offset = 0;
  ParsedRecord rec;
  while (offset < out->size) {
    ASSIGN_OR_RETURN(bool ok, TryParse(&window, offset, min_lsn, &rec));
    bool skipped = false;
    if (!ok) {
      ASSIGN_OR_RETURN(std::optional<uint64_t> next, Resync(&window, offset + 1, min_lsn, &rec));
      if (!next) break;  // nothing valid follows: [valid_end, size) is the tail
      skipped = true;
    }
    if (rec.lsn > limit) {
      out->stopped_at_limit = true;
      break;
    }
    if (skipped) ++out->corrupt_regions;
    if (visit) RETURN_IF_ERROR(visit(rec.lsn, rec.payload));
    ++out->records;
    out->last_lsn = rec.lsn;
    out->valid_end = rec.end;
    offset = rec.end;
    min_lsn = rec.lsn + 1;
  }
  return Status::OK();
}

}  // namespace quanyu::log
