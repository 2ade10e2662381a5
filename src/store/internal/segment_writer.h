// SegmentWriter: builds one segment file from rows given in timestamp order.
//
// Rows are encoded column by column in memory (raw column bytes, roughly the
// size of the rows' log encoding); Finish compresses and writes one block per
// column, then the footer, to `path`.tmp, fsyncs it and renames it to `path`.
// The caller fsyncs the directory before naming the segment in the manifest.
//
// Not synchronized: one thread per writer.
#pragma once

#include <array>
#include <memory>
#include <string>

#include "common/event.h"
#include "common/result.h"
#include "store/internal/column_codec.h"

namespace quanyu::store::internal {

struct SegmentSummary {
  uint64_t rows = 0;
  uint64_t bytes = 0;  // file size
  int64_t min_timestamp_us = 0;
  int64_t max_timestamp_us = 0;
};

class SegmentWriter {
 public:
  explicit SegmentWriter(int zstd_level);

  // REQUIRES: e.timestamp_us >= the previous row's (the footer's min/max and
  // the reader's range search rely on it).
  void Append(const Event& e);
  uint64_t rows() const { return rows_; }

  // Writes the file. On failure the temporary is removed and nothing exists
  // at `path`. The writer is spent either way.
  Result<SegmentSummary> Finish(const std::string& path);

 private:
  Result<SegmentSummary> WriteTo(const std::string& tmp);

  int zstd_level_;
  uint64_t rows_ = 0;
  int64_t min_ts_ = 0, max_ts_ = 0;
  std::array<std::unique_ptr<ColumnEncoder>, kColumnCount> encoders_;
};

}  // namespace quanyu::store::internal
