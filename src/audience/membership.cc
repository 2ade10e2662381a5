// Realtime membership (docs/audiences.md, "Realtime membership") and tags.
#include <algorithm>
#include <set>

#include "audience/audiences.h"
#include "audience/internal/dependencies.h"
#include "audience/internal/keys.h"
#include "audience/language.h"

namespace quanyu::audience {
namespace {

constexpr size_t kMaxChangesPerBatch = 50'000;  // state-DB writes per batch

bool NamesOnly(EventType t) {
  return t == EventType::kTrack || t == EventType::kPage || t == EventType::kScreen;
}

std::string TagKey(const std::string& category, const std::string& name) {
  return "au/t/" + category + std::string(1, '\0') + name;
}

Json TagJson(const TagRecord& t) {
  Json j{{"category", t.category}, {"name", t.name}, {"description", t.description}};
  if (t.is_list) {
    j["identifiers"] = t.identifiers;
  } else {
    j["rule"] = PrintText(t.rule);
  }
  return j;
}

Json ChangeJson(const MembershipChange& c) {
  return Json{{"seq", c.seq},
              {"one_id", c.one_id},
              {"audience", c.audience},
              {"type", c.entered ? "audience_entered" : "audience_exited"},
              {"time_us", c.time_us}};
}

Result<MembershipChange> ChangeFromJson(std::string_view bytes) {
  Json j = Json::parse(bytes, nullptr, false);
  if (j.is_discarded() || !j.is_object()) return Status::Corruption("membership change record");
  MembershipChange c;
  try {
    c.seq = j.value("seq", uint64_t{0});
    c.one_id = j.value("one_id", uint32_t{0});
    c.audience = j.value("audience", "");
    c.entered = j.value("type", "") == "audience_entered";
    c.time_us = j.value("time_us", int64_t{0});
  } catch (const Json::exception& e) {
    return Status::Corruption(std::string("membership change record: ") + e.what());
  }
  return c;
}

}  // namespace

void Audiences::NoteEvents(const std::vector<Event>& events) {
  if (events.empty()) return;
  const uint64_t version = version_.fetch_add(1) + 1;
  std::set<std::string_view> names;
  bool traits = false;
  for (const Event& e : events) {
    if (NamesOnly(e.type)) {
      names.insert(e.name);
    } else {
      traits = true;  // identify / alias / profile_* / corrections: traits or identity change
    }
  }
  std::unique_lock lock(mu_);
  tags_dirty_ = true;
  // A track event can link identifiers and so merge persons: then events of
  // every name may belong to other one_ids than before.
  if (const uint64_t remaps = src_.graph->remaps(); remaps != seen_remaps_) {
    seen_remaps_ = remaps;
    traits = true;
  }
  for (std::string_view name : names) {
    auto it = event_stamps_.find(name);
    if (it == event_stamps_.end()) it = event_stamps_.emplace(std::string(name), 0).first;
    it->second = version;
  }
  if (traits) {
    identity_stamp_ = version;
    all_dirty_ = true;
    return;
  }
  const bool consent = names.count("Consent Updated") > 0;
  for (const auto& [name, r] : audiences_) {
    const Node& def = r.definition;
    bool dirty = !ReferencedAudiences(def).empty() || internal::AdmitsNewPersons(def) ||
                 (consent && internal::UsesConsent(def));
    for (const auto& e : ReferencedEvents(def)) {
      if (dirty) break;
      dirty = names.count(e) > 0;
    }
    if (dirty) dirty_.insert(name);
  }
}

void Audiences::NoteAllChanged() {
  const uint64_t version = version_.fetch_add(1) + 1;
  std::unique_lock lock(mu_);
  identity_stamp_ = version;
  for (auto& [name, stamp] : event_stamps_) stamp = version;
  all_dirty_ = true;
  tags_dirty_ = true;
}

Result<Roaring> Audiences::SavedMembers(const std::string& key) const {
  auto bytes = src_.state->Get("au/m/" + key);
  if (!bytes.ok()) return bytes.status();
  try {
    return Roaring::readSafe(bytes->data(), bytes->size());
  } catch (const std::exception& e) {
    return Status::Corruption("membership of \"" + key + "\": " + e.what());
  }
}

Result<size_t> Audiences::RecordChanges(const std::string& key, const Roaring& now) {
  auto saved = SavedMembers(key);
  if (!saved.ok() && saved.status().code() != StatusCode::kNotFound) return saved.status();
  size_t changes = 0;
  store::StateWriteBatch batch;
  const int64_t at = src_.clock->NowMicros();
  if (saved.ok()) {  // without a saved membership, `now` is the baseline
    Roaring entered = now - *saved, exited = *saved - now;
    auto emit = [&](uint32_t id, bool in) -> Status {
      MembershipChange c{++seq_, id, key, in, at};
      std::string feed = "au/c/", person = "au/h/";
      internal::PutBigEndian64(&feed, c.seq);
      internal::PutBigEndian32(&person, id);
      internal::PutBigEndian64(&person, c.seq);
      const std::string j = ChangeJson(c).dump();
      batch.Put(feed, j);
      batch.Put(person, j);
      ++changes;
      if (batch.size() >= 2 * kMaxChangesPerBatch) {
        RETURN_IF_ERROR(src_.state->Write(batch));
        batch = store::StateWriteBatch();
      }
      return Status::OK();
    };
    for (uint32_t id : entered) RETURN_IF_ERROR(emit(id, true));
    for (uint32_t id : exited) RETURN_IF_ERROR(emit(id, false));
  }
  std::string bits(now.getSizeInBytes(), '\0');
  now.write(bits.data());
  batch.Put("au/m/" + key, std::move(bits));
  RETURN_IF_ERROR(src_.state->Write(batch));
  std::unique_lock lock(mu_);
  saved_[key] = std::make_shared<const Roaring>(now);
  return changes;
}

Result<size_t> Audiences::Refresh(bool full) {
  std::lock_guard refresh(refresh_mu_);
  std::vector<AudienceRecord> todo;
  std::vector<TagRecord> tags;
  {
    std::unique_lock lock(mu_);
    const bool all = full || all_dirty_;
    for (const auto& [name, r] : audiences_) {
      if (all || dirty_.count(name)) todo.push_back(r);
    }
    if (all || tags_dirty_) {
      for (const auto& [key, t] : tags_) tags.push_back(t);
    }
    dirty_.clear();
    all_dirty_ = false;
    tags_dirty_ = false;
  }
  size_t changes = 0;
  for (const AudienceRecord& r : todo) {
    auto members = Evaluate(r.definition);
    if (!members.ok()) {  // e.g. an attribute not computed yet: tried again next time
      std::unique_lock lock(mu_);
      if (audiences_.count(r.name)) dirty_.insert(r.name);
      continue;
    }
    ASSIGN_OR_RETURN(size_t n, RecordChanges(r.name, *members));
    changes += n;
  }
  for (const TagRecord& t : tags) {
    auto members = TagMembers(t);
    if (!members.ok()) continue;
    const std::string key = "tag:" + t.category + "/" + t.name;
    ASSIGN_OR_RETURN(size_t n, RecordChanges(key, *members));
    changes += n;
  }
  return changes;
}

Result<std::vector<MembershipChange>> Audiences::Changes(uint64_t after, size_t limit) const {
  if (after == UINT64_MAX) return std::vector<MembershipChange>{};  // nothing can follow
  std::string start = "au/c/";
  internal::PutBigEndian64(&start, after + 1);
  std::vector<MembershipChange> out;
  bool enough = false;
  Status st = src_.state->Scan(start, "au/c0", [&](std::string_view, std::string_view v) {
    if (out.size() >= limit) {
      enough = true;
      return Status::ResourceExhausted("page full");
    }
    ASSIGN_OR_RETURN(MembershipChange c, ChangeFromJson(v));
    out.push_back(std::move(c));
    return Status::OK();
  });
  if (!st.ok() && !enough) return st;
  return out;
}

std::vector<std::string> Audiences::MembershipsOf(uint32_t one_id) const {
  std::vector<std::string> out;
  std::shared_lock lock(mu_);
  for (const auto& [name, r] : audiences_) {
    auto it = saved_.find(name);
    if (it != saved_.end() && it->second->contains(one_id)) out.push_back(name);
  }
  return out;
}

Result<std::vector<MembershipChange>> Audiences::History(uint32_t one_id) const {
  std::string prefix = "au/h/";
  internal::PutBigEndian32(&prefix, one_id);
  std::vector<MembershipChange> out;
  RETURN_IF_ERROR(src_.state->ScanPrefix(prefix, [&](std::string_view, std::string_view v) {
    ASSIGN_OR_RETURN(MembershipChange c, ChangeFromJson(v));
    out.push_back(std::move(c));
    return Status::OK();
  }));
  return out;
}

// ---- Tags ---------------------------------------------------------------------

Status Audiences::LoadTags() {
  return src_.state->ScanPrefix("au/t/", [&](std::string_view, std::string_view v) {
    Json j = Json::parse(v, nullptr, false);
    if (j.is_discarded()) return Status::Corruption("tag record");
    TagRecord t;
    try {
      t.category = j.value("category", "");
      t.name = j.value("name", "");
      t.description = j.value("description", "");
      if (j.contains("identifiers")) {
        t.is_list = true;
        t.identifiers = j["identifiers"].get<std::vector<std::string>>();
      } else {
        ASSIGN_OR_RETURN(t.rule, ParseText(j.value("rule", "")));
      }
    } catch (const Json::exception& e) {
      return Status::Corruption(std::string("tag record: ") + e.what());
    }
    tags_[{t.category, t.name}] = std::move(t);
    return Status::OK();
  });
}

Result<TagRecord> Audiences::PutTag(TagRecord tag) {
  auto valid = [](const std::string& s) { return !s.empty() && s.size() <= 128 && s.find('\0') == std::string::npos && s.find('/') == std::string::npos; };
  if (!valid(tag.category) || !valid(tag.name)) {
    return Status::InvalidArgument("a tag needs a category and a name of 1 to 128 bytes without '/'");
  }
  if (!tag.is_list) {
    std::shared_lock lock(mu_);
    RETURN_IF_ERROR(CheckReferences("", tag.rule));
  }
  RETURN_IF_ERROR(src_.state->Put(TagKey(tag.category, tag.name), TagJson(tag).dump()));
  std::unique_lock lock(mu_);
  tags_[{tag.category, tag.name}] = tag;
  all_dirty_ = true;
  return tag;
}

Status Audiences::DeleteTag(const std::string& category, const std::string& name) {
  std::unique_lock lock(mu_);
  if (!tags_.erase({category, name})) {
    return Status::NotFound("no tag \"" + name + "\" in category \"" + category + "\"");
  }
  RETURN_IF_ERROR(src_.state->Delete("au/m/tag:" + category + "/" + name));
  saved_.erase("tag:" + category + "/" + name);
  return src_.state->Delete(TagKey(category, name));
}

std::vector<TagRecord> Audiences::ListTags() const {
  std::shared_lock lock(mu_);
  std::vector<TagRecord> out;
  for (const auto& [key, t] : tags_) out.push_back(t);
  return out;
}

Result<Roaring> Audiences::TagMembers(const TagRecord& tag) {
  if (!tag.is_list) return Evaluate(tag.rule);
  // Uploaded identifiers resolve to whoever holds them now.
  Roaring out;
  for (const std::string& text : tag.identifiers) {
    const size_t colon = text.find(':');
    if (colon == std::string::npos) continue;
    Identifier id;
    id.ns = text.substr(0, colon);
    id.value = text.substr(colon + 1);
    if (const size_t scoped = id.value.find(':'); scoped != std::string::npos &&
        (id.ns == "wechat_openid" || id.ns == "douyin_openid" || id.ns == "wechat_unionid" ||
         id.ns == "douyin_unionid" || id.ns == "wecom_external_userid")) {
      id.scope = id.value.substr(0, scoped);
      id.value = id.value.substr(scoped + 1);
    }
    if (const uint32_t p = src_.graph->Lookup(id); p != 0) out.add(p);
  }
  return out;
}

Result<std::vector<std::string>> Audiences::TagsOf(uint32_t one_id) {
  std::vector<std::string> out;
  for (const TagRecord& t : ListTags()) {
    auto members = TagMembers(t);
    if (members.ok() && members->contains(one_id)) out.push_back(t.category + "/" + t.name);
  }
  return out;
}

}  // namespace quanyu::audience
