#include "audience/evaluator.h"

#include <algorithm>

#include "store/event_store.h"

#include "audience/internal/attribute_compare.h"
#include "audience/internal/event_scan.h"

namespace quanyu::audience {
namespace {

constexpr int64_t kMinuteUs = 60LL * 1000000;
constexpr size_t kMaxAudienceDepth = 16;

int64_t RoundedNow(const EvalContext& ctx) { return ctx.now_us - ctx.now_us % kMinuteUs; }
// "now" of relative windows and ago(...): the end of the current minute, so
// a cached leaf counts every event of that minute as it arrives.
int64_t EvalNow(const EvalContext& ctx) { return RoundedNow(ctx) + kMinuteUs - 1; }

// "address.city" -> {"address", "city"}; "city" -> {"city", ""}.
std::pair<std::string, std::string> SplitTrait(const std::string& name) {
  const size_t dot = name.find('.');
  if (dot == std::string::npos) return {name, ""};
  return {name.substr(0, dot), name.substr(dot + 1)};
}

bool IsRelative(const Node& n) {
  if (n.window.kind == Window::kLast) return true;
  for (const Literal& l : n.values) {
    if (l.ago_seconds >= 0) return true;
  }
  return false;
}

std::string_view NamespaceName(Namespace ns) {
  switch (ns) {
    case Namespace::kTrait: return "trait";
    case Namespace::kComputed: return "computed";
    case Namespace::kRfm: return "rfm";
    case Namespace::kPredicted: return "predicted";
    case Namespace::kConsent: return "consent";
  }
  return "?";
}

Json WindowJson(const Window& w) {
  return Json::array({static_cast<int>(w.kind), w.seconds, w.from_date, w.to_date});
}

// Follows a dotted path ("address.city") inside a trait's value.
const Json* AtPath(const Json& root, std::string_view rest) {
  const Json* cur = &root;
  while (!rest.empty()) {
    const size_t dot = rest.find('.');
    const std::string part(rest.substr(0, dot));
    if (!cur->is_object()) return nullptr;
    auto it = cur->find(part);
    if (it == cur->end()) return nullptr;
    cur = &*it;
    rest = dot == std::string_view::npos ? std::string_view() : rest.substr(dot + 1);
  }
  return cur;
}

}  // namespace

std::string CacheKeyOf(const Node& n) {
  Json j;
  switch (n.kind) {
    case Node::kAttribute: {
      Json vals = Json::array();
      for (const Literal& l : n.values) vals.push_back(Json::array({l.value, l.ago_seconds}));
      j = Json::array({"attr", NamespaceName(n.ns), n.name, static_cast<int>(n.op), vals});
      break;
    }
    case Node::kEvent:
      j = Json::array({"did", n.event, n.where, n.count.op, n.count.value, n.sum_property,
                       n.sum.op, n.sum.value, WindowJson(n.window)});
      break;
    case Node::kSequence: {
      Json steps = Json::array();
      for (const Node& s : n.steps) steps.push_back(Json::array({s.event, s.where}));
      j = Json::array({"seq", steps, n.max_gap_seconds, WindowJson(n.window)});
      break;
    }
    default:
      j = Json::array({"node", static_cast<int>(n.kind)});
  }
  return j.dump();
}

Result<Roaring> AudienceEvaluator::Universe(const EvalContext& ctx) {
  return UniverseLocked(ctx, nullptr);
}

Result<Roaring> AudienceEvaluator::UniverseLocked(const EvalContext& ctx, const Roaring* within) {
  if (auto hit = Lookup("universe", ctx.data_version, within)) return std::move(*hit);
  const DenseArray<uint32_t>& ids = *ctx.query.one_ids;
  std::vector<uint32_t> all;
  all.reserve(ids.size());
  for (size_t k = 1; k < ids.size(); ++k) {
    const uint32_t id = ids.Get(k);
    if (id != 0) all.push_back(id);
  }
  // Keys of one person are mostly near each other, so the one_ids arrive
  // nearly sorted and CRoaring's addMany stays in one container at a time;
  // duplicates are harmless.
  Entry e;
  e.version = ctx.data_version;
  e.bits.addMany(all.size(), all.data());
  e.bits.runOptimize();
  Roaring out = within ? e.bits & *within : e.bits;
  Remember("universe", std::move(e));
  return out;
}

Result<Roaring> AudienceEvaluator::Evaluate(const Node& definition, const EvalContext& ctx,
                                            const Roaring* within) {
  Scope scope{ctx, within, {}};
  return Eval(definition, &scope);
}

Result<Roaring> AudienceEvaluator::Eval(const Node& n, Scope* scope) {
  switch (n.kind) {
    case Node::kAnd: {
      // Positive children intersect first; NOT children are subtracted, so
      // "a AND NOT b" never materializes the complement of b.
      std::optional<Roaring> acc;
      std::vector<const Node*> negated;
      for (const Node& c : n.children) {
        if (c.kind == Node::kNot && !c.children.empty()) {
          negated.push_back(&c.children[0]);
          continue;
        }
        ASSIGN_OR_RETURN(Roaring bits, Eval(c, scope));
        if (!acc) {
          acc = std::move(bits);
        } else {
          *acc &= bits;
        }
      }
      if (!acc) {
        ASSIGN_OR_RETURN(Roaring u, UniverseLocked(scope->ctx, scope->within));
        acc = std::move(u);
      }
      for (const Node* c : negated) {
        if (acc->isEmpty()) break;
        ASSIGN_OR_RETURN(Roaring bits, Eval(*c, scope));
        *acc -= bits;
      }
      return std::move(*acc);
    }
    case Node::kOr: {
      Roaring acc;
      for (const Node& c : n.children) {
        ASSIGN_OR_RETURN(Roaring bits, Eval(c, scope));
        acc |= bits;
      }
      return acc;
    }
    case Node::kNot: {
      if (n.children.size() != 1) return Status::InvalidArgument("NOT takes one condition");
      ASSIGN_OR_RETURN(Roaring u, UniverseLocked(scope->ctx, scope->within));
      ASSIGN_OR_RETURN(Roaring bits, Eval(n.children[0], scope));
      u -= bits;
      return u;
    }
    default:
      return Leaf(n, scope);
  }
}

Result<Roaring> AudienceEvaluator::Leaf(const Node& n, Scope* scope) {
  const EvalContext& ctx = scope->ctx;
  if (n.kind == Node::kAudience) {
    auto& stack = scope->stack;
    if (std::find(stack.begin(), stack.end(), n.audience) != stack.end() ||
        stack.size() >= kMaxAudienceDepth) {
      return Status::InvalidArgument("audience(\"" + n.audience +
                                     "\"): audiences refer to each other in a cycle");
    }
    auto def = ctx.data->AudienceDefinition(n.audience);
    if (!def.ok()) {
      return Status::InvalidArgument("audience(\"" + n.audience + "\"): no such audience");
    }
    stack.push_back(n.audience);
    auto bits = Eval(*def, scope);
    stack.pop_back();
    return bits;
  }
  std::string key = CacheKeyOf(n);
  const int64_t minute = IsRelative(n) ? RoundedNow(ctx) : 0;
  if (minute) key += "@" + std::to_string(minute);
  // Held until the leaf is remembered, so no batch is applied between the
  // snapshot its scan reads and the moment the cache holds it.
  std::shared_lock computing(apply_mu_);
  if (auto hit = Lookup(key, ctx.data_version, scope->within)) return std::move(*hit);
  ASSIGN_OR_RETURN(Roaring u, UniverseLocked(ctx, nullptr));
  ASSIGN_OR_RETURN(internal::LeafResult r, Compute(n, ctx, u));
  r.bits.runOptimize();
  Roaring out = scope->within ? r.bits & *scope->within : r.bits;
  Entry e;
  e.version = ctx.data_version;
  e.minute = minute;
  e.leaf = n;
  e.bits = std::move(r.bits);
  e.state = std::move(r.state);
  e.covered_lsn = r.covered_lsn;
  e.failing = std::move(r.failing);
  Remember(key, std::move(e));
  return out;
}

Result<internal::LeafResult> AudienceEvaluator::Compute(const Node& n, const EvalContext& ctx,
                                                        const Roaring& universe) {
  const int64_t now = EvalNow(ctx);
  if (n.kind == Node::kEvent) return internal::EvaluateEvent(n, ctx.query, now, universe);
  if (n.kind == Node::kSequence) return internal::EvaluateSequence(n, ctx.query, now);
  if (n.kind != Node::kAttribute) return Status::InvalidArgument("unknown condition kind");
  if (n.ns == Namespace::kConsent) return internal::EvaluateConsent(n, ctx.query, now, universe);

  // Persons with a value that passes, and (for !=) those with a value that
  // fails: a person without the value satisfies only !=.
  std::vector<uint32_t> pass, fail;
  auto visit = [&](uint32_t id, const Json& value) {
    (internal::Satisfies(value, n.op, n.values, now) ? pass : fail).push_back(id);
  };
  if (n.ns == Namespace::kTrait) {
    const auto split = SplitTrait(n.name);  // not a structured binding: the lambda uses it
    const std::string& top = split.first;
    const std::string& rest = split.second;
    RETURN_IF_ERROR(ctx.data->ForEachTrait(top, [&](uint32_t id, const Json& value) {
      const Json* v = AtPath(value, rest);
      if (v) visit(id, *v);
    }));
  } else {
    RETURN_IF_ERROR(ctx.data->ForEachStoredAttribute(n.ns, n.name, visit));
  }
  internal::LeafResult out;
  if (!internal::MissingSatisfies(n.op)) {
    std::sort(pass.begin(), pass.end());
    out.bits.addMany(pass.size(), pass.data());
    out.bits &= universe;
    return out;
  }
  std::sort(fail.begin(), fail.end());
  out.failing.addMany(fail.size(), fail.data());
  out.bits = universe;
  out.bits -= out.failing;
  return out;
}

Result<Roaring> AudienceEvaluator::Apply(const std::vector<Event>& events, uint64_t lsn,
                                         const MergeList& merges, const EvalContext& ctx) {
  // The persons the events belong to now (identity applied them already).
  Roaring persons, traits_changed;
  std::vector<uint32_t> ids(events.size());
  for (size_t i = 0; i < events.size(); ++i) {
    const Event& e = events[i];
    const uint32_t id = e.identity_key == 0 ? 0 : ctx.query.one_ids->Get(e.identity_key);
    ids[i] = id;
    if (id == 0) continue;
    persons.add(id);
    if (e.type != EventType::kTrack && e.type != EventType::kPage && e.type != EventType::kScreen) {
      traits_changed.add(id);
    }
  }
  Roaring absorbed;
  for (const auto& [survivor, gone] : merges) {
    persons.add(survivor);
    persons.add(gone);
    traits_changed.add(survivor);  // its profile now folds the absorbed one's
    absorbed.add(gone);
  }
  if (persons.isEmpty()) return persons;
  std::unique_lock applying(apply_mu_);  // no leaf is being computed
  store::ColumnSet columns;
  {
    std::lock_guard lock(mu_);
    const int64_t minute = RoundedNow(ctx);
    for (auto it = cache_.begin(); it != cache_.end();) {
      Entry& e = it->second;
      if (e.version != ctx.data_version || (e.minute != 0 && e.minute != minute)) {
        cached_bytes_ -= e.bytes;
        lru_.erase(e.lru);
        it = cache_.erase(it);
        continue;
      }
      if (e.state && e.covered_lsn < lsn) {
        for (int c = 0; c < store::kColumnCount; ++c) {
          if (e.state->columns().Has(static_cast<store::Column>(c))) {
            columns.Add(static_cast<store::Column>(c));
          }
        }
      }
      ++it;
    }
  }
  auto apply = [&](const store::ColumnBatch* batch) {
    std::lock_guard lock(mu_);
    for (auto& [key, e] : cache_) {
      if (e.state) {
        for (const auto& [survivor, gone] : merges) e.state->Merge(survivor, gone);
      }
      if (!e.leaf) {
        e.bits |= persons;  // the universe
      } else if (e.state) {
        if (batch && e.covered_lsn < lsn) e.state->Fold(*batch);
        e.covered_lsn = std::max(e.covered_lsn, lsn);
        e.state->Decide(persons, &e.bits);
      } else if (e.leaf->kind == Node::kAttribute) {
        ApplyAttribute(*e.leaf, ctx, persons, traits_changed, &e);
      }
      e.bits -= absorbed;  // no longer a person
      e.failing -= absorbed;
      cached_bytes_ -= e.bytes;
      e.bytes = BytesOf(key, e);
      cached_bytes_ += e.bytes;
    }
  };
  if (columns.empty()) {
    apply(nullptr);
  } else {
    RETURN_IF_ERROR(store::ScanEventColumns(events, ids, columns, [&](const store::ColumnBatch& b) {
      apply(&b);
      return Status::OK();
    }));
  }
  return persons;
}

void AudienceEvaluator::ApplyAttribute(const Node& n, const EvalContext& ctx,
                                       const Roaring& persons, const Roaring& traits_changed,
                                       Entry* e) {
  const bool missing_ok = internal::MissingSatisfies(n.op);
  if (n.ns == Namespace::kTrait) {
    const int64_t now = EvalNow(ctx);
    const auto [top, rest] = SplitTrait(n.name);
    for (uint32_t id : traits_changed) {
      std::optional<Json> value = ctx.data->TraitOf(id, top);
      const Json* v = value ? AtPath(*value, rest) : nullptr;
      const bool in = v ? internal::Satisfies(*v, n.op, n.values, now) : missing_ok;
      if (v && !in) {
        e->failing.add(id);
      } else {
        e->failing.remove(id);
      }
      if (in) {
        e->bits.add(id);
      } else {
        e->bits.remove(id);
      }
    }
  }
  // computed.*, rfm.*, predicted.* change only when recomputed (a new
  // data_version). A person the leaf does not know has no value, which
  // only "!=" accepts.
  if (missing_ok) e->bits |= persons - e->failing;
}

std::optional<Roaring> AudienceEvaluator::Lookup(const std::string& key, uint64_t version,
                                                 const Roaring* within) {
  std::lock_guard lock(mu_);
  auto it = cache_.find(key);
  if (it == cache_.end() || it->second.version != version) {
    ++stats_.misses;
    return std::nullopt;
  }
  ++stats_.hits;
  lru_.splice(lru_.begin(), lru_, it->second.lru);
  return within ? it->second.bits & *within : it->second.bits;
}

size_t AudienceEvaluator::BytesOf(const std::string& key, const Entry& e) {
  return e.bits.getSizeInBytes() + e.failing.getSizeInBytes() + key.size() + 64 +
         (e.state ? e.state->bytes() : 0);
}

void AudienceEvaluator::Remember(const std::string& key, Entry entry) {
  entry.bytes = BytesOf(key, entry);
  std::lock_guard lock(mu_);
  auto it = cache_.find(key);
  if (it != cache_.end()) {
    cached_bytes_ -= it->second.bytes;
    lru_.erase(it->second.lru);
    cache_.erase(it);
  }
  if (entry.bytes > max_cached_bytes_) return;
  lru_.push_front(key);
  entry.lru = lru_.begin();
  cached_bytes_ += entry.bytes;
  cache_.emplace(key, std::move(entry));
  while (cached_bytes_ > max_cached_bytes_ && !lru_.empty()) {
    auto old = cache_.find(lru_.back());
    cached_bytes_ -= old->second.bytes;
    cache_.erase(old);
    lru_.pop_back();
  }
}

AudienceEvaluator::Stats AudienceEvaluator::stats() const {
  std::lock_guard lock(mu_);
  Stats s = stats_;
  s.entries = cache_.size();
  s.bytes = cached_bytes_;
  return s;
}

}  // namespace quanyu::audience
