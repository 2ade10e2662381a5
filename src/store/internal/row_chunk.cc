#include "store/internal/row_chunk.h"

#include <algorithm>

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
  for (const Event& e : events) {
    if (!chunk.timestamps.empty() && chunk.rows.size() >= kMaxChunkBytes) Seal(&chunk, &out);
    chunk.offsets.push_back(static_cast<uint32_t>(chunk.rows.size()));
    chunk.timestamps.push_back(e.timestamp_us);
    EncodeEvent(e, &chunk.rows);
  }
  if (!chunk.timestamps.empty()) Seal(&chunk, &out);
  return out;
}

}  // namespace quanyu::store::internal
