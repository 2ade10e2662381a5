// Column encoders and decoders: the raw (uncompressed) layout of each
// Encoding in docs/segment_format.md, plus zstd block compression.
//
// An encoder accumulates one column of a segment row by row; a decoded
// column answers Fill(row) for a scan. Neither is synchronized: each belongs
// to one thread at a time (a decoded column may be read concurrently).
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
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

  // Typed access for columnar scans (store::ColumnBatch). Each column answers
  // only the accessors of its kind; the others return nullptr / empty.
  virtual const int64_t* Int64Data() const { return nullptr; }   // kDeltaVarint
  virtual const uint32_t* UInt32Data() const { return nullptr; }  // kVarint
  virtual const uint8_t* TypeData() const { return nullptr; }     // kBytes (EventType)
  virtual const std::optional<double>* DoubleData() const { return nullptr; }
  // Dictionary columns: row -> code, and code -> value.
  virtual const uint32_t* Codes() const { return nullptr; }
  virtual const std::vector<std::string>* DictionaryValues() const { return nullptr; }
  // Any string column (dictionary or not): the value of `row`.
  virtual std::string_view StringAt(size_t /*row*/) const { return {}; }
  // Approximate heap bytes held (for the column cache's budget).
  virtual size_t MemoryBytes() const = 0;
};

// A dictionary column built in memory (for columnar scans of a string column
// that is not dictionary-encoded, or of buffered rows).
std::unique_ptr<DecodedColumn> NewDictionaryColumn(Column column, std::vector<std::string> dict,
                                                   std::vector<uint32_t> codes);
// The column `column` of `events`, built in memory by encoding and decoding
// them (for columnar scans of rows not yet in a segment). REQUIRES: column is
// not kIdentifiers.
Result<std::unique_ptr<DecodedColumn>> BuildColumn(Column column, const std::vector<Event>& events);

// Decodes a raw block of `rows` rows. Corruption if the bytes do not parse
// as exactly `rows` values of `encoding` (or the encoding does not fit the
// column).
Result<std::unique_ptr<DecodedColumn>> DecodeColumn(Column column, Encoding encoding,
                                                    std::string raw, size_t rows);
// The kDeltaVarint layout on its own, for the timestamp filter.
Result<std::vector<int64_t>> DecodeDeltaVarint(std::string_view raw, size_t rows);

}  // namespace quanyu::store::internal
