#include "audience/internal/trait_accumulators.h"

#include <algorithm>
#include <cmath>
#include <map>
#include <set>
#include <unordered_map>
#include <unordered_set>

namespace quanyu::audience::internal {
namespace {

using Kind = ComputedTraitSpec::Kind;

// JSON text that never throws: invalid UTF-8 in a stored property is
// replaced (U+FFFD) rather than failing the whole trait.
std::string JsonText(const Json& j) {
  return j.dump(-1, ' ', /*ensure_ascii=*/false, Json::error_handler_t::replace);
}

Json ParseText(const std::string& text) { return Json::parse(text, nullptr, false); }

// Each policy says which rows it takes, how a person's state grows and
// merges, and the value it ends with (nullopt: the person has none).

struct CountPolicy {
  using State = int64_t;
  bool Accepts(const std::optional<TraitValue>&) const { return true; }
  void Add(State* s, int64_t, const std::optional<TraitValue>&) const { ++*s; }
  void Merge(State* into, State* from) const { *into += *from; }
  std::optional<Json> Value(State* s) const { return Json(*s); }
};

// Sum and average keep every value: adding doubles in scan order would make
// the last bits depend on how rows were split between threads, so the
// values are summed in sorted order at the end.
struct SumPolicy {
  bool average = false;
  using State = std::vector<double>;
  bool Accepts(const std::optional<TraitValue>& v) const { return v && v->is_number; }
  void Add(State* s, int64_t, const std::optional<TraitValue>& v) const { s->push_back(v->number); }
  void Merge(State* into, State* from) const {
    into->insert(into->end(), from->begin(), from->end());
  }
  std::optional<Json> Value(State* s) const {
    std::sort(s->begin(), s->end());
    double sum = 0;
    for (double d : *s) sum += d;
    if (average) sum /= static_cast<double>(s->size());
    if (!std::isfinite(sum)) return std::nullopt;
    return NumberJson(sum);
  }
};

struct ExtremePolicy {
  bool max = false;
  using State = std::optional<double>;
  bool Accepts(const std::optional<TraitValue>& v) const { return v && v->is_number; }
  void Add(State* s, int64_t, const std::optional<TraitValue>& v) const { Take(s, v->number); }
  void Merge(State* into, State* from) const {
    if (*from) Take(into, **from);
  }
  std::optional<Json> Value(State* s) const { return NumberJson(**s); }
  void Take(State* s, double d) const {
    if (!*s || (max ? d > **s : d < **s)) *s = d;
  }
};

struct MostFrequentPolicy {
  using State = std::map<std::string, int64_t>;  // JSON text -> events
  bool Accepts(const std::optional<TraitValue>& v) const { return v.has_value(); }
  void Add(State* s, int64_t, const std::optional<TraitValue>& v) const { ++(*s)[v->text]; }
  void Merge(State* into, State* from) const {
    for (const auto& [text, n] : *from) (*into)[text] += n;
  }
  std::optional<Json> Value(State* s) const {
    // Ascending text order and a strict ">" keep the smallest text on ties.
    const std::string* best = nullptr;
    int64_t best_n = 0;
    for (const auto& [text, n] : *s) {
      if (n > best_n) {
        best = &text;
        best_n = n;
      }
    }
    return ParseText(*best);
  }
};

struct FirstLastPolicy {
  bool last = false;
  struct State {
    bool set = false;
    int64_t time_us = 0;
    std::string text;
  };
  bool Accepts(const std::optional<TraitValue>& v) const { return v.has_value(); }
  void Add(State* s, int64_t t, const std::optional<TraitValue>& v) const { Take(s, t, v->text); }
  void Merge(State* into, State* from) const {
    if (from->set) Take(into, from->time_us, from->text);
  }
  std::optional<Json> Value(State* s) const { return ParseText(s->text); }
  // first: earlier wins, then the smaller text; last: later, then larger.
  void Take(State* s, int64_t t, const std::string& text) const {
    const bool better = !s->set || (last ? (t > s->time_us || (t == s->time_us && text > s->text))
                                         : (t < s->time_us || (t == s->time_us && text < s->text)));
    if (!better) return;
    s->set = true;
    s->time_us = t;
    s->text = text;
  }
};

// Keeps only the kUniqueListLimit smallest texts: the smallest of a union
// are among the smallest of its parts, so trimming early changes nothing.
struct UniqueListPolicy {
  using State = std::set<std::string>;
  bool Accepts(const std::optional<TraitValue>& v) const { return v.has_value(); }
  void Add(State* s, int64_t, const std::optional<TraitValue>& v) const {
    s->insert(v->text);
    Trim(s);
  }
  void Merge(State* into, State* from) const {
    into->merge(*from);
    Trim(into);
  }
  std::optional<Json> Value(State* s) const {
    Json list = Json::array();
    for (const auto& text : *s) list.push_back(ParseText(text));
    return list;
  }
  static void Trim(State* s) {
    while (s->size() > kUniqueListLimit) s->erase(std::prev(s->end()));
  }
};

struct UniqueCountPolicy {
  using State = std::unordered_set<std::string>;
  bool Accepts(const std::optional<TraitValue>& v) const { return v.has_value(); }
  void Add(State* s, int64_t, const std::optional<TraitValue>& v) const { s->insert(v->text); }
  void Merge(State* into, State* from) const { into->merge(*from); }
  std::optional<Json> Value(State* s) const { return Json(static_cast<int64_t>(s->size())); }
};

template <typename Policy>
class PolicyAccumulator final : public TraitAccumulator {
 public:
  explicit PolicyAccumulator(Policy policy) : policy_(std::move(policy)) {}

