#include "engine/ingest_meter.h"

#include <algorithm>

namespace quanyu {
namespace {

constexpr uint64_t kCountMask = 0xffffffffu;

int64_t SecondOf(int64_t us) { return us / 1'000'000; }

uint64_t TagOf(int64_t second) { return static_cast<uint64_t>(second) << 32; }

size_t SlotOf(int64_t second) {
  return static_cast<size_t>(static_cast<uint64_t>(second) % SecondCounts::kSeconds);
}

}  // namespace

void SecondCounts::Add(int64_t second, uint64_t n) {
  std::atomic<uint64_t>& slot = slots_[SlotOf(second)];
  const uint64_t tag = TagOf(second);
  uint64_t seen = slot.load(std::memory_order_relaxed);
  for (;;) {
    uint64_t next;
    if ((seen & ~kCountMask) == tag) {
      next = seen + std::min(n, kCountMask - (seen & kCountMask));  // saturates
    } else if (seen != 0 && static_cast<int32_t>(static_cast<uint32_t>(seen >> 32) -
                                                 static_cast<uint32_t>(second)) > 0) {
      return;  // the slot counts a later second already: this one left the window
    } else {
      next = tag | std::min(n, kCountMask);  // the slot's old second left the window
    }
    if (slot.compare_exchange_weak(seen, next, std::memory_order_relaxed)) return;
  }
}

uint64_t SecondCounts::At(int64_t second) const {
  uint64_t v = slots_[SlotOf(second)].load(std::memory_order_relaxed);
  return (v & ~kCountMask) == TagOf(second) ? v & kCountMask : 0;
}

void IngestMeter::Accepted(int64_t now_us, uint64_t events) {
  if (events == 0) return;
  accepted_.fetch_add(events, std::memory_order_relaxed);
  accepted_per_s_.Add(SecondOf(now_us), events);
}

void IngestMeter::Rejected(int64_t now_us, const std::string& reason, uint64_t events) {
  if (events == 0) return;
  rejected_.fetch_add(events, std::memory_order_relaxed);
  rejected_per_s_.Add(SecondOf(now_us), events);
  std::lock_guard lock(reasons_mu_);
  reasons_[reason] += events;
}

IngestActivity IngestMeter::Snapshot(int64_t now_us) const {
  IngestActivity a;
  a.since_us = since_us_;
  a.accepted_total = accepted_.load(std::memory_order_relaxed);
  a.rejected_total = rejected_.load(std::memory_order_relaxed);
  {
    std::lock_guard lock(reasons_mu_);
    a.rejections = reasons_;
  }
  const int64_t now_s = SecondOf(now_us);
  uint64_t sum = 0;
  for (int64_t s = now_s - SecondCounts::kSeconds + 1; s <= now_s; ++s) {
    IngestSecond second{s, accepted_per_s_.At(s), rejected_per_s_.At(s)};
    sum += second.accepted;
    a.events_per_second_peak_1m = std::max(a.events_per_second_peak_1m, second.accepted);
    a.per_second.push_back(second);
  }
  const int64_t seconds =
      std::clamp<int64_t>(now_s - SecondOf(since_us_) + 1, 1, SecondCounts::kSeconds);
  a.events_per_second_1m = static_cast<double>(sum) / static_cast<double>(seconds);
  return a;
}

}  // namespace quanyu
