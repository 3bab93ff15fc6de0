#include "train/session.h"

#include <sys/stat.h>

#include <iostream>
#include <stdexcept>

#include "dist/process_group.h"
#include "util/files.h"

namespace gnconvert {
namespace {

std::vector<std::size_t> limited(const std::vector<std::size_t>& v, int limit) {
  if (limit <= 0 || static_cast<std::size_t>(limit) >= v.size()) return v;
  return std::vector<std::size_t>(v.begin(), v.begin() + limit);
}

}  // namespace

int Session::rank() const { return group ? group->rank() : 0; }
int Session::world_size() const { return group ? group->size() : 1; }

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
  if (s.rank() != 0) s.quiet = true;
}

void finish_distributed(Session& s) {
  if (s.group) s.group->barrier("finishing");
}

void write_output(const Session& s, const std::string& path, const std::string& bytes) {
  if (s.writes_files()) write_file_atomic(path, bytes);
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
  std::uint8_t exists = file_exists(path) ? 1 : 0;
  if (s.world_size() > 1) s.group->broadcast(&exists, 1, 0, "file check");
  return exists != 0;
}

void log_line(const Session& session, const std::string& line) {
  if (session.quiet) return;
  std::cout << line << std::endl;
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

GoogLeNet make_network(const ModelOptions& model) {
  ModelConfig config;
  config.in_channels = model.in_channels;
  config.num_classes = model.classes;
  config.aux_heads = model.aux_heads;
  set_layout(&config, model.layout);
  return GoogLeNet(config);
}

void create_model(Session& s) {
  torch::manual_seed(mix_seed(s.run.seed, 0x1417));
  s.net = make_network(s.model);
  s.masks.clear();
}

}  // namespace gnconvert
