#include "collect/csv_import.h"

#include <cmath>
#include <cstdlib>
#include <map>

#include "common/json_text.h"
#include "common/time_util.h"

namespace quanyu::collect {
namespace {

bool IsKnownField(std::string_view f) {
  static constexpr std::string_view kFields[] = {
      "timestamp",  "event",      "type",         "message_id", "user_id",    "anonymous_id",
      "revenue",    "value",      "quantity",     "currency",   "order_id",   "product_id",
      "utm_source", "utm_medium", "utm_campaign", "utm_term",   "utm_content"};
  for (auto k : kFields) {
    if (k == f) return true;
  }
  return (f.starts_with("id.") && f.size() > 3) || (f.starts_with("trait.") && f.size() > 6) ||
         (f.starts_with("property.") && f.size() > 9);
}

std::string_view Trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r'))
    s.remove_suffix(1);
  return s;
}

Result<double> ParseNumber(const std::string& s, const std::string& column) {
  char* end = nullptr;
  double d = std::strtod(s.c_str(), &end);
  if (s.empty() || end != s.c_str() + s.size() || !std::isfinite(d)) {
    return Status::InvalidArgument("column \"" + column + "\": \"" + s + "\" is not a number");
  }
  return d;
}

// Numbers stay JSON numbers when they look like one; everything else is a string.
void AppendJsonValue(std::string* out, const std::string& v) {
  char* end = nullptr;
  double d = std::strtod(v.c_str(), &end);
  bool numeric = !v.empty() && end == v.c_str() + v.size() && std::isfinite(d) && v[0] != '0';
  if (numeric || v == "0") {
    AppendJsonNumber(out, d);
  } else {
    AppendJsonString(out, v);
  }
}

}  // namespace

Status ParseCsv(std::string_view text, std::vector<std::vector<std::string>>* records,
                std::vector<int64_t>* line_numbers) {
  if (text.starts_with("\xEF\xBB\xBF")) text.remove_prefix(3);  // UTF-8 BOM from Excel
  int64_t line = 1;
  size_t i = 0;
  while (i < text.size()) {
    std::vector<std::string> record;
    int64_t start_line = line;
    std::string field;
    bool in_quotes = false, quoted = false;
    for (; i < text.size(); ++i) {
      char c = text[i];
      if (in_quotes) {
        if (c == '"') {
          if (i + 1 < text.size() && text[i + 1] == '"') {
            field.push_back('"');
            ++i;
          } else {
            in_quotes = false;
          }
        } else {
          if (c == '\n') ++line;
          field.push_back(c);
        }
      } else if (c == '"' && field.empty() && !quoted) {
        in_quotes = quoted = true;
      } else if (c == ',') {
        record.push_back(quoted ? field : std::string(Trim(field)));
        field.clear();
        quoted = false;
      } else if (c == '\n') {
        ++line;
        ++i;
        break;
      } else {
        field.push_back(c);
      }
    }
    if (in_quotes) {
      return Status::InvalidArgument("CSV: unterminated quoted field starting on line " +
                                     std::to_string(start_line));
    }
    record.push_back(quoted ? field : std::string(Trim(field)));
    if (record.size() == 1 && record[0].empty()) continue;  // blank line
    records->push_back(std::move(record));
    line_numbers->push_back(start_line);
  }
  return Status::OK();
}

Result<CsvMapping> ParseCsvMapping(std::string_view text, const std::vector<std::string>& header,
                                   std::string default_event, EventType default_type) {
  CsvMapping m;
  m.default_event = std::move(default_event);
  m.default_type = default_type;
  auto column_of = [&](std::string_view name) -> int {
    for (size_t i = 0; i < header.size(); ++i) {
      if (header[i] == name) return static_cast<int>(i);
    }
    return -1;
  };
  if (Trim(text).empty()) {
    for (size_t i = 0; i < header.size(); ++i) {
      if (IsKnownField(header[i])) m.fields.push_back({static_cast<int>(i), header[i]});
    }
    if (m.fields.empty()) {
      return Status::InvalidArgument("CSV: no --map given and no header names a known field");
    }
    return m;
  }
  while (!text.empty()) {
    auto comma = text.find(',');
    std::string_view pair = Trim(text.substr(0, comma));
    text = comma == std::string_view::npos ? std::string_view() : text.substr(comma + 1);
    if (pair.empty()) continue;
    auto eq = pair.rfind('=');
    if (eq == std::string_view::npos) {
      return Status::InvalidArgument("mapping entry \"" + std::string(pair) +
                                     "\" is not column=field");
    }
    std::string column(Trim(pair.substr(0, eq)));
    std::string field(Trim(pair.substr(eq + 1)));
    if (!IsKnownField(field))
      return Status::InvalidArgument("mapping: unknown field \"" + field + "\"");
    int index = column_of(column);
    if (index < 0)
      return Status::InvalidArgument("mapping: the CSV has no column \"" + column + "\"");
    m.fields.push_back({index, field});
  }
  return m;
}

