// Bulk import of files into the engine: Segment-format JSONL, CSV with a
// column mapping (collect/csv_import.h), and ad-spend CSV. Rejected lines go
// to a reject file ("line<TAB>reason<TAB>message"); events without a
// messageId get one derived from the source and the line's content, so
// re-running the same file imports nothing twice.
//
// Thread-safety: each call is independent; uses several threads internally.
#pragma once

#include <cstdint>
#include <functional>
#include <string>

#include "common/result.h"
#include "engine/engine.h"

namespace quanyu {

struct ImportOptions {
  std::string source;  // source name the events are attributed to (created if missing)
  std::string source_type = "import";
  std::string format;       // "jsonl" or "csv" ("" = from the file extension)
  std::string csv_mapping;  // see collect/csv_import.h
  std::string csv_event;    // default event name for CSV rows
  std::string csv_type = "track";
  std::string reject_path;  // "" = <file>.rejects
  int threads = 0;          // 0 = one per core
  size_t batch_events = 5000;
};

struct ImportReport {
  uint64_t lines = 0;
  uint64_t accepted = 0;
  uint64_t duplicates = 0;
  uint64_t rejected = 0;
  std::string reject_path;  // written only when rejected > 0
  double seconds = 0;
};

// Called now and then with (bytes read, events accepted so far).
using ImportProgressFn =
    std::function<void(uint64_t bytes_done, uint64_t total_bytes, uint64_t events)>;

Result<ImportReport> ImportEventsFile(Engine* engine, const std::string& path,
                                      const ImportOptions& options,
                                      const ImportProgressFn& progress = nullptr);

struct SpendImportReport {
  uint64_t rows = 0;
  uint64_t rejected = 0;
  std::string reject_path;
};

// CSV with header: date,channel,campaign,spend,impressions,clicks (campaign,
// impressions and clicks may be empty). Upserts by (date, channel, campaign).
Result<SpendImportReport> ImportSpendFile(Engine* engine, const std::string& path,
                                          const std::string& reject_path = "");

}  // namespace quanyu
