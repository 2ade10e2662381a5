#include "common/crash_point.h"

#include <spdlog/spdlog.h>

#include <csignal>
#include <cstdlib>

namespace quanyu {

void CrashPoint(std::string_view point) {
  static const char* const wanted = std::getenv("QUANYU_CRASH_AT");
  if (wanted == nullptr || point != wanted) return;
  spdlog::warn("QUANYU_CRASH_AT={}: killing the process here", point);
  spdlog::default_logger()->flush();
  std::raise(SIGKILL);
}

}  // namespace quanyu
