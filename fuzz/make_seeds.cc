// Writes the seed corpus of the model fuzz target: small valid models that together use every
// operator, both weight layouts, both value types, all three index widths, nested and copying
// concatenations, ceil-mode and padded pools, metadata, several outputs, and a GoogLeNet-layout
// model with one input channel at 16x16; and format 1.1 int8 models (add_int8_seeds).
//
//   make_seeds OUTPUT_DIR                 the seed corpus (committed in fuzz/corpus/model/)
//   make_seeds --regressions OUTPUT_DIR   hand-written reproducers of fuzz findings (committed in
//                                         fuzz/regressions/model/, next to the fuzzer's own)
//
// Deterministic: the same build writes the same bytes. Rerun after a format change and commit the
// result.
#include <cstdint>
#include <cstdio>
#include <exception>
#include <functional>
#include <random>
#include <string>
#include <utility>
#include <vector>

#include "gnrt/googlenet.h"
#include "gnrt/model_builder.h"

namespace {

using gnrt::ConvParams;
using gnrt::ModelBuilder;
using gnrt::PoolParams;
using gnrt::TensorId;
using gnrt::ValueStorage;
using gnrt::WeightEncoding;
using gnrt::WeightOptions;

// Deterministic weights: `density` of them nonzero, values in [-1, 1].
std::vector<float> weights(std::size_t count, double density, unsigned seed) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> value(-1.0f, 1.0f);
  std::uniform_real_distribution<double> keep(0.0, 1.0);
  std::vector<float> w(count, 0.0f);
  for (float& v : w)
    if (keep(rng) < density) v = value(rng);
  if (count > 0 && w[0] == 0.0f) w[0] = 0.5f;  // never an all-zero matrix
  return w;
}

std::vector<float> bias(int count, unsigned seed) {
  return weights(static_cast<std::size_t>(count), 1.0, seed + 7);
}

WeightOptions encoding(WeightEncoding e, ValueStorage s) {
  WeightOptions o;
  o.encoding = e;
  o.storage = s;
  return o;
}

const WeightOptions kDenseF32 = encoding(WeightEncoding::kDense, ValueStorage::kFloat32);
const WeightOptions kDenseF16 = encoding(WeightEncoding::kDense, ValueStorage::kFloat16);
const WeightOptions kSparseF32 = encoding(WeightEncoding::kSparse, ValueStorage::kFloat32);
const WeightOptions kSparseF16 = encoding(WeightEncoding::kSparse, ValueStorage::kFloat16);

// conv2d with generated weights; in_channels read from the builder.
TensorId conv(ModelBuilder& b, const std::string& name, TensorId in, ConvParams p, double density,
              const WeightOptions& options, unsigned seed, bool with_bias = true) {
  const int in_c = b.shape(in)[1];
  const std::size_t count =
      static_cast<std::size_t>(p.out_channels) * (in_c / p.groups) * p.kernel_h * p.kernel_w;
  return b.conv2d(name, in, p, weights(count, density, seed),
                  with_bias ? bias(p.out_channels, seed) : std::vector<float>{}, options);
}

ConvParams conv_params(int out, int k, int stride = 1, int pad = 0, bool relu = true) {
  ConvParams p;
  p.out_channels = out;
  p.kernel_h = p.kernel_w = k;
  p.stride_h = p.stride_w = stride;
  p.pad_top = p.pad_left = p.pad_bottom = p.pad_right = pad;
  p.relu = relu;
  return p;
}

PoolParams pool_params(int k, int stride, int pad = 0, bool ceil_mode = false,
                       bool count_include_pad = false) {
  PoolParams p;
  p.kernel_h = p.kernel_w = k;
  p.stride_h = p.stride_w = stride;
  p.pad_top = p.pad_left = p.pad_bottom = p.pad_right = pad;
  p.ceil_mode = ceil_mode;
  p.count_include_pad = count_include_pad;
  return p;
}

