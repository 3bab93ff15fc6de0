#include "train.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <iostream>
#include <random>
#include <sstream>

#include "data_parallel.h"
#include "distributed.h"
#include "options_json.h"

namespace gnconvert {

namespace F = torch::nn::functional;
using json = nlohmann::json;

namespace {

constexpr int kCheckpointVersion = 1;

std::string format_duration(double seconds) {
  if (!std::isfinite(seconds) || seconds < 0) return "?";
  long s = static_cast<long>(seconds + 0.5);
  char buf[32];
  if (s >= 3600) {
    std::snprintf(buf, sizeof buf, "%ldh%02ldm", s / 3600, (s / 60) % 60);
  } else {
    std::snprintf(buf, sizeof buf, "%ldm%02lds", s / 60, s % 60);
  }
  return buf;
}

std::vector<std::size_t> limited(const std::vector<std::size_t>& v, int limit) {
  if (limit <= 0 || static_cast<std::size_t>(limit) >= v.size()) return v;
  return std::vector<std::size_t>(v.begin(), v.begin() + limit);
}

std::vector<std::size_t> epoch_order(const std::vector<std::size_t>& indices, std::uint64_t seed) {
  std::vector<std::size_t> order = indices;
  std::mt19937_64 rng(seed);
  for (std::size_t i = order.size(); i > 1; --i) {
    std::size_t j = static_cast<std::size_t>(rng() % i);
    std::swap(order[i - 1], order[j]);
  }
  return order;
}

std::unique_ptr<torch::optim::Optimizer> make_optimizer(GoogLeNet& net, const OptimOptions& o) {
  if (o.optimizer == "sgd") {
    return std::make_unique<torch::optim::SGD>(net->parameters(),
                                               torch::optim::SGDOptions(o.lr)
                                                   .momentum(o.momentum)
                                                   .nesterov(o.nesterov && o.momentum > 0)
                                                   .weight_decay(o.weight_decay));
  }
  if (o.optimizer == "adam") {
    return std::make_unique<torch::optim::Adam>(
        net->parameters(), torch::optim::AdamOptions(o.lr).weight_decay(o.weight_decay));
  }
  throw std::invalid_argument("unknown optimizer '" + o.optimizer + "' (expected sgd or adam)");
}

void set_lr(torch::optim::Optimizer& optimizer, double lr) {
  for (auto& group : optimizer.param_groups()) group.options().set_lr(lr);
}

std::string fsync_error(const std::string& what, const std::string& path) {
  return what + " " + path + ": " + std::strerror(errno);
}

}  // namespace

namespace {
// False on data-parallel ranks other than 0: rank 0 writes every file for the group.
bool g_writes_files = true;
}  // namespace

int Session::rank() const { return group ? group->rank() : 0; }
int Session::world_size() const { return group ? group->size() : 1; }

void start_distributed(Session& s) {
  const DistOptions& d = s.run.dist;
  validate_dist_options(d);
  if (d.device == "cuda") {
    if (!torch::cuda::is_available()) {
      throw std::invalid_argument(
          "--device cuda: this LibTorch build has no CUDA (Debian's libtorch-dev is CPU-only); "
          "use --device cpu");
    }
    throw std::invalid_argument(
        "--device cuda: CUDA training is not implemented in gn-convert (untested: no CUDA build "
        "here); use --device cpu");
  }
  if (d.world_size <= 1) return;
  s.group = join_group(d);
  if (s.rank() != 0) {
    s.quiet = true;
    g_writes_files = false;
  }
}

void finish_distributed(Session& s) {
  if (s.group) s.group->barrier("finishing");
}

std::string read_file_shared(Session& s, const std::string& path) {
  if (s.world_size() == 1) return read_file(path);
  std::string status = "ok", bytes;
  if (s.rank() == 0) {
    try {
      bytes = read_file(path);
    } catch (const std::exception& e) {
      status = e.what();
    }
  }
  s.group->broadcast_string(&status, 0, "file broadcast");
  if (status != "ok") throw std::runtime_error(status);
  s.group->broadcast_string(&bytes, 0, "file broadcast");
  return bytes;
}

bool file_exists_shared(Session& s, const std::string& path) {
  struct stat st {};
  std::uint8_t exists = ::stat(path.c_str(), &st) == 0 ? 1 : 0;
  if (s.world_size() > 1) s.group->broadcast(&exists, 1, 0, "file check");
  return exists != 0;
}

void log_line(const Session& session, const std::string& line) {
  if (session.quiet) return;
  std::cout << line << std::endl;
}

void set_threads(int threads) {
  if (threads < 1 || threads > 256) throw std::invalid_argument("--threads must be in 1..256");
  static bool interop_set = false;
  if (!interop_set) {
    try {
      at::set_num_interop_threads(1);
    } catch (const c10::Error&) {
      // Already fixed by earlier parallel work in this process; harmless.
    }
    interop_set = true;
  }
  at::set_num_threads(threads);
}

void write_file_atomic(const std::string& path, const std::string& bytes) {
  if (!g_writes_files) return;
  std::string tmp = path + ".tmp";
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) throw std::runtime_error(fsync_error("cannot create", tmp));
  std::size_t done = 0;
  while (done < bytes.size()) {
    ssize_t n = ::write(fd, bytes.data() + done, bytes.size() - done);
    if (n < 0) {
      if (errno == EINTR) continue;
      std::string msg = fsync_error("cannot write", tmp);
      ::close(fd);
      ::unlink(tmp.c_str());
      throw std::runtime_error(msg);
    }
    done += static_cast<std::size_t>(n);
  }
  if (::fsync(fd) != 0) {
    std::string msg = fsync_error("cannot sync", tmp);
    ::close(fd);
    ::unlink(tmp.c_str());
    throw std::runtime_error(msg);
  }
  if (::close(fd) != 0) {
    std::string msg = fsync_error("cannot close", tmp);
    ::unlink(tmp.c_str());
    throw std::runtime_error(msg);
  }
  if (::rename(tmp.c_str(), path.c_str()) != 0) {
    std::string msg = fsync_error("cannot rename onto", path);
    ::unlink(tmp.c_str());
    throw std::runtime_error(msg);
  }
  // Make the rename itself durable.
  std::string dir = ".";
  auto slash = path.find_last_of('/');
  if (slash != std::string::npos) dir = slash == 0 ? "/" : path.substr(0, slash);
  int dfd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dfd >= 0) {
    ::fsync(dfd);
    ::close(dfd);
  }
}

