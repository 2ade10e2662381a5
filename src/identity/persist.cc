// Persistence of the identity graph in the state DB (docs/identity_format.md).

#include <mutex>

#include "common/coding.h"
#include "identity/graph.h"

namespace quanyu::identity {
namespace {

constexpr char kMetaKey[] = "ig/meta";
constexpr char kNamespacePrefix[] = "ig/n/";
constexpr char kKeyPrefix[] = "ig/k/";
constexpr char kPersonPrefix[] = "ig/p/";
constexpr char kEdgePrefix[] = "ig/e/";
constexpr char kUnboundKey[] = "ig/unbound";
// Version 2 adds erased identifiers; a graph without any is still written as
// version 1, so only a graph a version-1 reader would misread is refused by it.
constexpr uint32_t kFormatVersion = 1;
constexpr uint32_t kFormatVersionErased = 2;
constexpr uint8_t kKeyErased = 1;  // ig/k flags

Status Bad(std::string_view what) {
  return Status::Corruption("identity graph: bad " + std::string(what) + " record");
}

}  // namespace

void IdentityGraph::WriteDirty(KvWriteBatch* batch) {
  // Shared: readers (profile lookups) go on while a checkpoint encodes; the
  // caller keeps mutations out (see graph.h), and only the dirty lists, which
  // readers never touch, change here.
  std::shared_lock lock(mu_);
  // Namespaces and identifiers are append-only; write the new ones.
  for (size_t ns = 0; ns < interner_.namespace_count(); ++ns) {
    // Cheap to rewrite: a handful of namespaces.
    std::string v;
    PutLengthPrefixed(&v, interner_.NamespaceName(static_cast<uint32_t>(ns)));
    PutLengthPrefixed(&v, interner_.ScopeName(static_cast<uint32_t>(ns)));
    batch->Put(IdKey(kNamespacePrefix, static_cast<uint32_t>(ns)), std::move(v));
  }
  auto put_key = [&](IdentKey key) {
    std::string v;
    PutVarint64(&v, interner_.NamespaceOf(key));
    if (interner_.IsErased(key)) {  // no birth, no value: nothing of the person
      PutVarint64(&v, 0);
      PutLengthPrefixed(&v, "");
      v.push_back(static_cast<char>(kKeyErased));
    } else {
      PutVarint64(&v, birth_[key]);
      PutLengthPrefixed(&v, interner_.ValueOf(key));
    }
    batch->Put(IdKey(kKeyPrefix, key), std::move(v));
  };
  // Identifiers are append-only but for erasure, which rewrites a record.
  for (IdentKey key : erased_dirty_) put_key(key);
  erased_dirty_.clear();
  for (size_t k = written_keys_ + 1; k <= interner_.size(); ++k) {
    put_key(static_cast<IdentKey>(k));
  }
  written_keys_ = interner_.size();
  for (uint32_t p : dirty_persons_) {
    const Person& person = persons_[p];
    std::string v;
    PutVarint64(&v, person.merged_into);
    PutVarint64(&v, person.merges);
    PutVarsint64(&v, person.last_edge_us);
    PutVarint64(&v, person.count);
    for (uint32_t k = person.head; k != 0; k = next_[k]) PutVarint64(&v, k);
    std::vector<uint32_t> edge_ids;
    ForEachEdgeOf(p, [&](uint32_t e) { edge_ids.push_back(e); });
    PutVarint64(&v, edge_ids.size());
    for (uint32_t e : edge_ids) PutVarint64(&v, e);
    batch->Put(IdKey(kPersonPrefix, p), std::move(v));
    person_dirty_[p] = false;
  }
  dirty_persons_.clear();
  for (uint32_t e : dirty_edges_) {
    const Edge& edge = edges_[e];
    std::string v;
    PutVarsint64(&v, edge.time_us);
    PutLengthPrefixed(&v, edge.message_id);
    v.push_back(static_cast<char>(edge.kind));
    v.push_back(static_cast<char>(edge.dead ? 1 : 0));
    PutVarint64(&v, edge.ids.size());
    for (IdentKey k : edge.ids) PutVarint64(&v, k);
    PutVarint64(&v, edge.merges.size());
    for (const auto& m : edge.merges) {
      PutVarint64(&v, m.survivor);
      PutVarint64(&v, m.absorbed);
      PutVarint64(&v, m.via);
    }
    PutVarint64(&v, edge.conflicts.size());
    for (const auto& c : edge.conflicts) {
      PutVarint64(&v, c.dropped);
      v.push_back(static_cast<char>(c.reason));
      PutVarint64(&v, c.ns_id);
    }
    batch->Put(IdKey(kEdgePrefix, e), std::move(v));
    edge_dirty_[e] = false;
  }
  dirty_edges_.clear();
  if (unbound_dirty_) {
    std::string v;
    PutVarint64(&v, unbound_until_.size());
    for (const auto& [k, t] : unbound_until_) {
      PutVarint64(&v, k);
      PutVarsint64(&v, t);
    }
    batch->Put(kUnboundKey, std::move(v));
    unbound_dirty_ = false;
  }
  std::string meta;
  PutVarint64(&meta, interner_.erased_count() == 0 ? kFormatVersion : kFormatVersionErased);
  PutVarint64(&meta, persons_.size() - 1);
  PutVarint64(&meta, edges_.size() - 1);
  for (uint64_t s : {stats_.events, stats_.links, stats_.merges, stats_.conflicts, stats_.rebuilds,
                     stats_.late_fallbacks, stats_.failed_corrections}) {
    PutVarint64(&meta, s);
  }
  batch->Put(kMetaKey, std::move(meta));
}

Result<std::unique_ptr<IdentityGraph>> IdentityGraph::Load(const KvReader& db,
                                                           IdentityRules rules) {
  auto g = std::make_unique<IdentityGraph>(std::move(rules));
  auto meta = db.Get(kMetaKey);
  if (!meta.ok()) {
    if (meta.status().code() == StatusCode::kNotFound) return g;  // a new graph
    return meta.status();
  }
  Decoder md(*meta);
  uint64_t version = 0, persons = 0, edges = 0;
  if (!md.GetVarint64(&version) || version < kFormatVersion || version > kFormatVersionErased ||
      !md.GetVarint64(&persons) || !md.GetVarint64(&edges)) {
    return Bad("meta");
  }
  for (uint64_t* s :
       {&g->stats_.events, &g->stats_.links, &g->stats_.merges, &g->stats_.conflicts,
        &g->stats_.rebuilds, &g->stats_.late_fallbacks, &g->stats_.failed_corrections}) {
    if (!md.GetVarint64(s)) return Bad("meta");
  }

  RETURN_IF_ERROR(db.ScanPrefix(kNamespacePrefix, [&](std::string_view k, std::string_view v) {
    ASSIGN_OR_RETURN(uint32_t id, IdOfKey(k, kNamespacePrefix));
    Decoder d(v);
    std::string_view ns, scope;
    if (!d.GetLengthPrefixed(&ns) || !d.GetLengthPrefixed(&scope)) return Bad("namespace");
    Identifier probe{std::string(ns), std::string(scope), ""};
    if (g->NamespaceIdFor(probe) != id) return Bad("namespace order");
    return Status::OK();
  }));
  RETURN_IF_ERROR(db.ScanPrefix(kKeyPrefix, [&](std::string_view k, std::string_view v) {
    ASSIGN_OR_RETURN(uint32_t id, IdOfKey(k, kKeyPrefix));
    Decoder d(v);
    uint64_t ns = 0, birth = 0;
    std::string_view value;
    uint8_t flags = 0;
    if (!d.GetVarint64(&ns) || !d.GetVarint64(&birth) || !d.GetLengthPrefixed(&value) ||
        ns >= g->interner_.namespace_count()) {
      return Bad("identifier");
    }
    if (d.remaining() != 0 &&
        (version < kFormatVersionErased || !d.GetByte(&flags) || flags != kKeyErased ||
         d.remaining() != 0 || birth != 0 || !value.empty())) {
      return Bad("identifier");
    }
    IdentKey key = 0;
    if (flags == kKeyErased) {
      key = g->interner_.AppendErased(static_cast<uint32_t>(ns));
    } else {
      auto [interned, added] = g->interner_.Intern(static_cast<uint32_t>(ns), value);
      if (!added) return Bad("identifier order");
      key = interned;
    }
    if (key != id) return Bad("identifier order");
    g->next_.push_back(0);
    g->birth_.push_back(static_cast<uint32_t>(birth));
    return Status::OK();
  }));
  g->written_keys_ = g->interner_.size();

  g->persons_.resize(persons + 1);
  g->person_dirty_.assign(persons + 1, false);
  g->edges_.resize(edges + 1);
  g->edge_dirty_.assign(edges + 1, false);
  RETURN_IF_ERROR(db.ScanPrefix(kEdgePrefix, [&](std::string_view k, std::string_view v) {
    ASSIGN_OR_RETURN(uint32_t id, IdOfKey(k, kEdgePrefix));
    if (id == 0 || id > edges) return Bad("edge id");
    Edge& e = g->edges_[id];
    Decoder d(v);
    uint8_t kind = 0, dead = 0;
    uint64_t n = 0;
    if (!d.GetVarsint64(&e.time_us) || !d.GetString(&e.message_id) || !d.GetByte(&kind) ||
        kind > 2 || !d.GetByte(&dead) || !d.GetVarint64(&n) || n > d.remaining()) {
      return Bad("edge");
    }
    e.kind = static_cast<EdgeKind>(kind);
    e.dead = dead != 0;
    for (uint64_t i = 0; i < n; ++i) {
      uint64_t x;
      if (!d.GetVarint64(&x) || x == 0 || x > g->interner_.size()) return Bad("edge");
      e.ids.push_back(static_cast<IdentKey>(x));
    }
    if (!d.GetVarint64(&n) || n > d.remaining()) return Bad("edge");
    for (uint64_t i = 0; i < n; ++i) {
      uint64_t s, a, via;
      if (!d.GetVarint64(&s) || !d.GetVarint64(&a) || !d.GetVarint64(&via)) return Bad("edge");
      e.merges.push_back(
          {static_cast<uint32_t>(s), static_cast<uint32_t>(a), static_cast<IdentKey>(via)});
    }
    if (!d.GetVarint64(&n) || n > d.remaining()) return Bad("edge");
    for (uint64_t i = 0; i < n; ++i) {
      uint64_t dropped, ns;
      uint8_t reason;
      if (!d.GetVarint64(&dropped) || !d.GetByte(&reason) || reason < 1 || reason > 3 ||
          !d.GetVarint64(&ns)) {
        return Bad("edge");
      }
      e.conflicts.push_back({static_cast<IdentKey>(dropped),
                             static_cast<internal::ConflictReason>(reason),
                             static_cast<uint32_t>(ns)});
    }
    return Status::OK();
  }));
  RETURN_IF_ERROR(db.ScanPrefix(kPersonPrefix, [&](std::string_view k, std::string_view v) {
    ASSIGN_OR_RETURN(uint32_t id, IdOfKey(k, kPersonPrefix));
    if (id == 0 || id > persons) return Bad("person id");
    Person& p = g->persons_[id];
    Decoder d(v);
    uint64_t merged_into, merges, count, n;
    if (!d.GetVarint64(&merged_into) || merged_into > persons || !d.GetVarint64(&merges) ||
        !d.GetVarsint64(&p.last_edge_us) || !d.GetVarint64(&count)) {
      return Bad("person");
    }
    p.merged_into = static_cast<uint32_t>(merged_into);
    p.merges = static_cast<uint32_t>(merges);
    for (uint64_t i = 0; i < count; ++i) {
      uint64_t key;
      if (!d.GetVarint64(&key) || key == 0 || key > g->interner_.size() ||
          g->interner_.IsErased(static_cast<IdentKey>(key))) {
        return Bad("person");
      }
      auto ik = static_cast<IdentKey>(key);
      if (p.tail != 0) {
        g->next_[p.tail] = ik;
      } else {
        p.head = ik;
      }
      p.tail = ik;
      ++p.count;
      g->person_of_.Set(ik, id);
    }
    if (!d.GetVarint64(&n) || n > d.remaining()) return Bad("person");
    for (uint64_t i = 0; i < n; ++i) {
      uint64_t e;
      if (!d.GetVarint64(&e) || e == 0 || e > edges) return Bad("person");
      auto node = static_cast<uint32_t>(g->edge_nodes_.size());
      g->edge_nodes_.push_back({static_cast<uint32_t>(e), 0});
      if (p.edge_tail != 0) {
        g->edge_nodes_[p.edge_tail].next = node;
      } else {
        p.edge_head = node;
      }
      p.edge_tail = node;
    }
    return Status::OK();
  }));
  if (auto unbound = db.Get(kUnboundKey); unbound.ok()) {
    Decoder d(*unbound);
    uint64_t n = 0;
    if (!d.GetVarint64(&n) || n > d.remaining()) return Bad("unbound");
    for (uint64_t i = 0; i < n; ++i) {
      uint64_t k;
      int64_t t;
      if (!d.GetVarint64(&k) || k == 0 || k > g->interner_.size() || !d.GetVarsint64(&t)) {
        return Bad("unbound");
      }
      g->unbound_until_[static_cast<IdentKey>(k)] = t;
    }
  } else if (unbound.status().code() != StatusCode::kNotFound) {
    return unbound.status();
  }
  return g;
}

}  // namespace quanyu::identity
