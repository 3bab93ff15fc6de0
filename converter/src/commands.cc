// The summary, train and eval commands.
#include <sys/stat.h>

#include <cstdio>
#include <iostream>

#include "distributed.h"
#include "options_json.h"
#include "train.h"

namespace gnconvert {

using json = nlohmann::json;

void make_dirs(const std::string& path) {
  if (path.empty()) throw std::invalid_argument("--out is required");
  std::string partial;
  std::size_t pos = 0;
  while (pos != std::string::npos) {
    pos = path.find('/', pos + 1);
    partial = path.substr(0, pos);
    if (partial.empty()) continue;
    struct stat st {};
    if (::stat(partial.c_str(), &st) == 0) {
      if (!S_ISDIR(st.st_mode))
        throw std::runtime_error(partial + " exists and is not a directory");
      continue;
    }
    if (::mkdir(partial.c_str(), 0755) != 0 && errno != EEXIST) {
      throw std::runtime_error("cannot create directory " + partial + ": " + std::strerror(errno));
    }
  }
}

bool file_exists(const std::string& path) {
  struct stat st {};
  return ::stat(path.c_str(), &st) == 0;
}

std::string shape_string(const std::vector<int64_t>& shape) {
  std::string s;
  for (std::size_t i = 0; i < shape.size(); ++i) s += (i ? "x" : "") + std::to_string(shape[i]);
  return s;
}

// Refuses resolutions at which a spatial kernel only sees 1x1 maps.
void check_geometry(GoogLeNet& net, int height, int width) {
  auto geometry = measure_geometry(net, height, width);
  auto bad = degenerate_layers(geometry);
  if (!bad.empty()) {
    throw std::runtime_error("at " + std::to_string(height) + "x" + std::to_string(width) + ", " +
                             std::to_string(bad.size()) + " layers (first " + bad.front() +
                             ") apply a spatial kernel to a 1x1 map; use a larger --size");
  }
}

int run_summary(const SummaryOptions& o) {
  set_threads(1);
  ModelConfig config;
  config.in_channels = o.in_channels;
  config.num_classes = o.classes;
  set_layout(&config, o.layout);
  GoogLeNet net(config);
  auto geometry = measure_geometry(net, o.height, o.width);
  auto bad = degenerate_layers(geometry);

  std::int64_t weights_training = 0, weights_deployed = 0, macs_deployed = 0, macs_training = 0;
  for (const auto& g : geometry) {
    weights_training += g.params;
    macs_training += g.macs;
    if (g.deployed) {
      weights_deployed += g.params;
      macs_deployed += g.macs;
    }
  }
  std::int64_t all_params = 0, deployed_all = 0;
  for (const auto& p : net->named_parameters()) {
    all_params += p.value().numel();
    if (p.key().rfind("aux", 0) != 0) deployed_all += p.value().numel();
  }
  // Feature maps after each stage, read from the layers that start / end them.
  auto find = [&](const std::string& name) -> const LayerGeometry& {
    for (const auto& g : geometry) {
      if (g.name == name) return g;
    }
    throw std::logic_error("no layer " + name);
  };
  auto hw = [](int h, int w) { return std::to_string(h) + "x" + std::to_string(w); };
  std::vector<std::pair<std::string, std::string>> maps = {
      {"input", hw(o.height, o.width)},
      {"conv1", hw(find("conv1").out_h, find("conv1").out_w)},
      {"pool1", hw(find("conv2").in_h, find("conv2").in_w)},
      {"conv3", hw(find("conv3").out_h, find("conv3").out_w)},
      {"inception3", hw(find("inception3a.b1").in_h, find("inception3a.b1").in_w)},
      {"inception4", hw(find("inception4a.b1").in_h, find("inception4a.b1").in_w)},
      {"inception5", hw(find("inception5a.b1").in_h, find("inception5a.b1").in_w)},
  };

  if (o.json) {
    json j;
    j["input"] = {{"channels", o.in_channels}, {"height", o.height}, {"width", o.width}};
    j["classes"] = o.classes;
    j["layout"] = o.layout;
    j["layers"] = json::array();
    for (const auto& g : geometry) {
      j["layers"].push_back({{"name", g.name},
                             {"shape", g.shape},
                             {"params", g.params},
                             {"deployed", g.deployed},
                             {"in", {g.in_h, g.in_w}},
                             {"out", {g.out_h, g.out_w}},
                             {"macs", g.macs}});
    }
    j["feature_maps"] = json::object();
    for (const auto& m : maps) j["feature_maps"][m.first] = m.second;
    j["totals"] = {{"parameters", all_params},
                   {"parameters_deployed", deployed_all},
                   {"weights_training", weights_training},
                   {"weights_deployed", weights_deployed},
                   {"macs_training", macs_training},
                   {"macs_deployed", macs_deployed}};
    j["degenerate_layers"] = bad;
    std::cout << j.dump(2) << std::endl;
  } else {
    std::printf(
        "# GoogLeNet (%s, BN, aux heads): %d input channel(s), %d classes, "
        "input %dx%d\n",
        o.layout == "torchvision" ? "torchvision layout" : "Inception-v1", o.in_channels, o.classes,
        o.height, o.width);
    std::printf("%-24s %-16s %10s %9s %9s %13s  %s\n", "layer", "shape", "params", "in", "out",
                "MACs", "graph");
    for (const auto& g : geometry) {
      std::printf("%-24s %-16s %10lld %9s %9s %13lld  %s\n", g.name.c_str(),
                  shape_string(g.shape).c_str(), static_cast<long long>(g.params),
                  g.is_fc ? "-" : hw(g.in_h, g.in_w).c_str(),
                  g.is_fc ? "-" : hw(g.out_h, g.out_w).c_str(), static_cast<long long>(g.macs),
                  g.deployed ? "deployed" : "aux");
    }
    std::printf("weights (conv+fc), training graph: %lld\n",
                static_cast<long long>(weights_training));
    std::printf("weights (conv+fc), deployed graph: %lld\n",
                static_cast<long long>(weights_deployed));
    std::printf("parameters (incl. BatchNorm and biases), training graph: %lld\n",
                static_cast<long long>(all_params));
    std::printf("parameters (incl. BatchNorm and biases), deployed graph: %lld\n",
                static_cast<long long>(deployed_all));
    std::printf("multiply-adds per image: deployed %lld, training graph %lld\n",
                static_cast<long long>(macs_deployed), static_cast<long long>(macs_training));
    std::printf("feature maps:");
    for (const auto& m : maps) std::printf(" %s %s", m.first.c_str(), m.second.c_str());
    std::printf("\n");
  }
  if (!bad.empty()) {
    std::fprintf(stderr,
                 "error: at %dx%d, %zu convolutions with 3x3/5x5/7x7 kernels see a 1x1 map "
                 "(first: %s); choose a larger --size\n",
                 o.height, o.width, bad.size(), bad.front().c_str());
    return o.force ? 0 : 2;
  }
  return 0;
}

namespace {

std::string percent(double fraction) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.2f%%", 100.0 * fraction);
  return buf;
}

}  // namespace