std::string read_file(const std::string& path) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0)
    throw std::runtime_error("cannot open " + path + ": no such file");
  if (!S_ISREG(st.st_mode))
    throw std::runtime_error("cannot read " + path + ": not a regular file");
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::runtime_error("cannot open " + path);
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

torch::Tensor make_batch(const ImageSet& set, const std::vector<std::size_t>& indices,
                         std::size_t begin, std::size_t end, const Normalization& norm, int height,
                         int width, const DataOptions* augment, std::uint64_t seed,
                         std::size_t draws_skipped) {
  const int c = set.channels, h = set.height, w = set.width;
  const std::size_t n = end - begin;
  auto batch = torch::empty({static_cast<int64_t>(n), c, h, w});
  float* out = batch.data_ptr<float>();
  std::mt19937_64 rng(seed);
  if (augment && augment->augment && draws_skipped > 0) {
    // Draws per image below: two for the shift (when crop_pad > 0), one for the flip.
    const std::size_t per_image = (augment->crop_pad > 0 ? 2 : 0) + (augment->flip ? 1 : 0);
    rng.discard(static_cast<unsigned long long>(draws_skipped * per_image));
  }
  std::vector<float> scale(c), shift(c);
  for (int ch = 0; ch < c; ++ch) {
    scale[ch] = 1.0f / (255.0f * norm.std[ch]);
    shift[ch] = -norm.mean[ch] / norm.std[ch];
  }
  for (std::size_t i = 0; i < n; ++i) {
    const std::uint8_t* src = set.image(indices[begin + i]);
    int dx = 0, dy = 0;
    bool flip = false;
    if (augment && augment->augment) {
      int pad = augment->crop_pad;
      if (pad > 0) {
        dx = static_cast<int>(rng() % (2 * pad + 1)) - pad;
        dy = static_cast<int>(rng() % (2 * pad + 1)) - pad;
      }
      flip = augment->flip && (rng() & 1);
    }
    for (int ch = 0; ch < c; ++ch) {
      const std::uint8_t* plane = src + static_cast<std::size_t>(ch) * h * w;
      float* dst = out + (i * c + ch) * static_cast<std::size_t>(h) * w;
      for (int y = 0; y < h; ++y) {
        int sy = y + dy;
        for (int x = 0; x < w; ++x) {
          int sx = (flip ? w - 1 - x : x) + dx;
          float pixel = (sy >= 0 && sy < h && sx >= 0 && sx < w) ? plane[sy * w + sx] : 0.0f;
          dst[y * w + x] = pixel * scale[ch] + shift[ch];
        }
      }
    }
  }
  if (height != h || width != w) {
    batch = F::interpolate(batch, F::InterpolateFuncOptions()
                                      .size(std::vector<int64_t>{height, width})
                                      .mode(torch::kBilinear)
                                      .align_corners(false));
  }
  return batch.contiguous();
}

