#include "store/internal/segment_reader.h"

#include <algorithm>

#include "common/hash.h"
#include "store/internal/column_cache.h"

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
                                      int64_t from_us, int64_t to_us, ColumnCache* cache) {
  const SegmentFooter& f = reader.footer();
  SegmentRows rows;
  rows.end_ = f.rows;
  // One column, from the cache or read and decoded (and then cached).
  auto load = [&](const ColumnMeta& meta) -> Result<std::shared_ptr<const DecodedColumn>> {
    if (cache != nullptr) {
      if (auto hit = cache->Get(reader.path(), meta.column)) return hit;
    }
    ASSIGN_OR_RETURN(std::string raw, reader.ReadRawBlock(meta));
    auto decoded = DecodeColumn(meta.column, meta.encoding, std::move(raw), f.rows);
    if (!decoded.ok()) return decoded.status().WithContext(reader.path());
    std::shared_ptr<const DecodedColumn> col = std::move(*decoded);
    if (cache != nullptr) cache->Put(reader.path(), meta.column, col);
    return col;
  };
  const bool inside = f.min_timestamp_us >= from_us && f.max_timestamp_us < to_us;
  std::shared_ptr<const DecodedColumn> ts_col;  // kept when the filter read it
  if (!inside) {
    const ColumnMeta* meta = f.Find(Column::kTimestamp);
    if (meta == nullptr) return Status::Corruption(reader.path() + ": no timestamp column");
    ASSIGN_OR_RETURN(ts_col, load(*meta));
    const int64_t* ts = ts_col->Int64Data();
    rows.begin_ = std::lower_bound(ts, ts + f.rows, from_us) - ts;
    rows.end_ = std::lower_bound(ts, ts + f.rows, to_us) - ts;
  }
  if (rows.begin_ >= rows.end_) return rows;  // nothing in range: read no more
  for (const ColumnMeta& meta : f.columns) {
    if (!columns.Has(meta.column)) continue;
    auto& slot = rows.columns_[static_cast<size_t>(meta.column)];
    if (meta.column == Column::kTimestamp && ts_col) {
      slot = ts_col;  // the timestamp column appears once (DecodeFooter checks)
    } else {
      ASSIGN_OR_RETURN(slot, load(meta));
    }
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
