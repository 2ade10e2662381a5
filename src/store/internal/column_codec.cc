#include "store/internal/column_codec.h"

#include <zstd.h>

#include <cstring>
#include <unordered_map>

#include "common/coding.h"

namespace quanyu::store::internal {
namespace {

Status Bad(Column c, std::string_view what) {
  return Status::Corruption("column " + std::string(ColumnName(c)) + ": " + std::string(what));
}

// unordered_map<string, uint32_t> that can be probed with a string_view.
struct StringHash {
  using is_transparent = void;
  size_t operator()(std::string_view s) const { return std::hash<std::string_view>()(s); }
};
using CodeMap = std::unordered_map<std::string, uint32_t, StringHash, std::equal_to<>>;

// Assigns codes in first-seen order and writes the dictionary on Finish.
class Dictionary {
 public:
  uint32_t CodeOf(std::string_view s) {
    auto it = codes_.find(s);
    if (it != codes_.end()) return it->second;
    auto code = static_cast<uint32_t>(entries_.size());
    entries_.emplace_back(s);
    codes_.emplace(std::string(s), code);
    return code;
  }
  void EncodeTo(std::string* dst) const {
    PutVarint64(dst, entries_.size());
    for (const auto& e : entries_) PutLengthPrefixed(dst, e);
  }

 private:
  CodeMap codes_;
  std::vector<std::string> entries_;
};

bool DecodeDictionary(Decoder* d, std::vector<std::string>* out) {
  uint64_t n;
  if (!d->GetVarint64(&n) || n > d->remaining()) return false;
  out->resize(n);
  for (auto& s : *out) {
    if (!d->GetString(&s)) return false;
  }
  return true;
}

// ---- Encoders -------------------------------------------------------------

class DeltaVarintEncoder final : public ColumnEncoder {
 public:
  explicit DeltaVarintEncoder(Column c) : column_(c) {}
  void Append(const Event& e) override {
    int64_t v = *Int64Field(&e, column_);
    // Wrapping subtraction: any pair of int64 values round-trips.
    PutVarint64(&out_, ZigZag(static_cast<int64_t>(static_cast<uint64_t>(v) -
                                                   static_cast<uint64_t>(prev_))));
    prev_ = v;
  }
  std::string Finish() override { return std::move(out_); }
  Encoding encoding() const override { return Encoding::kDeltaVarint; }

 private:
  Column column_;
  int64_t prev_ = 0;
  std::string out_;
};

class TypeEncoder final : public ColumnEncoder {
 public:
  void Append(const Event& e) override { out_.push_back(static_cast<char>(e.type)); }
  std::string Finish() override { return std::move(out_); }
  Encoding encoding() const override { return Encoding::kBytes; }

 private:
  std::string out_;
};

class DictionaryEncoder final : public ColumnEncoder {
 public:
  explicit DictionaryEncoder(Column c) : column_(c) {}
  void Append(const Event& e) override {
    PutVarint64(&codes_, dict_.CodeOf(*StringField(&e, column_)));
  }
  std::string Finish() override {
    std::string out;
    dict_.EncodeTo(&out);
    out.append(codes_);
    return out;
  }
  Encoding encoding() const override { return Encoding::kDictionary; }

 private:
  Column column_;
  Dictionary dict_;
  std::string codes_;
};

class StringsEncoder final : public ColumnEncoder {
 public:
  explicit StringsEncoder(Column c) : column_(c) {}
  void Append(const Event& e) override {
    const std::string& s = *StringField(&e, column_);
    PutVarint64(&lengths_, s.size());
    bytes_.append(s);
  }
  std::string Finish() override {
    std::string out;
    out.reserve(lengths_.size() + bytes_.size() + 10);
    PutLengthPrefixed(&out, lengths_);
    out.append(bytes_);
    return out;
  }
  Encoding encoding() const override { return Encoding::kStrings; }

 private:
  Column column_;
  std::string lengths_, bytes_;
};

class IdentifiersEncoder final : public ColumnEncoder {
 public:
  void Append(const Event& e) override {
    PutVarint64(&counts_, e.identifiers.size());
    for (const auto& id : e.identifiers) {
      PutVarint64(&ns_codes_, ns_.CodeOf(id.ns));
      PutVarint64(&scope_codes_, scopes_.CodeOf(id.scope));
      PutVarint64(&value_lengths_, id.value.size());
      values_.append(id.value);
    }
  }
  std::string Finish() override {
    std::string out;
    ns_.EncodeTo(&out);
    scopes_.EncodeTo(&out);
    PutLengthPrefixed(&out, counts_);
    PutLengthPrefixed(&out, ns_codes_);
    PutLengthPrefixed(&out, scope_codes_);
    PutLengthPrefixed(&out, value_lengths_);
    out.append(values_);
    return out;
  }
  Encoding encoding() const override { return Encoding::kIdentifiers; }

