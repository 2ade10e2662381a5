// Crash points for recovery tests: when the environment variable
// QUANYU_CRASH_AT names `point`, the process kills itself with SIGKILL
// there — no destructor, no flush, as a power cut or the OOM killer would.
// The points are listed where they are used (docs/privacy.md lists the
// deletion's). Costs one comparison of a cached pointer when unset.
#pragma once

#include <string_view>

namespace quanyu {

void CrashPoint(std::string_view point);

}  // namespace quanyu
