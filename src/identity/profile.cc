// PartialProfile. The byte format of Encode() is specified in
// docs/identity_format.md ("Profile partial"); change both together.
//
// Why the state is mergeable: per trait, the result of the fold depends only
// on the latest absolute op (set, unset, profile delete) and the relative ops
// after it. Keeping the maximum absolute op and the multiset union of
// relative ops, filtered to those after it, is a join of max and multiset
// sum, so it is commutative and associative, and applying one event is the
// same as merging in a partial made of that event alone.
#include "identity/profile.h"

#include <simdjson.h>

#include <algorithm>
#include <iterator>
#include <utility>

#include "common/coding.h"
#include "common/json_text.h"
#include "common/time_util.h"

namespace quanyu::identity {
namespace internal {
namespace {

simdjson::dom::parser& JsonParser() {
  thread_local simdjson::dom::parser parser;
  return parser;
}

// Whether `v` may be the operand of an op of `kind` (unset and delete ignore
// theirs).
bool ValidOperand(TraitOpKind kind, const simdjson::dom::element& v) {
  switch (kind) {
    case TraitOpKind::kIncrement:
      return v.is_number();
    case TraitOpKind::kAppend:
      return !v.is_object() && !v.is_null();
    default:
      return true;
  }
}

// A trait's value while its ops are folded in order.
struct TraitValue {
  enum class Kind { kUnset, kJson, kInt, kDouble, kArray };
  Kind kind = Kind::kUnset;
  std::string json;                // kJson: the value as given
  int64_t i = 0;                   // kInt
  double d = 0;                    // kDouble
  std::vector<std::string> items;  // kArray: JSON text of each element
  const TraitOp* decided_by = nullptr;
};

void AppendItems(simdjson::dom::array array, std::vector<std::string>* items) {
  for (simdjson::dom::element item : array) items->push_back(simdjson::minify(item));
}

// Turns a kJson number or array into kInt / kDouble / kArray so that an
// increment or append can work on it; anything else stays kJson.
void Classify(TraitValue* v) {
  if (v->kind != TraitValue::Kind::kJson) return;
  simdjson::dom::element el;
  if (JsonParser().parse(v->json).get(el)) return;
  switch (el.type()) {
    case simdjson::dom::element_type::INT64:
      v->kind = TraitValue::Kind::kInt;
      v->i = el.get_int64().value_unsafe();
      break;
    case simdjson::dom::element_type::UINT64:
    case simdjson::dom::element_type::DOUBLE:
      v->kind = TraitValue::Kind::kDouble;
      v->d = el.get_double().value_unsafe();
      break;
    case simdjson::dom::element_type::ARRAY:
      v->kind = TraitValue::Kind::kArray;
      v->items.clear();
      AppendItems(el.get_array().value_unsafe(), &v->items);
      break;
    default:
      break;
  }
}

void Increment(const TraitOp& op, TraitValue* v) {
  Classify(v);  // before parsing the operand: both use the one parser
  simdjson::dom::element delta;
  if (JsonParser().parse(op.value).get(delta) || !delta.is_number()) return;
  if (v->kind != TraitValue::Kind::kInt && v->kind != TraitValue::Kind::kDouble) {
    v->kind = TraitValue::Kind::kInt;
    v->i = 0;
  }
  int64_t sum;
  if (v->kind == TraitValue::Kind::kInt && delta.is_int64() &&
      !__builtin_add_overflow(v->i, delta.get_int64().value_unsafe(), &sum)) {
    v->i = sum;
  } else {
    double base = v->kind == TraitValue::Kind::kInt ? static_cast<double>(v->i) : v->d;
    v->kind = TraitValue::Kind::kDouble;
    v->d = base + delta.get_double().value_unsafe();
  }
  v->decided_by = &op;
}

void Append(const TraitOp& op, TraitValue* v) {
  Classify(v);  // before parsing the operand: both use the one parser
  simdjson::dom::element operand;
  if (JsonParser().parse(op.value).get(operand)) return;
  if (v->kind != TraitValue::Kind::kArray) {
    v->kind = TraitValue::Kind::kArray;
    v->items.clear();
  }
  if (operand.is_array()) {
    AppendItems(operand.get_array().value_unsafe(), &v->items);
  } else {
    v->items.push_back(op.value);
  }
  v->decided_by = &op;
}

void ApplyOp(const TraitOp& op, TraitValue* v) {
  switch (op.kind) {
    case TraitOpKind::kDelete:
    case TraitOpKind::kUnset:
      *v = TraitValue();
      break;
    case TraitOpKind::kSetOnce:
      if (v->kind != TraitValue::Kind::kUnset) break;
      [[fallthrough]];
    case TraitOpKind::kSet:
    case TraitOpKind::kFoldedSet:
      *v = TraitValue();
      v->kind = TraitValue::Kind::kJson;
      v->json = op.value;
      v->decided_by = &op;
      break;
    case TraitOpKind::kIncrement:
      Increment(op, v);
      break;
    case TraitOpKind::kAppend:
      Append(op, v);
      break;
  }
}

// Folds the absolute op and the first `n` relative ops of `h`. The result
// points into `h`.
TraitValue Resolve(const TraitHistory& h, size_t n) {
  TraitValue v;
  if (h.absolute) ApplyOp(*h.absolute, &v);
  for (size_t i = 0; i < n && i < h.relative.size(); ++i) ApplyOp(h.relative[i], &v);
  return v;
}

void AppendValueJson(const TraitValue& v, std::string* out) {
  switch (v.kind) {
    case TraitValue::Kind::kUnset:
      out->append("null");
      break;
    case TraitValue::Kind::kJson:
      out->append(v.json);
      break;
    case TraitValue::Kind::kInt:
      out->append(std::to_string(v.i));
      break;
    case TraitValue::Kind::kDouble:
      AppendJsonNumber(out, v.d);
      break;
    case TraitValue::Kind::kArray:
      out->push_back('[');
      for (size_t i = 0; i < v.items.size(); ++i) {
        if (i) out->push_back(',');
        out->append(v.items[i]);
      }
      out->push_back(']');
      break;
  }
}

// Replaces the oldest adjacent pair of relative ops of one kind by a single
// op with the same effect when nothing comes between them: set_once keeps
// the first, increment sums the deltas, append concatenates the items, dated
// as the second. Returns false if there is no such pair.
bool CombineOldestPair(TraitHistory* h) {
  auto& ops = h->relative;
  size_t i = 0;
  while (i + 1 < ops.size() && ops[i].kind != ops[i + 1].kind) ++i;
  if (i + 1 >= ops.size()) return false;
  if (ops[i].kind == TraitOpKind::kSetOnce) {
    ops.erase(ops.begin() + static_cast<ptrdiff_t>(i + 1));
    return true;
  }
  TraitValue v;
  v.kind =
      ops[i].kind == TraitOpKind::kIncrement ? TraitValue::Kind::kInt : TraitValue::Kind::kArray;
  ApplyOp(ops[i], &v);
  ApplyOp(ops[i + 1], &v);
  TraitOp combined = std::move(ops[i + 1]);
  combined.value.clear();
  AppendValueJson(v, &combined.value);
  ops.erase(ops.begin() + static_cast<ptrdiff_t>(i), ops.begin() + static_cast<ptrdiff_t>(i + 2));
  ops.insert(std::upper_bound(ops.begin(), ops.end(), combined), std::move(combined));
  return true;
}

// Keeps `h` within kMaxRelativeOpsPerTrait relative ops: combines the oldest
// same-kind pair, or else folds the oldest op into a kFoldedSet carrying the
// value so far. Both are exact for this partial's ops in event-time order;
// an op that later lands between combined or folded ops (a late event, a
// merge) is then ordered approximately (see profile.h).
void KeepWithinCap(TraitHistory* h) {
  while (h->relative.size() > kMaxRelativeOpsPerTrait) {
    if (CombineOldestPair(h)) continue;
    TraitValue v = Resolve(*h, 1);
    TraitOp folded{h->relative.front().time_us, TraitOpKind::kFoldedSet, "", ""};
    AppendValueJson(v, &folded.value);
    if (v.decided_by) folded.source = v.decided_by->source;
    h->absolute = std::move(folded);
    h->relative.erase(h->relative.begin());
  }
}

// Drops the relative ops of `h` ordered before `op`.
void DropRelativeBefore(const TraitOp& op, TraitHistory* h) {
  auto end = std::lower_bound(h->relative.begin(), h->relative.end(), op);
  h->relative.erase(h->relative.begin(), end);
}

}  // namespace

void TraitSet::Insert(std::string_view key, TraitOp op) {
  if (deleted && op < *deleted) return;
  auto it = traits.find(key);
  if (it != traits.end() && it->second.absolute && !(*it->second.absolute < op)) return;
  if (it == traits.end()) it = traits.emplace(std::string(key), TraitHistory()).first;
  TraitHistory& h = it->second;
  if (IsAbsolute(op.kind)) {
    h.absolute = std::move(op);
    DropRelativeBefore(*h.absolute, &h);
    return;
  }
  h.relative.insert(std::upper_bound(h.relative.begin(), h.relative.end(), op), std::move(op));
  KeepWithinCap(&h);
}

void TraitSet::Delete(const TraitOp& op) {
  if (deleted && !(*deleted < op)) return;
  deleted = op;
  for (auto it = traits.begin(); it != traits.end();) {
    TraitHistory& h = it->second;
    if (h.absolute && *h.absolute < op) h.absolute.reset();
    DropRelativeBefore(op, &h);
    it = !h.absolute && h.relative.empty() ? traits.erase(it) : std::next(it);
  }
}

void TraitSet::MergeFrom(const TraitSet& other) {
  if (other.deleted) Delete(*other.deleted);
  for (const auto& [key, h] : other.traits) {
    if (h.absolute) Insert(key, *h.absolute);
    for (const TraitOp& op : h.relative) Insert(key, op);
  }
}

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

// ---- Encode / Decode (docs/identity_format.md, "Profile partial") ----

namespace {

constexpr uint8_t kFormatVersion = 1;

// a - b and a + b on the two's-complement ring, so that garbage never
// overflows; Decode's order checks reject what wrapped.
int64_t WrapSub(int64_t a, int64_t b) {
  return static_cast<int64_t>(static_cast<uint64_t>(a) - static_cast<uint64_t>(b));
}
int64_t WrapAdd(int64_t a, int64_t b) {
  return static_cast<int64_t>(static_cast<uint64_t>(a) + static_cast<uint64_t>(b));
}

bool HasOperand(TraitOpKind k) { return k != TraitOpKind::kUnset && k != TraitOpKind::kDelete; }

// The source names the ops refer to by index: sorted, distinct.
class NameTable {
 public:
  void Add(const std::string& name) { names_.push_back(name); }
  void AddAll(const TraitSet& set) {
    if (set.deleted) Add(set.deleted->source);
    for (const auto& [key, h] : set.traits) {
      if (h.absolute) Add(h.absolute->source);
      for (const TraitOp& op : h.relative) Add(op.source);
    }
  }
  void Seal() {
    std::sort(names_.begin(), names_.end());
    names_.erase(std::unique(names_.begin(), names_.end()), names_.end());
  }
  uint64_t IndexOf(std::string_view name) const {
    return std::lower_bound(names_.begin(), names_.end(), name) - names_.begin();
  }
  const std::vector<std::string>& names() const { return names_; }

