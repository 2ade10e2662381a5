// attribution_bench: issue 6's benchmarks (figures in bench/RESULTS.md). Run,
// not asserted.
//
//   attribution_bench --mode=sim --data=DIR [--repeat=3]
//       Opens a `quanyu sim` data directory through the real Engine (read
//       only: nothing is ingested), builds the conversion paths of every
//       person over the simulated 90 days (all conversions, nulls kept) and
//       times each model on them: best and median of --repeat runs.
//   attribution_bench --mode=markov [--touches=10000000] [--channels=12]
//                     [--order=1] [--model=NAME] [--repeat=5]
//       Random paths (1 to 12 touches, short ones likelier; one in ten
//       converts) holding --touches touches in all, not aggregated, so every
//       touch is a transition to count; times markovK end to end (chain
//       built from the paths, then the exact removal effects) against the
//       1 s limit of the issue for order 1. --model times another model on
//       the same paths (e.g. shapley over --channels=20, its limit).
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <random>
#include <string>
#include <vector>

#include "attribution/models.h"
#include "attribution/store_paths.h"
#include "bench_util.h"
#include "engine/engine.h"

namespace {

using namespace quanyu::attribution;

using quanyu::bench::Arg;
using quanyu::bench::Clock;
using quanyu::bench::Ms;
using quanyu::bench::Time;
using quanyu::bench::Timing;

size_t Touches(const PathSet& set) {
  size_t n = 0;
  for (const Path& p : set.paths) n += p.touches.size();
  return n;
}

int Sim(int argc, char** argv) {
  const std::string data = Arg(argc, argv, "data", "");
  const int repeat = std::stoi(Arg(argc, argv, "repeat", "3"));
  if (data.empty()) {
    std::fprintf(stderr, "--data=DIR is required\n");
    return 2;
  }
  quanyu::Config config;
  config.data_dir = data;
  auto t0 = Clock::now();
  auto engine = quanyu::Engine::Open(config);
  if (!engine.ok()) {
    std::fprintf(stderr, "open: %s\n", engine.status().ToString().c_str());
    return 1;
  }
  std::printf("engine open: %.0f ms\n", Ms(t0, Clock::now()));
  PathOptions o;
  o.from_us = 1'767'225'600'000'000;         // 2026-01-01, the simulator's start
  o.to_us = o.from_us + 91LL * 86400 * 1000000;  // its 90 days and a margin
  PathSet set;
  Timing build = Time(repeat, [&] {
    auto built = (*engine)->AttributionPaths(o);
    if (!built.ok()) {
      std::fprintf(stderr, "paths: %s\n", built.status().ToString().c_str());
      std::exit(1);
    }
    set = std::move(*built);
  });
  std::printf("paths: %zu (%zu touches, %zu channels), %.0f conversions, %.0f nulls; built in best %.0f ms, median %.0f ms\n",
              set.paths.size(), Touches(set), set.channels.size(), set.total_conversions(), set.total_nulls(),
              build.best, build.median);
  std::printf("| model | best ms | median ms |\n|---|---|---|\n");
  for (const std::string& m : ModelNames()) {
    bool ok = true;
    Timing t = Time(repeat, [&] { ok = RunModel(m, set, ModelOptions()).ok(); });
    if (!ok) {
      std::printf("| %s | failed: %s | |\n", m.c_str(), RunModel(m, set, ModelOptions()).status().ToString().c_str());
      continue;
    }
    std::printf("| %s | %.1f | %.1f |\n", m.c_str(), t.best, t.median);
  }
  return (*engine)->Close().ok() ? 0 : 1;
}

int Markov(int argc, char** argv) {
  const size_t touches = std::stoull(Arg(argc, argv, "touches", "10000000"));
  const uint32_t channels = static_cast<uint32_t>(std::stoul(Arg(argc, argv, "channels", "12")));
  const int order = std::stoi(Arg(argc, argv, "order", "1"));
  const int repeat = std::stoi(Arg(argc, argv, "repeat", "5"));
  std::mt19937_64 rng(6);
  PathSet set;
  for (uint32_t c = 0; c < channels; ++c) set.channels.push_back("channel_" + std::to_string(c));
  std::geometric_distribution<int> length(0.3);
  size_t made = 0;
  while (made < touches) {
    Path p;
    const size_t n = std::min<size_t>(touches - made, 1 + std::min(11, length(rng)));
    for (size_t i = 0; i < n; ++i) p.touches.push_back(static_cast<uint32_t>(rng() % channels));
    made += n;
    if (rng() % 10 == 0) {
      p.conversions = 1;
      p.value = 100;
    } else {
      p.nulls = 1;
    }
    set.paths.push_back(std::move(p));
  }
  const std::string name = Arg(argc, argv, "model", "markov" + std::to_string(order));
  quanyu::Result<ModelResult> last = quanyu::Status::Internal("not run");
  Timing t = Time(repeat, [&] { last = RunModel(name, set, ModelOptions()); });
  if (!last.ok()) {
    std::fprintf(stderr, "%s: %s\n", name.c_str(), last.status().ToString().c_str());
    return 1;
  }
  std::printf("%s over %zu paths, %zu touches, %u channels: best %.0f ms, median %.0f ms (limit 1000 ms for markov1)\n",
              name.c_str(), set.paths.size(), Touches(set), channels, t.best, t.median);
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  const std::string mode = Arg(argc, argv, "mode", "markov");
  if (mode == "sim") return Sim(argc, argv);
  if (mode == "markov") return Markov(argc, argv);
  std::fprintf(stderr, "--mode=sim|markov\n");
  return 2;
}
