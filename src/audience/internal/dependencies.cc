#include "audience/internal/dependencies.h"

namespace quanyu::audience::internal {

bool Holds(const Bound& b, double x) {
  if (b.op == "=") return x == b.value;
  if (b.op == "!=") return x != b.value;
  if (b.op == "<") return x < b.value;
  if (b.op == "<=") return x <= b.value;
  if (b.op == ">") return x > b.value;
  if (b.op == ">=") return x >= b.value;
  return false;
}

// Whether persons without any value or event can satisfy `n` — NOT, "!=",
// or an event bound that a count (and sum) of 0 meets: then any new person
// may join, whatever their events.
bool AdmitsNewPersons(const Node& n) {
  switch (n.kind) {
    case Node::kNot:
      return true;
    case Node::kAnd:
      for (const Node& c : n.children) {
        if (!AdmitsNewPersons(c)) return false;
      }
      return !n.children.empty();
    case Node::kOr:
      for (const Node& c : n.children) {
        if (AdmitsNewPersons(c)) return true;
      }
      return false;
    case Node::kAttribute:
      return n.op == CmpOp::kNe;
    case Node::kEvent:
      return Holds(n.count, 0) && (n.sum_property.empty() || Holds(n.sum, 0));
    default:
      return false;  // sequences and audience references are checked by their own events
  }
}

// Whether `n` has a consent.* condition (decided by events carrying consent).
bool UsesConsent(const Node& n) {
  if (n.kind == Node::kAttribute) return n.ns == Namespace::kConsent;
  for (const Node& c : n.children) {
    if (UsesConsent(c)) return true;
  }
  return false;
}

}  // namespace quanyu::audience::internal
