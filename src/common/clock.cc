#include "common/clock.h"

#include <chrono>

namespace quanyu {

int64_t SystemClock::NowMicros() const {
  return std::chrono::duration_cast<std::chrono::microseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

SystemClock* SystemClock::Default() {
  static auto* clock = new SystemClock();
  return clock;
}

}  // namespace quanyu
