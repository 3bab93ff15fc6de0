// The results table of a pipeline run (scripts/pipeline.sh -> docs/results.md format).
#pragma once

#include <nlohmann/json.hpp>
#include <string>

namespace gnconvert {

// Markdown: the paper beside this run, then the trade-off table when the manifest has one.
// Manifest keys: dense_eval (gn-convert eval --json), prune_report (report.json of prune, or a
// snapshot iteration-<i>.json with "final"), gnrt_info (gnrt info --json), and optionally
// gnrt_eval_accuracy, dense_gnrt_bytes, bench_train_size / bench_224 (bench_sparse --json),
// tradeoff: [{label, snapshot (iteration-<i>.json), bench_224}]. Throws std::runtime_error naming
// a missing key.
std::string render_results(const nlohmann::json& manifest);

}  // namespace gnconvert
