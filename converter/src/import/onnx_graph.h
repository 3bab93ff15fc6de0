// Reading ONNX protobuf messages: constant tensors and node attributes, with one-line errors.
// Internal to the ONNX importer (onnx_import.cc). No LibTorch.
#pragma once

#include <onnx/onnx_pb.h>

#include <cstdint>
#include <set>
#include <string>
#include <vector>

namespace gnconvert::onnx_graph {

// A constant (initializer or Constant node): float32 or int64 values, row-major.
struct Constant {
  std::vector<std::int64_t> dims;
  bool is_int = false;
  std::vector<float> floats;
  std::vector<std::int64_t> ints;
  std::size_t count() const { return is_int ? ints.size() : floats.size(); }
};

// float32 and int64 tensors (raw_data or the typed fields); `what` names it in errors. Throws
// std::runtime_error for other element types, external data and wrong element counts.
Constant read_tensor(const onnx::TensorProto& tensor, const std::string& what);

// "node 'NAME' (OP_TYPE)"; unnamed nodes are called #INDEX.
std::string describe(const onnx::NodeProto& node, int index);

// Attribute access for one node; every error names the node.
class Attributes {
 public:
  Attributes(const onnx::NodeProto& node, std::string where);
  // Throws when the node has an attribute outside `known`.
  void allow_only(const std::set<std::string>& known) const;
  bool has(const std::string& name) const { return find(name) != nullptr; }
  std::int64_t integer(const std::string& name, std::int64_t fallback) const;
  float real(const std::string& name, float fallback) const;
  std::string text(const std::string& name, const std::string& fallback) const;
  std::vector<std::int64_t> integers(const std::string& name,
                                     const std::vector<std::int64_t>& fallback) const;
  const onnx::AttributeProto* find(const std::string& name) const;
  [[noreturn]] void fail(const std::string& message) const;

 private:
  const onnx::AttributeProto& typed(const std::string& name,
                                    onnx::AttributeProto_AttributeType type) const;
  const onnx::NodeProto& node_;
  std::string where_;
};

}  // namespace gnconvert::onnx_graph
