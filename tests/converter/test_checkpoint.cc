// Checkpoints: same seed, same weights; resume after a kill (at an epoch end or mid-epoch) equals
// an uninterrupted run; masks round-trip; foreign files are rejected (LibTorch).
#include "prune/pruner.h"
#include "test_util.h"
#include "tiny_session.h"
#include "train/checkpoint.h"

#include "doctest_torch.h"  // last: after LibTorch's glog macros

using namespace gnconvert;
using namespace gnconvert_test;

TEST_CASE("same seed, same weights; resume after a kill equals an uninterrupted run") {
  TempDir data;
  write_toy_mnist(data.path, 96, 16);  // 64 training images: 4 steps per epoch at batch 16
  TempDir out_a, out_b, out_c;

  Session a = tiny_session(data.path, out_a.path);
  REQUIRE(run_stages(a, {train_stage(a)}));
  CHECK(a.global_step == 8);
  CHECK(a.history.size() == 2);

  // Interrupted after 6 steps (the epoch-1 checkpoint exists, steps 5-6 are lost as if killed),
  // then resumed from the checkpoint in a fresh session.
  Session b = tiny_session(data.path, out_b.path);
  b.run.max_steps = 6;
  CHECK_FALSE(run_stages(b, {train_stage(b)}));
  Session b2 = tiny_session(data.path, out_b.path);
  load_checkpoint(b2, b2.checkpoint_path(), /*weights_only=*/false);
  CHECK(b2.epoch == 1);
  CHECK(b2.step == 0);
  CHECK(b2.global_step == 4);
  CHECK_FALSE(b2.optimizer_state.empty());
  REQUIRE(run_stages(b2, {train_stage(b2)}));
  CHECK(same_state(a.net, b2.net));
  CHECK(b2.history.size() == 2);

  // Mid-epoch checkpoints resume bitwise too.
  Session c = tiny_session(data.path, out_c.path);
  c.run.checkpoint_steps = 1;
  c.run.max_steps = 6;
  CHECK_FALSE(run_stages(c, {train_stage(c)}));
  Session c2 = tiny_session(data.path, out_c.path);
  load_checkpoint(c2, c2.checkpoint_path(), false);
  CHECK(c2.global_step == 6);
  CHECK(c2.step == 2);
  REQUIRE(run_stages(c2, {train_stage(c2)}));
  CHECK(same_state(a.net, c2.net));

  // A different seed gives different weights.
  TempDir out_d;
  Session d = tiny_session(data.path, out_d.path);
  d.run.seed = 4;
  create_model(d);
  d.run.max_steps = 2;
  run_stages(d, {train_stage(d)});
  CHECK_FALSE(same_state(a.net, d.net));
}

TEST_CASE("checkpoints round-trip masks and reject foreign files") {
  TempDir data, out;
  write_toy_mnist(data.path, 64, 16);
  Session s = tiny_session(data.path, out.path);
  PruneRecipe r;
  prune_to(s, r, count_params(s.net, false) / 3);
  s.history.push_back({{"note", "x"}});
  save_checkpoint(s, out / "c.pt", nullptr);
  Session t = tiny_session(data.path, out.path);
  load_checkpoint(t, out / "c.pt", false);
  CHECK(same_state(s.net, t.net));
  CHECK(t.masks.size() == s.masks.size());
  for (const auto& kv : s.masks) CHECK(torch::equal(kv.second, t.masks.at(kv.first)));
  CHECK(t.history.size() == 1);
  CHECK(t.norm.mean == s.norm.mean);

  write_bytes(out / "junk.pt", {1, 2, 3, 4});
  CHECK_THROWS_WITH_AS(load_checkpoint(t, out / "junk.pt", false),
                       doctest::Contains("not a gn-convert checkpoint"), std::runtime_error);
  CHECK_THROWS_WITH_AS(load_checkpoint(t, out / "missing.pt", false),
                       doctest::Contains("no such file"), std::runtime_error);
  // An unwritable destination gives an error and keeps the previous file.
  CHECK_THROWS_AS(save_checkpoint(s, out / "no/such/dir/c.pt", nullptr), std::runtime_error);
  CHECK_NOTHROW(load_checkpoint(t, out / "c.pt", false));
}
