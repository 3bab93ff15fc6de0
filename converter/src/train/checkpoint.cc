#include "train/checkpoint.h"

#include <cstring>

#include "util/files.h"
#include "util/options_json.h"

namespace gnconvert {

using json = nlohmann::json;

namespace {

constexpr int kCheckpointVersion = 1;

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

  s.net = make_network(s.model);
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

}  // namespace gnconvert