TensorId fc(ModelBuilder& b, const std::string& name, TensorId in, int out, double density,
            const WeightOptions& options, unsigned seed, bool relu = false) {
  const std::vector<int> s = b.shape(in);
  const std::size_t features = static_cast<std::size_t>(s[1]) * s[2] * s[3];
  return b.fully_connected(name, in, out, weights(features * out, density, seed), bias(out, seed),
                           relu, options);
}

using Seed = std::pair<std::string, std::function<std::vector<std::uint8_t>()>>;

// Convolutions: every weight form and index width, windows, the GoogLeNet stem.
void add_convolution_seeds(std::vector<Seed>& s) {
  // One convolution per weight form (3x3, padding 1: the stride-1 sparse kernels).
  struct Form {
    const char* name;
    WeightOptions options;
    double density;
  };
  for (const Form& f :
       {Form{"conv3x3_dense_f32", kDenseF32, 1.0}, Form{"conv3x3_dense_f16", kDenseF16, 0.8},
        Form{"conv3x3_sparse_f32_u8", kSparseF32, 0.3},
        Form{"conv3x3_sparse_f16_u8", kSparseF16, 0.3}}) {
    s.emplace_back(f.name, [f] {
      ModelBuilder b;
      TensorId x = b.input("input", 2, 8, 8);
      x = conv(b, "conv", x, conv_params(4, 3, 1, 1), f.density, f.options, 1);
      return b.finish({x});
    });
  }

  // Rows longer than 256 entries: 16-bit indices.
  s.emplace_back("conv3x3_sparse_u16", [] {
    ModelBuilder b;
    TensorId x = b.input("input", 32, 6, 6);
    x = conv(b, "conv", x, conv_params(8, 3, 1, 1), 0.05, kSparseF32, 2);
    return b.finish({x});
  });

  // Rows longer than 65536 entries: 32-bit indices (fully connected over 76 800 features).
  s.emplace_back("fc_sparse_u32", [] {
    ModelBuilder b;
    TensorId x = b.input("input", 1200, 8, 8);
    std::vector<float> w(2 * 76800, 0.0f);
    w[3] = 0.25f;
    w[70000] = -0.5f;
    w[76800 + 65537] = 1.0f;
    w[76800 + 76799] = 0.75f;
    x = b.fully_connected("fc", x, 2, w, {0.1f, -0.1f}, false, kSparseF32);
    return b.finish({x});
  });

  // Strides, dilation, groups, asymmetric padding, no bias.
  s.emplace_back("conv_strided_dilated_grouped", [] {
    ModelBuilder b;
    TensorId x = b.input("input", 4, 11, 9);
    ConvParams p = conv_params(6, 3, 2);
    p.dilation_h = 2;
    p.stride_w = 1;
    p.groups = 2;
    p.pad_top = 1;
    p.pad_bottom = 2;
    p.pad_left = 0;
    p.pad_right = 1;
    x = conv(b, "grouped", x, p, 0.6, kSparseF32, 3, /*with_bias=*/false);
    ConvParams q = conv_params(3, 1);
    q.kernel_h = 1;
    q.kernel_w = 3;
    q.pad_left = q.pad_right = 1;
    q.relu = false;
    x = conv(b, "rect", x, q, 1.0, kDenseF32, 4);
    return b.finish({x});
  });

  // The GoogLeNet stem in miniature: 7x7/2 pad 3, maxpool 3x3/2 ceil, 1x1, 3x3 stride 2 sparse.
  s.emplace_back("stem_7x7_s2", [] {
    ModelBuilder b;
    TensorId x = b.input("input", 1, 16, 16);
    x = conv(b, "conv1", x, conv_params(8, 7, 2, 3), 0.2, kSparseF16, 5);
    x = b.max_pool("pool1", x, pool_params(3, 2, 0, /*ceil_mode=*/true));
    x = conv(b, "conv2", x, conv_params(8, 1), 0.5, kSparseF32, 6);
    x = conv(b, "conv3", x, conv_params(12, 3, 2, 1), 0.3, kSparseF32, 7);
    return b.finish({x});
  });

  // 5x5 with padding 2 (the inception b3 branch), dense and sparse side by side.
  s.emplace_back("conv5x5_pad2", [] {
    ModelBuilder b;
    TensorId in = b.input("input", 3, 9, 9);
    TensorId d = conv(b, "dense5", in, conv_params(4, 5, 1, 2), 1.0, kDenseF32, 8);
    TensorId sp = conv(b, "sparse5", in, conv_params(4, 5, 1, 2), 0.1, kSparseF32, 9);
    TensorId x = b.concat("cat", {d, sp});
    return b.finish({x});
  });
}

