// Semantic validation of a verified model: decodes model->root into model->tensors, ops, input,
// outputs and the metadata fields, checking every number read from the file before it is used.
#pragma once

#include "model.h"
#include "status.h"

namespace gnrt {

// model->root must point at a buffer that passed the FlatBuffers verifier. The first failing
// check wins; its message names the tensor, operator or field it rejects.
Status validate_model(Model* model);

}  // namespace gnrt
