#include "store/internal/catalog_file.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <nlohmann/json.hpp>
#include <set>
#include <thread>

#include "store/internal/catalog_builder.h"
#include "store/internal/file.h"
#include "store/internal/segment_reader.h"

namespace quanyu::store::internal {
namespace {

using nlohmann::json;

std::string CatalogPath(const std::string& dir) { return dir + "/" + std::string(kCatalogName); }

}  // namespace

std::string EncodeCatalogFile(const CatalogFile& file) {
  json events = json::array();
  for (const auto& [name, e] : file.catalog.events) {
    events.push_back({{"name", name},
                      {"count", e.count},
                      {"first_us", e.first_us},
                      {"last_us", e.last_us},
                      {"properties", e.properties},
                      {"properties_complete", e.properties_complete}});
  }
  json j = {{"format_version", kCatalogFormatVersion},
            {"segments", file.segments},
            {"events_complete", file.catalog.events_complete},
            {"events", std::move(events)}};
  // Names and keys are UTF-8 when they were collected through the JSON
  // endpoints; a stray invalid byte (a CSV import) becomes U+FFFD rather
  // than failing the write.
  return j.dump(1, ' ', false, json::error_handler_t::replace) + "\n";
}

Result<CatalogFile> DecodeCatalogFile(std::string_view text) {
  try {
    json j = json::parse(text);
    if (j.at("format_version").get<int>() != kCatalogFormatVersion) {
      return Status::Corruption("unsupported catalog format_version");
    }
    CatalogFile f;
    f.segments = j.at("segments").get<std::vector<uint64_t>>();
    if (!std::is_sorted(f.segments.begin(), f.segments.end()) ||
        std::adjacent_find(f.segments.begin(), f.segments.end()) != f.segments.end()) {
      return Status::Corruption("catalog segments are not strictly ascending");
    }
    f.catalog.events_complete = j.at("events_complete").get<bool>();
    for (const auto& e : j.at("events")) {
      EventCatalog::Entry entry;
      entry.count = e.at("count").get<uint64_t>();
      entry.first_us = e.at("first_us").get<int64_t>();
      entry.last_us = e.at("last_us").get<int64_t>();
      entry.properties = e.at("properties").get<std::set<std::string>>();
      entry.properties_complete = e.at("properties_complete").get<bool>();
      auto name = e.at("name").get<std::string>();
      if (!f.catalog.events.emplace(name, std::move(entry)).second) {
        return Status::Corruption("catalog names event \"" + name + "\" twice");
      }
    }
    return f;
  } catch (const json::exception& e) {
    return Status::Corruption(std::string("malformed catalog: ") + e.what());
  }
}

Result<std::optional<CatalogFile>> ReadCatalogFile(const std::string& dir) {
  const std::string path = CatalogPath(dir);
  auto text = ReadWholeFile(path);
  if (!text.ok()) {
    if (text.status().code() == StatusCode::kNotFound) return std::optional<CatalogFile>();
    return text.status();
  }
  auto f = DecodeCatalogFile(*text);
  if (!f.ok()) return f.status().WithContext(path);
  return std::optional<CatalogFile>(std::move(*f));
}

Status WriteCatalogFile(const std::string& dir, const CatalogFile& file) {
  return WriteFileAtomically(CatalogPath(dir), EncodeCatalogFile(file));
}

Result<EventCatalog> ScanSegmentCatalog(const std::vector<CatalogSegment>& segments, int threads) {
  if (segments.empty()) return EventCatalog();
  const ColumnSet columns{Column::kTimestamp, Column::kName, Column::kProperties};
  const size_t workers =
      std::clamp<size_t>(static_cast<size_t>(std::max(threads, 1)), 1, segments.size());
  std::vector<CatalogBuilder> builders(workers);
  std::vector<Status> statuses(builders.size());
  std::atomic<size_t> next{0};
  auto work = [&](size_t w) {
    for (size_t k; (k = next.fetch_add(1)) < segments.size();) {
      const CatalogSegment& seg = segments[k];
      auto reader = SegmentReader::Open(seg.path, nullptr, seg.footer);
      if (!reader.ok()) {
        statuses[w] = reader.status();
        return;
      }
      auto rows = SegmentRows::Load(**reader, columns, INT64_MIN, INT64_MAX);
      if (!rows.ok()) {
        statuses[w] = rows.status();
        return;
      }
      builders[w].AddSegmentRows(*rows);
    }
  };
  std::vector<std::thread> pool;
  for (size_t w = 1; w < workers; ++w) pool.emplace_back(work, w);
  work(0);
  for (auto& t : pool) t.join();
  for (const Status& s : statuses) RETURN_IF_ERROR(s);
  EventCatalog out;
  for (const auto& b : builders) b.MergeInto(&out);
  return out;
}

Result<EventCatalog> RecoverCatalog(const std::string& dir,
                                    const std::vector<CatalogSegment>& segments, int threads) {
  const std::string tmp = CatalogPath(dir) + ".tmp";
  if (FileExists(tmp)) {
    if (Status s = RemoveFile(tmp); !s.ok()) {
      spdlog::warn("event store: cannot remove {} ({})", tmp, s.ToString());
    }
  }
  std::set<uint64_t> live;
  for (const auto& s : segments) live.insert(s.seq);

  // Either CATALOG is exact, or it is behind (scan what it misses), or it
  // cannot be used (scan everything).
  EventCatalog catalog;
  std::vector<CatalogSegment> missing = segments;
  std::string why;
  auto file = ReadCatalogFile(dir);
  if (!file.ok()) {
    why = "unreadable";
    spdlog::warn("event store: ignoring CATALOG ({}); rebuilding it from the segments",
                 file.status().ToString());
  } else if (!file->has_value()) {
    why = "missing";
  } else {
    const CatalogFile& f = **file;
    if (std::any_of(f.segments.begin(), f.segments.end(),
                    [&](uint64_t seq) { return !live.contains(seq); })) {
      why = "covers segments that are no longer live";
    } else {
      const std::set<uint64_t> covered(f.segments.begin(), f.segments.end());
      std::erase_if(missing, [&](const CatalogSegment& s) { return covered.contains(s.seq); });
      if (missing.empty()) return f.catalog;
      catalog = f.catalog;
      why = "behind the manifest";
    }
  }
  const auto start = std::chrono::steady_clock::now();
  ASSIGN_OR_RETURN(EventCatalog scanned, ScanSegmentCatalog(missing, threads));
  catalog.Merge(scanned);
  const double ms =
      std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
  if (!missing.empty()) {
    spdlog::info(
        "event store: CATALOG {}: read names and properties of {} of {} segments ({} events, "
        "{} names) in {:.0f} ms",
        why, missing.size(), segments.size(), scanned.TotalCount(), catalog.events.size(), ms);
  }
  CatalogFile out;
  out.segments.assign(live.begin(), live.end());
  out.catalog = catalog;
  if (Status s = WriteCatalogFile(dir, out); !s.ok()) {
    spdlog::warn("event store: cannot write CATALOG ({}); it will be rebuilt at the next open",
                 s.ToString());
  }
  return catalog;
}

}  // namespace quanyu::store::internal
