// Helpers the benchmark binaries share: --name=value flags and wall-clock
// timing of repeated runs.
#pragma once

#include <algorithm>
#include <chrono>
#include <string>
#include <vector>

namespace quanyu::bench {

using Clock = std::chrono::steady_clock;

// The value of --name=VALUE among the arguments, or `fallback`.
inline std::string Arg(int argc, char** argv, const char* name, const std::string& fallback) {
  const std::string prefix = std::string("--") + name + "=";
  for (int i = 1; i < argc; ++i) {
    if (std::string(argv[i]).rfind(prefix, 0) == 0) return argv[i] + prefix.size();
  }
  return fallback;
}

inline double Ms(Clock::time_point a, Clock::time_point b) {
  return std::chrono::duration<double, std::milli>(b - a).count();
}

struct Timing {
  double best = 0, median = 0;  // milliseconds
};

// Runs f `repeat` times (at least once).
template <typename F>
Timing Time(int repeat, F f) {
  std::vector<double> ms;
  for (int i = 0; i < std::max(1, repeat); ++i) {
    auto t0 = Clock::now();
    f();
    ms.push_back(Ms(t0, Clock::now()));
  }
  std::sort(ms.begin(), ms.end());
  return {ms.front(), ms[ms.size() / 2]};
}

}  // namespace quanyu::bench
