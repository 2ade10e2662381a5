#include "models/logistic.h"

#include <Eigen/Dense>
#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>

namespace quanyu::models {
namespace {

double Sigmoid(double z) {
  return z >= 0 ? 1 / (1 + std::exp(-z)) : std::exp(z) / (1 + std::exp(z));
}

// log(1 + e^z), without overflow.
double Softplus(double z) { return z > 0 ? z + std::log1p(std::exp(-z)) : std::log1p(std::exp(z)); }

}  // namespace

double LogisticModel::Predict(const double* row) const {
  double z = intercept;
  for (size_t k = 0; k < weights.size(); ++k) {
    if (scale[k] > 0) z += weights[k] * (row[k] - mean[k]) / scale[k];
  }
  return Sigmoid(z);
}

Result<LogisticModel> FitLogistic(const std::vector<std::string>& names,
                                  const std::vector<double>& values,
                                  const std::vector<uint8_t>& labels, double l2) {
  const size_t d = names.size(), n = labels.size();
  if (d == 0 || values.size() != n * d) {
    return Status::InvalidArgument("logistic regression: " + std::to_string(values.size()) +
                                   " values for " + std::to_string(n) + " rows of " +
                                   std::to_string(d) + " features");
  }
  if (!(l2 >= 0) || !std::isfinite(l2)) return Status::InvalidArgument("l2: must be a number >= 0");
  const size_t positives = std::count(labels.begin(), labels.end(), 1);
  if (n == 0 || positives == 0 || positives == n) {
    return Status::InvalidArgument("logistic regression: the training rows need both outcomes (" +
                                   std::to_string(positives) + " positive of " + std::to_string(n) +
                                   ")");
  }
  LogisticModel m;
  m.names = names;
  m.mean.assign(d, 0);
  m.scale.assign(d, 0);
  for (size_t i = 0; i < n; ++i) {
    for (size_t k = 0; k < d; ++k) m.mean[k] += values[i * d + k];
  }
  for (double& v : m.mean) v /= static_cast<double>(n);
  for (size_t i = 0; i < n; ++i) {
    for (size_t k = 0; k < d; ++k) {
      const double c = values[i * d + k] - m.mean[k];
      m.scale[k] += c * c;
    }
  }
  for (double& v : m.scale) {
    v = std::sqrt(v / static_cast<double>(n));
    if (!(v > 1e-12)) v = 0;
  }

  // theta = (intercept, w); z_i = (1, standardized row).
  const size_t p = d + 1;
  Eigen::VectorXd theta = Eigen::VectorXd::Zero(p);
  const double base = static_cast<double>(positives) / static_cast<double>(n);
  theta[0] = std::log(base / (1 - base));
  Eigen::VectorXd z(p);
  auto row = [&](size_t i) {
    z[0] = 1;
    for (size_t k = 0; k < d; ++k) {
      z[k + 1] = m.scale[k] > 0 ? (values[i * d + k] - m.mean[k]) / m.scale[k] : 0;
    }
  };
  auto objective = [&](const Eigen::VectorXd& t) {
    double loss = 0;
    for (size_t i = 0; i < n; ++i) {
      row(i);
      const double eta = t.dot(z);
      loss += Softplus(eta) - (labels[i] ? eta : 0);
    }
    return loss + 0.5 * l2 * t.tail(d).squaredNorm();
  };
  double loss = objective(theta);
  for (m.iterations = 1; m.iterations <= 100; ++m.iterations) {
    Eigen::VectorXd g = Eigen::VectorXd::Zero(p);
    Eigen::MatrixXd h = Eigen::MatrixXd::Zero(p, p);
    for (size_t i = 0; i < n; ++i) {
      row(i);
      const double q = Sigmoid(theta.dot(z));
      g += (q - labels[i]) * z;
      h.selfadjointView<Eigen::Lower>().rankUpdate(z, q * (1 - q));
    }
    h = h.selfadjointView<Eigen::Lower>();
    for (size_t k = 1; k < p; ++k) {
      g[k] += l2 * theta[k];
      h(k, k) += l2 + (m.scale[k - 1] > 0 ? 0 : 1);  // an unused feature stays at 0
    }
    const Eigen::VectorXd step = h.ldlt().solve(g);
    if (!step.allFinite()) return Status::Internal("logistic regression: singular Hessian");
    // Newton's step, halved until the objective does not rise.
    double scale = 1, next = 0;
    Eigen::VectorXd candidate;
    for (int halving = 0; halving < 30; ++halving, scale /= 2) {
      candidate = theta - scale * step;
      next = objective(candidate);
      if (next <= loss + 1e-12 * std::abs(loss)) break;
    }
    theta = candidate;
    const bool converged = step.lpNorm<Eigen::Infinity>() * scale < 1e-8 ||
                           std::abs(loss - next) <= 1e-12 * std::max(1.0, std::abs(loss));
    loss = next;
    if (converged) break;
  }
  if (m.iterations > 100)
    return Status::Internal("logistic regression: no convergence in 100 steps");
  m.intercept = theta[0];
  m.weights.assign(theta.data() + 1, theta.data() + p);
  return m;
}

double Auc(const std::vector<double>& scores, const std::vector<uint8_t>& labels) {
  const size_t n = scores.size();
  std::vector<size_t> order(n);
  std::iota(order.begin(), order.end(), 0);
  std::sort(order.begin(), order.end(), [&](size_t a, size_t b) { return scores[a] < scores[b]; });
  // Mann-Whitney: the positives' rank sum, tied scores sharing their mean rank.
  double positive_ranks = 0, positives = 0;
  for (size_t i = 0; i < n;) {
    size_t j = i;
    double tied_positives = 0;
    for (; j < n && scores[order[j]] == scores[order[i]]; ++j) tied_positives += labels[order[j]];
    const double mean_rank = (static_cast<double>(i + 1) + static_cast<double>(j)) / 2;
    positive_ranks += tied_positives * mean_rank;
    positives += tied_positives;
    i = j;
  }
  const double negatives = static_cast<double>(n) - positives;
  if (positives == 0 || negatives == 0) return std::numeric_limits<double>::quiet_NaN();
  return (positive_ranks - positives * (positives + 1) / 2) / (positives * negatives);
}

double LogLoss(const std::vector<double>& probabilities, const std::vector<uint8_t>& labels) {
  double sum = 0;
  for (size_t i = 0; i < labels.size(); ++i) {
    const double q = std::clamp(probabilities[i], 1e-15, 1 - 1e-15);
    sum -= labels[i] ? std::log(q) : std::log1p(-q);
  }
  return labels.empty() ? 0 : sum / static_cast<double>(labels.size());
}

namespace {
std::vector<size_t> ByScoreDescending(const std::vector<double>& scores) {
  std::vector<size_t> order(scores.size());
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(),
                   [&](size_t a, size_t b) { return scores[a] > scores[b]; });
  return order;
}
}  // namespace

