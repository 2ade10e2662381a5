// Wiring of the simulator to its outputs: a data directory (through the
// engine's bulk load) or Segment-format JSONL, plus the ground truth file.
#pragma once

#include <string>

#include "common/result.h"
#include "engine/engine.h"
#include "sim/sim.h"

namespace quanyu::cli {

struct SimRunOptions {
  sim::SimOptions sim;
  std::string truth_path;  // ground truth JSON ("" = don't write)
  std::string spend_path;  // ad spend CSV ("" = don't write)
};

// Creates the simulator's sources in the engine, loads every event and the
// ad spend, checkpoints. Shows progress on stderr.
Result<sim::SimResult> RunSimIntoEngine(Engine* engine, const SimRunOptions& options);

// Writes events as Segment JSONL to `path` ("-" = stdout).
Result<sim::SimResult> RunSimToJsonl(const std::string& path, const SimRunOptions& options);

}  // namespace quanyu::cli