// Pools, fully connected layers and softmax, alone and over padded layouts.
void add_pool_fc_softmax_seeds(std::vector<Seed>& s) {
  // Pools: ceil mode, padding, count_include_pad both ways, ReLU on a pool.
  s.emplace_back("pools", [] {
    ModelBuilder b;
    TensorId in = b.input("input", 3, 7, 7);
    TensorId m0 = b.max_pool("max_ceil", in, pool_params(3, 2, 0, true));
    TensorId m1 = b.max_pool("max_ceil_pad", in, pool_params(3, 2, 1, true));
    TensorId m2 = b.max_pool("max_pad", in, pool_params(3, 2, 1, false));
    PoolParams relu_pool = pool_params(2, 2, 0, true);
    relu_pool.relu = true;
    TensorId m3 = b.max_pool("max_ceil_relu", in, relu_pool);
    TensorId a1 = b.avg_pool("avg_incl", in, pool_params(3, 2, 1, true, true));
    TensorId a2 = b.avg_pool("avg_excl", in, pool_params(3, 2, 1, true, false));
    TensorId a3 = b.avg_pool("avg_s1", in, pool_params(3, 1, 1, false, true));
    TensorId x = b.concat("cat", {m1, m2, m3, a1, a2});
    TensorId y = b.avg_pool("avg_2x2", a3, pool_params(2, 2));
    return b.finish({x, y, m0});
  });

  // Global average pooling, sparse FC and softmax with beta != 1.
  s.emplace_back("gap_fc_softmax", [] {
    ModelBuilder b;
    TensorId x = b.input("input", 3, 6, 6);
    x = conv(b, "conv", x, conv_params(16, 3, 1, 1), 0.4, kSparseF32, 10);
    PoolParams g;
    g.global = true;
    x = b.avg_pool("gap", x, g);
    x = fc(b, "fc", x, 10, 0.3, kSparseF32, 11);
    x = b.softmax("prob", x, 0.5f);
    return b.finish({x});
  });

  // Fully connected over a spatial tensor (gathered from a padded layout), dense f16 + ReLU,
  // then sparse f16, then a softmax over a 1x1 output.
  s.emplace_back("fc_dense_f16_chain", [] {
    ModelBuilder b;
    TensorId x = b.input("input", 3, 4, 4);
    x = conv(b, "conv", x, conv_params(4, 3, 1, 1), 1.0, kDenseF32, 12);
    x = fc(b, "fc1", x, 12, 1.0, kDenseF16, 13, /*relu=*/true);
    x = fc(b, "fc2", x, 5, 0.4, kSparseF16, 14);
    x = b.softmax("prob", x);
    return b.finish({x});
  });

  // Softmax over C*H*W of a padded tensor (scratch in and out), feeding a convolution.
  s.emplace_back("softmax_spatial", [] {
    ModelBuilder b;
    TensorId x = b.input("input", 2, 5, 5);
    x = conv(b, "conv", x, conv_params(3, 3, 1, 1, false), 1.0, kDenseF32, 15);
    x = b.softmax("soft", x, 2.0f);
    x = conv(b, "after", x, conv_params(2, 3, 1, 1), 0.5, kSparseF32, 16);
    return b.finish({x});
  });
}

