#include "model.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "validate.h"

namespace gnrt {

const char* op_type_name(OpType type) {
  switch (type) {
    case OpType::kConv2D:
      return "Conv2D";
    case OpType::kMaxPool:
      return "MaxPool";
    case OpType::kAvgPool:
      return "AvgPool";
    case OpType::kGlobalAvgPool:
      return "GlobalAvgPool";
    case OpType::kConcat:
      return "Concat";
    case OpType::kFullyConnected:
      return "FullyConnected";
    case OpType::kSoftmax:
      return "Softmax";
  }
  return "?";
}

Model::~Model() {
  if (mapping) munmap(mapping, mapping_size);
}

Status load_model(const void* data, std::size_t size, Model* model) {
  if (!data) return make_error(GNRT_INVALID_ARGUMENT, "model buffer is NULL");
  if (size < 8)
    return make_error(GNRT_INVALID_MODEL,
                      "model is too small (" + std::to_string(size) + " bytes)");
  if (size >= FLATBUFFERS_MAX_BUFFER_SIZE)
    return make_error(GNRT_INVALID_MODEL, "model exceeds 2 GiB");
  if (reinterpret_cast<std::uintptr_t>(data) % 8 != 0)
    return make_error(GNRT_INVALID_ARGUMENT, "model buffer must be 8-byte aligned");
  const auto* bytes = static_cast<const std::uint8_t*>(data);
  if (!fb::ModelBufferHasIdentifier(bytes)) {
    return make_error(GNRT_INVALID_MODEL, "not a gnrt model (file identifier is not \"GNRT\")");
  }
  // Depth and table limits keep verification linear in the buffer size.
  flatbuffers::Verifier verifier(bytes, size, /*max_depth=*/64, /*max_tables=*/4000000);
  if (!fb::VerifyModelBuffer(verifier))
    return make_error(GNRT_INVALID_MODEL,
                      "model failed FlatBuffers verification (truncated or corrupt)");
  model->data = bytes;
  model->size = size;
  model->root = fb::GetModel(bytes);
  return validate_model(model);
}

Status load_model_file(const char* path, Model* model) {
  if (!path) return make_error(GNRT_INVALID_ARGUMENT, "model path is NULL");
  const int fd = ::open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0)
    return make_error(GNRT_IO_ERROR,
                      std::string("cannot open ") + path + ": " + std::strerror(errno));
  struct stat st;
  if (::fstat(fd, &st) != 0) {
    const int e = errno;
    ::close(fd);
    return make_error(GNRT_IO_ERROR, std::string("cannot stat ") + path + ": " + std::strerror(e));
  }
  if (!S_ISREG(st.st_mode)) {
    ::close(fd);
    return make_error(GNRT_IO_ERROR, std::string(path) + " is not a regular file");
  }
  const std::size_t size = static_cast<std::size_t>(st.st_size);
  if (size < 8) {
    ::close(fd);
    return make_error(GNRT_INVALID_MODEL, std::string(path) + ": file too small to be a model (" +
                                              std::to_string(size) + " bytes)");
  }
  void* mapping = ::mmap(nullptr, size, PROT_READ, MAP_PRIVATE, fd, 0);
  const int e = errno;
  ::close(fd);
  if (mapping == MAP_FAILED)
    return make_error(GNRT_IO_ERROR, std::string("cannot map ") + path + ": " + std::strerror(e));
  model->mapping = mapping;
  model->mapping_size = size;
  Status s = load_model(mapping, size, model);
  if (!s.ok()) s.message = std::string(path) + ": " + s.message;
  return s;
}

}  // namespace gnrt