 private:
  std::vector<std::string> names_;
};

void PutActivity(const Activity& a, std::string* out) {
  PutVarint64(out, a.events);
  PutVarsint64(out, a.first_seen_us);
  PutVarint64(out, static_cast<uint64_t>(WrapSub(a.last_seen_us, a.first_seen_us)));
}

void PutOp(const TraitOp& op, int64_t base_us, const NameTable& names, std::string* out) {
  out->push_back(static_cast<char>(op.kind));
  PutVarsint64(out, WrapSub(op.time_us, base_us));
  PutVarint64(out, names.IndexOf(op.source));
  if (HasOperand(op.kind)) PutLengthPrefixed(out, op.value);
}

void PutTraitSet(const TraitSet& set, const NameTable& names, std::string* out) {
  out->push_back(set.deleted ? 1 : 0);
  if (set.deleted) PutOp(*set.deleted, 0, names, out);
  PutVarint64(out, set.traits.size());
  for (const auto& [key, h] : set.traits) {
    PutLengthPrefixed(out, key);
    int64_t base_us = 0;
    out->push_back(h.absolute ? 1 : 0);
    if (h.absolute) {
      PutOp(*h.absolute, base_us, names, out);
      base_us = h.absolute->time_us;
    }
    PutVarint64(out, h.relative.size());
    for (const TraitOp& op : h.relative) {
      PutOp(op, base_us, names, out);
      base_us = op.time_us;
    }
  }
}

Status Corrupt(std::string_view what) {
  return Status::Corruption("profile partial: " + std::string(what));
}

// Reads the fields of docs/identity_format.md, checking every invariant
// PartialProfile keeps, so that a decoded partial behaves like an encoded one.
class ProfileReader {
 public:
  explicit ProfileReader(std::string_view bytes) : in_(bytes) {}

