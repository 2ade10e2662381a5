#include "store/internal/segment_writer.h"

#include <cassert>

#include "common/hash.h"
#include "store/internal/file.h"
#include "store/internal/segment_format.h"

namespace quanyu::store::internal {

SegmentWriter::SegmentWriter(int zstd_level) : zstd_level_(zstd_level) {
  for (int i = 0; i < kColumnCount; ++i) encoders_[i] = NewColumnEncoder(static_cast<Column>(i));
}

void SegmentWriter::Append(const Event& e) {
  assert(rows_ == 0 || e.timestamp_us >= max_ts_);
  if (rows_ == 0) min_ts_ = e.timestamp_us;
  max_ts_ = e.timestamp_us;
  ++rows_;
  for (auto& enc : encoders_) enc->Append(e);
}

Result<SegmentSummary> SegmentWriter::Finish(const std::string& path) {
  const std::string tmp = path + ".tmp";
  auto summary = WriteTo(tmp);
  if (summary.ok()) {
    Status s = RenameFile(tmp, path);
    if (s.ok()) return summary;
    summary = s;
  }
  (void)RemoveFile(tmp);  // best effort; Open also removes stray temporaries
  return summary;
}

Result<SegmentSummary> SegmentWriter::WriteTo(const std::string& tmp) {
  ASSIGN_OR_RETURN(auto file, WritableFile::Create(tmp));
  RETURN_IF_ERROR(file->Append(kSegmentMagic));
  SegmentFooter footer;
  footer.rows = rows_;
  footer.min_timestamp_us = min_ts_;
  footer.max_timestamp_us = max_ts_;
  for (int i = 0; i < kColumnCount; ++i) {
    ColumnMeta meta;
    meta.column = static_cast<Column>(i);
    meta.encoding = encoders_[i]->encoding();
    std::string raw = encoders_[i]->Finish();
    encoders_[i].reset();
    ASSIGN_OR_RETURN(std::string block, CompressBlock(raw, zstd_level_));
    meta.offset = file->size();
    meta.compressed_length = block.size();
    meta.raw_length = raw.size();
    meta.checksum = Checksum32(block);
    RETURN_IF_ERROR(file->Append(block));
    footer.columns.push_back(meta);
  }
  std::string tail;
  EncodeFooterAndTrailer(footer, &tail);
  RETURN_IF_ERROR(file->Append(tail));
  RETURN_IF_ERROR(file->Sync());
  SegmentSummary summary{rows_, file->size(), min_ts_, max_ts_};
  RETURN_IF_ERROR(file->Close());
  return summary;
}

}  // namespace quanyu::store::internal