// Graph shapes: concatenations, metadata, several outputs, chains, GoogLeNet itself.
void add_graph_seeds(std::vector<Seed>& s) {
  // Nested concatenations resolved in place, an inception-like block.
  s.emplace_back("concat_nested", [] {
    ModelBuilder b;
    TensorId in = b.input("input", 2, 6, 6);
    TensorId a = conv(b, "b1", in, conv_params(4, 1), 1.0, kDenseF32, 17);
    TensorId r = conv(b, "b2_reduce", in, conv_params(3, 1), 1.0, kDenseF32, 18);
    TensorId c = conv(b, "b2", r, conv_params(5, 3, 1, 1), 0.4, kSparseF32, 19);
    TensorId p = b.max_pool("b4_pool", in, pool_params(3, 1, 1));
    TensorId d = conv(b, "b4", p, conv_params(2, 1), 1.0, kSparseF16, 20);
    TensorId inner = b.concat("inner", {a, c});
    TensorId outer = b.concat("outer", {inner, d});
    TensorId x = conv(b, "head", outer, conv_params(3, 1), 0.7, kSparseF32, 21);
    return b.finish({x});
  });

  // Concatenations that must copy: the graph input as a part, one tensor in two concats, a
  // concat of one tensor.
  s.emplace_back("concat_copies", [] {
    ModelBuilder b;
    TensorId in = b.input("input", 2, 5, 5);
    TensorId a = conv(b, "a", in, conv_params(3, 3, 1, 1), 0.5, kSparseF32, 22);
    TensorId with_input = b.concat("with_input", {in, a});
    TensorId shared = b.concat("shared", {a, with_input});
    TensorId single = b.concat("single", {shared});
    TensorId x = b.avg_pool("pool", single, pool_params(2, 2, 0, true));
    return b.finish({x});
  });

  // Metadata: name, labels, mean/std, pruning summary; three input channels (image input).
  s.emplace_back("metadata_rgb", [] {
    ModelBuilder b;
    TensorId x = b.input("image", 3, 8, 8);
    x = conv(b, "conv", x, conv_params(4, 3, 2, 1), 0.5, kSparseF32, 23);
    PoolParams g;
    g.global = true;
    g.relu = true;
    x = b.avg_pool("gap", x, g);
    x = fc(b, "fc", x, 3, 1.0, kDenseF32, 24);
    x = b.softmax("prob", x);
    gnrt::ModelMetadata md;
    md.name = "seed-metadata";
    md.description = "fuzz seed with every metadata field";
    md.labels = {"cat", "dog", "bird"};
    md.mean = {0.485f, 0.456f, 0.406f};
    md.std = {0.229f, 0.224f, 0.225f};
    md.pruning.params_dense_training = 1000;
    md.pruning.nonzeros_training = 400;
    md.pruning.training_height = 8;
    md.pruning.training_width = 8;
    md.pruning.method = "global-magnitude";
    md.pruning.recipe = "make_seeds";
    md.test_accuracy = 0.5f;
    b.set_metadata(md);
    return b.finish({x});
  });

  // Several graph outputs; the runtime reads the first.
  s.emplace_back("multi_output", [] {
    ModelBuilder b;
    TensorId in = b.input("input", 1, 6, 6);
    TensorId a = conv(b, "a", in, conv_params(2, 3, 1, 1), 1.0, kDenseF32, 25);
    TensorId p = b.max_pool("p", a, pool_params(2, 2));
    TensorId f = fc(b, "fc", p, 4, 0.5, kSparseF32, 26);
    return b.finish({f, a, p});
  });

  // A 1x1 input.
  s.emplace_back("input_1x1", [] {
    ModelBuilder b;
    TensorId x = b.input("input", 5, 1, 1);
    x = conv(b, "conv", x, conv_params(6, 1), 0.5, kSparseF32, 27);
    x = conv(b, "conv_pad", x, conv_params(2, 3, 1, 1), 1.0, kDenseF32, 28);
    x = fc(b, "fc", x, 3, 1.0, kDenseF32, 29);
    return b.finish({x});
  });

  // A longer chain for arena reuse: ten convolutions alternating forms and sizes.
  s.emplace_back("deep_chain", [] {
    ModelBuilder b;
    TensorId x = b.input("input", 2, 12, 12);
    for (int i = 0; i < 10; ++i) {
      const WeightOptions& o = (i % 4 == 0)   ? kDenseF32
                               : (i % 4 == 1) ? kSparseF32
                               : (i % 4 == 2) ? kSparseF16
                                              : kDenseF16;
      const int stride = (i == 3 || i == 7) ? 2 : 1;
      x = conv(b, "conv" + std::to_string(i), x, conv_params(3 + i % 3, 3, stride, 1), 0.4, o,
               static_cast<unsigned>(30 + i));
    }
    return b.finish({x});
  });

  // GoogLeNet's layout with one input channel at 16x16 and 10 classes, very sparse float16.
  s.emplace_back("googlenet_1ch_16x16", [] {
    gnrt::GoogLeNetConfig config;
    config.in_channels = 1;
    config.num_classes = 10;
    config.height = config.width = 16;
    gnrt::ModelMetadata md;
    md.name = "googlenet-seed";
    for (int i = 0; i < 10; ++i) md.labels.push_back("class" + std::to_string(i));
    return gnrt::build_googlenet(config, gnrt::random_pruned_weights(42, 0.002), md, kSparseF16);
  });
}

