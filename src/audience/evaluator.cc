#include "audience/evaluator.h"

#include <algorithm>

#include "audience/internal/attribute_compare.h"
#include "audience/internal/event_scan.h"

namespace quanyu::audience {
namespace {

constexpr int64_t kMinuteUs = 60LL * 1000000;
constexpr size_t kMaxAudienceDepth = 16;

int64_t RoundedNow(const EvalContext& ctx) { return ctx.now_us - ctx.now_us % kMinuteUs; }

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
  if (auto hit = Lookup("universe", ctx.data_version)) return *hit;
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
  Roaring out;
  out.addMany(all.size(), all.data());
  out.runOptimize();
  Remember("universe", ctx.data_version, out);
  return out;
}

Result<Roaring> AudienceEvaluator::Evaluate(const Node& definition, const EvalContext& ctx) {
  std::vector<std::string> stack;
  return Eval(definition, ctx, &stack);
}

Result<Roaring> AudienceEvaluator::Eval(const Node& n, const EvalContext& ctx,
                                        std::vector<std::string>* stack) {
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
        ASSIGN_OR_RETURN(Roaring bits, Eval(c, ctx, stack));
        if (!acc) {
          acc = std::move(bits);
        } else {
          *acc &= bits;
        }
      }
      if (!acc) {
        ASSIGN_OR_RETURN(Roaring u, Universe(ctx));
        acc = std::move(u);
      }
      for (const Node* c : negated) {
        if (acc->isEmpty()) break;
        ASSIGN_OR_RETURN(Roaring bits, Eval(*c, ctx, stack));
        *acc -= bits;
      }
      return std::move(*acc);
    }
    case Node::kOr: {
      Roaring acc;
      for (const Node& c : n.children) {
        ASSIGN_OR_RETURN(Roaring bits, Eval(c, ctx, stack));
        acc |= bits;
      }
      return acc;
    }
    case Node::kNot: {
      if (n.children.size() != 1) return Status::InvalidArgument("NOT takes one condition");
      ASSIGN_OR_RETURN(Roaring u, Universe(ctx));
      ASSIGN_OR_RETURN(Roaring bits, Eval(n.children[0], ctx, stack));
      u -= bits;
      return u;
    }
    default:
      return Leaf(n, ctx, stack);
  }
}

Result<Roaring> AudienceEvaluator::Leaf(const Node& n, const EvalContext& ctx,
                                        std::vector<std::string>* stack) {
  if (n.kind == Node::kAudience) {
    if (std::find(stack->begin(), stack->end(), n.audience) != stack->end() ||
        stack->size() >= kMaxAudienceDepth) {
      return Status::InvalidArgument("audience(\"" + n.audience +
                                     "\"): audiences refer to each other in a cycle");
    }
    auto def = ctx.data->AudienceDefinition(n.audience);
    if (!def.ok()) {
      return Status::InvalidArgument("audience(\"" + n.audience + "\"): no such audience");
    }
    stack->push_back(n.audience);
    auto bits = Eval(*def, ctx, stack);
    stack->pop_back();
    return bits;
  }
  std::string key = CacheKeyOf(n);
  if (IsRelative(n)) key += "@" + std::to_string(RoundedNow(ctx));
  const uint64_t version = ctx.data->VersionOf(n, ctx.data_version);
  if (auto hit = Lookup(key, version)) return *hit;
  ASSIGN_OR_RETURN(Roaring u, Universe(ctx));
  ASSIGN_OR_RETURN(Roaring bits, Compute(n, ctx, u));
  bits.runOptimize();
  Remember(key, version, bits);
  return bits;
}

Result<Roaring> AudienceEvaluator::Compute(const Node& n, const EvalContext& ctx,
                                           const Roaring& universe) {
  const int64_t now = RoundedNow(ctx);
  if (n.kind == Node::kEvent) return internal::EvaluateEvent(n, ctx.query, now, universe);
  if (n.kind == Node::kSequence) return internal::EvaluateSequence(n, ctx.query, now);
  if (n.kind != Node::kAttribute) return Status::InvalidArgument("unknown condition kind");

  // Persons with a value that passes, and (for !=) those with a value that
  // fails: a person without the value satisfies only !=.
  std::vector<uint32_t> pass, fail;
  auto visit = [&](uint32_t id, const Json& value) {
    (internal::Satisfies(value, n.op, n.values, now) ? pass : fail).push_back(id);
  };
  if (n.ns == Namespace::kTrait) {
    const size_t dot = n.name.find('.');
    const std::string top = n.name.substr(0, dot);
    const std::string rest = dot == std::string::npos ? "" : n.name.substr(dot + 1);
    RETURN_IF_ERROR(ctx.data->ForEachTrait(top, [&](uint32_t id, const Json& value) {
      const Json* v = AtPath(value, rest);
      if (v) visit(id, *v);
    }));
  } else if (n.ns == Namespace::kConsent) {
    RETURN_IF_ERROR(internal::ForEachConsent(ctx.query, n.name,
                                             [&](uint32_t id, bool granted) { visit(id, Json(granted)); }));
  } else {
    RETURN_IF_ERROR(ctx.data->ForEachStoredAttribute(n.ns, n.name, visit));
  }
  if (!internal::MissingSatisfies(n.op)) {
    std::sort(pass.begin(), pass.end());
    Roaring out;
    out.addMany(pass.size(), pass.data());
    return out & universe;
  }
  std::sort(fail.begin(), fail.end());
  Roaring failing;
  failing.addMany(fail.size(), fail.data());
  Roaring out = universe;
  out -= failing;
  return out;
}

std::shared_ptr<const Roaring> AudienceEvaluator::Lookup(const std::string& key,
                                                         uint64_t version) {
  std::lock_guard lock(mu_);
  auto it = cache_.find(key);
  if (it == cache_.end() || it->second.version != version) {
    ++stats_.misses;
    return nullptr;
  }
  ++stats_.hits;
  lru_.splice(lru_.begin(), lru_, it->second.lru);
  return it->second.bits;
}

void AudienceEvaluator::Remember(const std::string& key, uint64_t version, const Roaring& bits) {
  const size_t bytes = bits.getSizeInBytes() + key.size() + 64;
  std::lock_guard lock(mu_);
  auto it = cache_.find(key);
  if (it != cache_.end()) {
    cached_bytes_ -= it->second.bytes;
    lru_.erase(it->second.lru);
    cache_.erase(it);
  }
  if (bytes > max_cached_bytes_) return;
  lru_.push_front(key);
  cache_[key] = Entry{version, std::make_shared<const Roaring>(bits), bytes, lru_.begin()};
  cached_bytes_ += bytes;
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
