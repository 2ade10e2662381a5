#include "query/fields.h"

#include <array>

namespace quanyu::query {
namespace {

using store::Column;

struct Builtin {
  std::string_view name;
  FieldKind kind;
  Column column;
};

constexpr std::array kBuiltins = {
    Builtin{"event", FieldKind::kDictionary, Column::kName},
    Builtin{"channel", FieldKind::kDictionary, Column::kChannel},
    Builtin{"source", FieldKind::kDictionary, Column::kSource},
    Builtin{"type", FieldKind::kType, Column::kType},
    Builtin{"utm_source", FieldKind::kDictionary, Column::kCampaignSource},
    Builtin{"utm_medium", FieldKind::kDictionary, Column::kCampaignMedium},
    Builtin{"utm_campaign", FieldKind::kDictionary, Column::kCampaignName},
    Builtin{"campaign", FieldKind::kDictionary, Column::kCampaignName},
    Builtin{"utm_term", FieldKind::kString, Column::kCampaignTerm},
    Builtin{"utm_content", FieldKind::kString, Column::kCampaignContent},
    Builtin{"referrer", FieldKind::kString, Column::kReferrer},
    Builtin{"url", FieldKind::kString, Column::kUrl},
    Builtin{"currency", FieldKind::kDictionary, Column::kCurrency},
    Builtin{"order_id", FieldKind::kString, Column::kOrderId},
    Builtin{"product_id", FieldKind::kString, Column::kProductId},
    Builtin{"revenue", FieldKind::kNumber, Column::kRevenue},
    Builtin{"value", FieldKind::kNumber, Column::kValue},
    Builtin{"quantity", FieldKind::kNumber, Column::kQuantity},
};

}  // namespace

bool IsBuiltinField(std::string_view name) {
  for (const auto& b : kBuiltins) {
    if (b.name == name) return true;
  }
  return false;
}

Field FieldNamed(std::string_view name) {
  Field f;
  f.name = std::string(name);
  for (const auto& b : kBuiltins) {
    if (b.name == name) {
      f.kind = b.kind;
      f.column = b.column;
      return f;
    }
  }
  constexpr std::string_view kPrefix = "properties.";
  f.path = std::string(name.substr(0, kPrefix.size()) == kPrefix ? name.substr(kPrefix.size()) : name);
  return f;
}

}  // namespace quanyu::query
