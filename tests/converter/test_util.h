// Helpers for the converter tests: temporary directories and tiny generated datasets.
#pragma once

#include <sys/wait.h>
#include <zlib.h>

#include <cstdint>
#include <cstdlib>
#include <functional>
#include <fstream>
#include <iterator>
#include <random>
#include <stdexcept>
#include <string>
#include <vector>

namespace gnconvert_test {

// A fresh directory under $TMPDIR (or /tmp), removed by the destructor.
struct TempDir {
  std::string path;
  TempDir() {
    const char* base = std::getenv("TMPDIR");
    std::string templ = std::string(base && *base ? base : "/tmp") + "/gnconvert-test-XXXXXX";
    std::vector<char> buf(templ.begin(), templ.end());
    buf.push_back('\0');
    if (!mkdtemp(buf.data())) throw std::runtime_error("mkdtemp failed");
    path = buf.data();
  }
  ~TempDir() { std::system(("rm -rf '" + path + "'").c_str()); }
  std::string operator/(const std::string& name) const { return path + "/" + name; }
};

// Raw little-endian float32 values of a file the Python fixtures or ONNX Runtime wrote. Throws
// when the file cannot be read, so the test fails with its name.
inline std::vector<float> read_floats(const std::string& path) {
  std::ifstream in(path, std::ios::binary | std::ios::ate);
  if (!in) throw std::runtime_error("cannot read " + path);
  std::vector<float> v(static_cast<std::size_t>(in.tellg()) / sizeof(float));
  in.seekg(0);
  in.read(reinterpret_cast<char*>(v.data()),
          static_cast<std::streamsize>(v.size() * sizeof(float)));
  return v;
}

// Runs `python script dir` (a fixture generator such as make_onnx_models.py) with its output in
// dir/python.log. Returns "" when it exited 0, else that log, for the test's failure message.
inline std::string run_python_fixture(const std::string& python, const std::string& script,
                                      const TempDir& dir) {
  const std::string log = dir / "python.log";
  const std::string cmd = python + " " + script + " " + dir.path + " >" + log + " 2>&1";
  const int status = std::system(cmd.c_str());
  if (WIFEXITED(status) && WEXITSTATUS(status) == 0) return "";
  std::ifstream in(log);
  const std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  return text.empty() ? std::string("(no output)") : text;
}

// The message of the exception `f` throws ("" when it returns).
inline std::string error_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const std::exception& e) {
    return e.what();
  }
  return "";
}

inline bool contains(const std::string& s, const std::string& part) {
  return s.find(part) != std::string::npos;
}

inline void write_bytes(const std::string& path, const std::vector<std::uint8_t>& bytes) {
  std::ofstream out(path, std::ios::binary);
  out.write(reinterpret_cast<const char*>(bytes.data()),
            static_cast<std::streamsize>(bytes.size()));
  if (!out) throw std::runtime_error("cannot write " + path);
}

inline void write_gz(const std::string& path, const std::vector<std::uint8_t>& bytes) {
  gzFile f = gzopen(path.c_str(), "wb");
  if (!f) throw std::runtime_error("cannot write " + path);
  if (!bytes.empty()) gzwrite(f, bytes.data(), static_cast<unsigned>(bytes.size()));
  gzclose(f);
}

inline void put_be32(std::vector<std::uint8_t>* v, std::uint32_t x) {
  v->push_back(static_cast<std::uint8_t>(x >> 24));
  v->push_back(static_cast<std::uint8_t>(x >> 16));
  v->push_back(static_cast<std::uint8_t>(x >> 8));
  v->push_back(static_cast<std::uint8_t>(x));
}

inline std::vector<std::uint8_t> idx_images(const std::vector<std::uint8_t>& pixels, int n, int h,
                                            int w) {
  std::vector<std::uint8_t> v = {0, 0, 0x08, 3};
  put_be32(&v, n);
  put_be32(&v, h);
  put_be32(&v, w);
  v.insert(v.end(), pixels.begin(), pixels.end());
  return v;
}

inline std::vector<std::uint8_t> idx_labels(const std::vector<std::uint8_t>& labels) {
  std::vector<std::uint8_t> v = {0, 0, 0x08, 1};
  put_be32(&v, static_cast<std::uint32_t>(labels.size()));
  v.insert(v.end(), labels.begin(), labels.end());
  return v;
}

// A learnable toy dataset in MNIST layout (28x28, 10 classes): class k is a bright square at a
// class-dependent position plus noise. Writes train/t10k files (gzipped) into `dir`.
inline void write_toy_mnist(const std::string& dir, int train_count, int test_count,
                            unsigned seed = 7) {
  std::mt19937 rng(seed);
  auto make = [&](int n, std::vector<std::uint8_t>* pixels, std::vector<std::uint8_t>* labels) {
    pixels->assign(static_cast<std::size_t>(n) * 28 * 28, 0);
    labels->resize(n);
    for (int i = 0; i < n; ++i) {
      int label = static_cast<int>(rng() % 10);
      (*labels)[i] = static_cast<std::uint8_t>(label);
      int y0 = 2 + (label / 5) * 12 + static_cast<int>(rng() % 3);
      int x0 = 2 + (label % 5) * 5 + static_cast<int>(rng() % 2);
      std::uint8_t* img = pixels->data() + static_cast<std::size_t>(i) * 784;
      for (int p = 0; p < 784; ++p) img[p] = static_cast<std::uint8_t>(rng() % 40);
      for (int y = y0; y < y0 + 8 && y < 28; ++y) {
        for (int x = x0; x < x0 + 4 && x < 28; ++x) img[y * 28 + x] = 200 + rng() % 56;
      }
    }
  };
  std::vector<std::uint8_t> pixels, labels;
  make(train_count, &pixels, &labels);
  write_gz(dir + "/train-images-idx3-ubyte.gz", idx_images(pixels, train_count, 28, 28));
  write_gz(dir + "/train-labels-idx1-ubyte.gz", idx_labels(labels));
  make(test_count, &pixels, &labels);
  write_gz(dir + "/t10k-images-idx3-ubyte.gz", idx_images(pixels, test_count, 28, 28));
  write_gz(dir + "/t10k-labels-idx1-ubyte.gz", idx_labels(labels));
}

}  // namespace gnconvert_test
