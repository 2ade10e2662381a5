// Rebuilding part of the identity graph by replaying its edges in event-time
// order: for late events, unbind and split (see graph.h).

#include <algorithm>
#include <deque>
#include <mutex>
#include <nlohmann/json.hpp>
#include <unordered_map>
#include <unordered_set>

#include "identity/graph.h"
#include "identity/internal/link.h"

namespace quanyu::identity {

// A private graph over the identifiers of the part being rebuilt, with the
// same interface as the live one (internal/link.h). Its persons are local
// indexes; the older of two is the one with the smaller "age": the smallest
// one_id one of its identifiers was born into and that the rebuild may reuse.
class Rebuilder {
 public:
  Rebuilder(const IdentityGraph& g, const std::vector<IdentKey>& idents,
            const std::unordered_set<OneId>& part, IdentKey detached)
      : g_(g) {
    keys_ = idents;
    slot_.reserve(idents.size() * 2);
    for (uint32_t i = 0; i < idents.size(); ++i) slot_[idents[i]] = i;
    person_of_.assign(idents.size(), 0);
    next_.assign(idents.size(), UINT32_MAX);
    age_of_key_.resize(idents.size());
    for (uint32_t i = 0; i < idents.size(); ++i) {
      OneId b = g.birth_[idents[i]];
      bool reusable = b != 0 && idents[i] != detached &&
                      (part.count(b) != 0 || part.count(g.ResolveLocked(b)) != 0);
      age_of_key_[i] = reusable ? b : UINT32_MAX;
    }
    persons_.emplace_back();  // 0 = none
  }

  uint32_t PersonOf(IdentKey k) const { return person_of_[slot_.at(k)]; }
  uint32_t IdentCount(uint32_t p) const { return persons_[p].count; }
  uint32_t MergeCount(uint32_t p) const { return persons_[p].merges; }
  template <class F>
  void ForEachIdent(uint32_t p, F f) const {
    for (uint32_t i = persons_[p].head; i != UINT32_MAX; i = next_[i]) f(keys_[i]);
  }
  uint32_t NamespaceOf(IdentKey k) const { return g_.interner_.NamespaceOf(k); }
  uint32_t LimitOf(uint32_t ns) const { return g_.ns_limit_[ns]; }
  // The older person keeps the one_id: the smallest reusable birth; on a
  // tie (parts of one former person), the part holding the
  // highest-priority identifier — the member, not the cookie an unbind took
  // off — then the earlier-seen identifier.
  bool Older(uint32_t a, uint32_t b) const {
    const auto& pa = persons_[a];
    const auto& pb = persons_[b];
    if (pa.age != pb.age) return pa.age < pb.age;
    if (pa.best_priority != pb.best_priority) return pa.best_priority < pb.best_priority;
    return pa.min_key < pb.min_key;
  }
  uint32_t NewPerson() {
    persons_.emplace_back();
    return static_cast<uint32_t>(persons_.size() - 1);
  }
  void AddIdent(uint32_t p, IdentKey k) {
    uint32_t i = slot_.at(k);
    LocalPerson& lp = persons_[p];
    next_[i] = UINT32_MAX;
    if (lp.tail != UINT32_MAX) {
      next_[lp.tail] = i;
    } else {
      lp.head = i;
    }
    lp.tail = i;
    ++lp.count;
    lp.age = std::min(lp.age, age_of_key_[i]);
    lp.best_priority = std::min(lp.best_priority, g_.ns_priority_[g_.interner_.NamespaceOf(k)]);
    lp.min_key = std::min(lp.min_key, k);
    person_of_[i] = p;
  }
  void Merge(uint32_t s, uint32_t a) {
    LocalPerson& ls = persons_[s];
    LocalPerson& la = persons_[a];
    for (uint32_t i = la.head; i != UINT32_MAX; i = next_[i]) person_of_[i] = s;
    if (la.head != UINT32_MAX) {
      if (ls.tail != UINT32_MAX) {
        next_[ls.tail] = la.head;
      } else {
        ls.head = la.head;
      }
      ls.tail = la.tail;
    }
    ls.count += la.count;
    ls.merges += la.merges + 1;
    ls.age = std::min(ls.age, la.age);
    ls.best_priority = std::min(ls.best_priority, la.best_priority);
    ls.min_key = std::min(ls.min_key, la.min_key);
    la.alias = s;
    la.head = la.tail = UINT32_MAX;
    la.count = 0;
  }

