// gn-convert end to end through its command line: bad input gives one-line errors and a nonzero
// exit; a tiny train -> prune -> export -> eval run works and its numbers are consistent.
#include <doctest/doctest.h>

#include <random>
#include <cstdio>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include <sys/wait.h>

#include "cli_runner.h"
#include "subprocess.h"
#include "test_util.h"

using namespace gnconvert_test;

namespace {

Result run(const std::string& args, const TempDir& tmp, const std::string& shell_prefix = "") {
  return run_gn_convert(GN_CONVERT_PATH, args, tmp, shell_prefix);
}

}  // namespace

TEST_CASE("bad command lines give one-line errors and a nonzero exit") {
  TempDir tmp;
  write_bytes(tmp / "junk.pt", {1, 2, 3});
  write_bytes(tmp / "recipe.json", {'{', '}'});
  const char* cases[] = {
      "",                                                         // no subcommand
      "frobnicate",                                               // unknown subcommand
      "summary --bogus",                                          // unknown flag
      "summary --size 32",                                        // 1x1 maps for 3x3/5x5 kernels
      "summary --classes 1",                                      // out of range
      "train --out OUT --dataset imagenet",                       // unknown dataset
      "train --out OUT --data-dir /nonexistent --dataset mnist",  // missing dataset
      "train --out OUT --size 24",                                // too small a resolution
      "train --out OUT --resume",                                 // nothing to resume
      "eval /nonexistent.pt",                                     // missing file
      "eval JUNK",                                                // not a checkpoint
      "export JUNK -o OUT/m.gnrt",                                // not a checkpoint
      "prune --recipe RECIPE --from JUNK --out OUT",              // recipe without a target
      "train --out OUT --epochs abc",                             // not a number
      "pack JUNK -o OUT/p.pt",                                    // not a checkpoint
      "pack JUNK",                                                // no output
      "results JUNK",                                             // not a manifest
      "results RECIPE",                                           // manifest without the keys
  };
  for (std::string args : cases) {
    auto replace = [&](const std::string& key, const std::string& value) {
      for (auto pos = args.find(key); pos != std::string::npos; pos = args.find(key)) {
        args.replace(pos, key.size(), value);
      }
    };
    replace("OUT", tmp / "out");
    replace("JUNK", tmp / "junk.pt");
    replace("RECIPE", tmp / "recipe.json");
    CAPTURE(args);
    Result r = run(args, tmp);
    CHECK(r.status != 0);
    CHECK(lines(r.err) == 1);
    CHECK(r.err.find("error") != std::string::npos);
  }
  Result help = run("train --help", tmp);
  CHECK(help.status == 0);
  CHECK(help.out.find("--resume") != std::string::npos);
}

TEST_CASE("summary reports 10.3-10.5M parameters and the feature maps") {
  TempDir tmp;
  Result r = run("summary --classes 10 --json", tmp);
  REQUIRE(r.status == 0);
  auto j = nlohmann::json::parse(r.out);
  CHECK(j["totals"]["parameters"].get<long>() >= 10300000);
  CHECK(j["totals"]["parameters"].get<long>() <= 10500000);
  CHECK(j["feature_maps"]["inception5"] == "2x2");
  CHECK(j["layers"].size() == 64);
}

