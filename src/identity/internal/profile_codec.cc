// PartialProfile::Encode() and Decode(). The byte format is specified in
// docs/identity_format.md ("Profile partial"); change both together.
#include <simdjson.h>

#include <algorithm>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/coding.h"
#include "identity/internal/trait_set.h"
#include "identity/profile.h"

namespace quanyu::identity {
namespace {

using internal::Activity;
using internal::TraitOp;
using internal::TraitOpKind;
using internal::TraitSet;

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
