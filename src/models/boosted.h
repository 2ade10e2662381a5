// Gradient-boosted trees for purchase propensity (docs/models.md,
// "Propensity"), through XGBoost's C API (Debian's libxgboost-dev): the
// same rows and labels as the logistic regression, binary:logistic
// objective, histogram trees.
//
// A BoostedModel owns its booster; it is movable, not copyable, and not
// safe to use from two threads at once.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "common/result.h"

namespace quanyu::models {

struct BoostedOptions {
  int rounds = 200;  // trees
  int max_depth = 4;
  double eta = 0.1;  // learning rate
  double subsample = 0.8;
  int threads = 0;  // 0: every core
  uint64_t seed = 1;
};

class BoostedModel {
 public:
  // rows x width values, row-major; labels 0 / 1. InvalidArgument as
  // FitLogistic; Internal with XGBoost's message if it fails.
  static Result<BoostedModel> Fit(size_t width, const std::vector<double>& values,
                                  const std::vector<uint8_t>& labels,
                                  const BoostedOptions& options);
  // The probability of a positive for each row.
  Result<std::vector<double>> Predict(const std::vector<double>& values) const;
  // Total gain of the splits on each feature, by index (0 if never split on).
  Result<std::vector<double>> Importance() const;

  BoostedModel(BoostedModel&&) noexcept;
  BoostedModel& operator=(BoostedModel&&) noexcept;
  ~BoostedModel();

 private:
  BoostedModel() = default;
  void* booster_ = nullptr;
  size_t width_ = 0;
};

}  // namespace quanyu::models