// Time per training step of this run, and the part spent in collectives (data-parallel runs).
json step_timing(const Session& s) {
  const double steps = static_cast<double>(std::max<std::int64_t>(1, s.timed_steps));
  return json{
      {"world_size", s.world_size()},
      {"steps", s.timed_steps},
      {"seconds_per_step", s.step_seconds / steps},
      {"communication_seconds_per_step", s.step_comm_seconds / steps},
      {"communication_share", s.step_seconds > 0 ? s.step_comm_seconds / s.step_seconds : 0.0}};
}

std::string timing_line(const json& t) {
  char line[256];
  std::snprintf(line, sizeof line,
                "timing: %d ranks, %lld steps, %.3f s/step, of which collectives %.3f s (%.1f%%)",
                t["world_size"].get<int>(), t["steps"].get<long long>(),
                t["seconds_per_step"].get<double>(),
                t["communication_seconds_per_step"].get<double>(),
                100.0 * t["communication_share"].get<double>());
  return line;
}

int run_train(const TrainOptions& o) {
  Session s;
  s.data = o.data;
  s.model = o.model;
  s.optim = o.optim;
  s.run = o.run;
  set_threads(s.run.threads);
  start_distributed(s);
  if (s.writes_files()) make_dirs(s.run.out_dir);
  const std::string ckpt = s.checkpoint_path();
  bool resumed = false;
  if (file_exists_shared(s, ckpt)) {
    if (!o.run.resume) {
      throw std::runtime_error(ckpt +
                               " exists; pass --resume to continue it or choose another --out");
    }
    load_checkpoint(s, ckpt, /*weights_only=*/false);
    resumed = true;
    log_line(s, "resuming " + ckpt + " at epoch " + std::to_string(s.epoch + 1) + " step " +
                    std::to_string(s.step) + " (options from the checkpoint)");
  } else if (o.run.resume) {
    throw std::runtime_error("nothing to resume: " + ckpt + " does not exist");
  }
  s.command_lines.push_back(o.run.command_line);
  load_data(s);
  if (!resumed) {
    create_model(s);
    if (!o.init_checkpoint.empty()) load_checkpoint(s, o.init_checkpoint, /*weights_only=*/true);
  }
  check_geometry(s.net, s.data.height, s.data.width);
  log_line(s, "data: " + s.data.dataset + ", " + std::to_string(s.split.train.size()) +
                  " training / " + std::to_string(s.split.validation.size()) + " validation / " +
                  std::to_string(s.test_indices.size()) + " test images at " +
                  std::to_string(s.data.height) + "x" + std::to_string(s.data.width) +
                  "; model: " + std::to_string(count_params(s.net, false)) + " weights");

  Stage stage;
  stage.name = "train";
  stage.train = true;
  stage.optim = s.optim;
  bool finished = run_stages(s, {stage});
  json timing = step_timing(s);
  if (s.group) log_line(s, timing_line(timing));
  if (!finished) {
    log_line(s, "stopped after " + std::to_string(s.global_step) + " steps (--max-steps)");
    if (s.writes_files()) {
      write_file_atomic(s.run.out_dir + "/timing.json", timing.dump(2) + "\n");
    }
    finish_distributed(s);
    return 0;
  }
  EvalResult val = evaluate_validation(s);
  EvalResult test = evaluate_test(s);
  s.report["validation_accuracy"] = val.accuracy;
  s.report["test_accuracy"] = test.accuracy;
  s.report["test_images"] = test.count;
  save_checkpoint(s, ckpt, nullptr);
  json result = {{"validation_accuracy", val.accuracy},
                 {"test_accuracy", test.accuracy},
                 {"test_loss", test.loss},
                 {"test_images", test.count},
                 {"history", s.history},
                 {"command_lines", s.command_lines},
                 {"options", {{"data", s.data}, {"optim", s.optim}, {"model", s.model}}},
                 {"timing", timing}};
  if (s.writes_files()) {
    write_file_atomic(s.run.out_dir + "/train-result.json", result.dump(2) + "\n");
    write_file_atomic(s.run.out_dir + "/timing.json", timing.dump(2) + "\n");
  }
  log_line(s, "done: validation " + percent(val.accuracy) + ", test " + percent(test.accuracy) +
                  " (" + std::to_string(test.count) + " images); checkpoint " + ckpt);
  finish_distributed(s);
  return 0;
}