TEST_CASE("tiny train -> prune -> export -> eval pipeline") {
  TempDir tmp;
  write_toy_mnist(tmp.path, 352, 64);
  const std::string common = "--dataset mnist --data-dir " + tmp.path +
                             " --validation 32 --threads 1 --progress-seconds 60";
  Result train =
      run("train " + common + " --size 40 --epochs 1 --batch 32 --lr 0.02 --out " + (tmp / "dense"),
          tmp);
  INFO(train.err);
  REQUIRE(train.status == 0);
  auto result = read_json(tmp / "dense/train-result.json");
  CHECK(result["history"].size() == 1);

  // pack --float16: half the bytes of the finished run's checkpoint (which has no optimizer state
  // left), and the same predictions up to float16 rounding.
  Result pack = run(
      "pack " + (tmp / "dense/checkpoint.pt") + " -o " + (tmp / "dense16.pt") + " --float16", tmp);
  INFO(pack.err);
  REQUIRE(pack.status == 0);
  auto file_size = [](const std::string& p) {
    return static_cast<long>(std::ifstream(p, std::ios::binary | std::ios::ate).tellg());
  };
  CHECK(file_size(tmp / "dense16.pt") < file_size(tmp / "dense/checkpoint.pt") * 51 / 100);
  Result e32 = run("eval " + (tmp / "dense/checkpoint.pt") + " --json --data-dir " + tmp.path, tmp);
  Result e16 = run("eval " + (tmp / "dense16.pt") + " --json --data-dir " + tmp.path, tmp);
  REQUIRE(e32.status == 0);
  REQUIRE(e16.status == 0);
  auto j32 = nlohmann::json::parse(e32.out), j16 = nlohmann::json::parse(e16.out);
  CHECK(std::abs(j32["accuracy"].get<double>() - j16["accuracy"].get<double>()) <= 0.07);
  CHECK(j32["weights_digest"] != j16["weights_digest"]);  // really rounded
  CHECK(j16["nonzeros_training"].get<long>() >= j32["nonzeros_training"].get<long>() * 99 / 100);

  // Second run into the same directory without --resume is refused; with --resume it is a no-op.
  Result again = run("train " + common + " --size 40 --epochs 1 --out " + (tmp / "dense"), tmp);
  CHECK(again.status != 0);

  std::ofstream(tmp / "recipe.json") << R"({
    "mode": "global",
    "target": {"scope": "training", "compression": 8},
    "schedule": {"type": "iterative", "iterations": 2},
    "retrain": {"epochs": 1, "lr": 0.005, "batch": 32},
    "bn_recalibration_batches": 4
  })";
  Result prune =
      run("prune --recipe " + (tmp / "recipe.json") + " --from " + (tmp / "dense/checkpoint.pt") +
              " --data-dir " + tmp.path + " --threads 1 --out " + (tmp / "pruned"),
          tmp);
  INFO(prune.err);
  REQUIRE(prune.status == 0);
  auto report = read_json(tmp / "pruned/report.json");
  long params = report["training_graph"]["params"];
  long nonzeros = report["training_graph"]["nonzeros"];
  CHECK(nonzeros <= params / 8);
  CHECK(nonzeros >= params / 8 - params / 800);
  CHECK(report["iterations"].size() == 2);
  CHECK(report["iterations"][0].contains("after_prune"));
  CHECK(report["iterations"][1].contains("after_retrain"));
  CHECK(report["command_lines"][0].get<std::string>().find("prune") != std::string::npos);
  CHECK(report["recipe"]["mode"] == "global");
  CHECK(report["layers"].size() == 64);
  for (const char* plot : {"density.svg", "accuracy.svg"}) {
    std::ifstream in(tmp / (std::string("pruned/") + plot));
    std::string first;
    std::getline(in, first);
    CHECK(first.rfind("<svg", 0) == 0);
  }

  Result exp = run("export " + (tmp / "pruned/checkpoint.pt") + " -o " + (tmp / "m.gnrt") +
                       " --data-dir " + tmp.path + " --verify-images 8",
                   tmp);
  INFO(exp.err);
  REQUIRE(exp.status == 0);
  CHECK(exp.out.find("verify: 8 validation images") != std::string::npos);
  std::ifstream model(tmp / "m.gnrt", std::ios::binary | std::ios::ate);
  CHECK(model.tellg() > 1000);

  Result eval =
      run("eval " + (tmp / "pruned/checkpoint.pt") + " --json --data-dir " + tmp.path, tmp);
  REQUIRE(eval.status == 0);
  auto e = nlohmann::json::parse(eval.out);
  CHECK(e["accuracy"].get<double>() ==
        doctest::Approx(report["final"]["test_accuracy"].get<double>()));

  // libgnrt's own evaluation of the exported file (the gnrt tool: its IDX reader, its resize and
  // the normalization stored in the file) agrees with gn-convert's within 0.1 point.
  gnrt::testing::ProcessResult gnrt_run = gnrt::testing::run_process(
      {GNRT_TOOL_PATH, "eval", tmp / "m.gnrt", "--idx-images", tmp / "t10k-images-idx3-ubyte.gz",
       "--idx-labels", tmp / "t10k-labels-idx1-ubyte.gz"},
      600, tmp.path);
  REQUIRE(gnrt_run.exit_code == 0);
  const std::string& gnrt_out = gnrt_run.out;
  auto at = gnrt_out.find("accuracy=");
  REQUIRE(at != std::string::npos);
  double gnrt_accuracy = std::stod(gnrt_out.substr(at + 9));
  CHECK(std::abs(gnrt_accuracy - e["accuracy"].get<double>()) <= 0.001);
  CHECK(e["nonzeros_training"].get<long>() == nonzeros);

  // Fine-tuning a pruned float32 checkpoint (masks, no optimizer state left): its mask is kept
  // (the target equals its nonzeros, so nothing more is cut), BatchNorm re-estimated, retrained.
  std::ofstream(tmp / "finetune.json") << R"({
    "mode": "global",
    "target": {"scope": "training", "compression": 8},
    "schedule": {"type": "oneshot"},
    "retrain": {"epochs": 1, "lr": 0.002, "batch": 32},
    "bn_recalibration_batches": 4
  })";
  Result finetune = run("prune --recipe " + (tmp / "finetune.json") + " --from " +
                            (tmp / "pruned/checkpoint.pt") + " --data-dir " + tmp.path +
                            " --threads 1 --out " + (tmp / "finetuned"),
                        tmp);
  INFO(finetune.err);
  REQUIRE(finetune.status == 0);
  auto ft = read_json(tmp / "finetuned/report.json");
  CHECK(ft["training_graph"]["nonzeros"].get<long>() <= nonzeros);
  CHECK(ft["training_graph"]["nonzeros"].get<long>() >= nonzeros - nonzeros / 1000);

  // Distillation from the dense model: at weight 0 the teacher runs but changes nothing (the same
  // weights as the run above, bit for bit); at weight 0.7 it changes the weights, and the report
  // records the teacher and its time.
  auto distilled = [&](const std::string& dir, double weight) {
    std::ofstream(tmp / (dir + ".json"))
        << R"({"mode": "global", "target": {"scope": "training", "compression": 8},
               "schedule": {"type": "oneshot"}, "retrain": {"epochs": 1, "lr": 0.002, "batch": 32},
               "bn_recalibration_batches": 4,
               "distillation": {"teacher": ")"
        << (tmp / "dense/checkpoint.pt") << R"(", "temperature": 3, "weight": )" << weight << "}}";
    Result r = run("prune --recipe " + (tmp / (dir + ".json")) + " --from " +
                       (tmp / "pruned/checkpoint.pt") + " --data-dir " + tmp.path +
                       " --threads 1 --out " + (tmp / dir),
                   tmp);
    INFO(r.err);
    REQUIRE(r.status == 0);
    Result e =
        run("eval " + (tmp / (dir + "/checkpoint.pt")) + " --json --data-dir " + tmp.path, tmp);
    REQUIRE(e.status == 0);
    return std::make_pair(read_json(tmp / (dir + "/report.json")), nlohmann::json::parse(e.out));
  };
  Result ft_eval =
      run("eval " + (tmp / "finetuned/checkpoint.pt") + " --json --data-dir " + tmp.path, tmp);
  REQUIRE(ft_eval.status == 0);
  const auto plain = nlohmann::json::parse(ft_eval.out);
  const auto [report0, eval0] = distilled("kd0", 0.0);
  CHECK(eval0["weights_digest"] == plain["weights_digest"]);
  CHECK(report0["distillation"]["teacher_batches_this_process"].get<long>() > 0);
  const auto [report7, eval7] = distilled("kd7", 0.7);
  CHECK(eval7["weights_digest"] != plain["weights_digest"]);
  CHECK(report7["distillation"]["weight"].get<double>() == doctest::Approx(0.7));
  CHECK(report7["distillation"]["temperature"].get<double>() == doctest::Approx(3.0));
  CHECK(report7["distillation"]["teacher_seconds_this_process"].get<double>() > 0.0);
  CHECK(eval7["nonzeros_training"].get<long>() == plain["nonzeros_training"].get<long>());

  // Cost-aware on the deployed graph, the auxiliary heads as their own group, and a snapshot per
  // iteration (the trade-off curve from one run).
  std::ofstream(tmp / "groups.json") << R"({
    "mode": "cost", "cost": {"alpha": 0.5, "normalize": "std"},
    "target": {"scope": "deployed", "compression": 8},
    "aux": {"mode": "global", "compression": 100},
    "schedule": {"type": "iterative", "densities": [0.25, 0.125]},
    "retrain": {"epochs": 0}, "snapshots": true, "bn_recalibration_batches": 2
  })";
  Result groups =
      run("prune --recipe " + (tmp / "groups.json") + " --from " + (tmp / "dense/checkpoint.pt") +
              " --data-dir " + tmp.path + " --threads 1 --out " + (tmp / "groups"),
          tmp);
  INFO(groups.err);
  REQUIRE(groups.status == 0);
  auto g = read_json(tmp / "groups/report.json");
  const long deployed_params = g["deployed_graph"]["params"];
  const long aux_params = g["training_graph"]["params"].get<long>() - deployed_params;
  for (int i = 1; i <= 2; ++i) {
    CAPTURE(i);
    auto snap = read_json(tmp / ("groups/iteration-" + std::to_string(i) + ".json"));
    const long deployed_nz = snap["deployed_graph"]["nonzeros"];
    const long aux_nz = snap["training_graph"]["nonzeros"].get<long>() - deployed_nz;
    const long target = i == 1 ? deployed_params / 4 : deployed_params / 8;
    CHECK(deployed_nz <= target);
    CHECK(deployed_nz >= target - target / 100);
    CHECK(aux_nz <= aux_params / 100);
    CHECK(aux_nz >= aux_params / 100 - aux_params / 5000);
    CHECK(snap["record"].contains("test_accuracy"));
    Result snap_eval = run("eval " + (tmp / ("groups/iteration-" + std::to_string(i) + ".pt")) +
                               " --json --data-dir " + tmp.path,
                           tmp);
    REQUIRE(snap_eval.status == 0);
    auto se = nlohmann::json::parse(snap_eval.out);
    CHECK(se["nonzeros_training"].get<long>() == snap["training_graph"]["nonzeros"].get<long>());
    CHECK(se["accuracy"].get<double>() ==
          doctest::Approx(snap["record"]["test_accuracy"].get<double>()));
  }
}