torch::Tensor make_labels(const ImageSet& set, const std::vector<std::size_t>& indices,
                          std::size_t begin, std::size_t end) {
  auto labels = torch::empty({static_cast<int64_t>(end - begin)}, torch::kLong);
  auto* p = labels.data_ptr<int64_t>();
  for (std::size_t i = begin; i < end; ++i) p[i - begin] = set.labels[indices[i]];
  return labels;
}

double learning_rate(const OptimOptions& o, std::int64_t step, std::int64_t total_steps,
                     std::int64_t steps_per_epoch) {
  double warmup = o.warmup_epochs * static_cast<double>(steps_per_epoch);
  if (warmup > 0 && step < warmup) return o.lr * (step + 1) / warmup;
  if (o.schedule == "constant") return o.lr;
  if (o.schedule == "step") {
    std::int64_t epoch = steps_per_epoch > 0 ? step / steps_per_epoch : 0;
    return o.lr * std::pow(o.gamma, static_cast<double>(epoch / std::max(1, o.step_epochs)));
  }
  if (o.schedule == "cosine") {
    double span = std::max(1.0, static_cast<double>(total_steps) - warmup);
    double t = std::min(1.0, std::max(0.0, (step - warmup) / span));
    return o.lr_min + 0.5 * (o.lr - o.lr_min) * (1.0 + std::cos(M_PI * t));
  }
  throw std::invalid_argument("unknown LR schedule '" + o.schedule +
                              "' (expected cosine, step or constant)");
}

void load_data(Session& s) {
  s.dataset = load_dataset(s.data.dataset, s.data.data_dir);
  if (s.data.validation < 0) throw DataError("--validation must be >= 0");
  s.split = make_split(s.dataset.train.size(), static_cast<std::size_t>(s.data.validation),
                       s.data.split_seed);
  s.split.train = limited(s.split.train, s.data.limit_train);
  s.split.validation = limited(s.split.validation, s.data.limit_validation);
  std::vector<std::size_t> test(s.dataset.test.size());
  for (std::size_t i = 0; i < test.size(); ++i) test[i] = i;
  s.test_indices = limited(test, s.data.limit_test);
  channel_stats(s.dataset.train, s.split.train, &s.norm.mean, &s.norm.std);
  if (s.model.in_channels == 0) s.model.in_channels = s.dataset.train.channels;
  if (s.model.classes == 0) s.model.classes = static_cast<int>(s.dataset.class_names.size());
  if (s.model.in_channels != s.dataset.train.channels) {
    throw DataError("model has " + std::to_string(s.model.in_channels) + " input channels, " +
                    s.data.dataset + " images have " + std::to_string(s.dataset.train.channels));
  }
  if (s.model.classes != static_cast<int>(s.dataset.class_names.size())) {
    throw DataError("model has " + std::to_string(s.model.classes) + " classes, " + s.data.dataset +
                    " has " + std::to_string(s.dataset.class_names.size()));
  }
}

void create_model(Session& s) {
  torch::manual_seed(mix_seed(s.run.seed, 0x1417));
  ModelConfig config;
  config.in_channels = s.model.in_channels;
  config.num_classes = s.model.classes;
  config.aux_heads = s.model.aux_heads;
  set_layout(&config, s.model.layout);
  s.net = GoogLeNet(config);
  s.masks.clear();
}

