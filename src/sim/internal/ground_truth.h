// The ground truth document: what the simulator knows and analyses must
// recover — true person count and identifier -> person map, channel effects,
// spend-response curves, BG/NBD and Gamma-Gamma parameters, injected junk and
// shared devices, event counts. Schema in docs/sim.md ("Ground truth").
//
// Thread-safety: pure functions.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "common/result.h"
#include "sim/internal/person.h"
#include "sim/internal/stats.h"
#include "sim/internal/world.h"

namespace quanyu::sim::internal {

inline constexpr int kGroundTruthSchemaVersion = 1;

// The identifiers one person showed, normalized as One-ID stores them.
struct PersonIdentifiers {
  int64_t person = 0;
  std::vector<std::string> identifiers;  // "ns:value" or "ns:scope:value"
};

// "P00000042": the true person id of `index`.
std::string TruePersonId(int64_t index);

// Appends to *out the normalized identifiers of `person` whose IdSlot bit is
// set in `used`, leaving out shared demo devices (they belong to no one).
void CollectTrueIdentifiers(const Person& person, uint32_t used, std::vector<std::string>* out);

// Serializes the ground truth. `identity` is null when the map is omitted
// (persons > options.identity_truth_max_persons).
Result<std::string> BuildGroundTruth(const World& world, const SimStats& stats,
                                     const std::vector<PersonIdentifiers>* identity);

}  // namespace quanyu::sim::internal
