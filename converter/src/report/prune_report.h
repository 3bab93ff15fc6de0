// The files a finished prune run leaves in its output directory: report.json (recipe, command
// lines, accuracies per step, history, per-layer table), report.txt (the table and the
// accuracies), density.svg (density per layer) and accuracy.svg (accuracy across the schedule).
#pragma once

#include <nlohmann/json.hpp>
#include <string>

#include "train/session.h"

namespace gnconvert {

// Writes the four files (on the rank that writes files) from the session's report ("start",
// "iterations", "final") and `layers` (layer_report); returns report.txt's text.
std::string write_prune_report(const Session& session, const nlohmann::json& layers,
                               const std::string& recipe_text, const std::string& command_line);

}  // namespace gnconvert
