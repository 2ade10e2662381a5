#include "store/internal/catalog_builder.h"

#include <cstring>
#include <nlohmann/json.hpp>

#include "common/coding.h"

namespace quanyu::store::internal {
namespace detail {

size_t SkipBlanks(std::string_view s, size_t i) {
  while (i < s.size() && (s[i] == ' ' || s[i] == '\t' || s[i] == '\n' || s[i] == '\r')) ++i;
  return i;
}

size_t SkipStringBody(std::string_view s, size_t i, bool* escaped) {
  const size_t start = i;
  for (;;) {
    const void* q = i < s.size() ? std::memchr(s.data() + i, '"', s.size() - i) : nullptr;
    if (q == nullptr) return std::string_view::npos;
    const size_t pos = static_cast<const char*>(q) - s.data();
    size_t backslashes = 0;
    while (pos - backslashes > start && s[pos - backslashes - 1] == '\\') ++backslashes;
    if (backslashes % 2 == 0) {
      *escaped = std::memchr(s.data() + start, '\\', pos - start) != nullptr;
      return pos + 1;
    }
    i = pos + 1;  // an escaped quote
  }
}

size_t SkipValue(std::string_view s, size_t i) {
  i = SkipBlanks(s, i);
  if (i >= s.size()) return std::string_view::npos;
  bool escaped;
  const char c = s[i];
  if (c == '"') return SkipStringBody(s, i + 1, &escaped);
  if (c == '{' || c == '[') {
    size_t depth = 0;
    for (size_t j = i; j < s.size();) {
      switch (s[j]) {
        case '"':
          j = SkipStringBody(s, j + 1, &escaped);
          if (j == std::string_view::npos) return j;
          continue;
        case '{':
        case '[':
          ++depth;
          break;
        case '}':
        case ']':
          if (--depth == 0) return j + 1;
          break;
        default:
          break;
      }
      ++j;
    }
    return std::string_view::npos;
  }
  size_t j = i;
  while (j < s.size() && std::strchr(",}] \t\r\n", s[j]) == nullptr) ++j;
  return j == i ? std::string_view::npos : j;
}

}  // namespace detail

std::optional<std::string> UnescapeJsonKey(std::string_view raw) {
  std::string quoted;
  quoted.reserve(raw.size() + 2);
  quoted.push_back('"');
  quoted.append(raw);
  quoted.push_back('"');
  auto j = nlohmann::json::parse(quoted, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded() || !j.is_string()) return std::nullopt;
  return j.get<std::string>();
}

bool RowNameAndProperties(std::string_view row, std::string_view* name,
                          std::string_view* properties) {
  // The layout of EncodeEvent, format version 1 (docs/log_format.md).
  constexpr uint8_t kVersion = 1;
  Decoder outer(row);
  std::string_view body;
  if (!outer.GetLengthPrefixed(&body)) return false;
  Decoder d(body);
  uint8_t version, type, present;
  int64_t ts, delta;
  uint64_t identifiers;
  std::string_view skip;
  if (!d.GetByte(&version) || version != kVersion || !d.GetVarsint64(&ts) ||
      !d.GetVarsint64(&delta) || !d.GetByte(&type) || !d.GetLengthPrefixed(name)) {
    return false;
  }
  for (int i = 0; i < 5; ++i) {  // message_id, source, channel, user_id, anonymous_id
    if (!d.GetLengthPrefixed(&skip)) return false;
  }
  if (!d.GetVarint64(&identifiers) || identifiers > d.remaining()) return false;
  for (uint64_t i = 0; i < identifiers * 3; ++i) {  // ns, scope, value
    if (!d.GetLengthPrefixed(&skip)) return false;
  }
  for (int i = 0; i < 7; ++i) {  // campaign source..content, referrer, url
    if (!d.GetLengthPrefixed(&skip)) return false;
  }
  if (!d.GetByte(&present)) return false;
  const int doubles = (present & 1) + (present >> 1 & 1) + (present >> 2 & 1);
  if (!d.GetBytes(8 * doubles, &skip)) return false;
  for (int i = 0; i < 3; ++i) {  // currency, order_id, product_id
    if (!d.GetLengthPrefixed(&skip)) return false;
  }
  return d.GetLengthPrefixed(properties);
}

CatalogBuilder::Entry* CatalogBuilder::EntryFor(std::string_view name) {
  if (last_entry_ != nullptr && name == last_name_) return last_entry_;
  auto it = entries_.find(name);
  if (it == entries_.end()) {
    if (entries_.size() >= EventCatalog::kMaxEvents) {
      events_complete_ = false;
      return nullptr;
    }
    it = entries_.emplace(std::string(name), Entry()).first;
  }
  last_name_.assign(name);
  last_entry_ = &it->second;
  return last_entry_;
}

void CatalogBuilder::AddKey(Entry* e, std::string_view raw_key, bool escaped) {
  std::optional<std::string> unescaped;
  std::string_view key = raw_key;
  if (escaped) {
    unescaped = UnescapeJsonKey(raw_key);
    if (!unescaped) return;
    key = *unescaped;
  }
  if (e->properties.find(key) != e->properties.end()) return;
  if (e->properties.size() >= EventCatalog::kMaxPropertiesPerEvent) {
    e->properties_complete = false;
    return;
  }
  e->properties.emplace(key);
}

void CatalogBuilder::AddRow(std::string_view name, int64_t timestamp_us,
                            std::string_view properties) {
  Entry* e = EntryFor(name);
  if (e == nullptr) return;
  if (e->count == 0) {
    e->first_us = e->last_us = timestamp_us;
  } else {
    e->first_us = std::min(e->first_us, timestamp_us);
    e->last_us = std::max(e->last_us, timestamp_us);
  }
  ++e->count;
  if (properties.empty()) return;
  ForEachTopLevelKey(properties,
                     [&](std::string_view key, bool escaped) { AddKey(e, key, escaped); });
}

void CatalogBuilder::AddChunk(const RowChunk& chunk) {
  std::string_view name, properties;
  Event decoded;
  for (size_t r = 0; r < chunk.size(); ++r) {
    if (RowNameAndProperties(chunk.Row(r), &name, &properties)) {
      AddRow(name, chunk.timestamps[r], properties);
    } else if (chunk.DecodeRow(r, &decoded).ok()) {  // another format version
      AddRow(decoded.name, chunk.timestamps[r], decoded.properties_json);
    } else {
      ++skipped_rows_;
    }
  }
}

void CatalogBuilder::AddSegmentRows(const SegmentRows& rows) {
  const DecodedColumn* names = rows.column(Column::kName);
  const DecodedColumn* times = rows.column(Column::kTimestamp);
  const DecodedColumn* props = rows.column(Column::kProperties);
  if (times == nullptr || times->Int64Data() == nullptr) return;
  const int64_t* ts = times->Int64Data();
  const uint32_t* codes = names != nullptr ? names->Codes() : nullptr;
  const std::vector<std::string>* dict = names != nullptr ? names->DictionaryValues() : nullptr;
  for (size_t r = rows.begin(); r < rows.end(); ++r) {
    std::string_view name;
    if (codes != nullptr && dict != nullptr) {
      name = (*dict)[codes[r]];
    } else if (names != nullptr) {
      name = names->StringAt(r);
    }
    AddRow(name, ts[r], props != nullptr ? props->StringAt(r) : std::string_view());
  }
}

void CatalogBuilder::MergeInto(EventCatalog* catalog) const {
  EventCatalog part;
  part.events_complete = events_complete_;
  for (const auto& [name, e] : entries_) {
    EventCatalog::Entry& out = part.events[name];
    out.count = e.count;
    out.first_us = e.first_us;
    out.last_us = e.last_us;
    out.properties.insert(e.properties.begin(), e.properties.end());
    out.properties_complete = e.properties_complete;
  }
  catalog->Merge(part);
}

}  // namespace quanyu::store::internal
