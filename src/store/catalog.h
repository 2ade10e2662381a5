// EventCatalog: the event names the store holds and the property keys seen
// with each (like PostHog's event and property definitions), so queries can
// reject unknown names with a 400 and the dashboard can offer them.
//
// The store keeps one up to date (EventStore::Catalog): it covers every
// stored event, flushed or buffered, and is persisted next to the manifest
// (docs/segment_format.md, "Catalog").
//
// A catalog is bounded so that a source sending unbounded names or keys
// (an id in the event name, a property per product) cannot make it grow
// without limit: past kMaxEvents names, or kMaxPropertiesPerEvent keys of
// one name, further ones are not recorded and the catalog says it is
// incomplete — HasEvent / HasProperty then answer true for what they do not
// know, so a query is never refused for a name the catalog dropped.
//
// Plain value type; not synchronized.
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <set>
#include <string>
#include <string_view>

namespace quanyu::store {

struct EventCatalog {
  static constexpr size_t kMaxEvents = 10'000;
  static constexpr size_t kMaxPropertiesPerEvent = 1'000;

  struct Entry {
    uint64_t count = 0;                 // events with this name
    int64_t first_us = 0, last_us = 0;  // event time range
    std::set<std::string> properties;   // top-level keys of properties_json
    bool properties_complete = true;    // false: keys past kMaxPropertiesPerEvent were dropped
    bool operator==(const Entry&) const = default;
  };
  std::map<std::string, Entry, std::less<>> events;  // by Event::name (may be "")
  bool events_complete = true;                       // false: names past kMaxEvents were dropped

  bool HasEvent(std::string_view name) const {
    return !events_complete || events.find(name) != events.end();
  }
  // Whether `key` (a top-level key, or the first part of a dotted path) was
  // seen in the properties of `event` — or of any event when `event` is empty.
  bool HasProperty(std::string_view event, std::string_view key) const {
    const std::string top(key.substr(0, key.find('.')));
    if (!event.empty()) {
      auto it = events.find(event);
      if (it == events.end()) return !events_complete;
      return !it->second.properties_complete || it->second.properties.count(top) > 0;
    }
    if (!events_complete) return true;
    for (const auto& [name, e] : events) {
      if (!e.properties_complete || e.properties.count(top) > 0) return true;
    }
    return false;
  }

  // Adds `other`'s events: counts add up, time ranges widen, key sets unite
  // (within the bounds above).
  void Merge(const EventCatalog& other);
  // Total events over all names.
  uint64_t TotalCount() const;

  bool operator==(const EventCatalog&) const = default;
};

}  // namespace quanyu::store
