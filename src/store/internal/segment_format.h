// The persisted layout of a segment file and the schema that maps each
// Column to an Event field and an encoding. Specified byte by byte in
// docs/segment_format.md; keep the two in step.
//
// Stateless; thread-safe.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/event.h"
#include "common/result.h"
#include "store/event_store.h"

namespace quanyu::store::internal {

inline constexpr std::string_view kSegmentMagic = "QYSEG001";     // first 8 bytes
inline constexpr std::string_view kSegmentEndMagic = "QYSEGEND";  // last 8 bytes
inline constexpr uint32_t kSegmentFormatVersion = 1;
inline constexpr size_t kTrailerSize = 16;  // footer length, footer checksum, end magic
inline constexpr size_t kColumnEntrySize = 32;
inline constexpr size_t kFooterFixedSize = 32;  // version, rows, min, max, column count

// How a column block's raw (decompressed) bytes are laid out. Persisted:
// append only.
enum class Encoding : uint8_t {
  kDeltaVarint = 1,     // int64: zigzag varint of each value minus the previous
  kBytes = 2,           // one byte per row
  kDictionary = 3,      // string: dictionary, then a varint code per row
  kStrings = 4,         // string: varint lengths, then the bytes
  kIdentifiers = 5,     // vector<Identifier>
  kOptionalDouble = 6,  // presence bitmap, then the present values
  kVarint = 7,          // uint32: varint of each value
};

// What kind of Event field a column holds; decides which encodings are legal.
enum class FieldKind { kInt64, kType, kString, kIdentifiers, kOptionalDouble, kUInt32 };

FieldKind KindOf(Column column);
// The encoding the writer uses for a column.
Encoding WriterEncoding(Column column);
// Whether a reader accepts `encoding` for `column`. String columns accept
// both kDictionary and kStrings, so a writer may choose per segment.
bool EncodingFits(Column column, Encoding encoding);
// "timestamp", "campaign_source", ... for messages and docs.
std::string_view ColumnName(Column column);

// The string field a kString column stores; nullptr for other columns.
// Works on const and non-const events.
template <typename E>
auto* StringField(E* e, Column c) {
  switch (c) {
    case Column::kName:
      return &e->name;
    case Column::kMessageId:
      return &e->message_id;
    case Column::kSource:
      return &e->source;
    case Column::kChannel:
      return &e->channel;
    case Column::kUserId:
      return &e->user_id;
    case Column::kAnonymousId:
      return &e->anonymous_id;
    case Column::kCampaignSource:
      return &e->campaign.source;
    case Column::kCampaignMedium:
      return &e->campaign.medium;
    case Column::kCampaignName:
      return &e->campaign.name;
    case Column::kCampaignTerm:
      return &e->campaign.term;
    case Column::kCampaignContent:
      return &e->campaign.content;
    case Column::kReferrer:
      return &e->referrer;
    case Column::kUrl:
      return &e->url;
    case Column::kCurrency:
      return &e->currency;
    case Column::kOrderId:
      return &e->order_id;
    case Column::kProductId:
      return &e->product_id;
    case Column::kProperties:
      return &e->properties_json;
    case Column::kTraits:
      return &e->traits_json;
    case Column::kContext:
      return &e->context_json;
    default:
      return static_cast<decltype(&e->name)>(nullptr);
  }
}

// The optional<double> field of a kOptionalDouble column; nullptr otherwise.
template <typename E>
auto* DoubleField(E* e, Column c) {
  switch (c) {
    case Column::kRevenue:
      return &e->revenue;
    case Column::kValue:
      return &e->value;
    case Column::kQuantity:
      return &e->quantity;
    default:
      return static_cast<decltype(&e->revenue)>(nullptr);
  }
}

// The int64 field of a kInt64 column; nullptr otherwise.
template <typename E>
auto* Int64Field(E* e, Column c) {
  switch (c) {
    case Column::kTimestamp:
      return &e->timestamp_us;
    case Column::kReceived:
      return &e->received_us;
    default:
      return static_cast<decltype(&e->timestamp_us)>(nullptr);
  }
}

// The uint32 field of a kUInt32 column; nullptr otherwise.
template <typename E>
auto* UInt32Field(E* e, Column c) {
  switch (c) {
    case Column::kIdentityKey:
      return &e->identity_key;
    default:
      return static_cast<decltype(&e->identity_key)>(nullptr);
  }
}

// Resets the field `column` stores to its default.
void ResetColumn(Column column, Event* e);
// Resets every field not in `columns` to its default.
void KeepColumns(ColumnSet columns, Event* e);

// Where one column block lives in the file.
struct ColumnMeta {
  Column column = Column::kTimestamp;
  Encoding encoding = Encoding::kDeltaVarint;
  uint64_t offset = 0;
  uint64_t compressed_length = 0;
  uint64_t raw_length = 0;
  uint32_t checksum = 0;  // Checksum32 of the compressed bytes
};

struct SegmentFooter {
  uint64_t rows = 0;
  int64_t min_timestamp_us = 0;
  int64_t max_timestamp_us = 0;
  std::vector<ColumnMeta> columns;  // in file order

  // nullptr if the segment has no block for `column` (written before the
  // column existed): readers then leave the field at its default.
  const ColumnMeta* Find(Column column) const;
};

// Appends footer + trailer.
void EncodeFooterAndTrailer(const SegmentFooter& footer, std::string* dst);
// Given the last kTrailerSize bytes, returns the footer length after checking
// the end magic. Corruption otherwise.
Result<uint32_t> DecodeTrailer(std::string_view trailer, uint32_t* footer_checksum);
// Parses and validates a footer against the file size. Unknown column ids
// (from a newer writer) are skipped.
Result<SegmentFooter> DecodeFooter(std::string_view footer, uint32_t expected_checksum,
                                   uint64_t file_size);

}  // namespace quanyu::store::internal
