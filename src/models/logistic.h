// L2-regularized logistic regression for purchase propensity, and the
// measures a binary classifier is judged by (docs/models.md,
// "Propensity"): AUC, log-loss, calibration by decile and top-decile lift.
//
// Features are standardized with the training rows' means and standard
// deviations (a constant feature gets weight 0); the intercept is not
// penalized. Fitted by Newton's method (IRLS) with Eigen.
//
// Stateless; thread-safe.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "common/result.h"

namespace quanyu::models {

struct LogisticModel {
  std::vector<std::string> names;   // feature names
  std::vector<double> mean, scale;  // standardization (scale 0: feature unused)
  double intercept = 0;
  std::vector<double> weights;  // on standardized features
  int iterations = 0;
  // The probability of a positive for one row of names.size() values.
  double Predict(const double* row) const;
};

// rows x names.size() values, row-major; labels 0 / 1. `l2`: the penalty
// l2/2 |w|^2 added to the summed log-loss. InvalidArgument when the sizes
// disagree, there are no rows, or only one class; Internal if Newton's
// method does not converge in 100 steps.
Result<LogisticModel> FitLogistic(const std::vector<std::string>& names,
                                  const std::vector<double>& values,
                                  const std::vector<uint8_t>& labels, double l2);

// The area under the ROC curve: the chance that a random positive scores
// above a random negative, ties counting half. NaN with one class only.
double Auc(const std::vector<double>& scores, const std::vector<uint8_t>& labels);
// Mean negative log-likelihood, probabilities clipped to [1e-15, 1 - 1e-15].
double LogLoss(const std::vector<double>& probabilities, const std::vector<uint8_t>& labels);

struct CalibrationBin {
  size_t rows = 0;
  double predicted = 0;  // mean predicted probability
  double actual = 0;     // share of positives
};
// Rows ranked by probability, highest first, cut into `bins` groups of
// equal size (the first ones one larger): the deciles for bins = 10.
std::vector<CalibrationBin> CalibrationByRank(const std::vector<double>& probabilities,
                                              const std::vector<uint8_t>& labels, int bins);
// The share of positives among the top `share` of rows by score over the
// share among all rows (1 = no better than random); NaN without positives.
double LiftAt(const std::vector<double>& scores, const std::vector<uint8_t>& labels, double share);

}  // namespace quanyu::models
