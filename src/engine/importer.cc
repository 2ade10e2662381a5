#include "engine/importer.h"

#include <fmt/format.h>

#include <atomic>
#include <chrono>
#include <cmath>
#include <fstream>
#include <mutex>
#include <sstream>
#include <thread>

#include "collect/csv_import.h"
#include "collect/segment_format.h"
#include "common/hash.h"
#include "common/time_util.h"

namespace quanyu {
namespace {

struct Line {
  int64_t number;
  std::string_view text;
};

Result<std::string> ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return Status::NotFound("cannot open " + path);
  std::string data;
  in.seekg(0, std::ios::end);
  data.resize(static_cast<size_t>(in.tellg()));
  in.seekg(0);
  in.read(data.data(), static_cast<std::streamsize>(data.size()));
  if (!in) return Status::IOError("cannot read " + path);
  return data;
}

// "imp-" + 32 hex digits of XXH3-128(source, content): stable across runs.
std::string ContentMessageId(std::string_view source, std::string_view content) {
  std::string key(source);
  key.push_back('\0');
  key.append(content);
  Hash128 h = Hash128Of(key);
  return fmt::format("imp-{:016x}{:016x}", h.hi, h.lo);
}

class RejectWriter {
 public:
  explicit RejectWriter(std::string path) : path_(std::move(path)) {}
  void Add(int64_t line, std::string_view reason, std::string_view message) {
    std::lock_guard lock(mu_);
    if (!out_.is_open()) out_.open(path_, std::ios::trunc);
    out_ << line << '\t' << reason << '\t' << message << '\n';
    ++count_;
  }
  uint64_t count() const { return count_; }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
  std::mutex mu_;
  std::ofstream out_;
  uint64_t count_ = 0;
};

void SplitReason(const Status& st, std::string* reason, std::string* message) {
  const std::string& m = st.message();
  auto colon = m.find(": ");
  if (colon != std::string::npos && colon < 32 && m.find(' ') > colon) {
    *reason = m.substr(0, colon);
    *message = m.substr(colon + 2);
  } else {
    *reason = "invalid_row";
    *message = m;
  }
}

}  // namespace

Result<ImportReport> ImportEventsFile(Engine* engine, const std::string& path,
                                      const ImportOptions& options,
                                      const ImportProgressFn& progress) {
  auto start = std::chrono::steady_clock::now();
  std::string format = options.format;
  if (format.empty()) format = path.ends_with(".csv") ? "csv" : "jsonl";
  if (format != "jsonl" && format != "csv") {
    return Status::InvalidArgument("unknown import format \"" + format + "\" (jsonl or csv)");
  }
  if (options.source.empty())
    return Status::InvalidArgument("an import needs a source name (--source)");
  bool exists = false;
  for (const auto& s : engine->ListSources()) exists |= s.name == options.source;
  if (!exists) {
    auto added = engine->AddSource(options.source, options.source_type);
    if (!added.ok()) return added.status();
  }
  collect::SourceInfo source{options.source, options.source_type};
  for (const auto& s : engine->ListSources()) {
    if (s.name == options.source) source.type = s.type;
  }

  ASSIGN_OR_RETURN(std::string data, ReadFile(path));
  RejectWriter rejects(options.reject_path.empty() ? path + ".rejects" : options.reject_path);
  ImportReport report;

  // Split into lines (JSONL) or CSV records.
  std::vector<Line> lines;
  std::vector<std::vector<std::string>> csv_records;
  std::vector<int64_t> csv_lines;
  collect::CsvMapping mapping;
  if (format == "jsonl") {
    std::string_view rest(data);
    int64_t number = 0;
    while (!rest.empty()) {
      auto nl = rest.find('\n');
      std::string_view line = rest.substr(0, nl);
      ++number;
      if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
      if (!line.empty()) lines.push_back({number, line});
      if (nl == std::string_view::npos) break;
      rest.remove_prefix(nl + 1);
    }
  } else {
    RETURN_IF_ERROR(collect::ParseCsv(data, &csv_records, &csv_lines));
    if (csv_records.empty())
      return Status::InvalidArgument(path + " is empty (a CSV needs a header row)");
    auto type = EventTypeFromName(options.csv_type);
    if (!type) return Status::InvalidArgument("unknown --type \"" + options.csv_type + "\"");
    ASSIGN_OR_RETURN(mapping, collect::ParseCsvMapping(options.csv_mapping, csv_records[0],
                                                       options.csv_event, *type));
  }
  size_t total = format == "jsonl" ? lines.size() : csv_records.size() - 1;
  report.lines = total;

  int threads = options.threads > 0
                    ? options.threads
                    : static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  std::atomic<size_t> next{0};
  std::atomic<uint64_t> accepted{0}, duplicates{0}, bytes_done{0};
  std::mutex error_mu;
  Status first_error;
  collect::Limits limits = engine->limits();
  int64_t received = SystemClock::Default()->NowMicros();

  auto worker = [&] {
    std::vector<Event> batch;
    batch.reserve(options.batch_events);
    for (;;) {
      size_t begin = next.fetch_add(options.batch_events);
      if (begin >= total) break;
      size_t end = std::min(total, begin + options.batch_events);
      uint64_t chunk_bytes = 0;
      batch.clear();
      for (size_t i = begin; i < end; ++i) {
        if (format == "jsonl") {
          const Line& line = lines[i];
          chunk_bytes += line.text.size() + 1;
          auto e = collect::ParseSegmentEvent(line.text, received, limits);
          if (!e.ok()) {
            std::string reason, message;
            SplitReason(e.status(), &reason, &message);
            rejects.Add(line.number, reason, message);
            continue;
          }
          if (e->message_id.empty()) e->message_id = ContentMessageId(source.name, line.text);
          batch.push_back(std::move(*e));
        } else {
          const auto& row = csv_records[i + 1];
          for (const auto& f : row) chunk_bytes += f.size() + 1;
          auto e = collect::CsvRowToEvent(row, mapping, received);
          if (!e.ok()) {
            rejects.Add(csv_lines[i + 1], "invalid_row", e.status().message());
            continue;
          }
          if (e->message_id.empty()) {
            std::string joined;
            for (const auto& f : row) joined += f + '\x1f';
            e->message_id = ContentMessageId(source.name, joined);
          }
          batch.push_back(std::move(*e));
        }
      }
      IngestResult r = engine->IngestFromSource(source, std::move(batch));
      batch = {};
      batch.reserve(options.batch_events);
      if (!r.status.ok()) {
        std::lock_guard lock(error_mu);
        if (first_error.ok()) first_error = r.status;
        next.store(total);
        break;
      }
      for (const auto& rej : r.rejected) rejects.Add(-1, rej.reason, rej.message);
      accepted += r.accepted;
      duplicates += r.duplicates;
      bytes_done += chunk_bytes;
    }
  };
  std::vector<std::thread> pool;
  for (int i = 1; i < threads; ++i) pool.emplace_back(worker);
  std::thread reporter;
  std::atomic<bool> done{false};
  if (progress) {
    reporter = std::thread([&] {
      while (!done) {
        progress(bytes_done.load(), data.size(), accepted.load());
        std::this_thread::sleep_for(std::chrono::milliseconds(100));
      }
    });
  }
  worker();
  for (auto& t : pool) t.join();
  done = true;
  if (reporter.joinable()) reporter.join();
  if (!first_error.ok()) return first_error;

  report.accepted = accepted;
  report.duplicates = duplicates;
  report.rejected = rejects.count();
  if (report.rejected) report.reject_path = rejects.path();
  report.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return report;
}

