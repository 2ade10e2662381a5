// Column encoders and decoders: the raw (uncompressed) layout of each
// Encoding in docs/segment_format.md, plus zstd block compression.
//
// An encoder accumulates one column of a segment row by row; a decoded
// column answers Fill(row) for a scan. Neither is synchronized: each belongs
// to one thread at a time (a decoded column may be read concurrently).
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "common/event.h"
#include "common/result.h"
#include "store/event_store.h"
#include "store/internal/segment_format.h"

namespace quanyu::store::internal {

// zstd at `level`. Internal if zstd fails (it does not on valid input).
Result<std::string> CompressBlock(std::string_view raw, int level);
// Corruption unless `compressed` is one zstd frame of exactly raw_length bytes.
Result<std::string> DecompressBlock(std::string_view compressed, uint64_t raw_length);

class ColumnEncoder {
 public:
  virtual ~ColumnEncoder() = default;
  // Appends the column's value of `e` as the next row.
  virtual void Append(const Event& e) = 0;
  // The raw block for all rows appended so far; the encoder is spent after.
  virtual std::string Finish() = 0;
  virtual Encoding encoding() const = 0;
};

// An encoder for `column` using WriterEncoding(column).
std::unique_ptr<ColumnEncoder> NewColumnEncoder(Column column);

class DecodedColumn {
 public:
  virtual ~DecodedColumn() = default;
  // Sets the column's field of `*e` to the value of `row`.
  // REQUIRES: row < the rows the column was decoded with.
  virtual void Fill(size_t row, Event* e) const = 0;
};

// Decodes a raw block of `rows` rows. Corruption if the bytes do not parse
// as exactly `rows` values of `encoding` (or the encoding does not fit the
// column).
Result<std::unique_ptr<DecodedColumn>> DecodeColumn(Column column, Encoding encoding,
                                                    std::string raw, size_t rows);
// The kDeltaVarint layout on its own, for the timestamp filter.
Result<std::vector<int64_t>> DecodeDeltaVarint(std::string_view raw, size_t rows);

}  // namespace quanyu::store::internal
