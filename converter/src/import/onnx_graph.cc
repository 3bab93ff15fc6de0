#include "import/onnx_graph.h"

#include <cstring>
#include <stdexcept>

namespace gnconvert::onnx_graph {

namespace {

[[noreturn]] void malformed(const std::string& what, const std::string& message) {
  throw std::runtime_error(what + ": " + message);
}

std::int64_t element_count(const std::vector<std::int64_t>& dims, const std::string& what) {
  std::int64_t n = 1;
  for (std::int64_t d : dims) {
    if (d < 0 || (d > 0 && n > (std::int64_t{1} << 40) / d)) {
      malformed(what, "invalid dimension " + std::to_string(d));
    }
    n *= d;
  }
  return n;
}

template <typename T>
std::vector<T> from_raw(const std::string& raw, std::int64_t count, const std::string& what) {
  if (raw.size() != static_cast<std::size_t>(count) * sizeof(T)) {
    malformed(what, "raw_data has " + std::to_string(raw.size()) + " bytes, the shape needs " +
                        std::to_string(count * static_cast<std::int64_t>(sizeof(T))));
  }
  std::vector<T> values(static_cast<std::size_t>(count));
  if (count > 0) std::memcpy(values.data(), raw.data(), raw.size());  // little-endian host
  return values;
}

}  // namespace

Constant read_tensor(const onnx::TensorProto& t, const std::string& what) {
  if (t.data_location() == onnx::TensorProto::EXTERNAL || t.external_data_size() > 0) {
    malformed(what,
              "external tensor data is not supported (save the model with the weights inside)");
  }
  Constant c;
  c.dims.assign(t.dims().begin(), t.dims().end());
  const std::int64_t count = element_count(c.dims, what);
  if (t.data_type() == onnx::TensorProto::FLOAT) {
    if (t.has_raw_data()) {
      c.floats = from_raw<float>(t.raw_data(), count, what);
    } else {
      c.floats.assign(t.float_data().begin(), t.float_data().end());
    }
  } else if (t.data_type() == onnx::TensorProto::INT64) {
    c.is_int = true;
    if (t.has_raw_data()) {
      c.ints = from_raw<std::int64_t>(t.raw_data(), count, what);
    } else {
      c.ints.assign(t.int64_data().begin(), t.int64_data().end());
    }
  } else {
    malformed(what, "element type " + std::to_string(t.data_type()) +
                        " is not supported (float32 weights, int64 shapes)");
  }
  if (static_cast<std::int64_t>(c.count()) != count) {
    malformed(what, "has " + std::to_string(c.count()) + " values, its shape needs " +
                        std::to_string(count));
  }
  return c;
}

std::string describe(const onnx::NodeProto& node, int index) {
  const std::string name = node.name().empty() ? "#" + std::to_string(index) : node.name();
  return "node '" + name + "' (" + node.op_type() + ")";
}

Attributes::Attributes(const onnx::NodeProto& node, std::string where)
    : node_(node), where_(std::move(where)) {}

void Attributes::fail(const std::string& message) const {
  throw std::runtime_error(where_ + ": " + message);
}

void Attributes::allow_only(const std::set<std::string>& known) const {
  for (const auto& a : node_.attribute()) {
    if (!known.count(a.name())) fail("attribute '" + a.name() + "' is not supported");
  }
}

const onnx::AttributeProto* Attributes::find(const std::string& name) const {
  for (const auto& a : node_.attribute()) {
    if (a.name() == name) return &a;
  }
  return nullptr;
}

const onnx::AttributeProto& Attributes::typed(const std::string& name,
                                              onnx::AttributeProto_AttributeType type) const {
  const onnx::AttributeProto* a = find(name);
  if (a->type() != type && a->type() != onnx::AttributeProto::UNDEFINED) {
    fail("attribute '" + name + "' has type " + std::to_string(a->type()) + ", expected " +
         std::to_string(type));
  }
  return *a;
}

std::int64_t Attributes::integer(const std::string& name, std::int64_t fallback) const {
  return has(name) ? typed(name, onnx::AttributeProto::INT).i() : fallback;
}

float Attributes::real(const std::string& name, float fallback) const {
  return has(name) ? typed(name, onnx::AttributeProto::FLOAT).f() : fallback;
}

std::string Attributes::text(const std::string& name, const std::string& fallback) const {
  return has(name) ? typed(name, onnx::AttributeProto::STRING).s() : fallback;
}

std::vector<std::int64_t> Attributes::integers(const std::string& name,
                                               const std::vector<std::int64_t>& fallback) const {
  if (!has(name)) return fallback;
  const auto& a = typed(name, onnx::AttributeProto::INTS);
  return {a.ints().begin(), a.ints().end()};
}

}  // namespace gnconvert::onnx_graph
