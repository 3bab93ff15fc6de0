// Checkpoint = model parameters and buffers, masks, optimizer state, progress, history and the
// options, in one torch archive written atomically.
#pragma once

#include <torch/torch.h>

#include <nlohmann/json.hpp>
#include <string>

#include "train/session.h"

namespace gnconvert {

// Writes on the rank that writes files only. `optimizer` may be null (then the session's
// serialized optimizer_state is kept).
void save_checkpoint(Session& session, const std::string& path, torch::optim::Optimizer* optimizer);
// Restores everything save_checkpoint wrote. With `weights_only`, keeps the session's progress,
// options and history and takes only model, masks and normalization (starting a new schedule
// from a trained model).
void load_checkpoint(Session& session, const std::string& path, bool weights_only);
// Reads only the JSON metadata of a checkpoint (the second form through read_file_shared).
nlohmann::json read_checkpoint_meta(const std::string& path);
nlohmann::json read_checkpoint_meta(Session& session, const std::string& path);

}  // namespace gnconvert
