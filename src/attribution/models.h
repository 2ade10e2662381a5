// Attribution models over conversion paths (docs/attribution.md,
// "Models"): how much of the conversions and their value each channel
// earned.
//
//   first, last, last_non_direct, linear, position, time_decay  heuristics
//   markov1 .. markov4        Markov chain of that order; removal effects
//                             solved exactly on the absorbing chain
//   shapley_simple            Zhao et al. 2018, simplified
//   shapley                   exact Shapley values over channel coalitions,
//                             worth = P(conversion) of the first-order
//                             Markov chain restricted to the coalition
//   shapley_response          exact Shapley values over each converting
//                             path's channels, worth from a noisy-OR
//                             response model fitted to all paths
//   shapley_observed          exact Shapley values over channel coalitions,
//                             worth = the observed conversion rate
//
// Every model's credits sum to the set's total conversions and value.
//
// Stateless; thread-safe.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "attribution/paths.h"
#include "common/result.h"

namespace quanyu::attribution {

struct ModelOptions {
  double first_weight = 0.4;  // position: the first touch's share
  double last_weight = 0.4;   // position: the last touch's share (the middle gets the rest)
  double half_life_days = 7;  // time_decay
  std::vector<std::string> direct_channels = {"direct"};  // last_non_direct skips these
  bool use_nulls = true;      // markovK: build the chain with the paths that did not convert
};

struct ChannelCredit {
  std::string channel;
  double conversions = 0;
  double value = 0;
  std::optional<double> removal_effect;  // markovK only
  std::optional<double> touch_effect;    // shapley_response only: the fitted P(a touch triggers a conversion)
};

struct ModelResult {
  std::string model;
  std::vector<ChannelCredit> channels;  // PathSet::channels order
  std::optional<double> conversion_probability;  // markovK: P(conversion) from the start
};

// Every model name, in documentation order.
const std::vector<std::string>& ModelNames();

// Runs model `name`. InvalidArgument for an unknown name, bad options
// (weights outside [0, 1] or summing over 1, a half-life <= 0), a set with
// no conversions, time_decay on paths without touch times, shapley and
// shapley_observed over more than 20 channels, shapley_response and
// shapley_observed without null paths.
Result<ModelResult> RunModel(std::string_view name, const PathSet& paths, const ModelOptions& options);

// shapley_response's model (docs/attribution.md, "Shapley values"): a
// path converts unless the baseline and each of its touches fail to
// trigger a conversion, P = 1 - (1-baseline) Π_c (1-effect_c)^n_c, fitted
// to the converting and null paths by maximum likelihood (EM, until the
// log-likelihood moves by less than 1e-10 relative, at most 2,000 rounds).
struct ResponseModel {
  double baseline = 0;
  std::vector<double> effect;  // per channel (PathSet::channels order)
  int iterations = 0;
};
ResponseModel FitResponseModel(const PathSet& paths);

// P(conversion) of the order-`order` chain, and with each channel removed
// (index = channel), estimated by `walks` random walks from the start
// state; for tests against the exact solution.
struct MarkovEstimate {
  double conversion_probability = 0;
  std::vector<double> removed;  // P(conversion) with channel c removed
};
Result<MarkovEstimate> MarkovMonteCarlo(const PathSet& paths, int order, bool use_nulls,
                                        uint64_t walks, uint64_t seed);

}  // namespace quanyu::attribution
