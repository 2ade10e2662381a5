// RowChunk: events waiting for a flush, kept in the log's row encoding
// (common/event_codec.h) with their timestamps and identity keys alongside
// (the row encoding has no identity key: see Event::identity_key). About a
// third of the memory of Event structs; a scan filters on the timestamps
// without decoding, and a flush sorts (chunk, row) references by them.
//
// Immutable once built; shared between the buffer, a flush in progress and
// scans through shared_ptr<const RowChunk>. Thread-safe to read.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "common/event.h"
#include "common/result.h"

namespace quanyu::store::internal {

struct RowChunk {
  std::string rows;               // EncodeEvent output, back to back
  std::vector<uint32_t> offsets;  // start of each row in `rows`, plus the end
  std::vector<int64_t> timestamps;
  std::vector<uint32_t> identity_keys;  // Event::identity_key of each row
  int64_t min_timestamp_us = 0;
  int64_t max_timestamp_us = 0;

  size_t size() const { return timestamps.size(); }
  std::string_view Row(size_t i) const {
    return std::string_view(rows).substr(offsets[i], offsets[i + 1] - offsets[i]);
  }
  // Decodes row i into *e, identity_key included (one_id is left alone).
  // Corruption if the row does not decode.
  Status DecodeRow(size_t i, Event* e) const;
  // Approximate resident bytes.
  size_t MemoryUsage() const {
    return sizeof(RowChunk) + rows.capacity() + offsets.capacity() * sizeof(uint32_t) +
           timestamps.capacity() * sizeof(int64_t) + identity_keys.capacity() * sizeof(uint32_t);
  }
};

using RowChunks = std::vector<std::shared_ptr<const RowChunk>>;

// Encodes `events` into one chunk, or several if the encoding would pass
// 1 GiB (offsets are 32-bit), keeping each event's identity_key. Empty input
// gives no chunks.
RowChunks EncodeRowChunks(const std::vector<Event>& events);

// Adopts an EncodeEventBatch payload as a chunk without re-encoding: finds
// each event's bounds and timestamp. `identity_keys` holds one key per event
// in order, or is empty for all 0. Corruption if the payload is malformed;
// InvalidArgument if identity_keys is non-empty and its size differs from
// the event count, or the payload is 4 GiB or more (offsets are 32-bit).
Result<std::shared_ptr<const RowChunk>> RowChunkFromBatch(std::string payload,
                                                          std::vector<uint32_t> identity_keys);

}  // namespace quanyu::store::internal
