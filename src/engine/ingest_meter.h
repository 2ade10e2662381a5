// IngestMeter: what ingest has done since the engine opened, for the
// dashboard's ingest health (GET /api/v1/ingest): events accepted and
// rejected (by reason), and both per second over the last minute. Fed where
// the engine counts them for /metrics (Engine::CountAccepted,
// Engine::CountRejection); /metrics keeps the process-wide counters, this
// keeps the engine's own, with time.
//
// Thread-safety: every method is safe to call concurrently. Accepted() is a
// few relaxed atomic operations (the per-second slot is a tagged word
// updated by compare-and-swap), no lock; Rejected() also takes a mutex for
// its per-reason count.
#pragma once

#include <array>
#include <atomic>
#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <vector>

namespace quanyu {

// Counts per whole second over the last kSeconds seconds. Each slot is one
// 64-bit word: the second it counts (low 32 bits of the Unix second) above
// the count, so a writer moving a slot to a new second and writers adding
// to it never lose a count, without a lock.
class SecondCounts {
 public:
  static constexpr int kSeconds = 60;

  void Add(int64_t second, uint64_t n);
  // The count of `second`; 0 when nothing was counted then or the slot has
  // since been reused (`second` is kSeconds or more before a newer Add).
  uint64_t At(int64_t second) const;

 private:
  std::array<std::atomic<uint64_t>, kSeconds> slots_{};
};

struct IngestSecond {
  int64_t second = 0;  // Unix seconds
  uint64_t accepted = 0;
  uint64_t rejected = 0;
};

struct IngestActivity {
  int64_t since_us = 0;  // when the meter started (the engine opened)
  uint64_t accepted_total = 0;
  uint64_t rejected_total = 0;
  std::map<std::string, uint64_t> rejections;  // reason -> events
  // The last SecondCounts::kSeconds seconds, oldest first, the current
  // (partial) second last.
  std::vector<IngestSecond> per_second;
  // Accepted events per second over that minute (over the seconds since
  // the start when it is younger), and the busiest second in it.
  double events_per_second_1m = 0;
  uint64_t events_per_second_peak_1m = 0;
};

class IngestMeter {
 public:
  explicit IngestMeter(int64_t since_us) : since_us_(since_us) {}

  void Accepted(int64_t now_us, uint64_t events);
  void Rejected(int64_t now_us, const std::string& reason, uint64_t events);
  IngestActivity Snapshot(int64_t now_us) const;

 private:
  const int64_t since_us_;
  std::atomic<uint64_t> accepted_{0}, rejected_{0};
  SecondCounts accepted_per_s_, rejected_per_s_;
  mutable std::mutex reasons_mu_;
  std::map<std::string, uint64_t> reasons_;  // guarded by reasons_mu_
};

}  // namespace quanyu
