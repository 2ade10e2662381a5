// What a definition depends on: which audiences a batch of events can
// change (Audiences::AffectedBy, membership.cc).
//
// Stateless; thread-safe.
#pragma once

#include "audience/definition.h"

namespace quanyu::audience::internal {

// Whether `x` satisfies a count or sum bound ("=", "!=", "<", "<=", ">", ">=").
bool Holds(const Bound& b, double x);

// Whether persons without any value or event can satisfy `n` — NOT, "!=",
// or an event bound that a count (and sum) of 0 meets: then any new person
// may join, whatever their events.
bool AdmitsNewPersons(const Node& n);

// Whether `n` has a consent.* condition (decided by events carrying consent).
bool UsesConsent(const Node& n);

}  // namespace quanyu::audience::internal
