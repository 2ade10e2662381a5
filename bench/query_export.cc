// query_export: writes a data directory's events, each with the one_id its
// person resolves to now, as TSV for the peer engines of the query benchmark
// (bench/query_peers.sh, issue 4). `quanyu export events` writes Segment JSONL,
// which has no resolved person; this tool opens the directory through the
// Engine and scans with ScanRequest::one_ids = the identity graph's one_ids(),
// exactly as Engine::PersonEvents does, so the peers see the persons the
// native queries see.
//
//   query_export --data=DIR [--output=FILE]   (default: stdout)
//
// Output: no header; one line per stored event, in scan order (segments are
// time-ordered, events across persons are not), columns separated by a tab:
//   one_id    uint32, 0 = no identifier resolved (the queries exclude it)
//   ts        int64, microseconds since the epoch, UTC (event time)
//   event     the event name as stored (track name, or page/screen name such as
//             "Landing"); the type ("identify", "page", ...) when the name is empty
//   type      EventTypeName: "track", "page", "screen", "identify", ...
//   channel   as classified at ingest (docs/channels.md)
//   source    source name
//   campaign  utm campaign name, "" if none
//   revenue   shortest round-trip decimal, or \N (the TSV NULL of ClickHouse
//             and DuckDB's nullstr) if the event has none
// Tabs, newlines, carriage returns and backslashes inside text fields are
// replaced by a space, so the file needs no escaping in either reader.
//
// Run, not asserted (bench/query_peers.sh).
#include <cerrno>
#include <charconv>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <memory>
#include <string>
#include <string_view>

#include "common/config.h"
#include "common/event.h"
#include "engine/engine.h"
#include "store/event_store.h"

namespace quanyu {
namespace {

struct Flags {
  std::string data;
  std::string output = "-";
};

bool ParseFlags(int argc, char** argv, Flags* f) {
  for (int i = 1; i < argc; ++i) {
    std::string_view arg = argv[i];
    if (arg.starts_with("--data=")) {
      f->data = arg.substr(7);
    } else if (arg.starts_with("--output=")) {
      f->output = arg.substr(9);
    } else {
      return false;
    }
  }
  return !f->data.empty() && !f->output.empty();
}

// Appends `text` with the TSV-breaking bytes replaced by a space.
void AppendField(std::string_view text, std::string* out) {
  for (char c : text) out->push_back(c == '\t' || c == '\n' || c == '\r' || c == '\\' ? ' ' : c);
}

template <class T>
void AppendNumber(T value, std::string* out) {
  char buf[32];
  auto r = std::to_chars(buf, buf + sizeof buf, value);
  out->append(buf, r.ptr);
}

void AppendRow(const Event& e, std::string* out) {
  AppendNumber(e.one_id, out);
  out->push_back('\t');
  AppendNumber(e.timestamp_us, out);
  out->push_back('\t');
  std::string_view type = EventTypeName(e.type);
  AppendField(e.name.empty() ? type : std::string_view(e.name), out);
  out->push_back('\t');
  out->append(type);
  out->push_back('\t');
  AppendField(e.channel, out);
  out->push_back('\t');
  AppendField(e.source, out);
  out->push_back('\t');
  AppendField(e.campaign.name, out);
  out->push_back('\t');
  if (e.revenue) {
    AppendNumber(*e.revenue, out);
  } else {
    out->append("\\N");
  }
  out->push_back('\n');
}

int Run(const Flags& flags) {
  auto start = std::chrono::steady_clock::now();
  Config config;
  ApplyEnvironment(&config);
  config.data_dir = flags.data;
  auto opened = Engine::Open(config);
  if (!opened.ok()) {
    std::fprintf(stderr, "query_export: %s\n", opened.status().ToString().c_str());
    return 1;
  }
  std::unique_ptr<Engine> engine = std::move(*opened);
  FILE* out = flags.output == "-" ? stdout : std::fopen(flags.output.c_str(), "wb");
  if (!out) {
    std::fprintf(stderr, "query_export: cannot write %s: %s\n", flags.output.c_str(),
                 std::strerror(errno));
    return 1;
  }
  store::ScanRequest scan;
  scan.columns = {store::Column::kTimestamp, store::Column::kType,   store::Column::kName,
                  store::Column::kChannel,   store::Column::kSource, store::Column::kCampaignName,
                  store::Column::kRevenue};
  scan.one_ids = &engine->identity().one_ids();
  uint64_t rows = 0, unresolved = 0;
  std::string text;
  Status st = engine->ScanEvents(scan, [&](const store::EventBatch& batch) -> Status {
    text.clear();
    for (const Event& e : batch) {
      AppendRow(e, &text);
      unresolved += e.one_id == 0;
    }
    rows += batch.size();
    if (std::fwrite(text.data(), 1, text.size(), out) != text.size()) {
      return Status::IOError("write failed: " + flags.output);
    }
    return Status::OK();
  });
  if (std::fflush(out) != 0 && st.ok()) st = Status::IOError("write failed: " + flags.output);
  if (out != stdout) std::fclose(out);
  if (!st.ok()) {
    std::fprintf(stderr, "query_export: %s\n", st.ToString().c_str());
    return 1;
  }
  Status closed = engine->Close();
  if (!closed.ok()) std::fprintf(stderr, "query_export: close: %s\n", closed.ToString().c_str());
  double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  std::fprintf(stderr, "query_export: %llu events (%llu without a person) in %.1f s\n",
               static_cast<unsigned long long>(rows), static_cast<unsigned long long>(unresolved),
               seconds);
  return 0;
}

}  // namespace
}  // namespace quanyu

int main(int argc, char** argv) {
  quanyu::Flags flags;
  if (!quanyu::ParseFlags(argc, argv, &flags)) {
    std::fprintf(stderr, "usage: query_export --data=DIR [--output=FILE]\n");
    return 2;
  }
  return quanyu::Run(flags);
}