  void Add(uint32_t one_id, int64_t time_us, const std::optional<TraitValue>& value) override {
    if (!policy_.Accepts(value)) return;
    policy_.Add(&persons_[one_id], time_us, value);
  }

  void MergeFrom(TraitAccumulator* other) override {
    auto* o = static_cast<PolicyAccumulator*>(other);
    for (auto& [one_id, state] : o->persons_) {
      auto [it, inserted] = persons_.try_emplace(one_id, std::move(state));
      if (!inserted) policy_.Merge(&it->second, &state);
    }
    o->persons_.clear();
  }

  std::vector<PersonValue> Finish() override {
    std::vector<uint32_t> ids;
    ids.reserve(persons_.size());
    for (const auto& entry : persons_) ids.push_back(entry.first);
    std::sort(ids.begin(), ids.end());
    std::vector<PersonValue> out;
    out.reserve(ids.size());
    for (uint32_t id : ids) {
      std::optional<Json> v = policy_.Value(&persons_[id]);
      if (v && !v->is_discarded()) out.push_back(PersonValue{id, std::move(*v)});
    }
    return out;
  }

 private:
  Policy policy_;
  std::unordered_map<uint32_t, typename Policy::State> persons_;
};

template <typename Policy>
std::unique_ptr<TraitAccumulator> Make(Policy policy) {
  return std::make_unique<PolicyAccumulator<Policy>>(std::move(policy));
}

}  // namespace

std::optional<TraitValue> TraitValueOf(const query::Value& v) {
  TraitValue out;
  switch (v.kind) {
    case query::Value::kMissing:
    case query::Value::kNull:
      return std::nullopt;
    case query::Value::kString:
      out.text = JsonText(Json(v.text));
      return out;
    case query::Value::kBool:
      out.text = v.number != 0 ? "true" : "false";
      return out;
    case query::Value::kNumber:
      if (!std::isfinite(v.number)) return std::nullopt;
      out.is_number = true;
      out.number = v.number;
      out.text = JsonText(NumberJson(v.number));
      return out;
  }
  return std::nullopt;
}

Json NumberJson(double d) {
  constexpr double kExactLimit = 9007199254740992.0;  // 2^53
  if (d == std::floor(d) && std::fabs(d) < kExactLimit) return Json(static_cast<int64_t>(d));
  return Json(d);
}

std::unique_ptr<TraitAccumulator> NewTraitAccumulator(Kind kind) {
  switch (kind) {
    case Kind::kCount:
      return Make(CountPolicy{});
    case Kind::kSum:
      return Make(SumPolicy{.average = false});
    case Kind::kAvg:
      return Make(SumPolicy{.average = true});
    case Kind::kMin:
      return Make(ExtremePolicy{.max = false});
    case Kind::kMax:
      return Make(ExtremePolicy{.max = true});
    case Kind::kMostFrequent:
      return Make(MostFrequentPolicy{});
    case Kind::kFirst:
      return Make(FirstLastPolicy{.last = false});
    case Kind::kLast:
      return Make(FirstLastPolicy{.last = true});
    case Kind::kUniqueList:
      return Make(UniqueListPolicy{});
    case Kind::kUniqueCount:
      return Make(UniqueCountPolicy{});
  }
  return Make(CountPolicy{});
}

}  // namespace quanyu::audience::internal