 private:
  Dictionary ns_, scopes_;
  std::string counts_, ns_codes_, scope_codes_, value_lengths_, values_;
};

class OptionalDoubleEncoder final : public ColumnEncoder {
 public:
  explicit OptionalDoubleEncoder(Column c) : column_(c) {}
  void Append(const Event& e) override {
    const std::optional<double>& v = *DoubleField(&e, column_);
    if (rows_ % 8 == 0) bitmap_.push_back(0);
    if (v) {
      bitmap_.back() = static_cast<char>(bitmap_.back() | (1 << (rows_ % 8)));
      uint64_t bits;
      std::memcpy(&bits, &*v, 8);
      PutFixed64(&values_, bits);
    }
    ++rows_;
  }
  std::string Finish() override { return bitmap_ + values_; }
  Encoding encoding() const override { return Encoding::kOptionalDouble; }

 private:
  Column column_;
  size_t rows_ = 0;
  std::string bitmap_, values_;
};

class VarintEncoder final : public ColumnEncoder {
 public:
  explicit VarintEncoder(Column c) : column_(c) {}
  void Append(const Event& e) override { PutVarint64(&out_, *UInt32Field(&e, column_)); }
  std::string Finish() override { return std::move(out_); }
  Encoding encoding() const override { return Encoding::kVarint; }

 private:
  Column column_;
  std::string out_;
};

// ---- Decoded columns ------------------------------------------------------

class Int64Column final : public DecodedColumn {
 public:
  Int64Column(Column c, std::vector<int64_t> v) : column_(c), values_(std::move(v)) {}
  void Fill(size_t row, Event* e) const override { *Int64Field(e, column_) = values_[row]; }
  const int64_t* Int64Data() const override { return values_.data(); }
  size_t MemoryBytes() const override { return values_.capacity() * sizeof(int64_t); }

 private:
  Column column_;
  std::vector<int64_t> values_;
};

class TypeColumn final : public DecodedColumn {
 public:
  explicit TypeColumn(std::string raw) : raw_(std::move(raw)) {}
  void Fill(size_t row, Event* e) const override { e->type = static_cast<EventType>(raw_[row]); }
  const uint8_t* TypeData() const override {
    return reinterpret_cast<const uint8_t*>(raw_.data());
  }
  size_t MemoryBytes() const override { return raw_.capacity(); }

 private:
  std::string raw_;
};

class DictionaryColumn final : public DecodedColumn {
 public:
  DictionaryColumn(Column c, std::vector<std::string> dict, std::vector<uint32_t> codes)
      : column_(c), dict_(std::move(dict)), codes_(std::move(codes)) {}
  void Fill(size_t row, Event* e) const override { *StringField(e, column_) = dict_[codes_[row]]; }
  const uint32_t* Codes() const override { return codes_.data(); }
  const std::vector<std::string>* DictionaryValues() const override { return &dict_; }
  std::string_view StringAt(size_t row) const override { return dict_[codes_[row]]; }
  size_t MemoryBytes() const override {
    size_t n = codes_.capacity() * sizeof(uint32_t);
    for (const auto& s : dict_) n += sizeof(std::string) + s.capacity();
    return n;
  }

 private:
  Column column_;
  std::vector<std::string> dict_;
  std::vector<uint32_t> codes_;
};

class StringsColumn final : public DecodedColumn {
 public:
  StringsColumn(Column c, std::string raw, size_t bytes_start, std::vector<uint64_t> ends)
      : column_(c), raw_(std::move(raw)), bytes_start_(bytes_start), ends_(std::move(ends)) {}
  void Fill(size_t row, Event* e) const override {
    uint64_t begin = row == 0 ? 0 : ends_[row - 1];
    StringField(e, column_)->assign(raw_.data() + bytes_start_ + begin, ends_[row] - begin);
  }
  std::string_view StringAt(size_t row) const override {
    uint64_t begin = row == 0 ? 0 : ends_[row - 1];
    return std::string_view(raw_.data() + bytes_start_ + begin, ends_[row] - begin);
  }
  size_t MemoryBytes() const override { return raw_.capacity() + ends_.capacity() * 8; }