namespace {

json make_meta(const Session& s) {
  json meta;
  meta["format"] = "gn-convert checkpoint";
  meta["version"] = kCheckpointVersion;
  meta["model"] = s.model;
  meta["data"] = s.data;
  meta["optim"] = s.optim;
  meta["seed"] = s.run.seed;
  meta["normalization"] = {{"mean", s.norm.mean}, {"std", s.norm.std}};
  meta["progress"] = {
      {"stage", s.stage}, {"epoch", s.epoch}, {"step", s.step}, {"global_step", s.global_step}};
  meta["history"] = s.history;
  meta["report"] = s.report;
  meta["extra"] = s.extra;
  meta["command_lines"] = s.command_lines;
  std::vector<std::string> masked;
  for (const auto& kv : s.masks) masked.push_back(kv.first);
  meta["masks"] = masked;
  return meta;
}

torch::Tensor bytes_tensor(const std::string& bytes) {
  auto t = torch::empty({static_cast<int64_t>(bytes.size())}, torch::kUInt8);
  if (!bytes.empty()) std::memcpy(t.data_ptr<uint8_t>(), bytes.data(), bytes.size());
  return t;
}

std::string tensor_bytes(const torch::Tensor& t) {
  auto c = t.contiguous();
  return std::string(reinterpret_cast<const char*>(c.data_ptr<uint8_t>()),
                     static_cast<std::size_t>(c.numel()));
}

std::string archive_bytes(torch::serialize::OutputArchive& archive) {
  std::string bytes;
  archive.save_to([&bytes](const void* data, std::size_t size) -> std::size_t {
    bytes.append(static_cast<const char*>(data), size);
    return size;
  });
  return bytes;
}

json read_meta(torch::serialize::InputArchive& archive, const std::string& path) {
  c10::IValue value;
  if (!archive.try_read("meta", value) || !value.isString()) {
    throw std::runtime_error(path + ": not a gn-convert checkpoint (no metadata)");
  }
  json meta = json::parse(value.toStringRef(), nullptr, false);
  if (meta.is_discarded() || meta.value("format", "") != "gn-convert checkpoint") {
    throw std::runtime_error(path + ": not a gn-convert checkpoint");
  }
  if (meta.value("version", 0) != kCheckpointVersion) {
    throw std::runtime_error(path + ": unsupported checkpoint version " +
                             meta.value("version", json(0)).dump());
  }
  return meta;
}

void open_archive(torch::serialize::InputArchive& archive, const std::string& bytes,
                  const std::string& path) {
  try {
    archive.load_from(bytes.data(), bytes.size());
  } catch (const c10::Error&) {
    throw std::runtime_error(path + ": not a gn-convert checkpoint (unreadable torch archive)");
  }
}

}  // namespace

void save_checkpoint(Session& s, const std::string& path, torch::optim::Optimizer* optimizer) {
  if (!s.writes_files()) return;  // rank 0 writes for the whole group
  torch::serialize::OutputArchive archive;
  archive.write("meta", c10::IValue(make_meta(s).dump()));
  torch::serialize::OutputArchive model_archive;
  s.net->save(model_archive);
  archive.write("model", model_archive);
  for (const auto& kv : s.masks) archive.write("mask." + kv.first, kv.second.to(torch::kBool));
  std::string optimizer_bytes = s.optimizer_state;
  if (optimizer) {
    torch::serialize::OutputArchive opt_archive;
    optimizer->save(opt_archive);
    optimizer_bytes = archive_bytes(opt_archive);
  }
  archive.write("optimizer", bytes_tensor(optimizer_bytes));
  write_file_atomic(path, archive_bytes(archive));
}

json read_checkpoint_meta(const std::string& path) {
  std::string bytes = read_file(path);
  torch::serialize::InputArchive archive;
  open_archive(archive, bytes, path);
  return read_meta(archive, path);
}

json read_checkpoint_meta(Session& s, const std::string& path) {
  std::string bytes = read_file_shared(s, path);
  torch::serialize::InputArchive archive;
  open_archive(archive, bytes, path);
  return read_meta(archive, path);
}

