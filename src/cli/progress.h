// Progress: a one-line progress bar on stderr for long CLI work (import,
// sim). Redraws at most every 200 ms; prints nothing but the final summary
// when stderr is not a terminal. Not thread-safe: call from one thread.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>

namespace quanyu::cli {

class Progress {
 public:
  // `total` in `unit`s (0 = unknown: no percentage).
  Progress(std::string label, uint64_t total, std::string unit);
  // Sets the amount done and an optional count shown beside it (e.g. events).
  void Update(uint64_t done, uint64_t items = 0);
  // Prints the final line with elapsed time and rate of items per second.
  void Finish(uint64_t items, const std::string& item_name);
  double ElapsedSeconds() const;

 private:
  void Draw(bool final);
  std::string label_, unit_;
  uint64_t total_, done_ = 0, items_ = 0;
  bool tty_;
  std::chrono::steady_clock::time_point start_, last_draw_;
};

}  // namespace quanyu::cli
