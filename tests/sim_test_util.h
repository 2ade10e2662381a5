// Loading `quanyu sim` data into a test's Engine, as `quanyu sim --data`
// does: the simulated sources are created and every batch is bulk loaded
// under its source.
#pragma once

#include <mutex>
#include <string>
#include <unordered_map>
#include <vector>

#include "engine/engine.h"
#include "sim/sim.h"

namespace quanyu::testing {

// Returns the simulator's result (its ground truth).
inline Result<sim::SimResult> LoadSimulation(Engine* engine, const sim::SimOptions& options) {
  for (const auto& s : sim::SimulatedSources()) {
    auto added = engine->AddSource(s.name, s.type);
    if (!added.ok()) return added.status();
  }
  std::unordered_map<std::string, collect::SourceInfo> by_name;
  for (const auto& s : engine->ListSources()) by_name[s.name] = {s.name, s.type};
  std::mutex mu;  // the simulator calls the sink from several threads
  auto sim = sim::RunSimulation(options, [&](std::vector<Event>&& batch) -> Status {
    std::lock_guard l(mu);
    std::unordered_map<std::string, std::vector<Event>> groups;
    for (auto& e : batch) groups[e.source].push_back(std::move(e));
    for (auto& [name, group] : groups) {
      IngestResult r = engine->BulkLoad(by_name.at(name), std::move(group));
      if (!r.status.ok()) return r.status;
    }
    return Status::OK();
  });
  if (!sim.ok()) return sim.status();
  Status finished = engine->FinishBulkLoad();
  if (!finished.ok()) return finished;
  return sim;
}

// Opens an Engine on `config`, loads the simulation into it and closes it,
// as `quanyu sim --data` does before `quanyu serve`. Returns the simulator's
// result, or the first error of the three steps.
inline Result<sim::SimResult> LoadSimulation(const Config& config, const sim::SimOptions& options) {
  auto engine = Engine::Open(config);
  if (!engine.ok()) return engine.status();
  auto sim = LoadSimulation(engine->get(), options);
  if (!sim.ok()) return sim.status();
  Status closed = (*engine)->Close();
  if (!closed.ok()) return closed;
  return sim;
}

}  // namespace quanyu::testing
