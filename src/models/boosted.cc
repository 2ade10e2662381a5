#include "models/boosted.h"

#include <xgboost/c_api.h>

#include <algorithm>
#include <limits>
#include <string>

namespace quanyu::models {
namespace {

Status XgbError(const char* what) {
  return Status::Internal(std::string("gradient-boosted trees: ") + what + ": " +
                          XGBGetLastError());
}

// A DMatrix of rows x width values (as floats), freed on scope exit.
class Matrix {
 public:
  static Result<Matrix> Of(size_t width, const std::vector<double>& values) {
    const std::vector<float> data(values.begin(), values.end());
    Matrix m;
    // NaN marks a missing value; every value here is present.
    if (XGDMatrixCreateFromMat(data.data(), values.size() / width, width,
                               std::numeric_limits<float>::quiet_NaN(), &m.handle) != 0) {
      return XgbError("XGDMatrixCreateFromMat");
    }
    return m;
  }
  Matrix(Matrix&& o) noexcept : handle(o.handle) { o.handle = nullptr; }
  ~Matrix() {
    if (handle) XGDMatrixFree(handle);
  }
  DMatrixHandle handle = nullptr;

 private:
  Matrix() = default;
};

}  // namespace

BoostedModel::BoostedModel(BoostedModel&& o) noexcept : booster_(o.booster_), width_(o.width_) {
  o.booster_ = nullptr;
}
BoostedModel& BoostedModel::operator=(BoostedModel&& o) noexcept {
  std::swap(booster_, o.booster_);
  std::swap(width_, o.width_);
  return *this;
}
BoostedModel::~BoostedModel() {
  if (booster_) XGBoosterFree(booster_);
}

Result<BoostedModel> BoostedModel::Fit(size_t width, const std::vector<double>& values,
                                       const std::vector<uint8_t>& labels,
                                       const BoostedOptions& o) {
  const size_t positives = std::count(labels.begin(), labels.end(), 1);
  if (width == 0 || values.size() != labels.size() * width) {
    return Status::InvalidArgument("gradient-boosted trees: " + std::to_string(values.size()) +
                                   " values for " + std::to_string(labels.size()) + " rows of " +
                                   std::to_string(width));
  }
  if (labels.empty() || positives == 0 || positives == labels.size()) {
    return Status::InvalidArgument(
        "gradient-boosted trees: the training rows need both outcomes (" +
        std::to_string(positives) + " positive of " + std::to_string(labels.size()) + ")");
  }
  ASSIGN_OR_RETURN(Matrix train, Matrix::Of(width, values));
  const std::vector<float> y(labels.begin(), labels.end());
  if (XGDMatrixSetFloatInfo(train.handle, "label", y.data(), y.size()) != 0)
    return XgbError("labels");
  BoostedModel m;
  m.width_ = width;
  if (XGBoosterCreate(&train.handle, 1, &m.booster_) != 0) return XgbError("XGBoosterCreate");
  const std::pair<const char*, std::string> params[] = {
      {"objective", "binary:logistic"},           {"tree_method", "hist"},
      {"max_depth", std::to_string(o.max_depth)}, {"eta", std::to_string(o.eta)},
      {"subsample", std::to_string(o.subsample)}, {"nthread", std::to_string(o.threads)},
      {"seed", std::to_string(o.seed)},           {"verbosity", "0"},
  };
  for (const auto& [key, value] : params) {
    if (XGBoosterSetParam(m.booster_, key, value.c_str()) != 0) return XgbError(key);
  }
  for (int round = 0; round < o.rounds; ++round) {
    if (XGBoosterUpdateOneIter(m.booster_, round, train.handle) != 0) return XgbError("training");
  }
  return m;
}

Result<std::vector<double>> BoostedModel::Predict(const std::vector<double>& values) const {
  if (values.empty()) return std::vector<double>();
  ASSIGN_OR_RETURN(Matrix rows, Matrix::Of(width_, values));
  bst_ulong n = 0;
  const float* out = nullptr;
  if (XGBoosterPredict(booster_, rows.handle, 0, 0, 0, &n, &out) != 0)
    return XgbError("XGBoosterPredict");
  return std::vector<double>(out, out + n);
}

Result<std::vector<double>> BoostedModel::Importance() const {
  bst_ulong n = 0, dim = 0;
  const char** names = nullptr;
  const bst_ulong* shape = nullptr;
  const float* scores = nullptr;
  if (XGBoosterFeatureScore(booster_, R"({"importance_type": "total_gain"})", &n, &names, &dim,
                            &shape, &scores) != 0) {
    return XgbError("XGBoosterFeatureScore");
  }
  std::vector<double> out(width_, 0);
  for (bst_ulong i = 0; i < n; ++i) {
    const std::string name = names[i];  // "f<index>"
    if (name.size() < 2 || name[0] != 'f') continue;
    const size_t k = std::stoul(name.substr(1));
    if (k < width_) out[k] = scores[i];
  }
  return out;
}

}  // namespace quanyu::models
