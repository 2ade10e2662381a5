// Deletion (IdentityGraph::ErasePerson): a person's identifiers and links
// forgotten in place; see graph.h and docs/identity_format.md.
#include <algorithm>
#include <mutex>
#include <unordered_map>

#include "identity/graph.h"

namespace quanyu::identity {

namespace {

// Overwrites the bytes before freeing them (volatile: a store just before a
// free is otherwise a dead store the compiler may drop).
void Wipe(std::string* s) {
  volatile char* bytes = s->data();
  for (size_t i = 0; i < s->size(); ++i) bytes[i] = 0;
  std::string().swap(*s);
}

}  // namespace

void IdentityGraph::ScrubEdge(uint32_t edge_id, const std::vector<IdentKey>& erased) {
  Edge& edge = edges_[edge_id];
  auto is_erased = [&](IdentKey k) { return std::binary_search(erased.begin(), erased.end(), k); };
  // The event's key is always in the kept part of a link, so when it is
  // erased every merge and conflict of the edge was about the erased person.
  const bool key_erased = !edge.ids.empty() && is_erased(edge.ids[0]);
  std::erase_if(edge.ids, is_erased);
  Wipe(&edge.message_id);
  if (edge.ids.empty()) {
    edge = Edge{};
    edge.dead = true;
  } else {
    std::erase_if(edge.merges,
                  [&](const internal::LinkMerge& m) { return key_erased || is_erased(m.via); });
    std::erase_if(edge.conflicts, [&](const internal::LinkConflict& c) {
      return key_erased || is_erased(c.dropped);
    });
  }
  MarkEdge(edge_id);
}

Result<IdentityGraph::ErasedPerson> IdentityGraph::ErasePerson(OneId one_id) {
  {
    std::shared_lock lock(mu_);
    OneId p = ResolveLocked(one_id);
    if (p == 0) return Status::NotFound("unknown one_id " + std::to_string(one_id));
    if (persons_[p].count == 0) {
      return Status::NotFound("person " + std::to_string(p) + " is already erased");
    }
  }
  std::vector<ErasedPerson> out = ErasePersons({one_id});
  if (out.empty())
    return Status::NotFound("person of one_id " + std::to_string(one_id) + " is already erased");
  return std::move(out.front());
}

std::vector<IdentityGraph::ErasedPerson> IdentityGraph::ErasePersons(
    const std::vector<OneId>& one_ids) {
  std::unique_lock lock(mu_);
  std::vector<ErasedPerson> out;
  std::unordered_map<OneId, size_t> at;  // erased person -> its entry in `out`
  for (OneId id : one_ids) {
    const OneId p = ResolveLocked(id);
    if (p == 0 || persons_[p].count == 0 || at.contains(p)) continue;
    at.emplace(p, out.size());
    out.push_back(EraseLocked(p));
  }
  if (out.empty()) return out;
  // One pass over every one_id finds the aliases of all of them.
  for (OneId q = 1; q < persons_.size(); ++q) {
    if (persons_[q].merged_into == 0) continue;
    auto it = at.find(ResolveLocked(q));
    if (it != at.end()) out[it->second].aliases.push_back(q);
  }
  RememberRemap({});
  return out;
}

IdentityGraph::ErasedPerson IdentityGraph::EraseLocked(OneId p) {
  ErasedPerson out;
  out.one_id = p;
  for (uint32_t k = persons_[p].head; k != 0; k = next_[k]) out.keys.push_back(k);
  std::vector<IdentKey> erased = out.keys;
  std::sort(erased.begin(), erased.end());

  // Edges first: scrubbing reads which keys are erased, not the interner.
  std::vector<uint32_t> edge_ids;
  ForEachEdgeOf(p, [&](uint32_t e) { edge_ids.push_back(e); });
  std::sort(edge_ids.begin(), edge_ids.end());
  edge_ids.erase(std::unique(edge_ids.begin(), edge_ids.end()), edge_ids.end());
  for (uint32_t e : edge_ids) ScrubEdge(e, erased);

  for (IdentKey k : out.keys) {
    person_of_.Set(k, 0);
    next_[k] = 0;
    birth_[k] = 0;
    interner_.Erase(k);
    if (k <= written_keys_) erased_dirty_.push_back(k);  // newer keys are written anyway
    if (unbound_until_.erase(k) != 0) unbound_dirty_ = true;
  }
  persons_[p] = Person{};
  MarkPerson(p);
  return out;
}

void IdentityGraph::ForEachIdentifier(
    const std::function<void(IdentKey, const std::string&)>& fn) const {
  std::shared_lock lock(mu_);
  for (size_t k = 1; k <= interner_.size(); ++k) {
    auto key = static_cast<IdentKey>(k);
    if (!interner_.IsErased(key)) fn(key, interner_.ToString(key));
  }
}

}  // namespace quanyu::identity
