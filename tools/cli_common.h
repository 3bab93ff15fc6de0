// Shared pieces of the gnrt CLI subcommands: RAII handles over the C API, error reporting with
// exit codes, and small numeric helpers. See docs/cli.md for the user-facing contract.
#pragma once

#include <cstddef>
#include <cstdint>
#include <stdexcept>
#include <string>
#include <vector>

#include "gnrt/gnrt.h"

namespace gnrt::cli {

// Exit codes (docs/cli.md).
constexpr int kExitOk = 0;
constexpr int kExitFailure = 1;  // a file is invalid, a model cannot be loaded/planned/run
constexpr int kExitUsage = 2;    // the command line itself is wrong

// A failure the CLI reports as one line on stderr ("gnrt: error: <message>").
class CliError : public std::runtime_error {
 public:
  explicit CliError(const std::string& message, int exit_code = kExitFailure)
      : std::runtime_error(message), exit_code_(exit_code) {}
  int exit_code() const { return exit_code_; }

 private:
  int exit_code_;
};

// Throws CliError("<context>: <STATUS>: <gnrt_last_error()>") unless status is GNRT_OK.
void check_status(gnrt_status status, const std::string& context);

class Model {
 public:
  // Loads (and so validates) a model file through the C API.
  explicit Model(const std::string& path);
  ~Model();
  Model(const Model&) = delete;
  Model& operator=(const Model&) = delete;

  const gnrt_model* get() const { return model_; }
  const gnrt_model_info& info() const { return info_; }
  // Label of class i, or "" when the model has none.
  std::string label(int index) const;

 private:
  gnrt_model* model_ = nullptr;
  gnrt_model_info info_{};
};

class Plan {
 public:
  // height/width 0: the model's default size.
  Plan(const Model& model, int height, int width, int num_threads = 1);
  ~Plan();
  Plan(const Plan&) = delete;
  Plan& operator=(const Plan&) = delete;

  gnrt_plan* get() const { return plan_; }
  const int* input_dims() const { return input_dims_; }    // NCHW
  const int* output_dims() const { return output_dims_; }  // NCHW
  std::size_t input_count() const;
  std::size_t output_count() const;

 private:
  gnrt_plan* plan_ = nullptr;
  int input_dims_[4] = {0, 0, 0, 0};
  int output_dims_[4] = {0, 0, 0, 0};
};

// Index of the largest value; NaN counts as smaller than everything (a corrupted model can
// produce NaN, and NaN must not break the ordering).
int argmax(const float* values, std::size_t count);

// Indices of the k largest values, largest first, NaN last; ties by lower index.
std::vector<int> top_k(const std::vector<float>& values, int k);

// Numerically stable softmax (for models whose output is logits).
std::vector<float> softmax(const std::vector<float>& logits);

// "1x64x24x24"
std::string shape_string(const std::vector<int>& dims);

}  // namespace gnrt::cli
