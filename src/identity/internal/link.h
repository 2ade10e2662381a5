// The One-ID linking rule (ARCHITECTURE.md §4), written once and applied to
// two graphs: the live graph (incremental, in arrival order) and the private
// copy a rebuild replays edges into (identity/rebuild.cc). Both must decide
// identically, which is why the rule is a template over the graph.
//
// G provides:
//   uint32_t PersonOf(IdentKey)            person holding the identifier, 0 = none
//   uint32_t IdentCount(uint32_t p), MergeCount(uint32_t p)
//   template <F> void ForEachIdent(uint32_t p, F f)   f(IdentKey)
//   uint32_t NamespaceOf(IdentKey)          namespace id (per scope)
//   uint32_t LimitOf(uint32_t ns_id)
//   bool Older(uint32_t a, uint32_t b)      a survives a merge with b
//   uint32_t NewPerson()
//   void AddIdent(uint32_t p, IdentKey)
//   void Merge(uint32_t survivor, uint32_t absorbed)
#pragma once

#include <algorithm>
#include <cstdint>
#include <span>
#include <vector>

#include "identity/interner.h"
#include "identity/rules.h"

namespace quanyu::identity::internal {

enum class ConflictReason : uint8_t {
  kLimit = 1,           // a namespace would hold more values than its limit
  kMaxMerges = 2,       // the person would pass max_merges
  kMaxIdentifiers = 3,  // the person would pass max_identifiers
};

struct LinkConflict {
  IdentKey dropped = 0;
  ConflictReason reason = ConflictReason::kLimit;
  uint32_t ns_id = 0;  // the namespace over its limit (kLimit)
};

struct LinkMerge {
  uint32_t survivor = 0;
  uint32_t absorbed = 0;
  IdentKey via = 0;  // the identifier of the event that held the absorbed person
};

struct LinkOutcome {
  uint32_t person = 0;  // where the event's kept identifiers ended
  std::vector<LinkMerge> merges;
  std::vector<LinkConflict> conflicts;
};

// Counts per namespace id, for the few namespaces one check touches.
class NamespaceCounts {
 public:
  void Add(uint32_t ns, uint32_t n = 1) {
    for (auto& [k, c] : counts_) {
      if (k == ns) {
        c += n;
        return;
      }
    }
    counts_.emplace_back(ns, n);
  }
  template <class G>
  bool FirstOverLimit(const G& g, uint32_t* ns) const {
    for (const auto& [k, c] : counts_) {
      if (c > g.LimitOf(k)) {
        *ns = k;
        return true;
      }
    }
    return false;
  }
  bool Has(uint32_t ns) const {
    return std::any_of(counts_.begin(), counts_.end(),
                       [&](const auto& kc) { return kc.first == ns; });
  }

 private:
  std::vector<std::pair<uint32_t, uint32_t>> counts_;
};

// Whether linking `active` is allowed; fills *conflict when not.
template <class G>
bool CheckLink(const G& g, const IdentityRules& rules, std::span<const IdentKey> active,
               const std::vector<uint32_t>& persons, LinkConflict* conflict) {
  uint64_t idents = 0, merges = persons.empty() ? 0 : persons.size() - 1;
  NamespaceCounts counts;
  for (IdentKey k : active) {
    if (g.PersonOf(k) == 0) {
      ++idents;
      counts.Add(g.NamespaceOf(k));
    }
  }
  for (uint32_t p : persons) {
    idents += g.IdentCount(p);
    merges += g.MergeCount(p);
  }
  if (persons.size() >= 2 && merges > rules.max_merges) {
    conflict->reason = ConflictReason::kMaxMerges;
    return false;
  }
  if (idents > rules.max_identifiers) {
    conflict->reason = ConflictReason::kMaxIdentifiers;
    return false;
  }
  if (persons.size() >= 2) {
    // A merge: every namespace of every person counts.
    for (uint32_t p : persons) g.ForEachIdent(p, [&](IdentKey k) { counts.Add(g.NamespaceOf(k)); });
  } else if (persons.size() == 1) {
    // Adding to one person: only the namespaces being added can grow.
    g.ForEachIdent(persons[0], [&](IdentKey k) {
      uint32_t ns = g.NamespaceOf(k);
      if (counts.Has(ns)) counts.Add(ns);
    });
  }
  uint32_t ns = 0;
  if (counts.FirstOverLimit(g, &ns)) {
    conflict->reason = ConflictReason::kLimit;
    conflict->ns_id = ns;
    return false;
  }
  return true;
}

// Links the identifiers of one event. `ids` are distinct and ordered by
// priority, highest first; ids[0] is the event's key. Drops the last
// (lowest-priority) identifier and retries while the link breaks a rule;
// identifiers that end up in no person become persons of their own, so every
// identifier always belongs to exactly one person.
template <class G>
LinkOutcome ApplyLink(G& g, const IdentityRules& rules, std::span<const IdentKey> ids) {
  LinkOutcome out;
  size_t n = ids.size();
  std::vector<uint32_t> persons;
  for (;;) {
    std::span<const IdentKey> active = ids.first(n);
    persons.clear();
    bool any_new = false;
    for (IdentKey k : active) {
      uint32_t p = g.PersonOf(k);
      if (p == 0) {
        any_new = true;
      } else if (std::find(persons.begin(), persons.end(), p) == persons.end()) {
        persons.push_back(p);
      }
    }
    if (persons.size() <= 1 && !any_new) break;  // nothing to link
    LinkConflict conflict;
    if (n == 1 || CheckLink(g, rules, active, persons, &conflict)) {
      uint32_t survivor = 0;
      for (uint32_t p : persons) {
        if (survivor == 0 || g.Older(p, survivor)) survivor = p;
      }
      if (survivor == 0) survivor = g.NewPerson();
      for (IdentKey k : active) {
        uint32_t p = g.PersonOf(k);
        if (p == 0) {
          g.AddIdent(survivor, k);
        } else if (p != survivor) {
          out.merges.push_back({survivor, p, k});
          g.Merge(survivor, p);
        }
      }
      break;
    }
    conflict.dropped = ids[n - 1];
    out.conflicts.push_back(conflict);
    --n;
  }
  out.person = g.PersonOf(ids[0]);
  for (size_t i = n; i < ids.size(); ++i) {
    if (g.PersonOf(ids[i]) == 0) g.AddIdent(g.NewPerson(), ids[i]);
  }
  return out;
}

}  // namespace quanyu::identity::internal