void load_checkpoint(Session& s, const std::string& path, bool weights_only) {
  std::string bytes = read_file_shared(s, path);
  torch::serialize::InputArchive archive;
  open_archive(archive, bytes, path);
  json meta = read_meta(archive, path);

  ModelOptions model = meta.at("model").get<ModelOptions>();
  if (weights_only) {
    // Keep the session's data options but the checkpoint's model and resolution.
    if (s.model.in_channels != 0 && s.model.in_channels != model.in_channels) {
      throw std::runtime_error(path + ": model has " + std::to_string(model.in_channels) +
                               " input channels, the data has " +
                               std::to_string(s.model.in_channels));
    }
    if (s.model.classes != 0 && s.model.classes != model.classes) {
      throw std::runtime_error(path + ": model has " + std::to_string(model.classes) +
                               " classes, the data has " + std::to_string(s.model.classes));
    }
    s.model = model;
  } else {
    s.model = model;
    s.data = meta.at("data").get<DataOptions>();
    s.optim = meta.at("optim").get<OptimOptions>();
    s.run.seed = meta.at("seed").get<std::uint64_t>();
    const json& p = meta.at("progress");
    s.stage = p.at("stage");
    s.epoch = p.at("epoch");
    s.step = p.at("step");
    s.global_step = p.at("global_step");
    s.history = meta.at("history");
    s.report = meta.value("report", json::object());
    s.extra = meta.value("extra", json::object());
    s.command_lines = meta.value("command_lines", std::vector<std::string>{});
  }
  s.norm.mean = meta.at("normalization").at("mean").get<std::vector<float>>();
  s.norm.std = meta.at("normalization").at("std").get<std::vector<float>>();

  ModelConfig config;
  config.in_channels = s.model.in_channels;
  config.num_classes = s.model.classes;
  config.aux_heads = s.model.aux_heads;
  set_layout(&config, s.model.layout);
  s.net = GoogLeNet(config);
  try {
    torch::serialize::InputArchive model_archive;
    archive.read("model", model_archive);
    // Packed checkpoints may hold float16 weights (gn-convert pack); Module::load keeps the
    // destination's dtype, so load into a float16 network and widen it afterwards.
    const bool half = meta.value("extra", json::object()).value("weights_dtype", "") == "float16";
    if (half) s.net->to(torch::kHalf);
    s.net->load(model_archive);
    if (half) s.net->to(torch::kFloat);
  } catch (const c10::Error& e) {
    throw std::runtime_error(path + ": model weights do not match the GoogLeNet layout");
  }
  s.masks.clear();
  auto layers = model_layers(s.net);
  for (const std::string& name : meta.at("masks").get<std::vector<std::string>>()) {
    torch::Tensor mask;
    if (!archive.try_read("mask." + name, mask)) {
      throw std::runtime_error(path + ": mask of layer " + name + " missing");
    }
    bool found = false;
    for (const auto& layer : layers) {
      if (layer.name == name) {
        found = layer.weight.sizes() == mask.sizes();
        break;
      }
    }
    if (!found)
      throw std::runtime_error(path + ": mask of layer " + name + " does not fit the model");
    s.masks[name] = mask.to(torch::kFloat);
  }
  s.optimizer_state.clear();
  if (!weights_only) {
    torch::Tensor opt;
    if (archive.try_read("optimizer", opt)) s.optimizer_state = tensor_bytes(opt);
  }
}

void mask_gradients(Session& s) {
  if (s.masks.empty()) return;
  for (const auto& layer : model_layers(s.net)) {
    auto it = s.masks.find(layer.name);
    if (it == s.masks.end()) continue;
    auto grad = layer.weight.mutable_grad();
    if (grad.defined()) grad.mul_(it->second);
  }
}

void apply_masks(Session& s) {
  if (s.masks.empty()) return;
  torch::NoGradGuard no_grad;
  for (const auto& layer : model_layers(s.net)) {
    auto it = s.masks.find(layer.name);
    if (it != s.masks.end()) layer.weight.mul_(it->second);
  }
}

std::int64_t count_params(GoogLeNet& net, bool deployed_only) {
  std::int64_t total = 0;
  for (const auto& layer : model_layers(net)) {
    if (!deployed_only || layer.deployed) total += layer.weight.numel();
  }
  return total;
}

std::int64_t count_nonzeros(GoogLeNet& net, bool deployed_only) {
  std::int64_t total = 0;
  for (const auto& layer : model_layers(net)) {
    if (!deployed_only || layer.deployed) total += layer.weight.ne(0).sum().item<int64_t>();
  }
  return total;
}

EvalResult evaluate(Session& s, const ImageSet& set, const std::vector<std::size_t>& indices) {
  torch::NoGradGuard no_grad;
  bool was_training = s.net->is_training();
  s.net->eval();
  EvalResult r;
  double loss_sum = 0;
  std::int64_t correct = 0;
  const std::size_t batch = static_cast<std::size_t>(std::max(1, s.run.eval_batch));
  // A rank's share: a contiguous slice (all of it without a group).
  const std::size_t world = static_cast<std::size_t>(s.world_size());
  const std::size_t rank = static_cast<std::size_t>(s.rank());
  const std::size_t first = indices.size() * rank / world;
  const std::size_t last = indices.size() * (rank + 1) / world;
  for (std::size_t begin = first; begin < last; begin += batch) {
    std::size_t end = std::min(last, begin + batch);
    auto x = make_batch(set, indices, begin, end, s.norm, s.data.height, s.data.width, nullptr, 0);
    auto y = make_labels(set, indices, begin, end);
    auto logits = s.net->forward(x);
    loss_sum += F::cross_entropy(logits, y, F::CrossEntropyFuncOptions().reduction(torch::kSum))
                    .item<double>();
    correct += logits.argmax(1).eq(y).sum().item<int64_t>();
  }
  s.net->train(was_training);
  if (s.group) {
    double sums[2] = {loss_sum, static_cast<double>(correct)};
    s.group->allreduce_sum(sums, 2, "evaluation");
    loss_sum = sums[0];
    correct = static_cast<std::int64_t>(std::llround(sums[1]));
  }
  r.count = static_cast<std::int64_t>(indices.size());
  if (r.count > 0) {
    r.loss = loss_sum / r.count;
    r.accuracy = static_cast<double>(correct) / r.count;
  }
  return r;
}

