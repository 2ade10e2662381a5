// PartialProfile: applying events, merging partials and rendering JSON.
// The trait-set logic is in identity/internal/trait_set.cc, Encode() and
// Decode() in identity/internal/profile_codec.cc.
#include "identity/profile.h"

#include <simdjson.h>

#include <optional>
#include <utility>
#include <vector>

#include "common/json_text.h"
#include "common/time_util.h"
#include "identity/internal/trait_set.h"

namespace quanyu::identity {
namespace internal {

void Activity::Add(const Activity& other) {
  if (other.events == 0) return;
  if (events == 0 || other.first_seen_us < first_seen_us) first_seen_us = other.first_seen_us;
  if (events == 0 || other.last_seen_us > last_seen_us) last_seen_us = other.last_seen_us;
  events += other.events;
}

}  // namespace internal

namespace {

using internal::Activity;
using internal::TraitOp;
using internal::TraitOpKind;
using internal::TraitSet;
using internal::TraitValue;

// A source or channel name as recorded: names that are not UTF-8 (which
// the JSON rendering and Decode could not carry) count as unknown ("").
std::string_view NameOrUnknown(const std::string& name) {
  return simdjson::validate_utf8(name) ? std::string_view(name) : std::string_view();
}

// Adds one op of `kind` per member of the JSON object `json` (none when
// empty) to *set. Returns the number of ops skipped as malformed.
uint64_t ApplyObject(std::string_view json, TraitOpKind kind, int64_t time_us,
                     std::string_view source, TraitSet* set) {
  if (json.empty()) return 0;
  simdjson::dom::object obj;
  if (internal::JsonParser().parse(json.data(), json.size()).get(obj)) return 1;
  uint64_t skipped = 0;
  std::vector<std::pair<std::string, TraitOp>> ops;
  for (auto [key, v] : obj) {
    if (!internal::ValidOperand(kind, v)) {
      ++skipped;
      continue;
    }
    std::string value = kind == TraitOpKind::kUnset ? "" : simdjson::minify(v);
    ops.emplace_back(std::string(key),
                     TraitOp{time_us, kind, std::move(value), std::string(source)});
  }
  // Inserting may fold, which parses: done after the last use of `obj`.
  for (auto& [key, op] : ops) set->Insert(key, std::move(op));
  return skipped;
}

// The groupId a group event's properties carry (string or integer), or "".
std::string GroupIdOf(const Event& e) {
  simdjson::dom::element id;
  const std::string& json = e.properties_json;
  if (internal::JsonParser().parse(json.data(), json.size()).at_key("groupId").get(id)) return "";
  if (id.is_string()) return std::string(id.get_string().value_unsafe());
  if (id.is_int64()) return std::to_string(id.get_int64().value_unsafe());
  if (id.is_uint64()) return std::to_string(id.get_uint64().value_unsafe());
  return "";
}

std::optional<TraitOpKind> TraitOpOf(EventType type) {
  switch (type) {
    case EventType::kIdentify:
    case EventType::kProfileSet:
      return TraitOpKind::kSet;
    case EventType::kProfileSetOnce:
      return TraitOpKind::kSetOnce;
    case EventType::kProfileIncrement:
      return TraitOpKind::kIncrement;
    case EventType::kProfileAppend:
      return TraitOpKind::kAppend;
    case EventType::kProfileUnset:
      return TraitOpKind::kUnset;
    default:
      return std::nullopt;
  }
}

void AppendTime(int64_t micros, std::string* out) {
  AppendJsonString(out, FormatTimestamp(micros));
}

void AppendActivities(const std::map<std::string, Activity, std::less<>>& m, std::string* out) {
  out->push_back('{');
  for (const auto& [name, a] : m) {
    if (out->back() != '{') out->push_back(',');
    AppendJsonString(out, name);
    out->append(":{\"events\":" + std::to_string(a.events) + ",\"first_seen\":");
    AppendTime(a.first_seen_us, out);
    out->append(",\"last_seen\":");
    AppendTime(a.last_seen_us, out);
    out->push_back('}');
  }
  out->push_back('}');
}

// {"k":value,...} of the traits that are set; with `meta`, also fills
// {"k":{"source":..,"time":..},...} into *meta.
void AppendTraits(const TraitSet& set, std::string* out, std::string* meta) {
  out->push_back('{');
  if (meta) meta->push_back('{');
  for (const auto& [key, h] : set.traits) {
    TraitValue v = internal::Resolve(h, h.relative.size());
    if (v.kind == TraitValue::Kind::kUnset) continue;
    if (out->back() != '{') out->push_back(',');
    AppendJsonString(out, key);
    out->push_back(':');
    internal::AppendValueJson(v, out);
    if (!meta || !v.decided_by) continue;
    if (meta->back() != '{') meta->push_back(',');
    AppendJsonString(meta, key);
    meta->append(":{\"source\":");
    AppendJsonString(meta, v.decided_by->source);
    meta->append(",\"time\":");
    AppendTime(v.decided_by->time_us, meta);
    meta->push_back('}');
  }
  out->push_back('}');
  if (meta) meta->push_back('}');
}

}  // namespace

void PartialProfile::Apply(const Event& e) {
  Activity one{1, e.timestamp_us, e.timestamp_us};
  Activity all{events_, first_seen_us_, last_seen_us_};
  all.Add(one);
  events_ = all.events;
  first_seen_us_ = all.first_seen_us;
  last_seen_us_ = all.last_seen_us;
  const std::string_view source = NameOrUnknown(e.source);
  const std::string_view channel = NameOrUnknown(e.channel);
  if (!source.empty()) sources_[std::string(source)].Add(one);
  if (!channel.empty()) channels_[std::string(channel)].Add(one);

  if (e.type == EventType::kProfileDelete) {
    traits_.Delete(TraitOp{e.timestamp_us, TraitOpKind::kDelete, "", std::string(source)});
  } else if (e.type == EventType::kGroup) {
    std::string group_id = GroupIdOf(e);
    if (group_id.empty()) {
      ++skipped_ops_;
      return;
    }
    skipped_ops_ +=
        ApplyObject(e.traits_json, TraitOpKind::kSet, e.timestamp_us, source, &groups_[group_id]);
  } else if (auto kind = TraitOpOf(e.type)) {
    skipped_ops_ += ApplyObject(e.traits_json, *kind, e.timestamp_us, source, &traits_);
  }
}

void PartialProfile::MergeFrom(const PartialProfile& other) {
  Activity all{events_, first_seen_us_, last_seen_us_};
  all.Add({other.events_, other.first_seen_us_, other.last_seen_us_});
  events_ = all.events;
  first_seen_us_ = all.first_seen_us;
  last_seen_us_ = all.last_seen_us;
  skipped_ops_ += other.skipped_ops_;
  for (const auto& [name, a] : other.sources_) sources_[name].Add(a);
  for (const auto& [name, a] : other.channels_) channels_[name].Add(a);
  traits_.MergeFrom(other.traits_);
  for (const auto& [id, set] : other.groups_) groups_[id].MergeFrom(set);
}

namespace {

// The JSON of trait `key` of `set`; nullopt when unset.
std::optional<std::string> TraitJsonOf(const TraitSet& set, std::string_view key) {
  auto it = set.traits.find(key);
  if (it == set.traits.end()) return std::nullopt;
  TraitValue v = internal::Resolve(it->second, it->second.relative.size());
  if (v.kind == TraitValue::Kind::kUnset) return std::nullopt;
  std::string out;
  internal::AppendValueJson(v, &out);
  return out;
}

}  // namespace

std::optional<std::string> PartialProfile::TraitJson(std::string_view key) const {
  return TraitJsonOf(traits_, key);
}

std::optional<std::string> PartialProfile::FoldedTraitJson(
    const std::vector<const PartialProfile*>& parts, std::string_view key) {
  TraitSet one;  // the key's ops only, merged as TraitSet::MergeFrom merges them
  for (const PartialProfile* p : parts) {
    if (p->traits_.deleted) one.Delete(*p->traits_.deleted);
    auto it = p->traits_.traits.find(key);
    if (it == p->traits_.traits.end()) continue;
    if (it->second.absolute) one.Insert(key, *it->second.absolute);
    for (const TraitOp& op : it->second.relative) one.Insert(key, op);
  }
  return TraitJsonOf(one, key);
}

bool PartialProfile::AffectsTrait(std::string_view key) const {
  return traits_.deleted.has_value() || traits_.traits.find(key) != traits_.traits.end();
}

void PartialProfile::AppendJson(std::string* out) const {
  out->append("{\"traits\":");
  std::string meta;
  AppendTraits(traits_, out, &meta);
  out->append(",\"trait_meta\":");
  out->append(meta);
  out->append(",\"groups\":{");
  for (const auto& [id, set] : groups_) {
    if (out->back() != '{') out->push_back(',');
    AppendJsonString(out, id);
    out->push_back(':');
    AppendTraits(set, out, nullptr);
  }
  out->append("},\"first_seen\":");
  if (events_) {
    AppendTime(first_seen_us_, out);
  } else {
    out->append("null");
  }
  out->append(",\"last_seen\":");
  if (events_) {
    AppendTime(last_seen_us_, out);
  } else {
    out->append("null");
  }
  out->append(",\"events\":" + std::to_string(events_) + ",\"sources\":");
  AppendActivities(sources_, out);
  out->append(",\"channels\":");
  AppendActivities(channels_, out);
  out->append(",\"skipped_ops\":" + std::to_string(skipped_ops_) + "}");
}

}  // namespace quanyu::identity
