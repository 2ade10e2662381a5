#include "store/internal/segment_reader.h"

#include <algorithm>

#include "common/hash.h"

namespace quanyu::store::internal {

Result<std::unique_ptr<SegmentReader>> SegmentReader::Open(const std::string& path,
                                                           std::atomic<uint64_t>* bytes_read,
                                                           const SegmentFooter* footer) {
  ASSIGN_OR_RETURN(auto file, RandomAccessFile::Open(path, bytes_read));
  if (footer != nullptr) {
    return std::unique_ptr<SegmentReader>(new SegmentReader(path, std::move(file), *footer));
  }
  const uint64_t size = file->size();
  if (size < kSegmentMagic.size() + kFooterFixedSize + kTrailerSize) {
    return Status::Corruption(path + ": too short to be a segment");
  }
  ASSIGN_OR_RETURN(std::string magic, file->Read(0, kSegmentMagic.size()));
  if (magic != kSegmentMagic) return Status::Corruption(path + ": bad segment magic");
  ASSIGN_OR_RETURN(std::string trailer, file->Read(size - kTrailerSize, kTrailerSize));
  uint32_t checksum = 0;
  auto footer_len = DecodeTrailer(trailer, &checksum);
  if (!footer_len.ok()) return footer_len.status().WithContext(path);
  if (*footer_len > size - kSegmentMagic.size() - kTrailerSize) {
    return Status::Corruption(path + ": footer length exceeds the file");
  }
  ASSIGN_OR_RETURN(std::string bytes, file->Read(size - kTrailerSize - *footer_len, *footer_len));
  auto decoded = DecodeFooter(bytes, checksum, size);
  if (!decoded.ok()) return decoded.status().WithContext(path);
  return std::unique_ptr<SegmentReader>(
      new SegmentReader(path, std::move(file), std::move(*decoded)));
}

Result<std::string> SegmentReader::ReadRawBlock(const ColumnMeta& meta) const {
  ASSIGN_OR_RETURN(std::string block, file_->Read(meta.offset, meta.compressed_length));
  const std::string where = path_ + ": column " + std::string(ColumnName(meta.column));
  if (Checksum32(block) != meta.checksum) {
    return Status::Corruption(where + ": block checksum mismatch");
  }
  auto raw = DecompressBlock(block, meta.raw_length);
  if (!raw.ok()) return raw.status().WithContext(where);
  return raw;
}

Result<SegmentRows> SegmentRows::Load(const SegmentReader& reader, ColumnSet columns,
                                      int64_t from_us, int64_t to_us) {
  const SegmentFooter& f = reader.footer();
  SegmentRows rows;
  rows.end_ = f.rows;
  const bool inside = f.min_timestamp_us >= from_us && f.max_timestamp_us < to_us;
  std::string ts_raw;  // kept when the filter read it and the caller wants it too
  if (!inside) {
    const ColumnMeta* meta = f.Find(Column::kTimestamp);
    if (meta == nullptr) return Status::Corruption(reader.path() + ": no timestamp column");
    ASSIGN_OR_RETURN(ts_raw, reader.ReadRawBlock(*meta));
    auto ts = DecodeDeltaVarint(ts_raw, f.rows);
    if (!ts.ok()) return ts.status().WithContext(reader.path());
    rows.begin_ = std::lower_bound(ts->begin(), ts->end(), from_us) - ts->begin();
    rows.end_ = std::lower_bound(ts->begin(), ts->end(), to_us) - ts->begin();
  }
  if (rows.begin_ >= rows.end_) return rows;  // nothing in range: read no more
  for (const ColumnMeta& meta : f.columns) {
    if (!columns.Has(meta.column)) continue;
    std::string raw;
    if (meta.column == Column::kTimestamp && !inside) {
      raw.swap(ts_raw);  // the timestamp column appears once (DecodeFooter checks)
    } else {
      ASSIGN_OR_RETURN(raw, reader.ReadRawBlock(meta));
    }
    auto decoded = DecodeColumn(meta.column, meta.encoding, std::move(raw), f.rows);
    if (!decoded.ok()) return decoded.status().WithContext(reader.path());
    rows.columns_[static_cast<size_t>(meta.column)] = std::move(*decoded);
  }
  for (int i = 0; i < kColumnCount; ++i) {
    const auto c = static_cast<Column>(i);
    if (columns.Has(c) && !rows.columns_[i]) rows.missing_.push_back(c);
  }
  return rows;
}

void SegmentRows::Fill(size_t row, Event* e) const {
  for (const auto& c : columns_) {
    if (c) c->Fill(row, e);
  }
  for (Column c : missing_) ResetColumn(c, e);
}

}  // namespace quanyu::store::internal
