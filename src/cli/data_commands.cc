// quanyu import | import-spend | export events | sim
#include <chrono>
#include <cstdio>
#include <fstream>

#include "cli/commands.h"
#include "cli/progress.h"
#include "cli/sim_runner.h"
#include "collect/segment_writer.h"
#include "common/time_util.h"
#include "engine/engine.h"
#include "engine/importer.h"

namespace quanyu::cli {

void RegisterImport(CLI::App& app) {
  auto* cmd = app.add_subcommand("import", "Import events from Segment-format JSONL or CSV");
  struct Flags {
    std::string file, data, config;
    ImportOptions options;
  };
  auto f = std::make_shared<Flags>();
  f->options.source = "import";
  cmd->add_option("file", f->file, "JSONL or CSV file")->required()->check(CLI::ExistingFile);
  cmd->add_option("--data", f->data, "Data directory")->required();
  cmd->add_option("--config", f->config, "quanyu.toml")->check(CLI::ExistingFile);
  cmd->add_option("--source", f->options.source,
                  "Source name the events come from (created if missing)")
      ->capture_default_str();
  cmd->add_option("--source-type", f->options.source_type,
                  "Type of a newly created source (pos, crm, ...)")
      ->capture_default_str();
  cmd->add_option("--format", f->options.format, "jsonl or csv (default: from the extension)");
  cmd->add_option("--map", f->options.csv_mapping,
                  "CSV column mapping: column=field,... (fields: timestamp, event, user_id, "
                  "id.phone, revenue, order_id, trait.NAME, property.NAME...)");
  cmd->add_option("--event", f->options.csv_event,
                  "Event name for CSV rows without an event column");
  cmd->add_option("--type", f->options.csv_type, "Event type for CSV rows (track, identify...)")
      ->capture_default_str();
  cmd->add_option("--rejects", f->options.reject_path, "Reject file (default FILE.rejects)");
  cmd->callback([f] {
    auto config = LoadEffectiveConfig(f->config, f->data);
    if (!config.ok()) return Fail(config.status());
    auto engine = Engine::Open(*config);
    if (!engine.ok()) return Fail(engine.status());
    Progress progress("import", 0, "bytes");
    bool started = false;
    auto report = ImportEventsFile(engine->get(), f->file, f->options,
                                   [&](uint64_t done, uint64_t total, uint64_t events) {
                                     if (!started) {
                                       progress = Progress("import", total, "bytes");
                                       started = true;
                                     }
                                     progress.Update(done, events);
                                   });
    if (!report.ok()) return Fail(report.status());
    Status st = (*engine)->Close();
    if (!st.ok()) return Fail(st);
    progress.Finish(report->accepted, "events");
    std::printf("imported %llu events from %llu lines: %llu duplicates skipped, %llu rejected\n",
                static_cast<unsigned long long>(report->accepted),
                static_cast<unsigned long long>(report->lines),
                static_cast<unsigned long long>(report->duplicates),
                static_cast<unsigned long long>(report->rejected));
    if (report->rejected) {
      std::printf("rejected lines (line, reason, message) written to %s\n",
                  report->reject_path.c_str());
    }
  });

  auto* spend = app.add_subcommand(
      "import-spend", "Import ad spend CSV (date,channel,campaign,spend,impressions,clicks)");
  auto sf = std::make_shared<Flags>();
  spend->add_option("file", sf->file, "CSV file")->required()->check(CLI::ExistingFile);
  spend->add_option("--data", sf->data, "Data directory")->required();
  spend->add_option("--rejects", sf->options.reject_path, "Reject file (default FILE.rejects)");
  spend->callback([sf] {
    auto config = LoadEffectiveConfig(sf->config, sf->data);
    if (!config.ok()) return Fail(config.status());
    auto engine = Engine::Open(*config);
    if (!engine.ok()) return Fail(engine.status());
    auto report = ImportSpendFile(engine->get(), sf->file, sf->options.reject_path);
    if (!report.ok()) return Fail(report.status());
    std::printf("imported %llu spend rows, %llu rejected\n",
                static_cast<unsigned long long>(report->rows),
                static_cast<unsigned long long>(report->rejected));
    if (report->rejected) std::printf("rejected rows written to %s\n", report->reject_path.c_str());
    Status st = (*engine)->Close();
    if (!st.ok()) Fail(st);
  });
}

void RegisterExport(CLI::App& app) {
  auto* cmd = app.add_subcommand("export", "Export stored data");
  cmd->require_subcommand(1);
  auto* events = cmd->add_subcommand("events", "Write stored events as Segment-format JSONL");
  struct Flags {
    std::string data, from, to, output = "-";
  };
  auto f = std::make_shared<Flags>();
  events->add_option("--data", f->data, "Data directory")->required();
  events->add_option("--from", f->from, "Start time, inclusive (ISO-8601)");
  events->add_option("--to", f->to, "End time, exclusive (ISO-8601)");
  events->add_option("--output,-o", f->output, "Output file (- = stdout)")->capture_default_str();
  events->callback([f] {
    auto config = LoadEffectiveConfig("", f->data);
    if (!config.ok()) return Fail(config.status());
    store::ScanRequest scan;
    if (!f->from.empty()) {
      auto t = ParseTimestamp(f->from);
      if (!t.ok()) return Fail(t.status().WithContext("--from"));
      scan.from_us = *t;
    }
    if (!f->to.empty()) {
      auto t = ParseTimestamp(f->to);
      if (!t.ok()) return Fail(t.status().WithContext("--to"));
      scan.to_us = *t;
    }
    auto engine = Engine::Open(*config);
    if (!engine.ok()) return Fail(engine.status());
    FILE* out = f->output == "-" ? stdout : std::fopen(f->output.c_str(), "wb");
    if (!out) return Fail(Status::IOError("cannot write " + f->output));
    uint64_t n = 0;
    std::string text;
    Status st = (*engine)->ScanEvents(scan, [&](const store::EventBatch& batch) -> Status {
      text.clear();
      for (const auto& e : batch) {
        collect::AppendSegmentJson(e, &text);
        text.push_back('\n');
      }
      text = (*engine)->RevealPii(text);  // an export leaves Quanyu in plaintext
      n += batch.size();
      if (std::fwrite(text.data(), 1, text.size(), out) != text.size()) {
        return Status::IOError("write failed");
      }
      return Status::OK();
    });
    if (out != stdout)
      std::fclose(out);
    else
      std::fflush(out);
    if (!st.ok()) return Fail(st);
    std::fprintf(stderr, "exported %llu events\n", static_cast<unsigned long long>(n));
  });
}

void RegisterCompact(CLI::App& app) {
  auto* cmd = app.add_subcommand(
      "compact", "Merge each day's small event segments into large ones (faster queries)");
  struct Flags {
    std::string data;
  };
  auto f = std::make_shared<Flags>();
  cmd->add_option("--data", f->data, "Data directory")->required();
  cmd->callback([f] {
    auto config = LoadEffectiveConfig("", f->data);
    if (!config.ok()) return Fail(config.status());
    auto engine = Engine::Open(*config);
    if (!engine.ok()) return Fail(engine.status());
    Status flushed = (*engine)->Checkpoint();
    if (!flushed.ok()) return Fail(flushed);
    const auto start = std::chrono::steady_clock::now();
    auto done = (*engine)->Compact(true);
    if (!done.ok()) return Fail(done.status());
    const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    std::printf("merged %llu segments into %llu (%llu events) in %.1f s\n",
                static_cast<unsigned long long>(done->segments_in),
                static_cast<unsigned long long>(done->segments_out),
                static_cast<unsigned long long>(done->rows), s);
  });
}

void RegisterSim(CLI::App& app) {
  auto* cmd = app.add_subcommand("sim", "Generate a deterministic synthetic omni-channel world");
  struct Flags {
    std::string data, output, truth, spend;
    SimRunOptions options;
  };
  auto f = std::make_shared<Flags>();
  cmd->add_option("--persons", f->options.sim.persons, "Number of persons")->capture_default_str();
  cmd->add_option("--days", f->options.sim.days, "Days of activity")->capture_default_str();
  cmd->add_option("--seed", f->options.sim.seed, "Random seed")->capture_default_str();
  cmd->add_option("--threads", f->options.sim.threads, "Threads (0 = one per core)")
      ->capture_default_str();
  auto* data = cmd->add_option("--data", f->data, "Load into this data directory");
  auto* output = cmd->add_option("--output,-o", f->output, "Write Segment JSONL here (- = stdout)");
  data->excludes(output);
  cmd->add_option("--truth", f->truth,
                  "Ground truth JSON (default DATA.sim_truth.json beside the data directory, or OUTPUT.truth.json)");
  cmd->add_option("--spend", f->spend, "Also write the ad spend CSV here");
  cmd->callback([f] {
    if (f->data.empty() && f->output.empty()) {
      return Fail(Status::InvalidArgument("give --data DIR (load) or --output FILE (JSONL)"));
    }
    SimRunOptions options = f->options;
    options.spend_path = f->spend;
    if (!f->data.empty()) {
      options.truth_path = f->truth.empty() ? DefaultTruthPath(f->data) : f->truth;
      auto config = LoadEffectiveConfig("", f->data);
      if (!config.ok()) return Fail(config.status());
      auto engine = Engine::Open(*config);
      if (!engine.ok()) return Fail(engine.status());
      auto r = RunSimIntoEngine(engine->get(), options);
      if (!r.ok()) return Fail(r.status());
      Status st = (*engine)->Close();
      if (!st.ok()) return Fail(st);
      std::fprintf(stderr, "loaded %lld persons, %lld events into %s; ground truth in %s\n",
                   static_cast<long long>(r->persons), static_cast<long long>(r->events),
                   f->data.c_str(), options.truth_path.c_str());
    } else {
      options.truth_path =
          !f->truth.empty() ? f->truth : (f->output == "-" ? "" : f->output + ".truth.json");
      auto r = RunSimToJsonl(f->output, options);
      if (!r.ok()) return Fail(r.status());
    }
  });
}

}  // namespace quanyu::cli
