// sim_bench: how fast the simulator generates events. Runs 1,000,000 persons
// (or argv[1]) with a sink that only counts, and prints persons, events,
// seconds and events/s. Run, not asserted (bench/run.sh).
//
//   sim_bench [persons] [threads] [ground_truth.json|-] [batch_events]
#include <sys/resource.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <string_view>

#include "sim/sim.h"

int main(int argc, char** argv) {
  quanyu::sim::SimOptions options;
  options.persons = argc > 1 ? std::atoll(argv[1]) : 1'000'000;
  options.threads = argc > 2 ? std::atoi(argv[2]) : 0;
  if (argc > 4) options.batch_events = std::atoi(argv[4]);
  std::atomic<int64_t> counted{0};
  auto sink = [&](std::vector<quanyu::Event>&& batch) {
    counted.fetch_add(static_cast<int64_t>(batch.size()), std::memory_order_relaxed);
    return quanyu::Status::OK();
  };
  const auto start = std::chrono::steady_clock::now();
  auto result = quanyu::sim::RunSimulation(options, sink);
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  if (!result.ok()) {
    std::fprintf(stderr, "sim_bench: %s\n", result.status().ToString().c_str());
    return 1;
  }
  std::printf("persons      %lld\n", static_cast<long long>(result->persons));
  std::printf("events       %lld (sink saw %lld)\n", static_cast<long long>(result->events),
              static_cast<long long>(counted.load()));
  std::printf("threads      %d\n", options.threads);
  std::printf("seconds      %.2f\n", seconds);
  std::printf("events/s     %.0f\n", static_cast<double>(result->events) / seconds);
  // CPU time too: on a shared machine wall time says more about the neighbours.
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  const double cpu = static_cast<double>(usage.ru_utime.tv_sec + usage.ru_stime.tv_sec) +
                     static_cast<double>(usage.ru_utime.tv_usec + usage.ru_stime.tv_usec) / 1e6;
  std::printf("cpu seconds  %.2f\n", cpu);
  std::printf("events/cpu-s %.0f\n", static_cast<double>(result->events) / cpu);
  std::printf("events/pers  %.1f\n",
              static_cast<double>(result->events) / static_cast<double>(result->persons));
  std::printf("truth bytes  %zu\n", result->ground_truth_json.size());
  if (argc > 3 && std::string_view(argv[3]) != "-") {
    std::ofstream(argv[3]) << result->ground_truth_json;
  }
  return 0;
}