std::vector<CalibrationBin> CalibrationByRank(const std::vector<double>& probabilities,
                                              const std::vector<uint8_t>& labels, int bins) {
  const std::vector<size_t> order = ByScoreDescending(probabilities);
  const size_t n = order.size(), k = static_cast<size_t>(std::max(1, bins));
  std::vector<CalibrationBin> out;
  for (size_t b = 0, at = 0; b < k && at < n; ++b) {
    const size_t size = n / k + (b < n % k ? 1 : 0);
    CalibrationBin bin;
    for (size_t i = at; i < at + size; ++i) {
      bin.predicted += probabilities[order[i]];
      bin.actual += labels[order[i]];
    }
    bin.rows = size;
    bin.predicted /= static_cast<double>(size);
    bin.actual /= static_cast<double>(size);
    out.push_back(bin);
    at += size;
  }
  return out;
}

double LiftAt(const std::vector<double>& scores, const std::vector<uint8_t>& labels, double share) {
  const size_t n = labels.size();
  const double positives = static_cast<double>(std::count(labels.begin(), labels.end(), 1));
  if (n == 0 || positives == 0) return std::numeric_limits<double>::quiet_NaN();
  const std::vector<size_t> order = ByScoreDescending(scores);
  const size_t top =
      std::max<size_t>(1, static_cast<size_t>(std::ceil(share * static_cast<double>(n))));
  double hits = 0;
  for (size_t i = 0; i < top; ++i) hits += labels[order[i]];
  return (hits / static_cast<double>(top)) / (positives / static_cast<double>(n));
}

}  // namespace quanyu::models