// FNV-1a over the bytes of every parameter and buffer, in registration order: equal digests mean
// bitwise-equal models (used to check determinism and resume).
std::string weights_digest(GoogLeNet& net) {
  std::uint64_t h = 1469598103934665603ull;
  auto eat = [&h](const torch::Tensor& t) {
    auto c = t.detach().contiguous();
    const auto* p = static_cast<const unsigned char*>(c.data_ptr());
    const std::size_t n = static_cast<std::size_t>(c.numel()) * c.element_size();
    for (std::size_t i = 0; i < n; ++i) {
      h ^= p[i];
      h *= 1099511628211ull;
    }
  };
  for (const auto& p : net->parameters()) eat(p);
  for (const auto& b : net->buffers()) eat(b);
  char buf[17];
  std::snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(h));
  return buf;
}

int run_eval(const EvalOptions& o) {
  Session s;
  s.run = o.run;
  set_threads(s.run.threads);
  json meta = read_checkpoint_meta(o.checkpoint);
  s.data = meta.at("data").get<DataOptions>();
  if (!o.data.data_dir.empty()) s.data.data_dir = o.data.data_dir;
  s.data.limit_test = o.data.limit_test;
  s.data.limit_validation = o.data.limit_validation;
  s.data.limit_train = o.data.limit_train;
  s.model = meta.at("model").get<ModelOptions>();
  load_data(s);
  // The checkpoint's normalization (that of its training split) replaces the one just computed.
  load_checkpoint(s, o.checkpoint, /*weights_only=*/true);
  EvalResult r;
  if (o.split == "test") {
    r = evaluate_test(s);
  } else if (o.split == "validation") {
    r = evaluate_validation(s);
  } else if (o.split == "train") {
    r = evaluate(s, s.dataset.train, s.split.train);
  } else {
    throw std::invalid_argument("--split must be test, validation or train");
  }
  std::int64_t nz = count_nonzeros(s.net, false), params = count_params(s.net, false);
  std::int64_t nz_dep = count_nonzeros(s.net, true), params_dep = count_params(s.net, true);
  if (o.json) {
    json j = {{"checkpoint", o.checkpoint},
              {"split", o.split},
              {"images", r.count},
              {"accuracy", r.accuracy},
              {"loss", r.loss},
              {"nonzeros_training", nz},
              {"params_training", params},
              {"nonzeros_deployed", nz_dep},
              {"params_deployed", params_dep},
              {"weights_digest", weights_digest(s.net)}};
    std::cout << j.dump(2) << std::endl;
  } else {
    std::printf(
        "%s: %s accuracy %.2f%% loss %.4f on %lld images; nonzeros %lld / %lld "
        "(training graph), %lld / %lld (deployed)\n",
        o.checkpoint.c_str(), o.split.c_str(), 100.0 * r.accuracy, r.loss,
        static_cast<long long>(r.count), static_cast<long long>(nz), static_cast<long long>(params),
        static_cast<long long>(nz_dep), static_cast<long long>(params_dep));
  }
  return 0;
}

}  // namespace gnconvert
