#include "store/internal/segment_format.h"

#include <array>

#include "common/coding.h"
#include "common/hash.h"

namespace quanyu::store::internal {
namespace {

constexpr std::array<std::string_view, kColumnCount> kColumnNames = {
    "timestamp",
    "received",
    "type",
    "name",
    "message_id",
    "source",
    "channel",
    "user_id",
    "anonymous_id",
    "identifiers",
    "campaign_source",
    "campaign_medium",
    "campaign_name",
    "campaign_term",
    "campaign_content",
    "referrer",
    "url",
    "revenue",
    "value",
    "quantity",
    "currency",
    "order_id",
    "product_id",
    "properties",
    "traits",
    "context",
    "identity_key",
};

bool IsDictionaryColumn(Column c) {
  switch (c) {
    case Column::kName:
    case Column::kSource:
    case Column::kChannel:
    case Column::kCampaignSource:
    case Column::kCampaignMedium:
    case Column::kCampaignName:
    case Column::kCurrency:
      return true;
    default:
      return false;
  }
}

void PutFixed16(std::string* dst, uint16_t v) {
  dst->push_back(static_cast<char>(v & 0xff));
  dst->push_back(static_cast<char>(v >> 8));
}

}  // namespace

FieldKind KindOf(Column c) {
  switch (c) {
    case Column::kTimestamp:
    case Column::kReceived:
      return FieldKind::kInt64;
    case Column::kType:
      return FieldKind::kType;
    case Column::kIdentifiers:
      return FieldKind::kIdentifiers;
    case Column::kRevenue:
    case Column::kValue:
    case Column::kQuantity:
      return FieldKind::kOptionalDouble;
    case Column::kIdentityKey:
      return FieldKind::kUInt32;
    default:
      return FieldKind::kString;
  }
}

Encoding WriterEncoding(Column c) {
  switch (KindOf(c)) {
    case FieldKind::kInt64:
      return Encoding::kDeltaVarint;
    case FieldKind::kType:
      return Encoding::kBytes;
    case FieldKind::kIdentifiers:
      return Encoding::kIdentifiers;
    case FieldKind::kOptionalDouble:
      return Encoding::kOptionalDouble;
    case FieldKind::kUInt32:
      return Encoding::kVarint;
    case FieldKind::kString:
      break;
  }
  return IsDictionaryColumn(c) ? Encoding::kDictionary : Encoding::kStrings;
}

bool EncodingFits(Column c, Encoding e) {
  if (KindOf(c) == FieldKind::kString) {
    return e == Encoding::kDictionary || e == Encoding::kStrings;
  }
  return e == WriterEncoding(c);
}

std::string_view ColumnName(Column c) {
  auto i = static_cast<size_t>(c);
  return i < kColumnNames.size() ? kColumnNames[i] : std::string_view("unknown");
}

void ResetColumn(Column c, Event* e) {
  if (auto* s = StringField(e, c)) {
    s->clear();
  } else if (auto* d = DoubleField(e, c)) {
    d->reset();
  } else if (auto* v = Int64Field(e, c)) {
    *v = 0;
  } else if (auto* k = UInt32Field(e, c)) {
    *k = 0;
  } else if (c == Column::kType) {
    e->type = EventType::kTrack;
  } else if (c == Column::kIdentifiers) {
    e->identifiers.clear();
  }
}

void KeepColumns(ColumnSet columns, Event* e) {
  for (int i = 0; i < kColumnCount; ++i) {
    if (!columns.Has(static_cast<Column>(i))) ResetColumn(static_cast<Column>(i), e);
  }
}

const ColumnMeta* SegmentFooter::Find(Column column) const {
  for (const auto& c : columns) {
    if (c.column == column) return &c;
  }
  return nullptr;
}

void EncodeFooterAndTrailer(const SegmentFooter& footer, std::string* dst) {
  std::string f;
  PutFixed32(&f, kSegmentFormatVersion);
  PutFixed64(&f, footer.rows);
  PutFixed64(&f, static_cast<uint64_t>(footer.min_timestamp_us));
  PutFixed64(&f, static_cast<uint64_t>(footer.max_timestamp_us));
  PutFixed32(&f, static_cast<uint32_t>(footer.columns.size()));
  for (const auto& c : footer.columns) {
    PutFixed16(&f, static_cast<uint16_t>(c.column));
    f.push_back(static_cast<char>(c.encoding));
    f.push_back(0);  // reserved
    PutFixed64(&f, c.offset);
    PutFixed64(&f, c.compressed_length);
    PutFixed64(&f, c.raw_length);
    PutFixed32(&f, c.checksum);
  }
  dst->append(f);
  PutFixed32(dst, static_cast<uint32_t>(f.size()));
  PutFixed32(dst, Checksum32(f));
  dst->append(kSegmentEndMagic);
}

Result<uint32_t> DecodeTrailer(std::string_view trailer, uint32_t* footer_checksum) {
  if (trailer.size() != kTrailerSize || trailer.substr(8) != kSegmentEndMagic) {
    return Status::Corruption("bad segment end magic");
  }
  *footer_checksum = DecodeFixed32(trailer.data() + 4);
  return DecodeFixed32(trailer.data());
}

Result<SegmentFooter> DecodeFooter(std::string_view bytes, uint32_t expected_checksum,
                                   uint64_t file_size) {
  if (Checksum32(bytes) != expected_checksum) return Status::Corruption("footer checksum mismatch");
  Decoder d(bytes);
  uint32_t version, ncols;
  uint64_t rows, min_ts, max_ts;
  if (!d.GetFixed32(&version) || !d.GetFixed64(&rows) || !d.GetFixed64(&min_ts) ||
      !d.GetFixed64(&max_ts) || !d.GetFixed32(&ncols)) {
    return Status::Corruption("truncated footer");
  }
  if (version != kSegmentFormatVersion) {
    return Status::Corruption("unsupported segment format version " + std::to_string(version));
  }
  if (d.remaining() != uint64_t{ncols} * kColumnEntrySize) {
    return Status::Corruption("footer length does not match its column count");
  }
  SegmentFooter footer;
  footer.rows = rows;
  footer.min_timestamp_us = static_cast<int64_t>(min_ts);
  footer.max_timestamp_us = static_cast<int64_t>(max_ts);
  if (rows > 0 && footer.min_timestamp_us > footer.max_timestamp_us) {
    return Status::Corruption("footer min timestamp above max");
  }
  if (file_size < kSegmentMagic.size() + bytes.size() + kTrailerSize) {
    return Status::Corruption("segment shorter than its footer");
  }
  const uint64_t data_end = file_size - kTrailerSize - bytes.size();
  uint64_t seen = 0;
  for (uint32_t i = 0; i < ncols; ++i) {
    std::string_view id;
    uint8_t encoding = 0, reserved = 0;
    ColumnMeta m;
    (void)d.GetBytes(2, &id);
    (void)d.GetByte(&encoding);
    (void)d.GetByte(&reserved);
    (void)d.GetFixed64(&m.offset);
    (void)d.GetFixed64(&m.compressed_length);
    (void)d.GetFixed64(&m.raw_length);
    (void)d.GetFixed32(&m.checksum);
    uint16_t column_id =
        static_cast<uint8_t>(id[0]) | static_cast<uint16_t>(static_cast<uint8_t>(id[1]) << 8);
    if (m.offset < kSegmentMagic.size() || m.offset > data_end ||
        m.compressed_length > data_end - m.offset) {
      return Status::Corruption("column block outside the file");
    }
    if (column_id >= kColumnCount) continue;  // a newer writer's column
    m.column = static_cast<Column>(column_id);
    m.encoding = static_cast<Encoding>(encoding);
    if (seen >> column_id & 1) return Status::Corruption("column listed twice in footer");
    seen |= uint64_t{1} << column_id;
    if (!EncodingFits(m.column, m.encoding)) {
      return Status::Corruption("column " + std::string(ColumnName(m.column)) +
                                " has unexpected encoding " + std::to_string(encoding));
    }
    footer.columns.push_back(m);
  }
  return footer;
}

}  // namespace quanyu::store::internal
