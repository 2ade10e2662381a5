// Clock: the source of "now", injected so tests can control time
// (dedupe windows, retention, skew correction). Implementations are
// thread-safe.
#pragma once

#include <atomic>
#include <cstdint>

namespace quanyu {

class Clock {
 public:
  virtual ~Clock() = default;
  // Microseconds since the Unix epoch, UTC.
  virtual int64_t NowMicros() const = 0;
};

// Wall-clock time from the operating system.
class SystemClock final : public Clock {
 public:
  int64_t NowMicros() const override;
  // A process-wide instance; never destroyed.
  static SystemClock* Default();
};

// A clock that moves only when told to. For tests.
class FakeClock final : public Clock {
 public:
  explicit FakeClock(int64_t now_us = 0) : now_us_(now_us) {}
  int64_t NowMicros() const override { return now_us_.load(std::memory_order_relaxed); }
  void Set(int64_t now_us) { now_us_.store(now_us, std::memory_order_relaxed); }
  void Advance(int64_t delta_us) { now_us_.fetch_add(delta_us, std::memory_order_relaxed); }

 private:
  std::atomic<int64_t> now_us_;
};

}  // namespace quanyu
