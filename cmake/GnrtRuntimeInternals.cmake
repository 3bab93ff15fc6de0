# gnrt_runtime_internals: build-tree access to libgnrt's internal headers (runtime/src: the model
# loader and decoder model.h, the planner plan.h) for the tools and benchmarks, so that they read
# a model through the runtime's own loader instead of walking the FlatBuffer themselves. Nothing
# of it is installed: the installed (and the minimal) libgnrt and its public headers are unchanged.
#
# Static builds link the internal functions from libgnrt.a. A shared libgnrt hides them
# (CXX_VISIBILITY_PRESET hidden), so there the consumers get the runtime's objects linked in
# directly instead (hidden visibility does not matter inside an executable).
include_guard(GLOBAL)

add_library(gnrt_runtime_internals INTERFACE)
target_include_directories(gnrt_runtime_internals INTERFACE
  ${PROJECT_SOURCE_DIR}/runtime/src ${PROJECT_SOURCE_DIR}/platforms/include)
if(BUILD_SHARED_LIBS)
  target_sources(gnrt_runtime_internals INTERFACE
    $<TARGET_OBJECTS:gnrt_runtime> $<TARGET_OBJECTS:gnrt_kernels>)
  target_include_directories(gnrt_runtime_internals INTERFACE
    $<TARGET_PROPERTY:gnrt_runtime,INTERFACE_INCLUDE_DIRECTORIES>)
  target_compile_definitions(gnrt_runtime_internals INTERFACE GNRT_STATIC_DEFINE)
  find_package(Threads REQUIRED)
  target_link_libraries(gnrt_runtime_internals INTERFACE gnrt_schema Threads::Threads)
else()
  target_link_libraries(gnrt_runtime_internals INTERFACE gnrt_runtime gnrt_schema)
endif()

# Dense float32 weight matrices of a decoded model (runtime/src/dense_weights.h), for the
# benchmarks' dense baselines and gn-convert's ONNX export; not in libgnrt.
add_library(gnrt_dense_weights STATIC ${PROJECT_SOURCE_DIR}/runtime/src/dense_weights.cc)
target_link_libraries(gnrt_dense_weights PUBLIC gnrt_runtime_internals)
