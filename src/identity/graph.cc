#include "identity/graph.h"

#include <algorithm>
#include <mutex>

#include "identity/internal/link.h"

namespace quanyu::identity {

// The live graph as internal::ApplyLink sees it. Persons are one_ids; the
// older person is the smaller one_id.
class GraphView {
 public:
  explicit GraphView(IdentityGraph* g) : g_(g) {}
  uint32_t PersonOf(IdentKey k) const { return g_->person_of_.Get(k); }
  uint32_t IdentCount(uint32_t p) const { return g_->persons_[p].count; }
  uint32_t MergeCount(uint32_t p) const { return g_->persons_[p].merges; }
  template <class F>
  void ForEachIdent(uint32_t p, F f) const {
    for (uint32_t k = g_->persons_[p].head; k != 0; k = g_->next_[k]) f(k);
  }
  uint32_t NamespaceOf(IdentKey k) const { return g_->interner_.NamespaceOf(k); }
  uint32_t LimitOf(uint32_t ns) const { return g_->ns_limit_[ns]; }
  bool Older(uint32_t a, uint32_t b) const { return a < b; }
  uint32_t NewPerson() { return g_->NewPerson(); }
  void AddIdent(uint32_t p, IdentKey k) { g_->AddIdent(p, k); }
  void Merge(uint32_t survivor, uint32_t absorbed) { g_->Merge(survivor, absorbed); }

