// The on-disk record and file layout of the event log (docs/log_format.md),
// and the scanner that reads it back, skipping damaged regions.
//
// Record: magic u32 | checksum u32 | length u32 | type u8 | lsn u64 | payload.
// The checksum is Checksum32 over bytes [8, 21 + length): length, type, lsn
// and payload.
//
// Thread-safety: RecordHeaderWriter and ScanLogFile keep no shared state; a
// RecordHeaderWriter is used by one thread at a time.
#pragma once

#include <xxhash.h>

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>

#include "common/result.h"
#include "log/event_log.h"
#include "log/internal/log_file.h"

namespace quanyu::log {

inline constexpr uint32_t kRecordMagic = 0x4C59518Au;  // bytes 8A 51 59 4C
inline constexpr size_t kRecordHeaderBytes = 21;
inline constexpr size_t kChecksummedHeaderOffset = 8;  // length, type, lsn
inline constexpr uint8_t kRecordTypeFull = 1;
inline constexpr size_t kMaxPayloadBytes = size_t{1} << 30;

// "00000000000000000042.log" for the file whose first record is LSN 42.
std::string LogFileName(Lsn base_lsn);
// Inverse of LogFileName; nullopt for any other name.
std::optional<Lsn> ParseLogFileName(std::string_view name);

// Fills record headers. Holds an XXH3 streaming state so the checksum covers
// header and payload without copying the payload next to its header.
class RecordHeaderWriter {
 public:
  RecordHeaderWriter();
  ~RecordHeaderWriter();
  RecordHeaderWriter(const RecordHeaderWriter&) = delete;
  RecordHeaderWriter& operator=(const RecordHeaderWriter&) = delete;

  // REQUIRES: payload.size() <= kMaxPayloadBytes.
  void Encode(Lsn lsn, std::string_view payload, char header[kRecordHeaderBytes]);

 private:
  XXH3_state_t* state_;
};

// What ScanLogFile found in one file.
struct FileScan {
  uint64_t size = 0;              // bytes scanned (the file's size when opened)
  uint64_t valid_end = 0;         // offset just past the last valid record
  Lsn last_lsn = 0;               // LSN of the last valid record; 0 if none
  uint64_t records = 0;           // valid records passed to the visitor
  uint64_t corrupt_regions = 0;   // damaged regions followed by a valid record
  bool stopped_at_limit = false;  // a record with LSN > limit ended the scan
};

// Called for each valid record; a non-OK status stops the scan and is returned.
using RecordVisitor = std::function<Status(Lsn lsn, std::string_view payload)>;

// Reads the records of `path` in order. A record is valid when its magic,
// type and checksum match, it lies wholly inside the file and its LSN is at
// least `min_lsn` and greater than the previous valid record's. An invalid
// region is skipped by searching for the next valid record (resync); if none
// follows, the region is the file's tail: [valid_end, size). The scan stops
// before the first record whose LSN exceeds `limit`, without counting a
// damaged region just before it (it may be a write still in progress).
// Returns IOError if the file cannot be read.
Status ScanLogFile(LogFs* fs, const std::string& path, Lsn min_lsn, Lsn limit,
                   const RecordVisitor& visit, FileScan* out);

}  // namespace quanyu::log