WeightOptions int8_options(WeightEncoding e, int block_size = 1) {
  WeightOptions o = encoding(e, ValueStorage::kInt8);
  o.block_size = block_size;
  return o;
}

// Format 1.1 int8 models: quantized tensors, dense and block-sparse int8 rows with gap-coded
// indices, int32 biases; the strided stem (patches), pools, aligned (in place) and unaligned
// (copying) concatenations, average pooling, dequantized logits and a quantized graph output.
void add_int8_seeds(std::vector<Seed>& s) {
  s.emplace_back("int8_stem_inception_fc", [] {
    ModelBuilder b;
    TensorId x = b.input("input", 1, 20, 20);
    b.set_quantization(x, 0.02f, 128);
    x = conv(b, "stem", x, conv_params(8, 7, 2, 3), 0.6, int8_options(WeightEncoding::kSparse), 1);
    b.set_quantization(x, 0.05f, 0);
    x = b.max_pool("pool1", x, pool_params(3, 2, 0, true));
    b.set_quantization(x, 0.05f, 0);
    auto branch = [&](const char* name, TensorId in, ConvParams p, int block, unsigned seed) {
      const TensorId t =
          conv(b, name, in, p, 0.5,
               int8_options(block > 1 ? WeightEncoding::kSparse : WeightEncoding::kDense, block),
               seed);
      b.set_quantization(t, 0.08f, 3);
      return t;
    };
    const TensorId b1 = branch("b1", x, conv_params(4, 1), 4, 2);
    const TensorId b2 = branch("b2", x, conv_params(6, 3, 1, 1), 4, 3);
    TensorId p3 = b.max_pool("b3_pool", x, pool_params(3, 1, 1));
    b.set_quantization(p3, 0.05f, 0);
    const TensorId b3 = branch("b3", p3, conv_params(5, 1), 1, 4);
    TensorId cat = b.concat("cat", {b1, b2, b3});  // 4 + 6 + 5: b3 starts at 10, so it copies
    b.set_quantization(cat, 0.08f, 3);
    TensorId avg = b.avg_pool("avg", cat, pool_params(2, 2, 1, false, true));
    b.set_quantization(avg, 0.08f, 3);
    PoolParams gp;
    gp.global = true;
    TensorId gap = b.avg_pool("gap", avg, gp);
    b.set_quantization(gap, 0.08f, 3);
    TensorId logits = fc(b, "fc", gap, 5, 1.0, int8_options(WeightEncoding::kDense), 5);
    return b.finish({b.softmax("prob", logits)});
  });
  s.emplace_back("int8_aligned_concat_quantized_output", [] {
    ModelBuilder b;
    TensorId x = b.input("input", 4, 9, 9);
    b.set_quantization(x, 0.03f, 10);
    const TensorId a =
        conv(b, "a", x, conv_params(8, 3, 1, 1), 0.3, int8_options(WeightEncoding::kSparse, 4), 6);
    b.set_quantization(a, 0.1f, 0);
    const TensorId c =
        conv(b, "c", x, conv_params(4, 1, 1, 0, false), 0.7, int8_options(WeightEncoding::kDense), 7);
    b.set_quantization(c, 0.1f, 0);
    TensorId cat = b.concat("cat", {a, c});  // both start at multiples of 4: in place
    b.set_quantization(cat, 0.1f, 0);
    TensorId y = conv(b, "head", cat, conv_params(3, 3, 2, 1, false), 0.5,
                      int8_options(WeightEncoding::kSparse, 4), 8);
    b.set_quantization(y, 0.2f, 100);
    return b.finish({y});
  });
}

