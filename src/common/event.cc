#include "common/event.h"

#include <array>

namespace quanyu {
namespace {
constexpr std::array<std::string_view, kEventTypeCount> kNames = {
    "track",          "identify",      "page",           "screen",           "group",
    "alias",          "track_signup",  "profile_set",    "profile_set_once", "profile_increment",
    "profile_append", "profile_unset", "profile_delete", "track_id_bind",    "track_id_unbind", "identity_split",
};
}  // namespace

std::string_view EventTypeName(EventType type) {
  auto i = static_cast<size_t>(type);
  return i < kNames.size() ? kNames[i] : std::string_view("track");
}

std::optional<EventType> EventTypeFromName(std::string_view name) {
  for (size_t i = 0; i < kNames.size(); ++i) {
    if (kNames[i] == name) return static_cast<EventType>(i);
  }
  return std::nullopt;
}

std::string Identifier::ToString() const {
  std::string s = ns;
  s += ':';
  if (!scope.empty()) {
    s += scope;
    s += ':';
  }
  s += value;
  return s;
}

}  // namespace quanyu
