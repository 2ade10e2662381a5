// CSV import: RFC 4180 reading and the column mapping that turns a row of an
// offline-order, CRM-member or similar export into an Event.
//
// A mapping is a comma-separated list of `column=field` where field is one of
//   timestamp, event, type, message_id, user_id, anonymous_id,
//   revenue, value, quantity, currency, order_id, product_id,
//   utm_source, utm_medium, utm_campaign, utm_term, utm_content,
//   id.NAMESPACE or id.NAMESPACE:SCOPE     (an identifier, e.g. id.phone)
//   trait.NAME                             (a profile trait)
//   property.NAME                          (an event property)
// e.g. "下单时间=timestamp,会员号=user_id,手机=id.phone,金额=revenue,订单号=order_id".
//
// Stateless helpers; thread-safe.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "common/event.h"
#include "common/result.h"

namespace quanyu::collect {

// Splits CSV text into records of fields. Quoted fields may contain commas,
// doubled quotes and newlines. `line_numbers` receives the 1-based line on
// which each record starts. Returns InvalidArgument for an unterminated quote
// (naming its line).
Status ParseCsv(std::string_view text, std::vector<std::vector<std::string>>* records,
                std::vector<int64_t>* line_numbers);

struct CsvFieldMap {
  int column = -1;
  std::string field;  // as in the mapping grammar above
};

struct CsvMapping {
  std::vector<CsvFieldMap> fields;
  std::string default_event;  // event name when no column maps to "event"
  EventType default_type = EventType::kTrack;
};

// Resolves a mapping text against the header row. Columns not mentioned are
// ignored; an empty mapping maps every header whose name is itself a field
// (e.g. a header "user_id"). Errors name the unknown column or field.
Result<CsvMapping> ParseCsvMapping(std::string_view mapping, const std::vector<std::string>& header,
                                   std::string default_event, EventType default_type);

// Builds an Event (identifiers raw; the Normalizer cleans them) from one row.
// Returns InvalidArgument naming the column for a bad number or timestamp, or
// when the row has no identity. `received_us` is used when no timestamp.
Result<Event> CsvRowToEvent(const std::vector<std::string>& row, const CsvMapping& mapping,
                            int64_t received_us);

}  // namespace quanyu::collect