TEST_CASE(
    "SIGKILL at random moments, then --resume, ends with the weights of an uninterrupted run") {
  TempDir tmp;
  write_toy_mnist(tmp.path, 96, 16);  // 64 training images: 4 steps per epoch at batch 16
  const std::string args = "train --dataset mnist --data-dir " + tmp.path +
                           " --validation 32 --size 40 --epochs 2 --batch 16 --lr 0.02 --threads 1"
                           " --checkpoint-steps 1 --seed 5 --out ";
  Result a = run(args + (tmp / "a"), tmp);
  REQUIRE(a.status == 0);

  std::mt19937 rng(std::random_device{}());
  int kills = 0, attempts = 0;
  bool done = false;
  while (!done && attempts < 12) {
    ++attempts;
    bool resume = std::ifstream(tmp / "b/checkpoint.pt").good();
    double delay = 1.0 + (rng() % 4000) / 1000.0;  // 1-5 s: startup, training, checkpointing
    char prefix[64];
    std::snprintf(prefix, sizeof prefix, "--signal=KILL %.2f ", delay);
    std::string cmd = std::string("timeout ") + prefix + GN_CONVERT_PATH + " " + args +
                      (tmp / "b") + (resume ? " --resume" : "") + " >/dev/null 2>&1";
    int status = std::system(cmd.c_str());
    int code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    if (code == 0) {
      done = true;
    } else {
      CHECK((code == 137 || code == 124));  // killed by timeout, not a failure of gn-convert
      ++kills;
      // Whatever the moment, the last checkpoint (if any) is intact.
      if (std::ifstream(tmp / "b/checkpoint.pt").good()) {
        CHECK(
            run("eval " + (tmp / "b/checkpoint.pt") + " --data-dir " + tmp.path + " --limit 4", tmp)
                .status == 0);
      }
    }
  }
  if (!done) {
    Result finish = run(args + (tmp / "b") + " --resume", tmp);
    REQUIRE(finish.status == 0);
  }
  MESSAGE("killed " << kills << " times");
  Result ea = run("eval " + (tmp / "a/checkpoint.pt") + " --json --data-dir " + tmp.path, tmp);
  Result eb = run("eval " + (tmp / "b/checkpoint.pt") + " --json --data-dir " + tmp.path, tmp);
  REQUIRE(ea.status == 0);
  REQUIRE(eb.status == 0);
  auto ja = nlohmann::json::parse(ea.out), jb = nlohmann::json::parse(eb.out);
  CHECK(ja["weights_digest"] == jb["weights_digest"]);
  CHECK(ja["accuracy"] == jb["accuracy"]);
}

