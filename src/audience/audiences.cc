// Audience records, evaluation and the data the evaluator reads. Realtime
// membership and tags are in membership.cc, computed traits and RFM in
// stored_attributes.cc.
#include "audience/audiences.h"

#include <algorithm>
#include <thread>

#include "audience/internal/attribute_compare.h"
#include "audience/internal/dependencies.h"
#include "audience/internal/keys.h"
#include "audience/language.h"
#include "common/time_util.h"

namespace quanyu::audience {
namespace {

constexpr std::string_view kAudiencePrefix = "au/d/";

bool ValidName(std::string_view name) {
  if (name.empty() || name.size() > 128) return false;
  for (char c : name) {
    if (!(isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '-' || c == '.')) return false;
  }
  return true;
}

Json RecordJson(const AudienceRecord& r) {
  return Json{{"name", r.name},
              {"description", r.description},
              {"definition", PrintText(r.definition)},
              {"created_us", r.created_us},
              {"updated_us", r.updated_us}};
}

Result<AudienceRecord> RecordFromJson(std::string_view bytes) {
  try {
    Json j = Json::parse(bytes);
    AudienceRecord r;
    r.name = j.at("name").get<std::string>();
    r.description = j.value("description", "");
    ASSIGN_OR_RETURN(r.definition, ParseText(j.at("definition").get<std::string>()));
    r.created_us = j.value("created_us", int64_t{0});
    r.updated_us = j.value("updated_us", int64_t{0});
    return r;
  } catch (const Json::exception& e) {
    return Status::Corruption(std::string("audience record: ") + e.what());
  }
}

}  // namespace

Result<std::unique_ptr<Audiences>> Audiences::Open(Sources sources) {
  std::unique_ptr<Audiences> a(new Audiences(std::move(sources)));
  RETURN_IF_ERROR(a->Load());
  a->realtime_ = std::thread([p = a.get()] { p->RealtimeLoop(); });
  return a;
}

Audiences::~Audiences() { Close(); }

Status Audiences::Load() {
  RETURN_IF_ERROR(
      src_.state->ScanPrefix(kAudiencePrefix, [&](std::string_view, std::string_view v) {
        ASSIGN_OR_RETURN(AudienceRecord r, RecordFromJson(v));
        audiences_[r.name] = std::move(r);
        return Status::OK();
      }));
  RETURN_IF_ERROR(LoadTags());
  RETURN_IF_ERROR(LoadStoredAttributes());
  ASSIGN_OR_RETURN(std::string last, src_.state->LastKeyWithPrefix("au/c/"));
  if (last.size() == 13) seq_ = internal::DecodeBigEndian64(last.data() + 5);
  // The newest changes may have been erased (ErasePersons): their SEQs stay used.
  auto erased = src_.state->Get(internal::kLastSeqKey);
  if (erased.ok()) {
    if (erased->size() != 8) return Status::Corruption("au/seq: not 8 bytes");
    seq_ = std::max(seq_, internal::DecodeBigEndian64(erased->data()));
  } else if (erased.status().code() != StatusCode::kNotFound) {
    return erased.status();
  }
  for (const auto& [name, r] : audiences_) {
    auto bits = SavedMembers(name);
    if (bits.ok()) saved_[name] = std::make_shared<const Roaring>(std::move(*bits));
  }
  all_dirty_ = true;
  seen_remaps_ = src_.graph->remaps();
  return Status::OK();
}

Status Audiences::SaveAudience(const AudienceRecord& r) {
  return src_.state->Put(std::string(kAudiencePrefix) + r.name, RecordJson(r).dump());
}

Status Audiences::CheckReferences(const std::string& name, const Node& def) const {
  // A reference to an unknown audience, or a path back to `name`, is refused.
  std::vector<std::string> todo = ReferencedAudiences(def);
  std::set<std::string> seen;
  while (!todo.empty()) {
    std::string ref = todo.back();
    todo.pop_back();
    if (ref == name) {
      return Status::InvalidArgument(
          "audience \"" + name + "\" would refer to itself (through audience(\"" + ref + "\"))");
    }
    if (!seen.insert(ref).second) continue;
    auto it = audiences_.find(ref);
    if (it == audiences_.end()) {
      return Status::InvalidArgument("audience(\"" + ref + "\"): no such audience");
    }
    for (auto& r : ReferencedAudiences(it->second.definition)) todo.push_back(r);
  }
  return Status::OK();
}

Result<AudienceRecord> Audiences::Create(AudienceRecord record) {
  if (!ValidName(record.name)) {
    return Status::InvalidArgument("audience name \"" + record.name +
                                   "\": use 1 to 128 letters, digits, '_', '-' or '.'");
  }
  for (std::string_view reserved : {"preview", "refresh", "changes", "history"}) {
    if (record.name == reserved) {
      return Status::InvalidArgument("audience name \"" + record.name +
                                     "\" is reserved (it names an API route)");
    }
  }
  std::unique_lock lock(mu_);
  if (audiences_.count(record.name)) {
    return Status::AlreadyExists("audience \"" + record.name + "\" already exists");
  }
  RETURN_IF_ERROR(CheckReferences(record.name, record.definition));
  record.created_us = record.updated_us = src_.clock->NowMicros();
  RETURN_IF_ERROR(SaveAudience(record));
  audiences_[record.name] = record;
  dirty_.insert(record.name);
  return record;
}

Result<AudienceRecord> Audiences::Update(AudienceRecord record) {
  std::unique_lock lock(mu_);
  auto it = audiences_.find(record.name);
  if (it == audiences_.end()) return Status::NotFound("no audience \"" + record.name + "\"");
  RETURN_IF_ERROR(CheckReferences(record.name, record.definition));
  record.created_us = it->second.created_us;
  record.updated_us = src_.clock->NowMicros();
  RETURN_IF_ERROR(SaveAudience(record));
  it->second = record;
  dirty_.insert(record.name);
  return record;
}

Status Audiences::Delete(const std::string& name) {
  // Before mu_ (the order Refresh and the realtime thread take them in): no
  // refresh is recording this audience's membership while it goes, so none
  // saves it again afterwards.
  std::lock_guard recording(refresh_mu_);
  std::unique_lock lock(mu_);
  if (!audiences_.count(name)) return Status::NotFound("no audience \"" + name + "\"");
  for (const auto& [other, r] : audiences_) {
    for (const auto& ref : ReferencedAudiences(r.definition)) {
      if (ref == name && other != name) {
        return Status::InvalidArgument("audience \"" + name + "\" is used by audience \"" + other +
                                       "\"; change that one first");
      }
    }
  }
  for (const auto& [key, t] : tags_) {
    if (t.is_list) continue;
    for (const auto& ref : ReferencedAudiences(t.rule)) {
      if (ref == name) {
        return Status::InvalidArgument("audience \"" + name + "\" is used by tag \"" + t.category +
                                       "/" + t.name + "\"; change that one first");
      }
    }
  }
  RETURN_IF_ERROR(src_.state->Delete(std::string(kAudiencePrefix) + name));
  RETURN_IF_ERROR(src_.state->Delete("au/m/" + name));
  audiences_.erase(name);
  saved_.erase(name);
  dirty_.erase(name);
  return Status::OK();
}

Status Audiences::ErasePersons(const std::vector<uint32_t>& one_ids) {
  Roaring gone;
  gone.addMany(one_ids.size(), one_ids.data());
  gone.remove(0);  // no person
  if (gone.isEmpty()) return Status::OK();
  // In the order everyone takes them: no job computes or saves stored
  // attributes and no refresh or realtime round records membership while
  // the persons go, so none saves them again afterwards.
  std::lock_guard computing(attributes_mu_);
  std::lock_guard recording(refresh_mu_);
  store::StateWriteBatch batch;
  RETURN_IF_ERROR(EraseMembershipOf(gone, &batch));
  RETURN_IF_ERROR(EraseStoredValuesOf(gone, &batch));
  if (!batch.empty()) RETURN_IF_ERROR(src_.state->Write(batch));
  std::unique_lock lock(mu_);
  ForgetMembershipOf(gone);
  ForgetStoredValuesOf(gone);
  version_.fetch_add(1);  // cached leaves may hold them
  return Status::OK();
}

Result<AudienceRecord> Audiences::Get(const std::string& name) const {
  std::shared_lock lock(mu_);
  auto it = audiences_.find(name);
  if (it == audiences_.end()) return Status::NotFound("no audience \"" + name + "\"");
  return it->second;
}

std::vector<AudienceRecord> Audiences::List() const {
  std::shared_lock lock(mu_);
  std::vector<AudienceRecord> out;
  for (const auto& [name, r] : audiences_) out.push_back(r);
  return out;
}

EvalContext Audiences::Context() const {
  EvalContext ctx;
  ctx.query.store = src_.store;
  ctx.query.one_ids = &src_.graph->one_ids();
  ctx.query.options = src_.options;
  ctx.data = this;
  ctx.now_us = src_.clock->NowMicros();
  ctx.data_version = version_.load();
  return ctx;
}

Result<Roaring> Audiences::Evaluate(const Node& definition) {
  WaitForRealtime();  // the answer includes every event accepted before the call
  return EvaluateNow(definition);
}

Result<Roaring> Audiences::EvaluateNow(const Node& definition) {
  return evaluator_.Evaluate(definition, Context());
}

Result<Roaring> Audiences::Members(const std::string& name) {
  ASSIGN_OR_RETURN(AudienceRecord r, Get(name));
  return Evaluate(r.definition);
}

Result<Node> Audiences::AudienceDefinition(std::string_view name) const {
  std::shared_lock lock(mu_);
  auto it = audiences_.find(std::string(name));
  if (it == audiences_.end()) return Status::NotFound("no audience \"" + std::string(name) + "\"");
  return it->second.definition;
}

std::optional<Json> Audiences::TraitOf(uint32_t one_id, std::string_view key) const {
  std::vector<identity::IdentKey> keys = src_.graph->KeysOf(one_id);
  if (keys.empty()) return std::nullopt;
  std::optional<std::string> text = src_.profiles->TraitJson(keys, key);
  if (!text) return std::nullopt;
  Json value = internal::ParseTraitValue(*text);
  if (value.is_discarded()) return std::nullopt;
  return value;
}

Status Audiences::ForEachTrait(std::string_view key, const ValueFn& fn) const {
  // The partials that can decide the trait, by person; a person with one
  // such partial reads it directly, others fold theirs (profile.h). Each
  // step runs on two threads: the halves of the keys, then the halves of
  // the persons (each under one read lock), then fn in one_id order here.
  const DenseArray<uint32_t>& ids = src_.graph->one_ids();
  using Part = std::pair<uint32_t, identity::IdentKey>;
  const identity::IdentKey end = src_.profiles->key_end();
  std::vector<Part> found[2];
  auto collect = [&](int h) {
    const identity::IdentKey lo = h == 0 ? 0 : end / 2, hi = h == 0 ? end / 2 : end;
    src_.profiles->ForEachIn(lo, hi, [&](identity::IdentKey k, const identity::PartialProfile& p) {
      if (k >= ids.size() || !p.AffectsTrait(key)) return;
      const uint32_t id = ids.Get(k);
      if (id != 0) found[h].emplace_back(id, k);
    });
  };
  {
    std::thread other(collect, 1);
    collect(0);
    other.join();
  }
  std::vector<Part> parts = std::move(found[0]);
  parts.insert(parts.end(), found[1].begin(), found[1].end());
  std::sort(parts.begin(), parts.end());
  struct Half {
    size_t begin = 0, end = 0;
    std::vector<std::pair<uint32_t, Json>> values;
  };
  size_t mid = parts.size() / 2;
  while (mid > 0 && mid < parts.size() && parts[mid].first == parts[mid - 1].first) ++mid;
  Half halves[2] = {{0, mid, {}}, {mid, parts.size(), {}}};
  auto resolve = [&](Half* h) {
    src_.profiles->ForEachTraitJson(parts.data() + h->begin, h->end - h->begin, key,
                                    [&](uint32_t id, const std::string& text) {
                                      Json value = internal::ParseTraitValue(text);
                                      if (!value.is_discarded())
                                        h->values.emplace_back(id, std::move(value));
                                    });
  };
  {
    std::thread other(resolve, &halves[1]);
    resolve(&halves[0]);
    other.join();
  }
  for (const Half& h : halves) {
    for (const auto& [id, value] : h.values) fn(id, value);
  }
  return Status::OK();
}

}  // namespace quanyu::audience
