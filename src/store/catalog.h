// EventCatalog: the event names the store holds and the property keys seen
// with each (like PostHog's event and property definitions), so queries can
// reject unknown names with a 400 and the dashboard can offer them.
//
// Plain value type; not synchronized.
#pragma once

#include <cstdint>
#include <map>
#include <set>
#include <string>
#include <string_view>

namespace quanyu::store {

struct EventCatalog {
  struct Entry {
    uint64_t count = 0;                // events with this name
    int64_t first_us = 0, last_us = 0;  // event time range
    std::set<std::string> properties;   // top-level keys of properties_json
  };
  std::map<std::string, Entry, std::less<>> events;  // by Event::name (may be "")

  bool HasEvent(std::string_view name) const { return events.find(name) != events.end(); }
  // Whether `key` (a top-level key, or the first part of a dotted path) was
  // seen in the properties of `event` — or of any event when `event` is empty.
  bool HasProperty(std::string_view event, std::string_view key) const {
    const std::string_view top = key.substr(0, key.find('.'));
    if (!event.empty()) {
      auto it = events.find(event);
      return it != events.end() && it->second.properties.count(std::string(top)) > 0;
    }
    for (const auto& [name, e] : events) {
      if (e.properties.count(std::string(top)) > 0) return true;
    }
    return false;
  }
};

}  // namespace quanyu::store