Result<SpendImportReport> ImportSpendFile(Engine* engine, const std::string& path,
                                          const std::string& reject_path) {
  ASSIGN_OR_RETURN(std::string data, ReadFile(path));
  std::vector<std::vector<std::string>> records;
  std::vector<int64_t> line_numbers;
  RETURN_IF_ERROR(collect::ParseCsv(data, &records, &line_numbers));
  if (records.empty()) return Status::InvalidArgument(path + " is empty");
  const auto& header = records[0];
  auto col = [&](std::string_view name) -> int {
    for (size_t i = 0; i < header.size(); ++i) {
      if (header[i] == name) return static_cast<int>(i);
    }
    return -1;
  };
  int c_date = col("date"), c_channel = col("channel"), c_campaign = col("campaign"),
      c_spend = col("spend"), c_impr = col("impressions"), c_clicks = col("clicks");
  if (c_date < 0 || c_channel < 0 || c_spend < 0) {
    return Status::InvalidArgument(
        "spend CSV needs a header with date, channel and spend (campaign, impressions, clicks "
        "optional)");
  }
  RejectWriter rejects(reject_path.empty() ? path + ".rejects" : reject_path);
  std::vector<store::SpendRow> rows;
  auto field = [](const std::vector<std::string>& r, int c) -> std::string {
    return c >= 0 && c < static_cast<int>(r.size()) ? r[c] : std::string();
  };
  for (size_t i = 1; i < records.size(); ++i) {
    const auto& r = records[i];
    store::SpendRow row;
    std::string date = field(r, c_date);
    auto t = ParseTimestamp(date);
    if (!t.ok() || date.size() != 10) {
      rejects.Add(line_numbers[i], "invalid_date", "date must be YYYY-MM-DD, got \"" + date + "\"");
      continue;
    }
    row.date = date;
    row.channel = field(r, c_channel);
    if (row.channel.empty()) {
      rejects.Add(line_numbers[i], "missing_channel", "channel is empty");
      continue;
    }
    row.campaign = field(r, c_campaign);
    auto number = [&](int c, const char* name, double* out) -> bool {
      std::string v = field(r, c);
      if (v.empty()) return true;
      char* end = nullptr;
      double d = std::strtod(v.c_str(), &end);
      if (end != v.c_str() + v.size() || d < 0 || !std::isfinite(d)) {
        rejects.Add(line_numbers[i], "invalid_number",
                    std::string(name) + " must be a non-negative number, got \"" + v + "\"");
        return false;
      }
      *out = d;
      return true;
    };
    double spend = 0, impressions = 0, clicks = 0;
    if (field(r, c_spend).empty()) {
      rejects.Add(line_numbers[i], "missing_spend", "spend is empty");
      continue;
    }
    if (!number(c_spend, "spend", &spend) || !number(c_impr, "impressions", &impressions) ||
        !number(c_clicks, "clicks", &clicks)) {
      continue;
    }
    row.spend = spend;
    row.impressions = static_cast<int64_t>(impressions);
    row.clicks = static_cast<int64_t>(clicks);
    rows.push_back(std::move(row));
  }
  RETURN_IF_ERROR(engine->ImportSpend(rows));
  SpendImportReport report;
  report.rows = rows.size();
  report.rejected = rejects.count();
  if (report.rejected) report.reject_path = rejects.path();
  return report;
}

}  // namespace quanyu
