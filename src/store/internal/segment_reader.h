// SegmentReader: random access to the column blocks of one segment file, and
// SegmentRows: the requested columns of a segment decoded for a scan.
//
// A reader reads the footer once (or takes a cached one) and then only the
// byte ranges of the blocks asked for; every block is checked against its
// checksum before it is decompressed.
//
// Thread-safety: a SegmentReader and a SegmentRows are immutable after
// construction and may be used from several threads.
#pragma once

#include <array>
#include <atomic>
#include <memory>
#include <string>
#include <vector>

#include "common/result.h"
#include "store/event_store.h"
#include "store/internal/column_codec.h"
#include "store/internal/file.h"
#include "store/internal/segment_format.h"

namespace quanyu::store::internal {

class ColumnCache;

class SegmentReader {
 public:
  // Opens `path` and reads its footer, or trusts `footer` if given (cached
  // from an earlier open). Bytes read are added to *bytes_read if given.
  // Corruption if the magic, trailer or footer is bad; IOError/NotFound if
  // the file cannot be read.
  static Result<std::unique_ptr<SegmentReader>> Open(const std::string& path,
                                                     std::atomic<uint64_t>* bytes_read,
                                                     const SegmentFooter* footer = nullptr);

  const SegmentFooter& footer() const { return footer_; }
  const std::string& path() const { return path_; }

  // Reads one column's block, verifies its checksum and decompresses it.
  // Corruption on a checksum or zstd mismatch (naming the column and file).
  // REQUIRES: footer().Find(meta.column) == &meta.
  Result<std::string> ReadRawBlock(const ColumnMeta& meta) const;

 private:
  SegmentReader(std::string path, std::unique_ptr<RandomAccessFile> file, SegmentFooter footer)
      : path_(std::move(path)), file_(std::move(file)), footer_(std::move(footer)) {}

  std::string path_;
  std::unique_ptr<RandomAccessFile> file_;
  SegmentFooter footer_;
};

// The rows of one segment with from_us <= timestamp < to_us, with the
// requested columns decoded.
class SegmentRows {
 public:
  // Reads just the blocks of `columns` (plus the timestamp block when the
  // segment is not wholly inside the range). Columns the segment lacks are
  // left at their defaults.
  // With a cache, columns are taken from it when present and put in it when
  // decoded.
  static Result<SegmentRows> Load(const SegmentReader& reader, ColumnSet columns, int64_t from_us,
                                  int64_t to_us, ColumnCache* cache = nullptr);

  size_t begin() const { return begin_; }
  size_t end() const { return end_; }
  // Sets every requested column of *e from `row`; requested columns the
  // segment lacks are reset to their defaults. Other fields are untouched.
  // REQUIRES: begin() <= row < end().
  void Fill(size_t row, Event* e) const;
  // The decoded column, or nullptr if it was not requested or the segment
  // lacks it.
  const DecodedColumn* column(Column c) const { return columns_[static_cast<size_t>(c)].get(); }
  // Replaces (or adds) a decoded column; for columnar scans that convert a
  // column to another in-memory form.
  void set_column(Column c, std::shared_ptr<const DecodedColumn> col) {
    columns_[static_cast<size_t>(c)] = std::move(col);
  }

 private:
  size_t begin_ = 0, end_ = 0;
  std::array<std::shared_ptr<const DecodedColumn>, kColumnCount> columns_;
  std::vector<Column> missing_;  // requested, but not in this segment
};

}  // namespace quanyu::store::internal
