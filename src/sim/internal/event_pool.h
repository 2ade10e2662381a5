// EventPool: Event objects recycled across persons and batches. Generating
// ~20 M events would otherwise spend most of its time in malloc/free for the
// dozen strings of each Event; a recycled Event keeps its strings' capacity,
// so steady-state generation allocates almost nothing.
//
// Thread-safety: one pool per thread.
#pragma once

#include <cstddef>
#include <vector>

#include "common/event.h"

namespace quanyu::sim::internal {

// Clears every field of *e except `identifiers`, keeping string capacity.
// (Callers that reuse identifiers overwrite and then truncate them.)
inline void ResetEventKeepingCapacity(Event* e) {
  e->timestamp_us = 0;
  e->received_us = 0;
  e->type = EventType::kTrack;
  e->name.clear();
  e->message_id.clear();
  e->source.clear();
  e->channel.clear();
  e->user_id.clear();
  e->anonymous_id.clear();
  e->campaign.source.clear();
  e->campaign.medium.clear();
  e->campaign.name.clear();
  e->campaign.term.clear();
  e->campaign.content.clear();
  e->referrer.clear();
  e->url.clear();
  e->revenue.reset();
  e->value.reset();
  e->quantity.reset();
  e->currency.clear();
  e->order_id.clear();
  e->product_id.clear();
  e->properties_json.clear();
  e->traits_json.clear();
  e->context_json.clear();
}

class EventPool {
 public:
  // A cleared event at the end of the live range. Its `identifiers` may hold
  // stale entries: the caller overwrites and truncates them.
  Event& Next() {
    if (used_ == events_.size()) events_.emplace_back();
    Event& e = events_[used_++];
    ResetEventKeepingCapacity(&e);
    return e;
  }
  Event& Back() { return events_[used_ - 1]; }
  Event& operator[](size_t i) { return events_[i]; }
  const Event& operator[](size_t i) const { return events_[i]; }
  size_t Size() const { return used_; }
  bool Empty() const { return used_ == 0; }
  // Forgets the live events; their storage stays for reuse.
  void Clear() { used_ = 0; }
  // Truncates the storage to the live events and returns it, to be handed to
  // an EventSink. Afterwards the pool is empty and reuses whatever events the
  // sink left in the vector as shells.
  std::vector<Event>& Release() {
    events_.resize(used_);
    used_ = 0;
    return events_;
  }

 private:
  std::vector<Event> events_;
  size_t used_ = 0;
};

}  // namespace quanyu::sim::internal