EvalResult evaluate_validation(Session& s) {
  return evaluate(s, s.dataset.train, s.split.validation);
}

EvalResult evaluate_test(Session& s) { return evaluate(s, s.dataset.test, s.test_indices); }

void recalibrate_batchnorm(Session& s, int batches) {
  torch::NoGradGuard no_grad;
  std::vector<torch::nn::BatchNorm2dImpl*> bns;
  for (auto& module : s.net->modules(/*include_self=*/false)) {
    if (auto* bn = module->as<torch::nn::BatchNorm2d>()) bns.push_back(bn);
  }
  std::vector<c10::optional<double>> momentum;
  for (auto* bn : bns) {
    momentum.push_back(bn->options.momentum());
    bn->options.momentum(c10::nullopt);  // cumulative average over the batches below
    bn->reset_running_stats();
  }
  bool was_training = s.net->is_training();
  s.net->train();
  const auto& indices = s.split.train;
  const std::size_t batch = static_cast<std::size_t>(std::max(1, s.optim.batch));
  // A fixed, seeded sample of the training split.
  auto order = epoch_order(indices, mix_seed(s.run.seed, 0xB4));
  std::size_t end_all = std::min(order.size(), batch * static_cast<std::size_t>(batches));
  for (std::size_t begin = 0; begin < end_all; begin += batch) {
    std::size_t end = std::min(end_all, begin + batch);
    if (end - begin < 2) break;
    auto x = make_batch(s.dataset.train, order, begin, end, s.norm, s.data.height, s.data.width,
                        nullptr, 0);
    s.net->forward_all(x, true);
  }
  s.net->train(was_training);
  for (std::size_t i = 0; i < bns.size(); ++i) bns[i]->options.momentum(momentum[i]);
}

namespace {

// Changes whenever pruning removes a weight or masks a new layer (masks only ever shrink).
std::pair<std::size_t, double> mask_signature(const Session& s) {
  double kept = 0;
  for (const auto& kv : s.masks) kept += kv.second.sum().item<double>();
  return {s.masks.size(), kept};
}

// The ranks must run the same schedule on the same model: compare the options that decide it and
// the weights before the first step.
void check_group_start(Session& s, const std::vector<Stage>& stages) {
  const int world = s.world_size();
  json schedule = json::array();
  for (const Stage& stage : stages) {
    if (stage.train && stage.optim.batch % world != 0) {
      throw std::invalid_argument("batch " + std::to_string(stage.optim.batch) + " of stage " +
                                  stage.name + " is not divisible by --world-size " +
                                  std::to_string(world) +
                                  " (each rank computes batch/world-size images of a step)");
    }
    schedule.push_back({{"name", stage.name}, {"train", stage.train}, {"optim", stage.optim}});
  }
  json options = {{"data", s.data},
                  {"model", s.model},
                  {"seed", s.run.seed},
                  {"max_steps", s.run.max_steps},
                  {"checkpoint_steps", s.run.checkpoint_steps},
                  {"progress", {s.stage, s.epoch, s.step, s.global_step}},
                  {"schedule", schedule}};
  check_same_text(*s.group, options.dump(), "options (data, model, seed, schedule, progress)");
  broadcast_masks(*s.group, s);
  check_replicas(*s.group, s.net, "at the start");
}

}  // namespace

