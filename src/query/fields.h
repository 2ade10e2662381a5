// Event fields a query can name — in `where` filters, breakdowns and
// property sums — and how each maps onto the store's columns
// (docs/metrics.md, "Fields"). Built-in names map to typed columns; any other
// name is a key of the event's properties JSON (a dotted path reaches into
// nested objects: "address.city").
//
// Stateless; thread-safe.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "store/event_store.h"

namespace quanyu::query {

enum class FieldKind {
  kDictionary,  // a dictionary-encoded string column (channel, source, utm_*...)
  kString,      // a plain string column (order_id, url...)
  kNumber,      // an optional double column (revenue, value, quantity)
  kType,        // the event type ("track", "page"...)
  kProperty,    // a key of properties_json
};

struct Field {
  std::string name;  // as the request named it
  FieldKind kind = FieldKind::kProperty;
  store::Column column = store::Column::kProperties;  // for every kind but kType
  std::string path;  // kProperty: the key (dotted path) inside properties_json
};

// The field a request name refers to: "event" (the event name), "channel", "source", "type",
// "utm_source", "utm_medium", "utm_campaign" (or "campaign"), "utm_term",
// "utm_content", "referrer", "url", "currency", "order_id", "product_id",
// "revenue", "value", "quantity"; "properties.X" or any other name X is the
// property X.
Field FieldNamed(std::string_view name);
// True for the built-in names above.
bool IsBuiltinField(std::string_view name);

}  // namespace quanyu::query