  Status Varint(uint64_t* v, std::string_view what) {
    return in_.GetVarint64(v) ? Status::OK() : Corrupt(std::string(what) + " truncated");
  }
  Status Svarint(int64_t* v, std::string_view what) {
    return in_.GetVarsint64(v) ? Status::OK() : Corrupt(std::string(what) + " truncated");
  }
  Status Byte(uint8_t* v, std::string_view what) {
    return in_.GetByte(v) ? Status::OK() : Corrupt(std::string(what) + " truncated");
  }
  // A name, key or value: UTF-8 like everything PartialProfile records.
  Status String(std::string* s, std::string_view what) {
    if (!in_.GetString(s)) return Corrupt(std::string(what) + " truncated");
    if (!simdjson::validate_utf8(*s)) return Corrupt(std::string(what) + " is not UTF-8");
    return Status::OK();
  }
  Status Flag(bool* v, std::string_view what) {
    uint8_t b;
    RETURN_IF_ERROR(Byte(&b, what));
    if (b > 1) return Corrupt(std::string(what) + " is not 0 or 1");
    *v = b == 1;
    return Status::OK();
  }

  Status Names() {
    uint64_t n;
    RETURN_IF_ERROR(Varint(&n, "name count"));
    for (uint64_t i = 0; i < n; ++i) {
      std::string name;
      RETURN_IF_ERROR(String(&name, "name"));
      if (!names_.empty() && name <= names_.back()) return Corrupt("names not sorted");
      names_.push_back(std::move(name));
    }
    return Status::OK();
  }
  Status NameRef(std::string* name, uint64_t* index) {
    RETURN_IF_ERROR(Varint(index, "name index"));
    if (*index >= names_.size()) return Corrupt("name index out of range");
    *name = names_[*index];
    return Status::OK();
  }

