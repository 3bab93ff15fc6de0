// gnrt eval MODEL (--fashion-mnist | --idx-images F --idx-labels F): top-1 accuracy over an IDX
// dataset. Progress goes to stderr; the last stdout line is exactly "accuracy=0.XXXX n=N".
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "cli_commands.h"
#include "cli_common.h"
#include "fileio.h"
#include "datasets.h"
#include "idx.h"

namespace gnrt::cli {

std::string fashion_mnist_dir() { return tools::fashion_mnist_dir(); }

namespace {

struct Shared {
  const tools::IdxImages* images = nullptr;
  const tools::IdxLabels* labels = nullptr;
  int count = 0;
  int threads = 1;
  int progress_step = 1;
  std::atomic<int> done{0};
  std::atomic<int> correct{0};
  std::atomic<bool> failed{false};
  std::mutex mutex;  // guards error and stderr progress lines
  std::string error;
};

void evaluate_slice(Shared& shared, Plan& plan, int first) {
  std::vector<float> output(plan.output_count());
  const tools::IdxImages& images = *shared.images;
  for (int i = first; i < shared.count && !shared.failed.load(); i += shared.threads) {
    gnrt_status status =
        gnrt_plan_set_input_image_u8(plan.get(), images.image(i), images.height, images.width, 1);
    if (status == GNRT_OK) status = gnrt_plan_run(plan.get());
    if (status == GNRT_OK) status = gnrt_plan_get_output(plan.get(), output.data(), output.size());
    if (status != GNRT_OK) {
      std::lock_guard<std::mutex> lock(shared.mutex);
      if (!shared.failed.exchange(true)) {
        shared.error = "inference failed on image " + std::to_string(i) + ": " +
                       gnrt_status_string(status) + ": " + tools::printable(gnrt_last_error());
      }
      return;
    }
    if (argmax(output.data(), output.size()) == shared.labels->labels[std::size_t(i)]) {
      shared.correct.fetch_add(1);
    }
    const int done = shared.done.fetch_add(1) + 1;
    if (done % shared.progress_step == 0 || done == shared.count) {
      std::lock_guard<std::mutex> lock(shared.mutex);
      std::fprintf(stderr, "gnrt eval: %d/%d images, accuracy so far %.4f\n", done, shared.count,
                   double(shared.correct.load()) / done);
    }
  }
}

}  // namespace

int cmd_eval(const EvalArgs& args) {
  Model model(args.model);

  std::string images_path = args.images, labels_path = args.labels;
  if (args.fashion_mnist) {
    const std::string dir = fashion_mnist_dir();
    images_path = dir + "/t10k-images-idx3-ubyte.gz";
    labels_path = dir + "/t10k-labels-idx1-ubyte.gz";
  }
  const tools::IdxImages images = tools::read_idx_images(images_path);
  const tools::IdxLabels labels = tools::read_idx_labels(labels_path);
  if (std::size_t(images.count) != labels.labels.size()) {
    throw CliError(tools::printable(images_path) + " has " + std::to_string(images.count) +
                   " images but " + tools::printable(labels_path) + " has " +
                   std::to_string(labels.labels.size()) + " labels");
  }
  const int count = args.limit > 0 ? std::min(args.limit, images.count) : images.count;
  if (count == 0) throw CliError(tools::printable(images_path) + ": the dataset is empty");

  const int threads = std::max(1, std::min(args.threads, count));
  std::vector<std::unique_ptr<Plan>> plans;
  for (int t = 0; t < threads; ++t) {
    plans.push_back(std::make_unique<Plan>(model, args.size, args.size));
  }
  const std::size_t classes = plans[0]->output_count();
  for (int i = 0; i < count; ++i) {
    if (labels.labels[std::size_t(i)] >= classes) {
      throw CliError(tools::printable(labels_path) + ": label " +
                     std::to_string(labels.labels[std::size_t(i)]) + " of item " +
                     std::to_string(i) + " is out of range for a model with " +
                     std::to_string(classes) + " outputs");
    }
  }

  Shared shared;
  shared.images = &images;
  shared.labels = &labels;
  shared.count = count;
  shared.threads = threads;
  shared.progress_step = std::max(1, count / 10);

  const auto start = std::chrono::steady_clock::now();
  std::vector<std::thread> workers;
  for (int t = 1; t < threads; ++t) {
    workers.emplace_back([&shared, &plans, t] { evaluate_slice(shared, *plans[t], t); });
  }
  evaluate_slice(shared, *plans[0], 0);
  for (std::thread& worker : workers) worker.join();
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  if (shared.failed) throw CliError(shared.error);

  const int* d = plans[0]->input_dims();
  std::printf("dataset: %s (%d of %d images, %dx%d)\n", tools::printable(images_path).c_str(),
              count, images.count, images.height, images.width);
  std::printf("input: %dx%dx%d\n", d[1], d[2], d[3]);
  std::printf("threads: %d\n", threads);
  std::printf("time: %.3f s (%.1f images/s)\n", seconds, seconds > 0 ? count / seconds : 0.0);
  std::printf("accuracy=%.4f n=%d\n", double(shared.correct.load()) / count, count);
  return kExitOk;
}

}  // namespace gnrt::cli
