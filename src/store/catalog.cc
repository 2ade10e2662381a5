#include "store/catalog.h"

#include <algorithm>

namespace quanyu::store {

void EventCatalog::Merge(const EventCatalog& other) {
  events_complete = events_complete && other.events_complete;
  for (const auto& [name, theirs] : other.events) {
    auto it = events.find(name);
    if (it == events.end()) {
      if (events.size() >= kMaxEvents) {
        events_complete = false;
        continue;
      }
      events.emplace(name, theirs);
      continue;
    }
    Entry& mine = it->second;
    if (theirs.count > 0) {
      mine.first_us = mine.count > 0 ? std::min(mine.first_us, theirs.first_us) : theirs.first_us;
      mine.last_us = mine.count > 0 ? std::max(mine.last_us, theirs.last_us) : theirs.last_us;
      mine.count += theirs.count;
    }
    mine.properties_complete = mine.properties_complete && theirs.properties_complete;
    for (const std::string& key : theirs.properties) {
      if (mine.properties.size() >= kMaxPropertiesPerEvent) {
        if (!mine.properties.contains(key)) mine.properties_complete = false;
        continue;
      }
      mine.properties.insert(key);
    }
  }
}

uint64_t EventCatalog::TotalCount() const {
  uint64_t n = 0;
  for (const auto& [name, e] : events) n += e.count;
  return n;
}

}  // namespace quanyu::store
