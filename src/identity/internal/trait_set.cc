// TraitSet: the per-trait operation histories behind PartialProfile
// (identity/profile.h), and the fold that turns a history into a value.
//
// Why the state is mergeable: per trait, the result of the fold depends only
// on the latest absolute op (set, unset, profile delete) and the relative ops
// after it. Keeping the maximum absolute op and the multiset union of
// relative ops, filtered to those after it, is a join of max and multiset
// sum, so it is commutative and associative, and applying one event is the
// same as merging in a partial made of that event alone.
#include "identity/internal/trait_set.h"

#include <algorithm>
#include <iterator>
#include <utility>

#include "common/json_text.h"

namespace quanyu::identity::internal {

simdjson::dom::parser& JsonParser() {
  thread_local simdjson::dom::parser parser;
  return parser;
}

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

namespace {

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

}  // namespace

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

namespace {

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

}  // namespace quanyu::identity::internal