Result<Event> CsvRowToEvent(const std::vector<std::string>& row, const CsvMapping& m,
                            int64_t received_us) {
  Event e;
  e.type = m.default_type;
  e.name = m.default_event;
  e.received_us = e.timestamp_us = received_us;
  std::string traits = "{", props = "{";
  for (const auto& f : m.fields) {
    if (f.column >= static_cast<int>(row.size())) continue;
    const std::string& v = row[f.column];
    if (v.empty()) continue;
    const std::string& name = f.field;
    if (name == "timestamp") {
      auto t = ParseTimestamp(v);
      if (!t.ok()) return t.status().WithContext("column for timestamp");
      e.timestamp_us = *t;
    } else if (name == "event") {
      e.name = v;
    } else if (name == "type") {
      auto t = EventTypeFromName(v);
      if (!t || *t == EventType::kIdentitySplit)
        return Status::InvalidArgument("unknown event type \"" + v + "\"");
      e.type = *t;
    } else if (name == "message_id") {
      e.message_id = v;
    } else if (name == "user_id") {
      e.user_id = v;
    } else if (name == "anonymous_id") {
      e.anonymous_id = v;
    } else if (name == "revenue" || name == "value" || name == "quantity") {
      ASSIGN_OR_RETURN(double d, ParseNumber(v, name));
      (name == "revenue" ? e.revenue : name == "value" ? e.value : e.quantity) = d;
    } else if (name == "currency") {
      e.currency = v;
    } else if (name == "order_id") {
      e.order_id = v;
    } else if (name == "product_id") {
      e.product_id = v;
    } else if (name == "utm_source") {
      e.campaign.source = v;
    } else if (name == "utm_medium") {
      e.campaign.medium = v;
    } else if (name == "utm_campaign") {
      e.campaign.name = v;
    } else if (name == "utm_term") {
      e.campaign.term = v;
    } else if (name == "utm_content") {
      e.campaign.content = v;
    } else if (name.starts_with("id.")) {
      std::string type = name.substr(3);
      auto colon = type.find(':');
      Identifier id{type.substr(0, colon), colon == std::string::npos ? "" : type.substr(colon + 1),
                    v};
      e.identifiers.push_back(std::move(id));
    } else if (name.starts_with("trait.")) {
      if (traits.size() > 1) traits.push_back(',');
      AppendJsonString(&traits, name.substr(6));
      traits.push_back(':');
      AppendJsonValue(&traits, v);
    } else if (name.starts_with("property.")) {
      if (props.size() > 1) props.push_back(',');
      AppendJsonString(&props, name.substr(9));
      props.push_back(':');
      AppendJsonValue(&props, v);
    }
  }
  if (traits.size() > 1) e.traits_json = traits + "}";
  if (props.size() > 1) e.properties_json = props + "}";
  if (!e.user_id.empty()) e.identifiers.insert(e.identifiers.begin(), {"user_id", "", e.user_id});
  if (!e.anonymous_id.empty()) e.identifiers.push_back({"anonymous_id", "", e.anonymous_id});
  if (e.identifiers.empty()) {
    return Status::InvalidArgument(
        "row has no identity (map a column to user_id, anonymous_id or id.*)");
  }
  if (e.type == EventType::kTrack && e.name.empty()) {
    return Status::InvalidArgument("row has no event name (map a column to event or pass --event)");
  }
  return e;
}

}  // namespace quanyu::collect
