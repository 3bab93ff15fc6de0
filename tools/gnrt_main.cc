// gnrt: command-line front end of libgnrt (docs/cli.md). Subcommands: info, run, eval.
#include <climits>
#include <cstdio>
#include <exception>
#include <new>
#include <string>

#include <CLI/CLI.hpp>

#include "cli_commands.h"
#include "cli_common.h"
#include "fileio.h"
#include "gnrt/gnrt.h"

namespace {

using namespace gnrt::cli;

int report(const std::string& message, int exit_code) {
  std::string text = gnrt::tools::printable(message);
  std::fprintf(stderr, "gnrt: error: %s\n", text.c_str());
  return exit_code;
}

// An integer option within [low, high], with a message that says so ("2.5" and "1e3" included).
CLI::Validator integer_in(long long low, long long high) {
  const std::string range = std::to_string(low) + ".." + std::to_string(high);
  return CLI::Validator(
      [low, high, range](std::string& text) -> std::string {
        std::size_t used = 0;
        long long value = 0;
        try {
          value = std::stoll(text, &used, 10);
        } catch (const std::exception&) {
          used = 0;
        }
        if (used == 0 || used != text.size() || value < low || value > high) {
          return "expected an integer in " + range + ", got '" + text + "'";
        }
        return std::string();
      },
      "INT in " + range);
}

// Sizes a GoogLeNet-like model can be planned at; larger ones are refused before the runtime
// is asked (which would refuse them too, against its arena cap).
constexpr int kMaxSize = 16384;

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"gnrt: inspect and run sparse CNN models (.gnrt files)", "gnrt"};
  app.require_subcommand(1);
  app.set_version_flag("--version", std::string(gnrt_version()));

  InfoArgs info_args;
  CLI::App* info =
      app.add_subcommand("info", "Describe a model: metadata, per-layer table, totals");
  info->add_option("MODEL", info_args.model, "Model file (.gnrt)")
      ->required()
      ->check(CLI::ExistingFile);
  info->add_flag("--json", info_args.json, "Print one JSON object instead of text");

  RunArgs run_args;
  CLI::App* run = app.add_subcommand("run", "Classify one image (PGM/PPM) or raw float32 tensor");
  run->add_option("MODEL", run_args.model, "Model file (.gnrt)")
      ->required()
      ->check(CLI::ExistingFile);
  run->add_option("-i,--input", run_args.input, "PGM/PPM image, or raw float32 NCHW (.f32 / --raw)")
      ->required()
      ->check(CLI::ExistingFile);
  run->add_option("--size", run_args.size, "Square input size to plan for (default: the model's)")
      ->check(integer_in(1, kMaxSize));
  run->add_flag("--raw", run_args.raw, "Treat --input as raw float32 NCHW whatever its name");
  run->add_option("--raw-shape", run_args.raw_shape, "Shape C,H,W of raw input")
      ->delimiter(',')
      ->expected(3);
  run->add_option("--top", run_args.top, "How many classes to print (default 5)")
      ->check(integer_in(1, 100000));
  run->add_flag("--json", run_args.json, "Print one JSON object instead of text");
  run->add_option("--threads", run_args.threads, "Worker threads of the plan (default 1)")
      ->check(CLI::Range(1, 256));
  run->add_option("--profile", run_args.profile_runs,
                  "Then time every operator over N runs (2 warm-ups first) and print the medians")
      ->check(CLI::Range(1, 100000));

  EvalArgs eval_args;
  CLI::App* eval = app.add_subcommand("eval", "Top-1 accuracy over an IDX dataset");
  eval->add_option("MODEL", eval_args.model, "Model file (.gnrt)")
      ->required()
      ->check(CLI::ExistingFile);
  CLI::Option* fashion =
      eval->add_flag("--fashion-mnist", eval_args.fashion_mnist,
                     "Use the Fashion-MNIST test set (" + fashion_mnist_dir() + ")");
  CLI::Option* images =
      eval->add_option("--idx-images", eval_args.images, "IDX images [N,H,W] u8, gzipped or raw")
          ->check(CLI::ExistingFile);
  CLI::Option* labels =
      eval->add_option("--idx-labels", eval_args.labels, "IDX labels [N] u8, gzipped or raw")
          ->check(CLI::ExistingFile);
  fashion->excludes(images)->excludes(labels);
  images->needs(labels);
  labels->needs(images);
  eval->add_option("--size", eval_args.size, "Square input size to plan for (default: the model's)")
      ->check(integer_in(1, kMaxSize));
  eval->add_option("--limit", eval_args.limit, "Evaluate only the first N items")
      ->check(integer_in(1, INT_MAX));
  eval->add_option("--threads", eval_args.threads, "Worker threads, one plan each (default 1)")
      ->check(integer_in(1, 256));

  try {
    // CLI11 would report a mistyped command as "A subcommand is required"; name it instead.
    if (argc > 1 && argv[1][0] != '-' && std::string(argv[1]) != "info" &&
        std::string(argv[1]) != "run" && std::string(argv[1]) != "eval") {
      throw CliError(std::string("unknown command '") + argv[1] + "' (expected info, run or eval)",
                     kExitUsage);
    }
    app.parse(argc, argv);
    if (eval->parsed() && !eval_args.fashion_mnist && eval_args.images.empty()) {
      throw CliError("eval needs --fashion-mnist or --idx-images F --idx-labels F", kExitUsage);
    }
    if (info->parsed()) return cmd_info(info_args);
    if (run->parsed()) return cmd_run(run_args);
    if (eval->parsed()) return cmd_eval(eval_args);
    return report("no subcommand", kExitUsage);
  } catch (const CLI::Success& e) {
    return app.exit(e);  // --help, --version
  } catch (const CLI::ParseError& e) {
    std::string help = "gnrt --help";
    for (const CLI::App* sub : {info, run, eval}) {
      if (sub->parsed()) help = "gnrt " + sub->get_name() + " --help";
    }
    return report(std::string(e.what()) + " (see " + help + ")", kExitUsage);
  } catch (const CliError& e) {
    return report(e.what(), e.exit_code());
  } catch (const gnrt::tools::InputError& e) {
    return report(e.what(), kExitFailure);
  } catch (const std::bad_alloc&) {
    return report("out of memory", kExitFailure);
  } catch (const std::exception& e) {
    return report(e.what(), kExitFailure);
  }
}
