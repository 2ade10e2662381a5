#include "cli/progress.h"

#include <fmt/format.h>
#include <unistd.h>

#include <cstdio>

namespace quanyu::cli {

Progress::Progress(std::string label, uint64_t total, std::string unit)
    : label_(std::move(label)),
      unit_(std::move(unit)),
      total_(total),
      tty_(isatty(STDERR_FILENO)),
      start_(std::chrono::steady_clock::now()),
      last_draw_(start_) {}

double Progress::ElapsedSeconds() const {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
}

void Progress::Update(uint64_t done, uint64_t items) {
  done_ = done;
  items_ = items;
  auto now = std::chrono::steady_clock::now();
  if (tty_ && now - last_draw_ > std::chrono::milliseconds(200)) {
    last_draw_ = now;
    Draw(false);
  }
}

void Progress::Draw(bool final) {
  double secs = std::max(ElapsedSeconds(), 1e-6);
  std::string line = label_;
  if (total_ > 0) {
    int width = 30;
    double frac = std::min(1.0, static_cast<double>(done_) / total_);
    int filled = static_cast<int>(frac * width);
    line += " [" + std::string(filled, '=') + (filled < width ? ">" : "") +
            std::string(std::max(0, width - filled - 1), ' ') + "]";
    line += fmt::format(" {:5.1f}%", frac * 100);
  }
  if (items_) line += fmt::format("  {} ({:.0f}/s)", items_, items_ / secs);
  line += fmt::format("  {:.1f}s", secs);
  std::fprintf(stderr, "\r%s\033[K%s", line.c_str(), final ? "\n" : "");
  std::fflush(stderr);
}

void Progress::Finish(uint64_t items, const std::string& item_name) {
  items_ = items;
  done_ = total_;
  if (tty_) Draw(true);
  double secs = std::max(ElapsedSeconds(), 1e-6);
  std::fprintf(stderr, "%s: %llu %s in %.2fs (%.0f %s/s)\n", label_.c_str(),
               static_cast<unsigned long long>(items), item_name.c_str(), secs, items / secs,
               item_name.c_str());
}

}  // namespace quanyu::cli
