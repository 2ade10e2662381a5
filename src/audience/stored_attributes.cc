// Computed traits and RFM scores: computed by their jobs, stored in the
// state DB in chunks, read by audiences (computed.*, rfm.*) and profiles.
#include <algorithm>
#include <iterator>

#include "audience/audiences.h"
#include "audience/internal/keys.h"
#include "common/time_util.h"

namespace quanyu::audience {
namespace {

constexpr size_t kChunkPersons = 65536;

std::string ChunkKey(std::string_view prefix, uint32_t chunk) {
  std::string k(prefix);
  k.push_back('/');
  internal::PutBigEndian32(&k, chunk);
  return k;
}

// Replaces everything under `prefix` + "/" with `values` in chunks.
Status SaveValues(store::StateDb* db, const std::string& prefix,
                  const std::vector<PersonValue>& values) {
  store::StateWriteBatch batch;
  RETURN_IF_ERROR(db->ScanPrefix(prefix + "/", [&](std::string_view k, std::string_view) {
    batch.Delete(std::string(k));
    return Status::OK();
  }));
  for (size_t i = 0; i < values.size(); i += kChunkPersons) {
    std::string blob;
    for (size_t j = i; j < std::min(values.size(), i + kChunkPersons); ++j) {
      const std::string text = values[j].value.dump();
      internal::PutBigEndian32(&blob, values[j].one_id);
      internal::PutBigEndian32(&blob, static_cast<uint32_t>(text.size()));
      blob += text;
    }
    batch.Put(ChunkKey(prefix, static_cast<uint32_t>(i / kChunkPersons)), std::move(blob));
  }
  return db->Write(batch);
}

Result<std::vector<PersonValue>> LoadValues(const store::StateDb* db, const std::string& prefix) {
  std::vector<PersonValue> out;
  RETURN_IF_ERROR(db->ScanPrefix(prefix + "/", [&](std::string_view, std::string_view v) {
    for (size_t p = 0; p < v.size();) {
      if (v.size() - p < 8) return Status::Corruption("values under " + prefix);
      const uint32_t id = internal::DecodeBigEndian32(v.data() + p);
      const uint32_t len = internal::DecodeBigEndian32(v.data() + p + 4);
      if (v.size() - p - 8 < len) return Status::Corruption("values under " + prefix);
      Json value = Json::parse(v.substr(p + 8, len), nullptr, false);
      if (value.is_discarded()) return Status::Corruption("value JSON under " + prefix);
      out.push_back({id, std::move(value)});
      p += 8 + len;
    }
    return Status::OK();
  }));
  return out;
}

// Adds to `batch` every chunk under `prefix` rewritten without the values
// of `gone` (deleted when none is left); the others' bytes stay as they
// were, so a chunk may hold fewer than kChunkPersons afterwards.
Status EraseValues(const store::StateDb* db, std::string_view prefix, const Roaring& gone,
                   store::StateWriteBatch* batch) {
  return db->ScanPrefix(prefix, [&](std::string_view k, std::string_view v) {
    std::string kept;
    bool erased = false;
    for (size_t p = 0; p < v.size();) {
      if (v.size() - p < 8) return Status::Corruption("values under " + std::string(k));
      const uint32_t id = internal::DecodeBigEndian32(v.data() + p);
      const uint32_t len = internal::DecodeBigEndian32(v.data() + p + 4);
      if (v.size() - p - 8 < len) return Status::Corruption("values under " + std::string(k));
      if (gone.contains(id)) {
        erased = true;
      } else {
        kept.append(v.substr(p, 8 + len));
      }
      p += 8 + len;
    }
    if (!erased) return Status::OK();
    if (kept.empty()) {
      batch->Delete(std::string(k));
    } else {
      batch->Put(std::string(k), std::move(kept));
    }
    return Status::OK();
  });
}

// `values` without the persons of `gone` (the same pointer if it has none of them).
template <typename T>
std::shared_ptr<const std::vector<T>> Without(std::shared_ptr<const std::vector<T>> values,
                                              const Roaring& gone) {
  auto erased = [&](const T& v) { return gone.contains(v.one_id); };
  if (!values || std::none_of(values->begin(), values->end(), erased)) return values;
  auto kept = std::make_shared<std::vector<T>>();
  std::remove_copy_if(values->begin(), values->end(), std::back_inserter(*kept), erased);
  return kept;
}

// Whether `n` has a condition on computed.NAME.
bool UsesComputed(const Node& n, const std::string& name) {
  if (n.kind == Node::kAttribute) return n.ns == Namespace::kComputed && n.name == name;
  for (const Node& c : n.children) {
    if (UsesComputed(c, name)) return true;
  }
  return false;
}

Json RfmValue(const RfmScore& s) {
  return Json{{"r", s.r},
              {"f", s.f},
              {"m", s.m},
              {"score", std::to_string(s.r) + std::to_string(s.f) + std::to_string(s.m)},
              {"segment", std::string(s.segment)}};
}

const PersonValue* Find(const std::vector<PersonValue>& v, uint32_t one_id) {
  auto it = std::lower_bound(v.begin(), v.end(), one_id,
                             [](const PersonValue& p, uint32_t id) { return p.one_id < id; });
  return it != v.end() && it->one_id == one_id ? &*it : nullptr;
}

}  // namespace

Status Audiences::LoadStoredAttributes() {
  RETURN_IF_ERROR(src_.state->ScanPrefix("au/ct/", [&](std::string_view, std::string_view v) {
    Json j = Json::parse(v, nullptr, false);
    if (j.is_discarded()) return Status::Corruption("computed trait spec");
    ASSIGN_OR_RETURN(ComputedTraitSpec spec, ParseComputedTrait(j));
    trait_specs_[spec.name] = std::move(spec);
    return Status::OK();
  }));
  for (const auto& [name, spec] : trait_specs_) {
    ASSIGN_OR_RETURN(auto values, LoadValues(src_.state, "au/cv/" + name));
    trait_values_[name] = std::make_shared<const std::vector<PersonValue>>(std::move(values));
  }
  std::vector<std::pair<std::string, Json>> predicted;
  RETURN_IF_ERROR(src_.state->ScanPrefix("au/pt/", [&](std::string_view k, std::string_view v) {
    Json about = Json::parse(v, nullptr, false);
    if (about.is_discarded()) return Status::Corruption("predicted trait header");
    predicted.emplace_back(std::string(k.substr(6)), std::move(about));
    return Status::OK();
  }));
  for (auto& [name, about] : predicted) {
    ASSIGN_OR_RETURN(auto values, LoadValues(src_.state, "au/pv/" + name));
    predicted_[name] = {std::move(about),
                        std::make_shared<const std::vector<PersonValue>>(std::move(values))};
  }
  auto header = src_.state->Get("au/rfm");
  if (header.ok()) {
    Json j = Json::parse(*header, nullptr, false);
    if (j.is_discarded()) return Status::Corruption("RFM header");
    ASSIGN_OR_RETURN(rfm_options_, ParseRfmOptions(j, 1));
    ASSIGN_OR_RETURN(auto rows, LoadValues(src_.state, "au/rfmv"));
    auto scores = std::make_shared<std::vector<RfmScore>>();
    for (const auto& row : rows) {
      RfmScore s;
      s.one_id = row.one_id;
      try {
        s.r = row.value.value("r", 0);
        s.f = row.value.value("f", 0);
        s.m = row.value.value("m", 0);
        s.recency_days = row.value.value("recency_days", 0.0);
        s.frequency = row.value.value("frequency", int64_t{0});
        s.monetary = row.value.value("monetary", 0.0);
      } catch (const Json::exception& e) {
        return Status::Corruption(std::string("RFM row: ") + e.what());
      }
      s.segment = RfmSegmentOf(s.r, s.f);
      scores->push_back(s);
    }
    rfm_ = std::move(scores);
  } else if (header.status().code() != StatusCode::kNotFound) {
    return header.status();
  }
  return Status::OK();
}

Result<size_t> Audiences::PutComputedTrait(const ComputedTraitSpec& spec) {
  std::lock_guard computing(attributes_mu_);  // to the save: no erased person comes back
  EvalContext ctx = Context();
  ASSIGN_OR_RETURN(std::vector<PersonValue> values,
                   ComputeTrait(ctx.query, spec, ctx.now_us, src_.options.timezone));
  RETURN_IF_ERROR(src_.state->Put("au/ct/" + spec.name, ComputedTraitToJson(spec).dump()));
  RETURN_IF_ERROR(SaveValues(src_.state, "au/cv/" + spec.name, values));
  const size_t n = values.size();
  std::unique_lock lock(mu_);
  trait_specs_[spec.name] = spec;
  trait_values_[spec.name] = std::make_shared<const std::vector<PersonValue>>(std::move(values));
  version_.fetch_add(1);  // cached leaves read the old values
  all_dirty_ = true;
  return n;
}

Status Audiences::DeleteComputedTrait(const std::string& name) {
  std::lock_guard computing(attributes_mu_);
  {
    std::shared_lock lock(mu_);
    if (!trait_specs_.count(name)) return Status::NotFound("no computed trait \"" + name + "\"");
    for (const auto& [aname, r] : audiences_) {
      if (UsesComputed(r.definition, name)) {
        return Status::InvalidArgument("computed trait \"" + name + "\" is used by audience \"" +
                                       aname + "\"");
      }
    }
    for (const auto& [key, t] : tags_) {
      if (!t.is_list && UsesComputed(t.rule, name)) {
        return Status::InvalidArgument("computed trait \"" + name + "\" is used by tag \"" +
                                       t.category + "/" + t.name + "\"");
      }
    }
  }
  RETURN_IF_ERROR(SaveValues(src_.state, "au/cv/" + name, {}));
  RETURN_IF_ERROR(src_.state->Delete("au/ct/" + name));
  std::unique_lock lock(mu_);
  trait_specs_.erase(name);
  trait_values_.erase(name);
  version_.fetch_add(1);  // cached leaves read the old values
  return Status::OK();
}

std::vector<ComputedTraitSpec> Audiences::ListComputedTraits() const {
  std::shared_lock lock(mu_);
  std::vector<ComputedTraitSpec> out;
  for (const auto& [name, s] : trait_specs_) out.push_back(s);
  return out;
}

Status Audiences::RecomputeTraits() {
  for (const ComputedTraitSpec& spec : ListComputedTraits()) {
    RETURN_IF_ERROR(PutComputedTrait(spec).status());
  }
  std::optional<RfmOptions> rfm;
  {
    std::shared_lock lock(mu_);
    if (rfm_) rfm = rfm_options_;
  }
  if (rfm) {
    // A scheduled run keeps the window and moves the analysis date to now.
    rfm->analysis_time_us = src_.clock->NowMicros();
    RETURN_IF_ERROR(RunRfm(*rfm).status());
  }
  return Status::OK();
}

Result<std::vector<RfmScore>> Audiences::RunRfm(const RfmOptions& options) {
  std::lock_guard computing(attributes_mu_);  // to the save: no erased person comes back
  EvalContext ctx = Context();
  ASSIGN_OR_RETURN(std::vector<RfmCustomer> customers, GatherRfmCustomers(ctx.query, options));
  std::vector<RfmScore> scores = ScoreRfm(customers, options.analysis_time_us);
  std::vector<PersonValue> rows;
  rows.reserve(scores.size());
  for (const RfmScore& s : scores) {
    Json v = RfmValue(s);
    v["recency_days"] = s.recency_days;
    v["frequency"] = s.frequency;
    v["monetary"] = s.monetary;
    rows.push_back({s.one_id, std::move(v)});
  }
  RETURN_IF_ERROR(SaveValues(src_.state, "au/rfmv", rows));
  RETURN_IF_ERROR(src_.state->Put("au/rfm", ToJson(options).dump()));
  std::unique_lock lock(mu_);
  rfm_ = std::make_shared<const std::vector<RfmScore>>(scores);
  rfm_options_ = options;
  version_.fetch_add(1);  // cached leaves read the old values
  all_dirty_ = true;
  return scores;
}

Status Audiences::PutPredicted(const std::string& name, std::vector<PersonValue> values,
                               Json about) {
  const bool valid_name =
      !name.empty() && name.size() <= 64 && std::all_of(name.begin(), name.end(), [](char c) {
        return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_';
      });
  if (!valid_name)
    return Status::InvalidArgument("predicted trait name \"" + name + "\": use [a-z0-9_]{1,64}");
  std::lock_guard computing(attributes_mu_);
  RETURN_IF_ERROR(SaveValues(src_.state, "au/pv/" + name, values));
  RETURN_IF_ERROR(src_.state->Put("au/pt/" + name, about.dump()));
  std::unique_lock lock(mu_);
  predicted_[name] = {std::move(about),
                      std::make_shared<const std::vector<PersonValue>>(std::move(values))};
  version_.fetch_add(1);  // cached leaves read the old values
  all_dirty_ = true;
  return Status::OK();
}

Json Audiences::PredictedSummary() const {
  std::shared_lock lock(mu_);
  Json out = Json::object();
  for (const auto& [name, p] : predicted_)
    out[name] = {{"about", p.about}, {"persons", p.values->size()}};
  return out;
}

Result<Json> Audiences::RfmSummary() const {
  std::shared_lock lock(mu_);
  if (!rfm_)
    return Status::NotFound("RFM has not been run yet (POST /api/v1/rfm, or `quanyu rfm run`)");
  Json segments = Json::object();
  for (const auto& name : RfmSegmentNames()) segments[name] = 0;
  for (const RfmScore& s : *rfm_)
    segments[std::string(s.segment)] = segments[std::string(s.segment)].get<int64_t>() + 1;
  return Json{
      {"options", ToJson(rfm_options_)}, {"customers", rfm_->size()}, {"segments", segments}};
}

Json Audiences::StoredAttributesOf(uint32_t one_id) const {
  std::shared_lock lock(mu_);
  Json computed = Json::object();
  for (const auto& [name, values] : trait_values_) {
    if (const PersonValue* v = Find(*values, one_id)) computed[name] = v->value;
  }
  Json rfm = nullptr;
  if (rfm_) {
    auto it = std::lower_bound(rfm_->begin(), rfm_->end(), one_id,
                               [](const RfmScore& s, uint32_t id) { return s.one_id < id; });
    if (it != rfm_->end() && it->one_id == one_id) rfm = ToJson(*it);
  }
  Json predicted = Json::object();
  for (const auto& [name, p] : predicted_) {
    if (const PersonValue* v = Find(*p.values, one_id)) predicted[name] = v->value;
  }
  return Json{{"computed", computed}, {"rfm", rfm}, {"predicted", predicted}};
}

Status Audiences::ForEachStoredAttribute(Namespace ns, std::string_view name,
                                         const ValueFn& fn) const {
  if (ns == Namespace::kPredicted) {
    std::shared_ptr<const std::vector<PersonValue>> values;
    {
      std::shared_lock lock(mu_);
      auto it = predicted_.find(std::string(name));
      if (it == predicted_.end()) {
        return Status::InvalidArgument("predicted." + std::string(name) +
                                       ": not computed yet (run the model that writes it: POST "
                                       "/api/v1/models/clv, churn, propensity or recommend)");
      }
      values = it->second.values;
    }
    for (const PersonValue& v : *values) fn(v.one_id, v.value);
    return Status::OK();
  }
  if (ns == Namespace::kComputed) {
    std::shared_ptr<const std::vector<PersonValue>> values;
    {
      std::shared_lock lock(mu_);
      auto it = trait_values_.find(std::string(name));
      if (it == trait_values_.end()) {
        return Status::InvalidArgument("computed." + std::string(name) +
                                       ": no such computed trait (define it with POST "
                                       "/api/v1/computed-traits)");
      }
      values = it->second;
    }
    for (const PersonValue& v : *values) fn(v.one_id, v.value);
    return Status::OK();
  }
  if (ns != Namespace::kRfm) return Status::InvalidArgument("unknown attribute namespace");
  std::shared_ptr<const std::vector<RfmScore>> scores;
  {
    std::shared_lock lock(mu_);
    scores = rfm_;
  }
  if (!scores) {
    return Status::InvalidArgument(
        "rfm." + std::string(name) +
        ": RFM has not been run yet (POST /api/v1/rfm, or `quanyu rfm run`)");
  }
  const std::string field(name);
  if (field != "segment" && field != "r" && field != "f" && field != "m" && field != "score") {
    return Status::InvalidArgument("rfm." + field +
                                   ": use rfm.segment, rfm.r, rfm.f, rfm.m or rfm.score");
  }
  for (const RfmScore& s : *scores) {
    if (field == "segment") {
      fn(s.one_id, Json(std::string(s.segment)));
    } else if (field == "score") {
      fn(s.one_id, Json(std::to_string(s.r) + std::to_string(s.f) + std::to_string(s.m)));
    } else {
      fn(s.one_id, Json(field == "r" ? s.r : field == "f" ? s.f : s.m));
    }
  }
  return Status::OK();
}

Status Audiences::EraseStoredValuesOf(const Roaring& gone, store::StateWriteBatch* batch) const {
  // Every chunk in the state DB, also of a predicted trait or an RFM run
  // whose header a crash kept from being written (not loaded at the open).
  for (std::string_view prefix : {"au/cv/", "au/pv/", "au/rfmv/"}) {
    RETURN_IF_ERROR(EraseValues(src_.state, prefix, gone, batch));
  }
  return Status::OK();
}

void Audiences::ForgetStoredValuesOf(const Roaring& gone) {
  for (auto& [name, values] : trait_values_) values = Without(values, gone);
  for (auto& [name, p] : predicted_) p.values = Without(p.values, gone);
  rfm_ = Without(rfm_, gone);
}

}  // namespace quanyu::audience
