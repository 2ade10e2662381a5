#include "cli/sim_runner.h"

#include <atomic>
#include <cstdio>
#include <fstream>
#include <mutex>
#include <unordered_map>

#include "cli/progress.h"
#include "collect/segment_writer.h"

namespace quanyu::cli {
namespace {

Status WriteTextFile(const std::string& path, const std::string& text) {
  std::ofstream out(path, std::ios::trunc);
  if (!out) return Status::IOError("cannot write " + path);
  out << text;
  return out ? Status::OK() : Status::IOError("cannot write " + path);
}

Status WriteSpendCsv(const std::string& path, const std::vector<sim::SpendRow>& rows) {
  std::string text = "date,channel,campaign,spend,impressions,clicks\n";
  for (const auto& r : rows) {
    text += r.date + "," + r.channel + "," + r.campaign + "," + std::to_string(r.spend) + "," +
            std::to_string(r.impressions) + "," + std::to_string(r.clicks) + "\n";
  }
  return WriteTextFile(path, text);
}

Status WriteSideFiles(const sim::SimResult& r, const SimRunOptions& options) {
  if (!options.truth_path.empty())
    RETURN_IF_ERROR(WriteTextFile(options.truth_path, r.ground_truth_json));
  if (!options.spend_path.empty()) RETURN_IF_ERROR(WriteSpendCsv(options.spend_path, r.spend));
  return Status::OK();
}

}  // namespace

Result<sim::SimResult> RunSimIntoEngine(Engine* engine, const SimRunOptions& options) {
  // A bulk load is only safe into an empty store (see Engine::BulkLoad).
  auto stats = engine->Stats().store;
  if (stats.segment_events + stats.buffered_events > 0) {
    return Status::AlreadyExists("the data directory already holds " +
                                 std::to_string(stats.segment_events + stats.buffered_events) +
                                 " events; the simulator loads only into an empty one");
  }
  // The simulator declares its sources up front; create the missing ones.
  for (const auto& s : sim::SimulatedSources()) {
    bool exists = false;
    for (const auto& have : engine->ListSources()) exists |= have.name == s.name;
    if (!exists) {
      auto added = engine->AddSource(s.name, s.type);
      if (!added.ok()) return added.status();
    }
  }
  std::unordered_map<std::string, collect::SourceInfo> by_name;
  for (const auto& s : engine->ListSources()) by_name[s.name] = {s.name, s.type};

  Progress progress("sim", static_cast<uint64_t>(options.sim.persons), "persons");
  std::atomic<uint64_t> events{0};
  std::mutex progress_mu;
  auto sink = [&](std::vector<Event>&& batch) -> Status {
    // Group by source (a batch mixes a person's devices and platforms).
    std::unordered_map<std::string, std::vector<Event>> groups;
    for (auto& e : batch) groups[e.source].push_back(std::move(e));
    for (auto& [name, group] : groups) {
      auto it = by_name.find(name);
      if (it == by_name.end()) return Status::Internal("simulator used undeclared source " + name);
      IngestResult r = engine->BulkLoad(it->second, std::move(group));
      if (!r.status.ok()) return r.status;
      events += r.accepted;
    }
    return Status::OK();
  };
  auto on_progress = [&](int64_t persons_done) {
    std::lock_guard lock(progress_mu);
    progress.Update(static_cast<uint64_t>(persons_done), events.load());
  };
  ASSIGN_OR_RETURN(sim::SimResult result, sim::RunSimulation(options.sim, sink, on_progress));
  RETURN_IF_ERROR(engine->ImportSpend([&] {
    std::vector<store::SpendRow> rows;
    for (const auto& s : result.spend) {
      rows.push_back({s.date, s.channel, s.campaign, s.spend, s.impressions, s.clicks});
    }
    return rows;
  }()));
  RETURN_IF_ERROR(engine->FinishBulkLoad());
  progress.Finish(events.load(), "events");
  RETURN_IF_ERROR(WriteSideFiles(result, options));
  return result;
}

Result<sim::SimResult> RunSimToJsonl(const std::string& path, const SimRunOptions& options) {
  FILE* out = path == "-" ? stdout : std::fopen(path.c_str(), "wb");
  if (!out) return Status::IOError("cannot write " + path);
  std::mutex out_mu;
  std::atomic<uint64_t> events{0};
  Progress progress("sim", static_cast<uint64_t>(options.sim.persons), "persons");
  std::mutex progress_mu;
  auto sink = [&](std::vector<Event>&& batch) -> Status {
    std::string text;
    text.reserve(batch.size() * 512);
    for (const auto& e : batch) {
      collect::AppendSegmentJson(e, &text);
      text.push_back('\n');
    }
    std::lock_guard lock(out_mu);
    if (std::fwrite(text.data(), 1, text.size(), out) != text.size()) {
      return Status::IOError("write to " + path + " failed");
    }
    events += batch.size();
    return Status::OK();
  };
  auto on_progress = [&](int64_t persons_done) {
    std::lock_guard lock(progress_mu);
    progress.Update(static_cast<uint64_t>(persons_done), events.load());
  };
  auto result = sim::RunSimulation(options.sim, sink, on_progress);
  if (out != stdout)
    std::fclose(out);
  else
    std::fflush(out);
  if (!result.ok()) return result.status();
  progress.Finish(events.load(), "events");
  RETURN_IF_ERROR(WriteSideFiles(*result, options));
  return result;
}

}  // namespace quanyu::cli