 private:
  Column column_;
  std::string raw_;
  size_t bytes_start_;
  std::vector<uint64_t> ends_;  // end of each row's bytes, relative to bytes_start_
};

class IdentifiersColumn final : public DecodedColumn {
 public:
  struct Parts {
    std::vector<std::string> ns, scopes;
    std::vector<uint64_t> row_ends;  // end index into the per-identifier arrays
    std::vector<uint32_t> ns_codes, scope_codes;
    std::vector<uint64_t> value_ends;  // end offset of each value in `values`
    std::string raw;
    size_t values_start = 0;
  };
  explicit IdentifiersColumn(Parts p) : p_(std::move(p)) {}
  size_t MemoryBytes() const override {
    return p_.raw.capacity() + (p_.row_ends.capacity() + p_.value_ends.capacity()) * 8 +
           (p_.ns_codes.capacity() + p_.scope_codes.capacity()) * 4;
  }
  void Fill(size_t row, Event* e) const override {
    uint64_t begin = row == 0 ? 0 : p_.row_ends[row - 1];
    e->identifiers.resize(p_.row_ends[row] - begin);
    for (auto& id : e->identifiers) {
      id.ns = p_.ns[p_.ns_codes[begin]];
      id.scope = p_.scopes[p_.scope_codes[begin]];
      uint64_t vb = begin == 0 ? 0 : p_.value_ends[begin - 1];
      id.value.assign(p_.raw.data() + p_.values_start + vb, p_.value_ends[begin] - vb);
      ++begin;
    }
  }

 private:
  Parts p_;
};

class OptionalDoubleColumn final : public DecodedColumn {
 public:
  OptionalDoubleColumn(Column c, std::vector<std::optional<double>> v)
      : column_(c), values_(std::move(v)) {}
  void Fill(size_t row, Event* e) const override { *DoubleField(e, column_) = values_[row]; }
  const std::optional<double>* DoubleData() const override { return values_.data(); }
  size_t MemoryBytes() const override {
    return values_.capacity() * sizeof(std::optional<double>);
  }

 private:
  Column column_;
  std::vector<std::optional<double>> values_;
};

class UInt32Column final : public DecodedColumn {
 public:
  UInt32Column(Column c, std::vector<uint32_t> v) : column_(c), values_(std::move(v)) {}
  void Fill(size_t row, Event* e) const override { *UInt32Field(e, column_) = values_[row]; }
  const uint32_t* UInt32Data() const override { return values_.data(); }
  size_t MemoryBytes() const override { return values_.capacity() * sizeof(uint32_t); }