std::vector<Seed> seeds() {
  std::vector<Seed> s;
  add_convolution_seeds(s);
  add_pool_fc_softmax_seeds(s);
  add_graph_seeds(s);
  add_int8_seeds(s);
  return s;
}

// Hand-written reproducers for problems the fuzz target found (fuzz/regressions/model/); the
// expected statuses are in fuzz/regressions/model.expected.
std::vector<Seed> regressions() {
  std::vector<Seed> s;

  // Two convolutions: the second output can take the input's place in the arena, so a second
  // gnrt_plan_run without a new input read overwritten input values.
  s.emplace_back("rerun-input-overwritten.gnrt", [] {
    ModelBuilder b;
    TensorId x = b.input("input", 1, 4, 4);
    x = conv(b, "a", x, conv_params(2, 3, 1, 1), 1.0, kDenseF32, 1);
    x = conv(b, "b", x, conv_params(1, 3, 1, 1), 1.0, kDenseF32, 2);
    return b.finish({x});
  });

  // An output of 65536 x 16384 x 16384 elements at the default size: gnrt_model_info.num_classes
  // (an int) overflowed.
  s.emplace_back("num-classes-overflow.gnrt", [] {
    ModelBuilder b;
    TensorId x = b.input("input", 65536, 16384, 16384);
    x = b.softmax("prob", x);
    return b.finish({x});
  });

  return s;
}

}  // namespace

int main(int argc, char** argv) {
  const bool regression_mode = argc == 3 && std::string(argv[1]) == "--regressions";
  if (argc != 2 && !regression_mode) {
    std::fprintf(stderr,
                 "usage: %s OUTPUT_DIR       (seed corpus)\n       %s --regressions DIR  "
                 "(hand-written reproducers)\n",
                 argv[0], argv[0]);
    return 2;
  }
  const std::string dir = argv[argc - 1];
  try {
    std::size_t total = 0;
    for (const Seed& seed : regression_mode ? regressions() : seeds()) {
      const std::vector<std::uint8_t> bytes = seed.second();
      const std::string name = regression_mode ? seed.first : seed.first + ".gnrt";
      gnrt::write_file_atomic(dir + "/" + name, bytes);
      std::printf("%-32s %8zu bytes\n", name.c_str(), bytes.size());
      total += bytes.size();
    }
    std::printf("%-32s %8zu bytes\n", "total", total);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "make_seeds: %s\n", e.what());
    return 1;
  }
  return 0;
}
