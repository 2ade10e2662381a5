#include "store/internal/row_chunk.h"

#include <algorithm>

#include "common/coding.h"
#include "common/event_codec.h"

namespace quanyu::store::internal {
namespace {

constexpr size_t kMaxChunkBytes = size_t{1} << 30;

void Seal(RowChunk* c, RowChunks* out) {
  c->offsets.push_back(static_cast<uint32_t>(c->rows.size()));
  if (c->rows.capacity() > c->rows.size() + c->rows.size() / 8) c->rows.shrink_to_fit();
  auto [lo, hi] = std::minmax_element(c->timestamps.begin(), c->timestamps.end());
  c->min_timestamp_us = *lo;
  c->max_timestamp_us = *hi;
  out->push_back(std::make_shared<const RowChunk>(std::move(*c)));
  *c = RowChunk();
}

}  // namespace

RowChunks EncodeRowChunks(const std::vector<Event>& events) {
  RowChunks out;
  RowChunk chunk;
  chunk.offsets.reserve(events.size() + 1);
  chunk.timestamps.reserve(events.size());
  chunk.identity_keys.reserve(events.size());
  for (const Event& e : events) {
    if (!chunk.timestamps.empty() && chunk.rows.size() >= kMaxChunkBytes) Seal(&chunk, &out);
    chunk.offsets.push_back(static_cast<uint32_t>(chunk.rows.size()));
    chunk.timestamps.push_back(e.timestamp_us);
    chunk.identity_keys.push_back(e.identity_key);
    EncodeEvent(e, &chunk.rows);
  }
  if (!chunk.timestamps.empty()) Seal(&chunk, &out);
  return out;
}

Status RowChunk::DecodeRow(size_t i, Event* e) const {
  std::string_view row = Row(i);
  RETURN_IF_ERROR(DecodeEvent(&row, e));
  e->identity_key = identity_keys[i];
  return Status::OK();
}

Result<std::shared_ptr<const RowChunk>> RowChunkFromBatch(std::string payload,
                                                          std::vector<uint32_t> identity_keys) {
  if (payload.size() >= (size_t{1} << 32))
    return Status::InvalidArgument("batch too large for one chunk");
  Decoder d(payload);
  uint64_t count;
  if (!d.GetVarint64(&count) || count > payload.size() || count == 0) {
    return Status::Corruption("malformed batch count");
  }
  RowChunk chunk;
  chunk.offsets.reserve(count + 1);
  chunk.timestamps.reserve(count);
  for (uint64_t i = 0; i < count; ++i) {
    chunk.offsets.push_back(static_cast<uint32_t>(payload.size() - d.remaining()));
    std::string_view body;
    uint8_t version;
    int64_t ts;
    if (!d.GetLengthPrefixed(&body)) return Status::Corruption("truncated event in batch");
    Decoder b(body);
    if (!b.GetByte(&version) || !b.GetVarsint64(&ts))
      return Status::Corruption("malformed event in batch");
    chunk.timestamps.push_back(ts);
  }
  if (!d.done()) return Status::Corruption("trailing bytes after event batch");
  if (identity_keys.empty()) {
    identity_keys.assign(count, 0);
  } else if (identity_keys.size() != count) {
    return Status::InvalidArgument("batch of " + std::to_string(count) + " events has " +
                                   std::to_string(identity_keys.size()) + " identity keys");
  }
  chunk.identity_keys = std::move(identity_keys);
  chunk.rows = std::move(payload);
  chunk.offsets.push_back(static_cast<uint32_t>(chunk.rows.size()));
  auto [lo, hi] = std::minmax_element(chunk.timestamps.begin(), chunk.timestamps.end());
  chunk.min_timestamp_us = *lo;
  chunk.max_timestamp_us = *hi;
  return std::make_shared<const RowChunk>(std::move(chunk));
}

}  // namespace quanyu::store::internal