TEST_CASE("a full disk or an unwritable output gives a clear error and keeps the last checkpoint") {
  TempDir tmp;
  write_toy_mnist(tmp.path, 96, 16);  // 64 training images: 4 steps per epoch at batch 16
  const std::string args = "train --dataset mnist --data-dir " + tmp.path +
                           " --validation 32 --size 40 --epochs 2 --batch 16 --lr 0.02 --threads 1"
                           " --seed 5 --out " +
                           (tmp / "run");
  // First epoch only: a checkpoint to protect.
  Result first = run(args + " --max-steps 4", tmp);
  INFO(first.err);
  REQUIRE(first.status == 0);
  const std::string ckpt = tmp / "run/checkpoint.pt";
  auto bytes_of = [](const std::string& p) {
    std::ifstream in(p, std::ios::binary);
    return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
  };
  const std::string before = bytes_of(ckpt);
  REQUIRE(before.size() > 1000000);

  // "Disk full": the file size limit (RLIMIT_FSIZE, SIGXFSZ ignored) makes every write past 1 MB
  // fail with EFBIG, as ENOSPC would.
  Result full = run(args + " --resume", tmp, "ulimit -f 2048; trap '' XFSZ; exec ");
  CHECK(full.status != 0);
  CHECK(lines(full.err) >= 1);
  CHECK(full.err.find("gn-convert: error: cannot write") != std::string::npos);
  CHECK(full.err.find("File too large") != std::string::npos);
  CHECK(bytes_of(ckpt) == before);                   // the last checkpoint is intact
  CHECK_FALSE(std::ifstream(ckpt + ".tmp").good());  // and no partial file is left
  // ... and a later run resumes from it and finishes.
  Result finish = run(args + " --resume", tmp);
  INFO(finish.err);
  CHECK(finish.status == 0);
  CHECK(bytes_of(ckpt) != before);

  // Unwritable output: --out below a regular file.
  write_bytes(tmp / "file", {'x'});
  Result bad = run("train --dataset mnist --data-dir " + tmp.path + " --size 40 --epochs 1 --out " +
                       (tmp / "file/run"),
                   tmp);
  CHECK(bad.status != 0);
  CHECK(lines(bad.err) == 1);
  CHECK(bad.err.find("is not a directory") != std::string::npos);
}