 private:
  IdentityGraph* g_;
};

IdentityGraph::IdentityGraph(IdentityRules rules) : rules_(std::move(rules)) {
  next_.push_back(0);
  birth_.push_back(0);
  persons_.emplace_back();
  edges_.emplace_back();
  edge_nodes_.emplace_back();
  person_dirty_.push_back(false);
  edge_dirty_.push_back(false);
}

IdentityGraph::~IdentityGraph() = default;

uint32_t IdentityGraph::NamespaceIdFor(const Identifier& id) {
  uint32_t ns = interner_.InternNamespace(LinkNamespace(id.ns), id.scope);
  if (ns >= ns_limit_.size()) {
    const NamespaceRule& rule = rules_.For(LinkNamespace(id.ns));
    ns_limit_.push_back(rule.limit);
    ns_priority_.push_back(rule.priority);
  }
  return ns;
}

uint32_t IdentityGraph::PriorityOf(IdentKey k) const {
  return ns_priority_[interner_.NamespaceOf(k)];
}

void IdentityGraph::InternIds(const Event& e, std::vector<IdentKey>* ids) {
  // Priorities come from the namespace ids in hand: PriorityOf(key) would
  // read key_ns_ at a random place per comparison (a cache miss each on a
  // large graph). Scratch, not a local, to keep allocation off the hot path.
  thread_local std::vector<uint32_t> priorities;
  ids->clear();
  priorities.clear();
  for (const Identifier& id : e.identifiers) {
    uint32_t ns = NamespaceIdFor(id);
    auto [key, added] = interner_.Intern(ns, id.value);
    if (added) {
      next_.push_back(0);
      birth_.push_back(0);
    }
    if (std::find(ids->begin(), ids->end(), key) == ids->end()) {
      ids->push_back(key);
      priorities.push_back(ns_priority_[ns]);
    }
  }
  // Stable insertion sort (events carry a handful of identifiers): equal
  // priorities keep the event's order, as std::stable_sort would, without
  // its temporary buffer.
  for (size_t i = 1; i < ids->size(); ++i) {
    IdentKey k = (*ids)[i];
    uint32_t pr = priorities[i];
    size_t j = i;
    for (; j > 0 && priorities[j - 1] > pr; --j) {
      (*ids)[j] = (*ids)[j - 1];
      priorities[j] = priorities[j - 1];
    }
    (*ids)[j] = k;
    priorities[j] = pr;
  }
}

uint32_t IdentityGraph::NewEdge(EdgeKind kind, int64_t time_us, const std::string& message_id,
                                std::vector<IdentKey> ids) {
  auto edge_id = static_cast<uint32_t>(edges_.size());
  Edge& edge = edges_.emplace_back();
  edge_dirty_.push_back(false);
  edge.kind = kind;
  edge.time_us = time_us;
  edge.message_id = message_id;
  edge.ids = std::move(ids);
  MarkEdge(edge_id);
  return edge_id;
}

OneId IdentityGraph::NewPerson() {
  auto id = static_cast<OneId>(persons_.size());
  persons_.emplace_back();
  person_dirty_.push_back(false);
  MarkPerson(id);
  return id;
}

void IdentityGraph::AddIdent(OneId p, IdentKey k) {
  Person& person = persons_[p];
  next_[k] = 0;
  if (person.tail != 0) {
    next_[person.tail] = k;
  } else {
    person.head = k;
  }
  person.tail = k;
  ++person.count;
  if (birth_[k] == 0) birth_[k] = p;
  person_of_.Set(k, p);
  MarkPerson(p);
}

void IdentityGraph::RememberRemap(MergeStep step) {
  std::lock_guard lock(recent_mu_);
  recent_.push_back(step);
  if (recent_.size() > kRememberedRemaps) recent_.pop_front();
  recent_end_ = remaps_.fetch_add(1, std::memory_order_acq_rel) + 1;
}

std::optional<std::vector<IdentityGraph::MergeStep>> IdentityGraph::MergesSince(
    uint64_t since, uint64_t* upto) const {
  std::lock_guard lock(recent_mu_);
  *upto = recent_end_;
  if (since > recent_end_ || recent_end_ - since > recent_.size()) return std::nullopt;
  std::vector<MergeStep> out(recent_.end() - static_cast<ptrdiff_t>(recent_end_ - since),
                             recent_.end());
  for (const MergeStep& m : out) {
    if (m.survivor == 0) return std::nullopt;
  }
  return out;
}

void IdentityGraph::Merge(OneId survivor, OneId absorbed) {
  RememberRemap({survivor, absorbed});
  Person& s = persons_[survivor];
  Person& a = persons_[absorbed];
  for (uint32_t k = a.head; k != 0; k = next_[k]) person_of_.Set(k, survivor);
  if (a.head != 0) {
    if (s.tail != 0) {
      next_[s.tail] = a.head;
    } else {
      s.head = a.head;
    }
    s.tail = a.tail;
  }
  s.count += a.count;
  s.merges += a.merges + 1;
  if (a.edge_head != 0) {
    if (s.edge_tail != 0) {
      edge_nodes_[s.edge_tail].next = a.edge_head;
    } else {
      s.edge_head = a.edge_head;
    }
    s.edge_tail = a.edge_tail;
  }
  s.last_edge_us = std::max(s.last_edge_us, a.last_edge_us);
  a = Person{};
  a.merged_into = survivor;
  MarkPerson(survivor);
  MarkPerson(absorbed);
}

void IdentityGraph::AttachEdge(OneId p, uint32_t edge) {
  Person& person = persons_[p];
  auto node = static_cast<uint32_t>(edge_nodes_.size());
  edge_nodes_.push_back({edge, 0});
  if (person.edge_tail != 0) {
    edge_nodes_[person.edge_tail].next = node;
  } else {
    person.edge_head = node;
  }
  person.edge_tail = node;
  person.last_edge_us = std::max(person.last_edge_us, edges_[edge].time_us);
  MarkPerson(p);
}

void IdentityGraph::AttachEdgeToHolders(uint32_t edge) {
  thread_local std::vector<OneId> holders;  // scratch: no allocation per edge
  holders.clear();
  for (IdentKey k : edges_[edge].ids) {
    OneId p = person_of_.Get(k);
    if (p != 0 && std::find(holders.begin(), holders.end(), p) == holders.end()) {
      holders.push_back(p);
      AttachEdge(p, edge);
    }
  }
}

void IdentityGraph::MarkPerson(OneId p) {
  if (!person_dirty_[p]) {
    person_dirty_[p] = true;
    dirty_persons_.push_back(p);
  }
}

void IdentityGraph::MarkEdge(uint32_t e) {
  if (!edge_dirty_[e]) {
    edge_dirty_[e] = true;
    dirty_edges_.push_back(e);
  }
}

void IdentityGraph::Apply(std::vector<Event>* events) {
  std::unique_lock lock(mu_);
  for (Event& e : *events) e.identity_key = ApplyOne(e);
}

IdentKey IdentityGraph::ApplyOne(const Event& e) {
  ++stats_.events;
  if (e.identifiers.empty()) return 0;
  stats_.links += e.identifiers.size();
  if (e.type == EventType::kIdentitySplit) {
    Status st = SplitEvent(e);
    if (!st.ok()) ++stats_.failed_corrections;
  }
  if (e.type == EventType::kIdUnbind) {
    for (const Identifier& id : e.identifiers) {
      if (!UnbindLocked(id, e.timestamp_us, e.message_id).ok()) ++stats_.failed_corrections;
    }
    // Fall through: the event itself is keyed like any other (the unbound
    // identifier is now a person of its own).
  }
  thread_local std::vector<IdentKey> ids;
  InternIds(e, &ids);
  IdentKey key = ids[0];
  if (!unbound_until_.empty() && e.type != EventType::kIdUnbind) {
    // Identifiers unbound at or after this event's time take no part in its
    // links; they still belong to a person (one of their own if new).
    auto out = std::remove_if(ids.begin(), ids.end(), [&](IdentKey k) {
      auto it = unbound_until_.find(k);
      if (it == unbound_until_.end() || it->second < e.timestamp_us) return false;
      if (person_of_.Get(k) == 0) AddIdent(NewPerson(), k);
      return true;
    });
    ids.erase(out, ids.end());
    if (ids.empty()) return key;
  }
  if (e.type == EventType::kIdUnbind || e.type == EventType::kIdentitySplit) {
    if (person_of_.Get(key) == 0) AddIdent(NewPerson(), key);  // an unknown identifier
    return key;
  }

  // Which persons does the event touch, and does it change anything?
  thread_local std::vector<OneId> involved;  // scratch: no allocation per event
  involved.clear();
  bool any_new = false;
  for (IdentKey k : ids) {
    OneId p = person_of_.Get(k);
    if (p == 0) {
      any_new = true;
    } else if (std::find(involved.begin(), involved.end(), p) == involved.end()) {
      involved.push_back(p);
    }
  }
  if (!any_new && involved.size() == 1) return key;  // already one person
  if (ids.size() == 1) {                             // a new identifier on its own
    AddIdent(NewPerson(), key);
    return key;
  }
  // Only now, for the events that link: reading persons_ for every event
  // costs a cache miss each on a large graph.
  int64_t newest = INT64_MIN;
  for (OneId p : involved) newest = std::max(newest, persons_[p].last_edge_us);

  uint32_t edge_id = NewEdge(EdgeKind::kLink, e.timestamp_us, e.message_id, ids);

  if (e.timestamp_us < newest) {
    // Late: replay this part of the graph in time order with the new edge.
    if (Rebuild(involved, edge_id, rules_.max_rebuild_identifiers)) {
      ++stats_.rebuilds;
      return key;
    }
    ++stats_.late_fallbacks;
  }
  GraphView view(this);
  internal::LinkOutcome out = internal::ApplyLink(view, rules_, ids);
  stats_.merges += out.merges.size();
  stats_.conflicts += out.conflicts.size();
  edges_[edge_id].merges = std::move(out.merges);
  edges_[edge_id].conflicts = std::move(out.conflicts);
  AttachEdgeToHolders(edge_id);
  return key;
}

IdentKey IdentityGraph::KeyOf(const Event& e) const {
  std::shared_lock lock(mu_);
  IdentKey best = 0;
  uint32_t best_priority = UINT32_MAX;
  for (const Identifier& id : e.identifiers) {
    int64_t ns = interner_.FindNamespace(LinkNamespace(id.ns), id.scope);
    if (ns < 0) continue;
    IdentKey k = interner_.Find(static_cast<uint32_t>(ns), id.value);
    if (k != 0 && ns_priority_[ns] < best_priority) {
      best = k;
      best_priority = ns_priority_[ns];
    }
  }
  return best;
}

OneId IdentityGraph::ResolveLocked(OneId one_id) const {
  if (one_id == 0 || one_id >= persons_.size()) return 0;
  for (int hops = 0; persons_[one_id].merged_into != 0 && hops < 1'000'000; ++hops) {
    one_id = persons_[one_id].merged_into;
  }
  return one_id;
}

OneId IdentityGraph::Resolve(OneId one_id) const {
  std::shared_lock lock(mu_);
  return ResolveLocked(one_id);
}

OneId IdentityGraph::Lookup(const Identifier& id) const {
  std::shared_lock lock(mu_);
  int64_t ns = interner_.FindNamespace(LinkNamespace(id.ns), id.scope);
  if (ns < 0) return 0;
  IdentKey k = interner_.Find(static_cast<uint32_t>(ns), id.value);
  return k == 0 ? 0 : person_of_.Get(k);
}

std::vector<IdentKey> IdentityGraph::KeysOf(OneId one_id) const {
  std::shared_lock lock(mu_);
  std::vector<IdentKey> keys;
  if (one_id == 0 || one_id >= persons_.size()) return keys;
  for (uint32_t k = persons_[one_id].head; k != 0; k = next_[k]) keys.push_back(k);
  return keys;
}

std::string IdentityGraph::KeyToString(IdentKey key) const {
  std::shared_lock lock(mu_);
  return key == 0 || key > interner_.size() ? std::string() : interner_.ToString(key);
}

LinkRecord IdentityGraph::RecordOf(uint32_t edge_id) const {
  const Edge& e = edges_[edge_id];
  LinkRecord r;
  r.id = edge_id;
  r.kind = e.kind == EdgeKind::kLink ? "link" : e.kind == EdgeKind::kUnbind ? "unbind" : "split";
  r.time_us = e.time_us;
  r.message_id = e.message_id;
  r.removed = e.dead;
  for (IdentKey k : e.ids) r.identifiers.push_back(interner_.ToString(k));
  for (const auto& m : e.merges)
    r.merges.push_back({m.survivor, m.absorbed, interner_.ToString(m.via)});
  for (const auto& c : e.conflicts) {
    LinkRecord::Conflict rc;
    rc.dropped = interner_.ToString(c.dropped);
    switch (c.reason) {
      case internal::ConflictReason::kLimit: {
        rc.reason = "limit";
        std::string ns = interner_.NamespaceName(c.ns_id);
        if (!interner_.ScopeName(c.ns_id).empty()) ns += ":" + interner_.ScopeName(c.ns_id);
        rc.rule = ns + " limit " + std::to_string(ns_limit_[c.ns_id]);
        break;
      }
      case internal::ConflictReason::kMaxMerges:
        rc.reason = "max_merges";
        rc.rule = "max_merges_per_person " + std::to_string(rules_.max_merges);
        break;
      case internal::ConflictReason::kMaxIdentifiers:
        rc.reason = "max_identifiers";
        rc.rule = "max_identifiers_per_person " + std::to_string(rules_.max_identifiers);
        break;
    }
    r.conflicts.push_back(std::move(rc));
  }
  return r;
}

std::optional<PersonIdentity> IdentityGraph::Describe(OneId one_id) const {
  std::shared_lock lock(mu_);
  OneId p = ResolveLocked(one_id);
  if (p == 0 || persons_[p].count == 0) return std::nullopt;  // unknown or erased
  PersonIdentity out;
  out.one_id = p;
  out.merges = persons_[p].merges;
  for (uint32_t k = persons_[p].head; k != 0; k = next_[k]) {
    out.identifiers.push_back(interner_.ToString(k));
  }
  std::vector<uint32_t> edge_ids;
  ForEachEdgeOf(p, [&](uint32_t e) { edge_ids.push_back(e); });
  std::sort(edge_ids.begin(), edge_ids.end());
  edge_ids.erase(std::unique(edge_ids.begin(), edge_ids.end()), edge_ids.end());
  std::stable_sort(edge_ids.begin(), edge_ids.end(),
                   [&](uint32_t a, uint32_t b) { return edges_[a].time_us < edges_[b].time_us; });
  for (uint32_t e : edge_ids) out.links.push_back(RecordOf(e));
  return out;
}

GraphStats IdentityGraph::Stats() const {
  std::shared_lock lock(mu_);
  GraphStats s = stats_;
  s.identifiers = interner_.size() - interner_.erased_count();
  s.persons = s.aliases = 0;
  for (size_t p = 1; p < persons_.size(); ++p) {
    if (persons_[p].merged_into != 0) {
      ++s.aliases;
    } else if (persons_[p].count != 0) {
      ++s.persons;
    }
  }
  s.edges = edges_.size() - 1;
  size_t edge_bytes = 0;
  for (const Edge& e : edges_) {
    edge_bytes += sizeof(Edge) + e.message_id.capacity() + e.ids.capacity() * sizeof(IdentKey) +
                  e.merges.capacity() * sizeof(internal::LinkMerge) +
                  e.conflicts.capacity() * sizeof(internal::LinkConflict);
  }
  s.memory_bytes = interner_.MemoryUsage() + person_of_.MemoryUsage() +
                   (next_.capacity() + birth_.capacity()) * sizeof(uint32_t) +
                   persons_.capacity() * sizeof(Person) + edge_bytes +
                   edge_nodes_.capacity() * sizeof(EdgeNode) + person_dirty_.capacity() / 8 +
                   edge_dirty_.capacity() / 8;
  return s;
}

}  // namespace quanyu::identity