 private:
  Column column_;
  std::vector<uint32_t> values_;
};

// ---- Decoders -------------------------------------------------------------

// Reads n varints, each below `limit`.
bool GetCodes(Decoder* d, size_t n, uint64_t limit, std::vector<uint32_t>* out) {
  if (n > d->remaining()) return false;  // every varint takes at least a byte
  out->resize(n);
  for (auto& code : *out) {
    uint64_t v;
    if (!d->GetVarint64(&v) || v >= limit) return false;
    code = static_cast<uint32_t>(v);
  }
  return true;
}

// Reads n varint lengths and turns them into running end offsets; fails if
// they add up to more than `available`.
bool GetEnds(Decoder* d, size_t n, uint64_t available, std::vector<uint64_t>* ends) {
  if (n > d->remaining()) return false;
  ends->resize(n);
  uint64_t total = 0;
  for (auto& end : *ends) {
    uint64_t len;
    if (!d->GetVarint64(&len) || len > available - total) return false;
    total += len;
    end = total;
  }
  return true;
}

Result<std::unique_ptr<DecodedColumn>> DecodeDictionaryColumn(Column c, std::string_view raw,
                                                              size_t rows) {
  Decoder d(raw);
  std::vector<std::string> dict;
  std::vector<uint32_t> codes;
  if (!DecodeDictionary(&d, &dict) || !GetCodes(&d, rows, dict.size(), &codes) || !d.done()) {
    return Bad(c, "malformed dictionary block");
  }
  return std::unique_ptr<DecodedColumn>(new DictionaryColumn(c, std::move(dict), std::move(codes)));
}

Result<std::unique_ptr<DecodedColumn>> DecodeStringsColumn(Column c, std::string raw, size_t rows) {
  Decoder outer(raw);
  std::string_view lengths;
  if (!outer.GetLengthPrefixed(&lengths)) return Bad(c, "truncated lengths");
  size_t bytes_start = raw.size() - outer.remaining();
  Decoder d(lengths);
  std::vector<uint64_t> ends;
  if (!GetEnds(&d, rows, outer.remaining(), &ends) || !d.done() ||
      (rows > 0 ? ends.back() : 0) != outer.remaining()) {
    return Bad(c, "string lengths do not match the block");
  }
  return std::unique_ptr<DecodedColumn>(
      new StringsColumn(c, std::move(raw), bytes_start, std::move(ends)));
}

Result<std::unique_ptr<DecodedColumn>> DecodeIdentifiersColumn(std::string raw, size_t rows) {
  const Column c = Column::kIdentifiers;
  IdentifiersColumn::Parts p;
  Decoder d(raw);
  std::string_view counts, ns_codes, scope_codes, value_lengths;
  if (!DecodeDictionary(&d, &p.ns) || !DecodeDictionary(&d, &p.scopes) ||
      !d.GetLengthPrefixed(&counts) || !d.GetLengthPrefixed(&ns_codes) ||
      !d.GetLengthPrefixed(&scope_codes) || !d.GetLengthPrefixed(&value_lengths)) {
    return Bad(c, "truncated identifiers block");
  }
  p.values_start = raw.size() - d.remaining();
  const uint64_t values_size = d.remaining();
  Decoder cd(counts);
  // Each identifier takes at least one byte in ns_codes, which bounds the total.
  if (!GetEnds(&cd, rows, ns_codes.size(), &p.row_ends) || !cd.done()) {
    return Bad(c, "malformed identifier counts");
  }
  const size_t total = rows > 0 ? p.row_ends.back() : 0;
  Decoder nd(ns_codes), sd(scope_codes), vd(value_lengths);
  if (!GetCodes(&nd, total, p.ns.size(), &p.ns_codes) || !nd.done() ||
      !GetCodes(&sd, total, p.scopes.size(), &p.scope_codes) || !sd.done() ||
      !GetEnds(&vd, total, values_size, &p.value_ends) || !vd.done() ||
      (total > 0 ? p.value_ends.back() : 0) != values_size) {
    return Bad(c, "malformed identifier codes or values");
  }
  p.raw = std::move(raw);
  return std::unique_ptr<DecodedColumn>(new IdentifiersColumn(std::move(p)));
}

Result<std::unique_ptr<DecodedColumn>> DecodeOptionalDoubleColumn(Column c, std::string_view raw,
                                                                  size_t rows) {
  const size_t bitmap_size = (rows + 7) / 8;
  if (raw.size() < bitmap_size) return Bad(c, "truncated presence bitmap");
  if (rows % 8 != 0 && static_cast<uint8_t>(raw[bitmap_size - 1]) >> (rows % 8) != 0) {
    return Bad(c, "presence bits set past the last row");
  }
  std::vector<std::optional<double>> values(rows);
  const char* next = raw.data() + bitmap_size;
  const char* end = raw.data() + raw.size();
  for (size_t i = 0; i < rows; ++i) {
    if (!(static_cast<uint8_t>(raw[i / 8]) >> (i % 8) & 1)) continue;
    if (end - next < 8) return Bad(c, "fewer values than the bitmap says");
    double v;
    std::memcpy(&v, next, 8);  // little-endian hosts only, as in common/coding.h
    values[i] = v;
    next += 8;
  }
  if (next != end) return Bad(c, "more values than the bitmap says");
  return std::unique_ptr<DecodedColumn>(new OptionalDoubleColumn(c, std::move(values)));
}

}  // namespace

Result<std::string> CompressBlock(std::string_view raw, int level) {
  thread_local std::unique_ptr<ZSTD_CCtx, size_t (*)(ZSTD_CCtx*)> ctx(ZSTD_createCCtx(),
                                                                      ZSTD_freeCCtx);
  std::string out(ZSTD_compressBound(raw.size()), '\0');
  size_t n = ZSTD_compressCCtx(ctx.get(), out.data(), out.size(), raw.data(), raw.size(), level);
  if (ZSTD_isError(n)) return Status::Internal(std::string("zstd: ") + ZSTD_getErrorName(n));
  out.resize(n);
  return out;
}

Result<std::string> DecompressBlock(std::string_view compressed, uint64_t raw_length) {
  thread_local std::unique_ptr<ZSTD_DCtx, size_t (*)(ZSTD_DCtx*)> ctx(ZSTD_createDCtx(),
                                                                      ZSTD_freeDCtx);
  unsigned long long frame = ZSTD_getFrameContentSize(compressed.data(), compressed.size());
  if (frame == ZSTD_CONTENTSIZE_ERROR || frame != raw_length) {
    return Status::Corruption("column block is not a zstd frame of the recorded length");
  }
  std::string out(raw_length, '\0');
  size_t n =
      ZSTD_decompressDCtx(ctx.get(), out.data(), out.size(), compressed.data(), compressed.size());
  if (ZSTD_isError(n) || n != raw_length) {
    return Status::Corruption(std::string("zstd: ") +
                              (ZSTD_isError(n) ? ZSTD_getErrorName(n) : "short block"));
  }
  return out;
}

std::unique_ptr<ColumnEncoder> NewColumnEncoder(Column c) {
  switch (WriterEncoding(c)) {
    case Encoding::kDeltaVarint:
      return std::make_unique<DeltaVarintEncoder>(c);
    case Encoding::kBytes:
      return std::make_unique<TypeEncoder>();
    case Encoding::kDictionary:
      return std::make_unique<DictionaryEncoder>(c);
    case Encoding::kStrings:
      return std::make_unique<StringsEncoder>(c);
    case Encoding::kIdentifiers:
      return std::make_unique<IdentifiersEncoder>();
    case Encoding::kOptionalDouble:
      return std::make_unique<OptionalDoubleEncoder>(c);
    case Encoding::kVarint:
      return std::make_unique<VarintEncoder>(c);
  }
  return nullptr;  // unreachable: WriterEncoding covers every column
}

std::unique_ptr<DecodedColumn> NewDictionaryColumn(Column column, std::vector<std::string> dict,
                                                   std::vector<uint32_t> codes) {
  return std::make_unique<DictionaryColumn>(column, std::move(dict), std::move(codes));
}

Result<std::unique_ptr<DecodedColumn>> BuildColumn(Column column, const std::vector<Event>& events) {
  auto encoder = NewColumnEncoder(column);
  for (const Event& e : events) encoder->Append(e);
  const Encoding encoding = encoder->encoding();
  return DecodeColumn(column, encoding, encoder->Finish(), events.size());
}

Result<std::vector<int64_t>> DecodeDeltaVarint(std::string_view raw, size_t rows) {
  if (rows > raw.size()) return Status::Corruption("delta varint block shorter than its rows");
  Decoder d(raw);
  std::vector<int64_t> values(rows);
  uint64_t prev = 0;
  for (auto& v : values) {
    uint64_t z;
    if (!d.GetVarint64(&z)) return Status::Corruption("truncated delta varint block");
    prev += static_cast<uint64_t>(UnZigZag(z));
    v = static_cast<int64_t>(prev);
  }
  if (!d.done()) return Status::Corruption("trailing bytes in delta varint block");
  return values;
}

Result<std::unique_ptr<DecodedColumn>> DecodeColumn(Column c, Encoding encoding, std::string raw,
                                                    size_t rows) {
  if (!EncodingFits(c, encoding)) return Bad(c, "unexpected encoding");
  switch (encoding) {
    case Encoding::kDeltaVarint: {
      auto values = DecodeDeltaVarint(raw, rows);
      if (!values.ok()) return Bad(c, values.status().message());
      return std::unique_ptr<DecodedColumn>(new Int64Column(c, std::move(*values)));
    }
    case Encoding::kBytes:
      if (raw.size() != rows) return Bad(c, "byte column length differs from row count");
      for (char t : raw) {
        if (static_cast<uint8_t>(t) >= kEventTypeCount) return Bad(c, "unknown event type");
      }
      return std::unique_ptr<DecodedColumn>(new TypeColumn(std::move(raw)));
    case Encoding::kDictionary:
      return DecodeDictionaryColumn(c, raw, rows);
    case Encoding::kStrings:
      return DecodeStringsColumn(c, std::move(raw), rows);
    case Encoding::kIdentifiers:
      return DecodeIdentifiersColumn(std::move(raw), rows);
    case Encoding::kOptionalDouble:
      return DecodeOptionalDoubleColumn(c, raw, rows);
    case Encoding::kVarint: {
      Decoder d(raw);
      std::vector<uint32_t> values;
      if (!GetCodes(&d, rows, uint64_t{1} << 32, &values) || !d.done()) {
        return Bad(c, "malformed varint block");
      }
      return std::unique_ptr<DecodedColumn>(new UInt32Column(c, std::move(values)));
    }
  }
  return Bad(c, "unknown encoding");
}

}  // namespace quanyu::store::internal
