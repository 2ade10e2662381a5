// The engine's One-ID entry points: lookups, profiles, timelines and
// corrections (docs/identity.md).

#include <spdlog/spdlog.h>

#include <algorithm>
#include <charconv>
#include <future>
#include <queue>
#include <set>

#include "collect/identifiers.h"
#include "common/clock.h"
#include "common/json_text.h"
#include "common/time_util.h"
#include "engine/engine.h"

namespace quanyu {
namespace {

void AppendTime(std::string* out, int64_t us) { AppendJsonString(out, FormatTimestamp(us)); }

void AppendStrings(std::string* out, const std::vector<std::string>& v) {
  out->push_back('[');
  for (size_t i = 0; i < v.size(); ++i) {
    if (i) out->push_back(',');
    AppendJsonString(out, v[i]);
  }
  out->push_back(']');
}

void AppendLink(std::string* out, const identity::LinkRecord& l) {
  *out += "{\"id\":" + std::to_string(l.id) + ",\"kind\":";
  AppendJsonString(out, l.kind);
  *out += ",\"time\":";
  AppendTime(out, l.time_us);
  *out += ",\"message_id\":";
  AppendJsonString(out, l.message_id);
  *out += ",\"identifiers\":";
  AppendStrings(out, l.identifiers);
  *out += l.removed ? ",\"removed\":true" : ",\"removed\":false";
  *out += ",\"merges\":[";
  for (size_t i = 0; i < l.merges.size(); ++i) {
    const auto& m = l.merges[i];
    if (i) out->push_back(',');
    *out += "{\"survivor\":" + std::to_string(m.survivor) +
            ",\"absorbed\":" + (m.absorbed ? std::to_string(m.absorbed) : std::string("null")) +
            ",\"via\":";
    AppendJsonString(out, m.via);
    *out += ",\"rule\":";
    AppendJsonString(out, "shared identifier " + m.via + "; every namespace within its limit");
    out->push_back('}');
  }
  *out += "],\"conflicts\":[";
  for (size_t i = 0; i < l.conflicts.size(); ++i) {
    const auto& c = l.conflicts[i];
    if (i) out->push_back(',');
    *out += "{\"dropped\":";
    AppendJsonString(out, c.dropped);
    *out += ",\"reason\":";
    AppendJsonString(out, c.reason);
    *out += ",\"rule\":";
    AppendJsonString(out, c.rule);
    out->push_back('}');
  }
  *out += "]}";
}

// Timeline cursor: "<timestamp_us>.<hex message id>" of the last event shown.
std::string EncodeCursor(int64_t ts, const std::string& message_id) {
  static const char* kHex = "0123456789abcdef";
  std::string c = std::to_string(ts) + ".";
  for (unsigned char ch : message_id) {
    c.push_back(kHex[ch >> 4]);
    c.push_back(kHex[ch & 15]);
  }
  return c;
}

bool DecodeCursor(const std::string& c, int64_t* ts, std::string* message_id) {
  auto dot = c.find('.');
  if (dot == std::string::npos || dot == 0) return false;
  auto [p, ec] = std::from_chars(c.data(), c.data() + dot, *ts);
  if (ec != std::errc() || p != c.data() + dot) return false;
  std::string_view hex(c.data() + dot + 1, c.size() - dot - 1);
  if (hex.size() % 2) return false;
  message_id->clear();
  for (size_t i = 0; i < hex.size(); i += 2) {
    auto nib = [](char x) -> int {
      if (x >= '0' && x <= '9') return x - '0';
      if (x >= 'a' && x <= 'f') return x - 'a' + 10;
      return -1;
    };
    int hi = nib(hex[i]), lo = nib(hex[i + 1]);
    if (hi < 0 || lo < 0) return false;
    message_id->push_back(static_cast<char>(hi << 4 | lo));
  }
  return true;
}

}  // namespace

Result<Identifier> Engine::ParseIdentifier(std::string_view text,
                                           privacy::PiiVault::Pending* keep) const {
  auto colon = text.find(':');
  if (colon == std::string_view::npos || colon == 0 || colon + 1 == text.size()) {
    return Status::InvalidArgument("identifier \"" + std::string(text) +
                                   "\" is not NAMESPACE[:SCOPE]:VALUE");
  }
  Identifier id;
  id.ns = std::string(text.substr(0, colon));
  std::string_view rest = text.substr(colon + 1);
  if (!collect::IsKnownNamespace(id.ns)) {
    return Status::InvalidArgument("unknown identifier namespace \"" + id.ns + "\"");
  }
  if (collect::IsScopedNamespace(id.ns)) {
    auto c2 = rest.find(':');
    if (c2 != std::string_view::npos) {
      id.scope = std::string(rest.substr(0, c2));
      rest = rest.substr(c2 + 1);
    }
  }
  id.value = std::string(rest);
  if (privacy::IsPiiToken(id.value)) return id;  // as the graph holds it
  if (!normalizer_.identifiers().Normalize(&id)) {
    return Status::InvalidArgument("\"" + std::string(text) +
                                   "\" is not a usable identifier (junk or invalid " + id.ns + ")");
  }
  Event holder;
  holder.identifiers.push_back(std::move(id));
  privacy::PiiVault::Pending ignored;
  privacy::TokenizeIdentifiers(*vault_, keep ? keep : &ignored, &holder);
  return std::move(holder.identifiers.front());
}

Result<uint32_t> Engine::LookupPerson(std::string_view identifier) const {
  ASSIGN_OR_RETURN(Identifier id, ParseIdentifier(identifier));
  uint32_t p = identity_->Lookup(id);
  if (p == 0) return Status::NotFound("no person holds " + std::string(identifier));
  return p;
}

Result<uint32_t> Engine::ResolvePerson(uint32_t one_id) const {
  uint32_t p = identity_->Resolve(one_id);
  if (p == 0) return Status::NotFound("no person with one_id " + std::to_string(one_id));
  return p;
}

Result<std::string> Engine::ProfileJson(uint32_t one_id) const {
  auto d = identity_->Describe(one_id);
  if (!d) return Status::NotFound("no person with one_id " + std::to_string(one_id));
  identity::PartialProfile profile = profiles_->Fold(identity_->KeysOf(d->one_id));
  std::string out = "{\"one_id\":" + std::to_string(d->one_id);
  if (d->one_id != one_id) out += ",\"requested_one_id\":" + std::to_string(one_id);
  out += ",\"identifiers\":";
  AppendStrings(&out, d->identifiers);
  std::string body;
  profile.AppendJson(&body);  // {"traits":...}
  if (body.size() > 2) {
    out.push_back(',');
    out.append(body, 1, body.size() - 2);
  }
  out += ",\"merge_history\":[";
  bool first = true;
  for (const auto& l : d->links) {
    for (const auto& m : l.merges) {
      if (!first) out.push_back(',');
      first = false;
      out += "{\"time\":";
      AppendTime(&out, l.time_us);
      out += ",\"message_id\":";
      AppendJsonString(&out, l.message_id);
      out += ",\"survivor\":" + std::to_string(m.survivor) +
             ",\"absorbed\":" + (m.absorbed ? std::to_string(m.absorbed) : std::string("null")) +
             ",\"via\":";
      AppendJsonString(&out, m.via);
      out.push_back('}');
    }
  }
  out += "]";
  // What the audience stage knows of the person (docs/audiences.md).
  nlohmann::json extra = audiences_->StoredAttributesOf(d->one_id);
  extra["audiences"] = audiences_->MembershipsOf(d->one_id);
  auto tags = audiences_->TagsOf(d->one_id);
  extra["tags"] = tags.ok() ? *tags : std::vector<std::string>{};
  // Consent: the status per purpose and channel (the ledger's detail is at
  // GET /api/v1/consent).
  privacy::ConsentState consent = consent_->Fold(identity_->KeysOf(d->one_id));
  nlohmann::json c = nlohmann::json::object();
  for (int i = 0; i < privacy::kTopicCount; ++i) {
    c[std::string(privacy::TopicName(static_cast<privacy::Topic>(i)))] =
        privacy::StatusName(consent.status[i]);
  }
  extra["consent"] = std::move(c);
  const std::string more = extra.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  out += ",";
  out.append(more, 1, more.size() - 1);  // the object's members and its closing brace
  return out;
}

Result<std::string> Engine::IdentityJson(uint32_t one_id) const {
  auto d = identity_->Describe(one_id);
  if (!d) return Status::NotFound("no person with one_id " + std::to_string(one_id));
  std::string out = "{\"one_id\":" + std::to_string(d->one_id);
  if (d->one_id != one_id) out += ",\"requested_one_id\":" + std::to_string(one_id);
  out += ",\"identifiers\":";
  AppendStrings(&out, d->identifiers);
  size_t conflicts = 0;
  for (const auto& l : d->links) conflicts += l.conflicts.size();
  out += ",\"merges\":" + std::to_string(d->merges) +
         ",\"conflicts\":" + std::to_string(conflicts) + ",\"links\":[";
  for (size_t i = 0; i < d->links.size(); ++i) {
    if (i) out.push_back(',');
    AppendLink(&out, d->links[i]);
  }
  out += "]}";
  return out;
}

Result<Engine::TimelinePage> Engine::PersonEvents(uint32_t one_id, const std::string& cursor,
                                                  size_t limit) const {
  uint32_t p = identity_->Resolve(one_id);
  if (p == 0) return Status::NotFound("no person with one_id " + std::to_string(one_id));
  int64_t before_ts = INT64_MAX;
  std::string before_id;
  bool has_cursor = !cursor.empty();
  if (has_cursor && !DecodeCursor(cursor, &before_ts, &before_id)) {
    return Status::InvalidArgument("malformed cursor \"" + cursor + "\"");
  }
  limit = std::clamp<size_t>(limit, 1, 1000);
  using Key = std::pair<int64_t, std::string>;  // newest first = largest first
  auto before = [&](const Key& k) {
    return !has_cursor || k.first < before_ts || (k.first == before_ts && k.second < before_id);
  };
  // Pass 1, over two small columns: the page's (time, messageId) keys.
  std::priority_queue<Key, std::vector<Key>, std::greater<Key>> newest;  // min-heap of the top
  store::ScanRequest req;
  req.columns = {store::Column::kTimestamp, store::Column::kMessageId};
  req.one_ids = &identity_->one_ids();
  if (has_cursor) req.to_us = before_ts == INT64_MAX ? INT64_MAX : before_ts + 1;
  RETURN_IF_ERROR(store_->Scan(req, [&](const store::EventBatch& batch) {
    for (const Event& e : batch) {
      if (e.one_id != p) continue;
      Key k{e.timestamp_us, e.message_id};
      if (!before(k)) continue;
      if (newest.size() < limit + 1) {
        newest.push(std::move(k));
      } else if (newest.top() < k) {
        newest.pop();
        newest.push(std::move(k));
      }
    }
    return Status::OK();
  }));
  std::vector<Key> keys;
  while (!newest.empty()) {
    keys.push_back(newest.top());
    newest.pop();
  }
  std::sort(keys.rbegin(), keys.rend());  // newest first
  TimelinePage page;
  bool more = keys.size() > limit;
  if (more) keys.resize(limit);
  if (keys.empty()) return page;
  // Pass 2, every column, only over the page's time range.
  std::set<Key> wanted(keys.begin(), keys.end());
  store::ScanRequest full;
  full.one_ids = &identity_->one_ids();
  full.from_us = keys.back().first;
  full.to_us = keys.front().first + 1;
  RETURN_IF_ERROR(store_->Scan(full, [&](const store::EventBatch& batch) {
    for (const Event& e : batch) {
      if (e.one_id == p && wanted.count(Key{e.timestamp_us, e.message_id})) {
        page.events.push_back(e);
      }
    }
    return Status::OK();
  }));
  std::sort(page.events.begin(), page.events.end(), [](const Event& a, const Event& b) {
    return a.timestamp_us != b.timestamp_us ? a.timestamp_us > b.timestamp_us
                                            : a.message_id > b.message_id;
  });
  if (more) page.next_cursor = EncodeCursor(keys.back().first, keys.back().second);
  return page;
}

Result<std::string> Engine::AppendCorrection(Event e, privacy::PiiVault::Pending* keep) {
  privacy::PiiVault::Pending pii;
  privacy::PiiVault::Pending* pending = keep ? keep : &pii;
  privacy::TokenizeIdentifiers(*vault_, pending, &e);
  privacy::TokenizePayload(*vault_, pending, &e);
  if (suppressed_->Matches(e)) {
    return Status::InvalidArgument(
        "the identifier was erased by a deletion request and is suppressed: nothing about it is "
        "recorded any more");
  }
  int64_t now = SystemClock::Default()->NowMicros();
  e.timestamp_us = e.received_us = now;
  e.source = collect::kCorrectionSource;
  RETURN_IF_ERROR(vault_->Commit(pending));
  e.message_id = normalizer_.GenerateMessageId(e);
  std::string message_id = e.message_id;
  if (!dedupe_->Insert(e.source, e.message_id, now)) {
    return Status::Internal("generated message id collided: " + message_id);
  }
  auto events = std::make_shared<std::vector<Event>>();
  events->push_back(std::move(e));
  std::promise<IngestResult> promise;
  auto future = promise.get_future();
  Append(collect::kCorrectionSource, events, IngestResult{},
         [&promise](IngestResult r) { promise.set_value(std::move(r)); });
  IngestResult r = future.get();
  if (!r.status.ok()) return r.status;
  return message_id;
}

Result<std::string> Engine::Unbind(std::string_view identifier) {
  ASSIGN_OR_RETURN(Identifier id, ParseIdentifier(identifier));
  if (identity_->Lookup(id) == 0)
    return Status::NotFound("no person holds " + std::string(identifier));
  Event e;
  e.type = EventType::kIdUnbind;
  e.name = "$UnbindID";
  e.identifiers.push_back(std::move(id));
  return AppendCorrection(std::move(e));
}

Result<std::string> Engine::Split(uint32_t one_id, const std::string& undo_message_id) {
  auto d = identity_->Describe(one_id);
  if (!d) return Status::NotFound("no person with one_id " + std::to_string(one_id));
  bool found = false;
  Identifier key;
  for (const auto& l : d->links) {
    if (l.kind == "link" && !l.removed && l.message_id == undo_message_id) found = true;
  }
  if (!found) {
    return Status::NotFound("person " + std::to_string(d->one_id) +
                            " has no link made by message \"" + undo_message_id + "\"");
  }
  Event e;
  e.type = EventType::kIdentitySplit;
  e.name = "$IdentitySplit";
  std::string props = "{\"one_id\":" + std::to_string(d->one_id) + ",\"message_id\":";
  AppendJsonString(&props, undo_message_id);
  props += "}";
  e.properties_json = std::move(props);
  // Keyed by the person's first identifier, so the correction shows in its
  // timeline.
  ASSIGN_OR_RETURN(Identifier first, ParseIdentifier(d->identifiers.front()));
  e.identifiers.push_back(std::move(first));
  return AppendCorrection(std::move(e));
}

}  // namespace quanyu
