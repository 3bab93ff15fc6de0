// Torch-side helpers of the converter tests: a small session on the toy dataset, and bitwise
// comparison of two models.
#pragma once

#include <cstdint>
#include <string>

#include "train/session.h"
#include "train/trainer.h"

namespace gnconvert_test {

// One torch thread in every test program (reproducible reductions).
inline const bool kOneTorchThread = (gnconvert::set_threads(1), true);

// What differs between the tests' sessions; the rest is the toy MNIST at 40x40 (the smallest
// square size whose inception 5 is not 1x1 is 33; 40 keeps it 2x2 like 48), batch 16, quiet.
struct TinySessionOptions {
  int validation = 32;
  int epochs = 2;
  double lr = 0.02;
  int eval_batch = 32;
  std::uint64_t seed = 3;
};

inline gnconvert::Session tiny_session(const std::string& data_dir, const std::string& out_dir,
                                       const TinySessionOptions& o) {
  gnconvert::Session s;
  s.quiet = true;
  s.data.dataset = "mnist";
  s.data.data_dir = data_dir;
  s.data.height = s.data.width = 40;
  s.data.validation = o.validation;
  s.optim.batch = 16;
  s.optim.epochs = o.epochs;
  s.optim.lr = o.lr;
  s.run.out_dir = out_dir;
  s.run.eval_batch = o.eval_batch;
  s.run.seed = o.seed;
  gnconvert::load_data(s);
  gnconvert::create_model(s);
  return s;
}

// The model tests' session: validation 32, `epochs` epochs at lr 0.02, seed 3.
inline gnconvert::Session tiny_session(const std::string& data_dir, const std::string& out_dir,
                                       int epochs = 2) {
  TinySessionOptions o;
  o.epochs = epochs;
  return tiny_session(data_dir, out_dir, o);
}

// One training stage with the session's optimizer options.
inline gnconvert::Stage train_stage(const gnconvert::Session& s) {
  gnconvert::Stage stage;
  stage.name = "train";
  stage.train = true;
  stage.optim = s.optim;
  return stage;
}

// Every parameter and buffer bitwise equal.
inline bool same_state(gnconvert::GoogLeNet& a, gnconvert::GoogLeNet& b) {
  auto pa = a->named_parameters(), pb = b->named_parameters();
  for (const auto& kv : pa) {
    if (!torch::equal(kv.value(), pb[kv.key()])) return false;
  }
  auto ba = a->named_buffers(), bb = b->named_buffers();
  for (const auto& kv : ba) {
    if (!torch::equal(kv.value(), bb[kv.key()])) return false;
  }
  return true;
}

}  // namespace gnconvert_test