  // first_seen as svarint, then last_seen - first_seen as varint.
  Status Seen(int64_t* first_us, int64_t* last_us) {
    uint64_t span;
    RETURN_IF_ERROR(Svarint(first_us, "first seen"));
    RETURN_IF_ERROR(Varint(&span, "seen span"));
    *last_us = WrapAdd(*first_us, static_cast<int64_t>(span));
    if (*last_us < *first_us) return Corrupt("last seen before first seen");
    return Status::OK();
  }
  Status ReadActivity(Activity* a) {
    RETURN_IF_ERROR(Varint(&a->events, "activity events"));
    if (a->events == 0) return Corrupt("activity without events");
    return Seen(&a->first_seen_us, &a->last_seen_us);
  }

  Status Op(int64_t base_us, TraitOp* op) {
    uint8_t kind;
    int64_t delta;
    uint64_t index;
    RETURN_IF_ERROR(Byte(&kind, "op kind"));
    if (kind > static_cast<uint8_t>(TraitOpKind::kAppend)) return Corrupt("unknown op kind");
    op->kind = static_cast<TraitOpKind>(kind);
    RETURN_IF_ERROR(Svarint(&delta, "op time"));
    op->time_us = WrapAdd(base_us, delta);
    RETURN_IF_ERROR(NameRef(&op->source, &index));
    op->value.clear();
    if (!HasOperand(op->kind)) return Status::OK();
    RETURN_IF_ERROR(String(&op->value, "op value"));
    simdjson::dom::element v;
    if (internal::JsonParser().parse(op->value).get(v) || !internal::ValidOperand(op->kind, v)) {
      return Corrupt("op value is not a valid operand");
    }
    return Status::OK();
  }

  Status History(const std::optional<TraitOp>& deleted, internal::TraitHistory* h) {
    bool has_absolute;
    int64_t base_us = 0;
    RETURN_IF_ERROR(Flag(&has_absolute, "absolute flag"));
    if (has_absolute) {
      RETURN_IF_ERROR(Op(base_us, &h->absolute.emplace()));
      if (!internal::IsAbsolute(h->absolute->kind) || h->absolute->kind == TraitOpKind::kDelete ||
          (deleted && *h->absolute < *deleted)) {
        return Corrupt("bad absolute op");
      }
      base_us = h->absolute->time_us;
    }
    uint64_t n;
    RETURN_IF_ERROR(Varint(&n, "relative op count"));
    if (!has_absolute && n == 0) return Corrupt("empty trait");
    for (uint64_t i = 0; i < n; ++i) {
      TraitOp op;
      RETURN_IF_ERROR(Op(base_us, &op));
      const TraitOp* prev = !h->relative.empty() ? &h->relative.back()
                            : h->absolute        ? &*h->absolute
                                                 : (deleted ? &*deleted : nullptr);
      if (internal::IsAbsolute(op.kind) || (prev && op < *prev)) {
        return Corrupt("relative ops out of order");
      }
      base_us = op.time_us;
      h->relative.push_back(std::move(op));
    }
    return Status::OK();
  }