  struct LocalPerson {
    uint32_t head = UINT32_MAX, tail = UINT32_MAX, count = 0, merges = 0;
    uint32_t age = UINT32_MAX;
    uint32_t best_priority = UINT32_MAX;
    IdentKey min_key = UINT32_MAX;
    uint32_t alias = 0;
  };
  uint32_t Root(uint32_t p) const {
    while (persons_[p].alias != 0) p = persons_[p].alias;
    return p;
  }

  const IdentityGraph& g_;
  std::vector<IdentKey> keys_;
  std::unordered_map<IdentKey, uint32_t> slot_;
  std::vector<uint32_t> person_of_, next_, age_of_key_;
  std::vector<LocalPerson> persons_;
};

bool IdentityGraph::Rebuild(const std::vector<OneId>& seeds, uint32_t extra_edge,
                            size_t max_identifiers, IdentKey detached) {
  RememberRemap({});
  // 1. The connected part: persons, their identifiers, their edges, and the
  //    persons of every identifier those edges name, to a fixed point.
  std::unordered_set<OneId> part;
  std::unordered_set<uint32_t> edge_seen;
  std::unordered_set<IdentKey> ident_seen;
  std::vector<IdentKey> idents;
  std::vector<uint32_t> edges;
  std::deque<OneId> queue;
  auto add_person = [&](OneId p) {
    if (p != 0 && part.insert(p).second) queue.push_back(p);
  };
  auto add_ident = [&](IdentKey k) {
    if (ident_seen.insert(k).second) idents.push_back(k);
    add_person(person_of_.Get(k));
  };
  auto add_edge = [&](uint32_t e) {
    if (!edge_seen.insert(e).second) return;
    edges.push_back(e);
    for (IdentKey k : edges_[e].ids) add_ident(k);
  };
  for (OneId p : seeds) add_person(p);
  if (extra_edge != 0) add_edge(extra_edge);
  while (!queue.empty()) {
    OneId p = queue.front();
    queue.pop_front();
    for (uint32_t k = persons_[p].head; k != 0; k = next_[k]) add_ident(k);
    ForEachEdgeOf(p, add_edge);
    if (idents.size() > max_identifiers) return false;
  }

  // 2. Replay the link edges in time order (same time: arrival order).
  std::sort(edges.begin(), edges.end(), [&](uint32_t a, uint32_t b) {
    return edges_[a].time_us != edges_[b].time_us ? edges_[a].time_us < edges_[b].time_us : a < b;
  });
  Rebuilder local(*this, idents, part, detached);
  std::unordered_map<uint32_t, internal::LinkOutcome> outcomes;
  for (uint32_t e : edges) {
    const Edge& edge = edges_[e];
    if (edge.kind != EdgeKind::kLink || edge.dead || edge.ids.empty()) continue;
    internal::LinkOutcome out = internal::ApplyLink(local, rules_, edge.ids);
    // Name the absorbed side by its age (a one_id it may reuse), now,
    // before later merges change it.
    for (auto& m : out.merges) {
      uint32_t age = local.persons_[m.absorbed].age;
      m.absorbed = age == UINT32_MAX ? 0 : age;
    }
    outcomes[e] = std::move(out);
  }
  for (IdentKey k : idents) {
    if (local.PersonOf(k) == 0) local.AddIdent(local.NewPerson(), k);
  }

  // 3. One_ids: each resulting person, oldest first, takes the smallest
  //    reusable one_id its identifiers were born into that no other took;
  //    otherwise a new one.
  std::vector<uint32_t> live;
  for (uint32_t p = 1; p < local.persons_.size(); ++p) {
    if (local.persons_[p].alias == 0 && local.persons_[p].count != 0) live.push_back(p);
  }
  std::sort(live.begin(), live.end(), [&](uint32_t a, uint32_t b) { return local.Older(a, b); });
  std::unordered_map<uint32_t, OneId> final_id;
  std::unordered_set<OneId> taken;
  for (uint32_t lp : live) {
    std::vector<OneId> births;
    local.ForEachIdent(lp, [&](IdentKey k) {
      uint32_t b = local.age_of_key_[local.slot_.at(k)];
      if (b != UINT32_MAX) births.push_back(b);
    });
    std::sort(births.begin(), births.end());
    OneId chosen = 0;
    for (OneId b : births) {
      if (!taken.count(b)) {
        chosen = b;
        break;
      }
    }
    if (chosen == 0) chosen = NewPerson();
    taken.insert(chosen);
    final_id[lp] = chosen;
  }

  // 4. Write the result into the live graph.
  std::vector<std::pair<OneId, IdentKey>> former_head;
  for (OneId p : part) former_head.emplace_back(p, persons_[p].head);
  for (OneId p : part) {
    persons_[p] = Person{};
    MarkPerson(p);
  }
  for (uint32_t lp : live) {
    OneId o = final_id[lp];
    persons_[o] = Person{};
    local.ForEachIdent(lp, [&](IdentKey k) { AddIdent(o, k); });
    persons_[o].merges = local.persons_[lp].merges;
  }
  for (auto [p, head] : former_head) {
    if (taken.count(p)) continue;
    OneId to = head != 0 ? person_of_.Get(head) : 0;
    persons_[p].merged_into = to != p ? to : 0;
  }
  for (uint32_t e : edges) {
    Edge& edge = edges_[e];
    auto it = outcomes.find(e);
    if (it != outcomes.end()) {
      edge.merges = std::move(it->second.merges);
      for (auto& m : edge.merges) m.survivor = final_id[local.Root(m.survivor)];
      edge.conflicts = std::move(it->second.conflicts);
    } else if (edge.kind == EdgeKind::kLink) {
      edge.merges.clear();
      edge.conflicts.clear();
    }
    MarkEdge(e);
    AttachEdgeToHolders(e);
  }
  return true;
}

Status IdentityGraph::UnbindLocked(const Identifier& id, int64_t time_us,
                                   const std::string& message_id) {
  uint32_t ns = NamespaceIdFor(id);
  auto [k, added] = interner_.Intern(ns, id.value);
  if (added) {  // unbound before any event linked it: remember for late events
    next_.push_back(0);
    birth_.push_back(0);
    AddIdent(NewPerson(), k);
  }
  int64_t& until = unbound_until_[k];
  until = std::max(until, time_us);
  unbound_dirty_ = true;
  if (added) return Status::NotFound("unknown identifier " + id.ToString());
  OneId p = person_of_.Get(k);
  std::vector<uint32_t> touched;
  ForEachEdgeOf(p, [&](uint32_t e) { touched.push_back(e); });
  for (uint32_t e : touched) {
    auto& ids = edges_[e].ids;
    if (edges_[e].kind != EdgeKind::kLink || edges_[e].time_us > time_us) continue;
    auto it = std::find(ids.begin(), ids.end(), k);
    if (it != ids.end()) {
      ids.erase(it);
      MarkEdge(e);
    }
  }
  AttachEdge(p, NewEdge(EdgeKind::kUnbind, time_us, message_id, {k}));
  Rebuild({p}, 0, SIZE_MAX, k);
  ++stats_.rebuilds;
  return Status::OK();
}

Status IdentityGraph::SplitLocked(OneId one_id, const std::string& undo_message_id, int64_t time_us,
                                  const std::string& message_id) {
  OneId p = ResolveLocked(one_id);
  if (p == 0) return Status::NotFound("unknown one_id " + std::to_string(one_id));
  std::vector<IdentKey> undone;
  ForEachEdgeOf(p, [&](uint32_t e) {
    Edge& edge = edges_[e];
    // An erasure clears the message id of the edges it scrubs (ErasePerson):
    // an empty id names no event.
    if (edge.kind == EdgeKind::kLink && !edge.dead && !edge.message_id.empty() &&
        edge.message_id == undo_message_id) {
      edge.dead = true;
      MarkEdge(e);
      undone.insert(undone.end(), edge.ids.begin(), edge.ids.end());
    }
  });
  if (undone.empty()) {
    return Status::NotFound("person " + std::to_string(p) + " has no link made by message \"" +
                            undo_message_id + "\"");
  }
  AttachEdge(p, NewEdge(EdgeKind::kSplit, time_us, message_id, std::move(undone)));
  Rebuild({p}, 0, SIZE_MAX);
  ++stats_.rebuilds;
  return Status::OK();
}

Status IdentityGraph::SplitEvent(const Event& e) {
  auto j = nlohmann::json::parse(e.properties_json, nullptr, /*allow_exceptions=*/false);
  if (!j.is_object() || !j.contains("one_id") || !j["one_id"].is_number_unsigned() ||
      !j.contains("message_id") || !j["message_id"].is_string()) {
    return Status::InvalidArgument("identity_split needs properties one_id and message_id");
  }
  return SplitLocked(j["one_id"].get<OneId>(), j["message_id"].get<std::string>(), e.timestamp_us,
                     e.message_id);
}

Status IdentityGraph::Unbind(const Identifier& id, int64_t time_us, const std::string& message_id) {
  std::unique_lock lock(mu_);
  return UnbindLocked(id, time_us, message_id);
}

Status IdentityGraph::Split(OneId one_id, const std::string& undo_message_id, int64_t time_us,
                            const std::string& message_id) {
  std::unique_lock lock(mu_);
  return SplitLocked(one_id, undo_message_id, time_us, message_id);
}

}  // namespace quanyu::identity
