// The catalog file: the EventCatalog of the segments named by the manifest,
// kept as a small JSON document at <dir>/CATALOG (format and ordering in
// docs/segment_format.md, "Catalog"), and its recovery at open.
//
// The manifest is the truth; CATALOG is derived from the segments it names
// and says which ones (by seq). It is written after the manifest, so after a
// crash it may cover fewer segments than the manifest names — never more,
// unless segments were removed from the manifest — and recovery scans the
// missing ones (or all of them) to make it exact again.
//
// Stateless functions; thread-safe.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"
#include "store/catalog.h"
#include "store/internal/segment_format.h"

namespace quanyu::store::internal {

inline constexpr std::string_view kCatalogName = "CATALOG";
inline constexpr int kCatalogFormatVersion = 1;

struct CatalogFile {
  std::vector<uint64_t> segments;  // seqs of the segments it summarizes, ascending
  EventCatalog catalog;
  bool operator==(const CatalogFile&) const = default;
};

std::string EncodeCatalogFile(const CatalogFile& file);
// Corruption if `text` is not a valid catalog file.
Result<CatalogFile> DecodeCatalogFile(std::string_view text);
// nullopt if <dir>/CATALOG does not exist.
Result<std::optional<CatalogFile>> ReadCatalogFile(const std::string& dir);
// Atomic replace (CATALOG.tmp, fsync, rename, fsync dir).
Status WriteCatalogFile(const std::string& dir, const CatalogFile& file);

// A live segment, as the store opened it.
struct CatalogSegment {
  uint64_t seq = 0;
  std::string path;
  const SegmentFooter* footer = nullptr;  // REQUIRES: outlives the call
};

// The catalog of `segments` alone, read from their name, timestamp and
// properties columns on up to `threads` threads. Corruption/IOError from the
// segment reads.
Result<EventCatalog> ScanSegmentCatalog(const std::vector<CatalogSegment>& segments, int threads);

// Recovery at open: the catalog of exactly the live `segments`. Uses
// <dir>/CATALOG when it covers exactly them; scans the segments it does not
// cover when it covers a subset (a crash between a manifest and its catalog
// write); rebuilds from every segment when it is missing (a data directory
// from before the catalog), unreadable, or covers a segment that is not live.
// Deletes a leftover CATALOG.tmp. Whenever it had to scan, writes the new
// CATALOG (a failure to write is logged, not returned: the next flush or
// open tries again). Logs what it scanned and how long it took. Errors:
// those of the scans.
Result<EventCatalog> RecoverCatalog(const std::string& dir,
                                    const std::vector<CatalogSegment>& segments, int threads);

}  // namespace quanyu::store::internal
