// Per-layer table and totals of a (pruned) model: shape, params, nonzeros, density, threshold,
// MACs dense / kept at the training resolution and at 224x224, for the training graph and the
// deployed graph. Counts come from the weights themselves.
#pragma once

#include <nlohmann/json.hpp>
#include <string>

#include "train/session.h"

namespace gnconvert {

nlohmann::json layer_report(Session& session);
std::string layer_report_text(const nlohmann::json& report);

}  // namespace gnconvert