bool run_stages(Session& s, const std::vector<Stage>& stages) {
  using clock = std::chrono::steady_clock;
  const bool tty = ::isatty(STDERR_FILENO);
  if (s.group) check_group_start(s, stages);
  for (; s.stage < static_cast<int>(stages.size());) {
    const Stage& stage = stages[s.stage];
    if (!stage.train) {
      if (stage.action) stage.action(s);
      // Pruning is decided by rank 0: the others take its masks (equal ones, in fact, since every
      // rank holds the same weights and runs the same deterministic decision).
      if (s.group) broadcast_masks(*s.group, s);
      ++s.stage;
      s.epoch = 0;
      s.step = 0;
      s.optimizer_state.clear();
      if (!s.run.out_dir.empty()) save_checkpoint(s, s.checkpoint_path(), nullptr);
      continue;
    }
    const OptimOptions& o = stage.optim;
    if (o.batch < 1) throw std::invalid_argument("batch size must be >= 1");
    const auto& train_indices = s.split.train;
    const std::int64_t steps_per_epoch =
        static_cast<std::int64_t>(train_indices.size()) / o.batch;  // drop the last partial batch
    if (steps_per_epoch < 1) {
      throw std::invalid_argument("training split (" + std::to_string(train_indices.size()) +
                                  " images) smaller than one batch");
    }
    const std::int64_t total_steps = steps_per_epoch * o.epochs;
    auto optimizer = make_optimizer(s.net, o);
    if (!s.optimizer_state.empty()) {
      torch::serialize::InputArchive archive;
      archive.load_from(s.optimizer_state.data(), s.optimizer_state.size());
      optimizer->load(archive);
      s.optimizer_state.clear();
    }
    s.net->train();
    auto stage_start = clock::now();
    std::int64_t steps_this_run = 0;
    for (; s.epoch < o.epochs; ++s.epoch) {
      auto order = epoch_order(train_indices, mix_seed(s.run.seed, s.stage, s.epoch, 0xE0C));
      double loss_sum = 0;
      std::int64_t correct = 0, seen = 0;
      auto epoch_start = clock::now();
      auto last_print = epoch_start;
      std::int64_t first_step = s.step;
      for (; s.step < steps_per_epoch; ++s.step) {
        if (s.run.max_steps > 0 && s.global_step >= s.run.max_steps) {
          if (tty && !s.quiet) std::cerr << "\n";
          return false;
        }
        const std::int64_t phase_step = s.epoch * steps_per_epoch + s.step;
        if (stage.before_step) {
          auto masks_before = s.group ? mask_signature(s) : std::pair<std::size_t, double>{};
          stage.before_step(s, phase_step, total_steps);
          if (s.group && mask_signature(s) != masks_before) broadcast_masks(*s.group, s);
        }
        const auto step_start = clock::now();
        const double comm_start = s.group ? s.group->stats().seconds : 0.0;
        // This rank's images of the step: positions [rank * local, (rank + 1) * local) of the
        // global batch (all of it without a group).
        const std::size_t local = static_cast<std::size_t>(o.batch / s.world_size());
        const std::size_t offset = static_cast<std::size_t>(s.rank()) * local;
        const std::size_t begin = static_cast<std::size_t>(s.step * o.batch) + offset;
        const std::size_t end = begin + local;
        const std::uint64_t step_seed = mix_seed(s.run.seed, s.stage, s.epoch, s.step + 1);
        auto x = make_batch(s.dataset.train, order, begin, end, s.norm, s.data.height, s.data.width,
                            &s.data, step_seed, offset);
        auto y = make_labels(s.dataset.train, order, begin, end);
        torch::manual_seed(mix_seed(step_seed, 0xD0));  // dropout draws of this step
        set_lr(*optimizer, learning_rate(o, phase_step, total_steps, steps_per_epoch));
        optimizer->zero_grad();
        ForwardHooks hooks;
        std::unique_ptr<ForwardHooksGuard> hooks_guard;
        if (s.group) {
          hooks = data_parallel_hooks(*s.group);
          hooks_guard = std::make_unique<ForwardHooksGuard>(&hooks);
        }
        auto out = s.net->forward_all(x, s.model.aux_heads);
        auto loss = F::cross_entropy(out.logits, y);
        if (out.aux1.defined()) loss = loss + s.model.aux_weight * F::cross_entropy(out.aux1, y);
        if (out.aux2.defined()) loss = loss + s.model.aux_weight * F::cross_entropy(out.aux2, y);
        loss.backward();
        hooks_guard.reset();
        double loss_value = loss.item<double>();
        std::int64_t batch_correct = out.logits.argmax(1).eq(y).sum().item<int64_t>();
        if (s.group) {
          // Loss and accuracy of the global batch travel with the gradients.
          std::vector<float> sums = {static_cast<float>(loss_value * static_cast<double>(local)),
                                     static_cast<float>(batch_correct)};
          average_gradients(*s.group, s.net, &sums);
          loss_value = sums[0] / o.batch;
          batch_correct = static_cast<std::int64_t>(std::llround(sums[1]));
        }
        mask_gradients(s);
        optimizer->step();
        apply_masks(s);
        s.step_seconds += std::chrono::duration<double>(clock::now() - step_start).count();
        if (s.group) s.step_comm_seconds += s.group->stats().seconds - comm_start;
        ++s.timed_steps;
        if (!std::isfinite(loss_value)) {
          throw std::runtime_error("training diverged (loss " + std::to_string(loss_value) +
                                   " at epoch " + std::to_string(s.epoch + 1) + " step " +
                                   std::to_string(s.step + 1) + "); lower the learning rate");
        }
        loss_sum += loss_value * o.batch;
        correct += batch_correct;
        seen += o.batch;
        ++s.global_step;
        ++steps_this_run;

        auto now = clock::now();
        double since_print = std::chrono::duration<double>(now - last_print).count();
        bool last = s.step + 1 == steps_per_epoch;
        if (!s.quiet && (last || since_print >= (tty ? 1.0 : s.run.progress_seconds))) {
          last_print = now;
          double elapsed = std::chrono::duration<double>(now - stage_start).count();
          double per_step = elapsed / std::max<std::int64_t>(1, steps_this_run);
          double epoch_elapsed = std::chrono::duration<double>(now - epoch_start).count();
          double ips = (s.step + 1 - first_step) * o.batch / std::max(1e-9, epoch_elapsed);
          std::int64_t remaining_stage = total_steps - (phase_step + 1);
          std::int64_t remaining_epoch = steps_per_epoch - (s.step + 1);
          char line[256];
          std::snprintf(line, sizeof line,
                        "%s epoch %d/%d step %lld/%lld loss %.4f acc %.2f%% lr %.4g %.1f img/s "
                        "ETA epoch %s, %s %s",
                        stage.name.c_str(), s.epoch + 1, o.epochs,
                        static_cast<long long>(s.step + 1), static_cast<long long>(steps_per_epoch),
                        loss_sum / seen, 100.0 * correct / seen,
                        learning_rate(o, phase_step, total_steps, steps_per_epoch), ips,
                        format_duration(remaining_epoch * per_step).c_str(), stage.name.c_str(),
                        format_duration(remaining_stage * per_step).c_str());
          if (tty) {
            std::cerr << "\r" << line << "\x1b[K" << std::flush;
          } else {
            std::cerr << line << "\n" << std::flush;
          }
        }
        if (s.run.checkpoint_steps > 0 && !s.run.out_dir.empty() && !last &&
            (s.step + 1) % s.run.checkpoint_steps == 0) {
          ++s.step;
          save_checkpoint(s, s.checkpoint_path(), optimizer.get());
          --s.step;
        }
      }
      if (tty && !s.quiet) std::cerr << "\n";
      if (s.group) {
        check_replicas(*s.group, s.net,
                       "after epoch " + std::to_string(s.epoch + 1) + " of " + stage.name);
      }
      double seconds = std::chrono::duration<double>(clock::now() - epoch_start).count();
      EvalResult val = evaluate_validation(s);
      json record = {{"stage", stage.name},
                     {"epoch", s.epoch + 1},
                     {"epochs", o.epochs},
                     {"train_loss", seen ? loss_sum / seen : 0.0},
                     {"train_accuracy", seen ? static_cast<double>(correct) / seen : 0.0},
                     {"validation_loss", val.loss},
                     {"validation_accuracy", val.accuracy},
                     {"lr_end", learning_rate(o, (s.epoch + 1) * steps_per_epoch - 1, total_steps,
                                              steps_per_epoch)},
                     {"seconds", seconds},
                     {"images_per_second", seconds > 0 ? (seen / seconds) : 0.0},
                     {"nonzeros", count_nonzeros(s.net, false)}};
      s.history.push_back(record);
      char line[256];
      std::snprintf(line, sizeof line,
                    "%s epoch %d/%d: train loss %.4f acc %.2f%% | validation loss %.4f acc %.2f%% "
                    "| %.0f s, %.1f img/s",
                    stage.name.c_str(), s.epoch + 1, o.epochs, record["train_loss"].get<double>(),
                    100.0 * record["train_accuracy"].get<double>(), val.loss, 100.0 * val.accuracy,
                    seconds, record["images_per_second"].get<double>());
      log_line(s, line);
      s.step = 0;
      bool stage_done = s.epoch + 1 == o.epochs;
      if (!s.run.out_dir.empty()) {
        if (stage_done) {
          ++s.epoch;
          ++s.stage;
          int saved_epoch = s.epoch;
          s.epoch = 0;
          save_checkpoint(s, s.checkpoint_path(), nullptr);
          s.epoch = saved_epoch;
          --s.stage;
        } else {
          ++s.epoch;
          save_checkpoint(s, s.checkpoint_path(), optimizer.get());
          --s.epoch;
        }
        if (s.writes_files()) {
          write_file_atomic(s.run.out_dir + "/history.json", s.history.dump(2) + "\n");
        }
      }
    }
    ++s.stage;
    s.epoch = 0;
    s.step = 0;
  }
  return true;
}

}  // namespace gnconvert