  Status ReadTraitSet(TraitSet* set) {
    bool has_delete;
    RETURN_IF_ERROR(Flag(&has_delete, "delete flag"));
    if (has_delete) {
      RETURN_IF_ERROR(Op(0, &set->deleted.emplace()));
      if (set->deleted->kind != TraitOpKind::kDelete) return Corrupt("bad delete op");
    }
    uint64_t n;
    RETURN_IF_ERROR(Varint(&n, "trait count"));
    for (uint64_t i = 0; i < n; ++i) {
      std::string key;
      RETURN_IF_ERROR(String(&key, "trait key"));
      if (!set->traits.empty() && key <= set->traits.rbegin()->first) {
        return Corrupt("trait keys not sorted");
      }
      internal::TraitHistory h;
      RETURN_IF_ERROR(History(set->deleted, &h));
      set->traits.emplace_hint(set->traits.end(), std::move(key), std::move(h));
    }
    return Status::OK();
  }

  bool done() const { return in_.done(); }

 private:
  Decoder in_;
  std::vector<std::string> names_;
};

}  // namespace

std::string PartialProfile::Encode() const {
  NameTable names;
  for (const auto& [name, a] : sources_) names.Add(name);
  names.AddAll(traits_);
  for (const auto& [id, set] : groups_) names.AddAll(set);
  names.Seal();

  std::string out;
  out.push_back(static_cast<char>(kFormatVersion));
  PutVarint64(&out, events_);
  if (events_) {
    PutVarsint64(&out, first_seen_us_);
    PutVarint64(&out, static_cast<uint64_t>(WrapSub(last_seen_us_, first_seen_us_)));
  }
  PutVarint64(&out, skipped_ops_);
  PutVarint64(&out, names.names().size());
  for (const std::string& name : names.names()) PutLengthPrefixed(&out, name);
  PutVarint64(&out, sources_.size());
  for (const auto& [name, a] : sources_) {
    PutVarint64(&out, names.IndexOf(name));
    PutActivity(a, &out);
  }
  PutVarint64(&out, channels_.size());
  for (const auto& [name, a] : channels_) {
    PutLengthPrefixed(&out, name);
    PutActivity(a, &out);
  }
  PutTraitSet(traits_, names, &out);
  PutVarint64(&out, groups_.size());
  for (const auto& [id, set] : groups_) {
    PutLengthPrefixed(&out, id);
    PutTraitSet(set, names, &out);
  }
  return out;
}

Result<PartialProfile> PartialProfile::Decode(std::string_view bytes) {
  ProfileReader in(bytes);
  PartialProfile p;
  uint8_t version;
  RETURN_IF_ERROR(in.Byte(&version, "version"));
  if (version != kFormatVersion) return Corrupt("unknown format version");
  RETURN_IF_ERROR(in.Varint(&p.events_, "event count"));
  if (p.events_) RETURN_IF_ERROR(in.Seen(&p.first_seen_us_, &p.last_seen_us_));
  RETURN_IF_ERROR(in.Varint(&p.skipped_ops_, "skipped op count"));
  RETURN_IF_ERROR(in.Names());
  uint64_t n, prev_index = 0;
  RETURN_IF_ERROR(in.Varint(&n, "source count"));
  for (uint64_t i = 0; i < n; ++i) {
    std::string name;
    uint64_t index;
    RETURN_IF_ERROR(in.NameRef(&name, &index));
    if (i > 0 && index <= prev_index) return Corrupt("sources not sorted");
    prev_index = index;
    RETURN_IF_ERROR(in.ReadActivity(&p.sources_[name]));
  }
  RETURN_IF_ERROR(in.Varint(&n, "channel count"));
  for (uint64_t i = 0; i < n; ++i) {
    std::string name;
    RETURN_IF_ERROR(in.String(&name, "channel name"));
    if (!p.channels_.empty() && name <= p.channels_.rbegin()->first) {
      return Corrupt("channels not sorted");
    }
    RETURN_IF_ERROR(in.ReadActivity(&p.channels_[name]));
  }
  RETURN_IF_ERROR(in.ReadTraitSet(&p.traits_));
  RETURN_IF_ERROR(in.Varint(&n, "group count"));
  for (uint64_t i = 0; i < n; ++i) {
    std::string id;
    RETURN_IF_ERROR(in.String(&id, "group id"));
    if (!p.groups_.empty() && id <= p.groups_.rbegin()->first) return Corrupt("groups not sorted");
    RETURN_IF_ERROR(in.ReadTraitSet(&p.groups_[id]));
  }
  if (!in.done()) return Corrupt("trailing bytes");
  return p;
}

}  // namespace quanyu::identity
