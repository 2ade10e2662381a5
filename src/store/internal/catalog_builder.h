// CatalogBuilder: summarizes many rows into an EventCatalog quickly — the
// per-row work of the store's catalog (store/catalog.h). A row costs a hash
// lookup of its name and one of each top-level key of its properties; no
// string is built unless a name or key is new.
//
// Also the two light parsers the builder runs per row: the name and
// properties of a row in the log's encoding (without decoding the rest of
// the event), and the top-level keys of a JSON object (without parsing the
// values).
//
// Not synchronized: one builder per thread.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <unordered_set>

#include "common/result.h"
#include "store/catalog.h"
#include "store/internal/row_chunk.h"
#include "store/internal/segment_reader.h"

namespace quanyu::store::internal {

class CatalogBuilder {
 public:
  // One event named `name` at `timestamp_us` whose properties_json is
  // `properties` ("" or a JSON object; anything else adds no keys).
  void AddRow(std::string_view name, int64_t timestamp_us, std::string_view properties);
  // Every row of a buffered chunk. A row that does not decode is skipped and
  // counted in skipped_rows() (a flush of it fails anyway, loudly).
  void AddChunk(const RowChunk& chunk);
  // Every row of a segment's decoded name, timestamp and properties columns.
  // REQUIRES: rows were loaded with at least those three columns.
  void AddSegmentRows(const SegmentRows& rows);

  // Adds what was accumulated to *catalog (EventCatalog::Merge rules).
  void MergeInto(EventCatalog* catalog) const;
  EventCatalog Build() const {
    EventCatalog c;
    MergeInto(&c);
    return c;
  }
  uint64_t skipped_rows() const { return skipped_rows_; }

 private:
  struct TextHash {
    using is_transparent = void;
    size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
  };
  using KeySet = std::unordered_set<std::string, TextHash, std::equal_to<>>;
  struct Entry {
    uint64_t count = 0;
    int64_t first_us = 0, last_us = 0;
    KeySet properties;
    bool properties_complete = true;
  };

  Entry* EntryFor(std::string_view name);
  void AddKey(Entry* e, std::string_view raw_key, bool escaped);

  std::unordered_map<std::string, Entry, TextHash, std::equal_to<>> entries_;
  bool events_complete_ = true;
  uint64_t skipped_rows_ = 0;
  // The last name looked up: rows of one name often come in runs.
  std::string last_name_;
  Entry* last_entry_ = nullptr;
};

// The event name and properties_json of one row as RowChunk::Row gives it
// (docs/log_format.md), as views into `row`; false if the row is malformed
// or of another format version.
bool RowNameAndProperties(std::string_view row, std::string_view* name,
                          std::string_view* properties);

// Calls fn(key, escaped) for each top-level key of the JSON object `json`,
// in order; `key` is the raw text between the quotes, and `escaped` says it
// holds backslash escapes (decode with UnescapeJsonKey). Returns false — after
// the keys before the defect — if `json` is not a well-formed object at the
// top level (nested values are skipped, not validated).
template <typename Fn>
bool ForEachTopLevelKey(std::string_view json, Fn&& fn);

// The string a raw key with escapes stands for; nullopt if malformed.
std::optional<std::string> UnescapeJsonKey(std::string_view raw);

// ---- Implementation details -----------------------------------------------

namespace detail {
size_t SkipBlanks(std::string_view s, size_t i);
// Index just past the string whose opening quote is at i - 1; npos if
// unterminated. *escaped is set if it holds a backslash.
size_t SkipStringBody(std::string_view s, size_t i, bool* escaped);
// Index just past the JSON value starting at i (after blanks); npos if
// malformed.
size_t SkipValue(std::string_view s, size_t i);
}  // namespace detail

template <typename Fn>
bool ForEachTopLevelKey(std::string_view s, Fn&& fn) {
  size_t i = detail::SkipBlanks(s, 0);
  if (i >= s.size() || s[i] != '{') return false;
  i = detail::SkipBlanks(s, i + 1);
  if (i < s.size() && s[i] == '}') return true;
  for (;;) {
    if (i >= s.size() || s[i] != '"') return false;
    bool escaped = false;
    const size_t end = detail::SkipStringBody(s, i + 1, &escaped);
    if (end == std::string_view::npos) return false;
    fn(s.substr(i + 1, end - i - 2), escaped);
    i = detail::SkipBlanks(s, end);
    if (i >= s.size() || s[i] != ':') return false;
    i = detail::SkipValue(s, i + 1);
    if (i == std::string_view::npos) return false;
    i = detail::SkipBlanks(s, i);
    if (i >= s.size()) return false;
    if (s[i] == '}') return true;
    if (s[i] != ',') return false;
    i = detail::SkipBlanks(s, i + 1);
  }
}

}  // namespace quanyu::store::internal
