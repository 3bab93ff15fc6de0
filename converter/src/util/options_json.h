// JSON forms of the option structs (stored in checkpoints and reports, read back on --resume).
#pragma once

#include <nlohmann/json.hpp>

#include "util/options.h"

namespace gnconvert {

NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE_WITH_DEFAULT(DataOptions, dataset, data_dir, height, width,
                                                validation, split_seed, limit_train,
                                                limit_validation, limit_test, augment, crop_pad,
                                                flip)
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE_WITH_DEFAULT(OptimOptions, optimizer, lr, lr_min, schedule,
                                                step_epochs, gamma, warmup_epochs, momentum,
                                                nesterov, weight_decay, batch, epochs)
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE_WITH_DEFAULT(ModelOptions, in_channels, classes, aux_heads,
                                                aux_weight, layout)

}  // namespace gnconvert
