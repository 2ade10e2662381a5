// The manifest: the list of live segments and the checkpoint LSN, kept as a
// small JSON document at <dir>/MANIFEST and replaced atomically
// (MANIFEST.tmp, fsync, rename, fsync dir). A segment file exists for the
// store only once the manifest names it. Format in docs/segment_format.md.
//
// Stateless functions; thread-safe.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"

namespace quanyu::store::internal {

inline constexpr std::string_view kManifestName = "MANIFEST";
inline constexpr std::string_view kEventsDir = "events";
inline constexpr std::string_view kSegmentSuffix = ".qys";
inline constexpr int kManifestFormatVersion = 1;

struct SegmentEntry {
  uint64_t seq = 0;  // unique per store, never reused
  std::string day;   // "YYYY-MM-DD", UTC day of every row's timestamp
  uint64_t rows = 0;
  uint64_t bytes = 0;
  int64_t min_timestamp_us = 0;
  int64_t max_timestamp_us = 0;

  // "events/2026-11-22/000000000042.qys", relative to the store directory.
  std::string RelativePath() const;
  bool operator==(const SegmentEntry&) const = default;
};

struct Manifest {
  uint64_t checkpoint_lsn = 0;
  uint64_t next_segment_seq = 1;
  std::vector<SegmentEntry> segments;
  bool operator==(const Manifest&) const = default;
};

// "000000000042.qys".
std::string SegmentFileName(uint64_t seq);

std::string EncodeManifest(const Manifest& manifest);
// Corruption if `text` is not a valid manifest.
Result<Manifest> DecodeManifest(std::string_view text);

// nullopt if <dir>/MANIFEST does not exist.
Result<std::optional<Manifest>> ReadManifest(const std::string& dir);
Status WriteManifest(const std::string& dir, const Manifest& manifest);

// Recovery, step 1 of docs/segment_format.md: reads <dir>/MANIFEST, or for a
// new store writes an empty one. Returns Corruption if the manifest is
// missing while segment files exist (deleting them would lose data) or does
// not parse.
Result<Manifest> OpenManifest(const std::string& dir);
// Recovery, steps 2 and 4: deletes MANIFEST.tmp and every segment file or
// segment temporary under <dir>/events that `manifest` does not list (left
// by a flush interrupted before its manifest was written). Other files are
// left alone.
Status RemoveUnlistedFiles(const std::string& dir, const Manifest& manifest);

}  // namespace quanyu::store::internal
