// The C API: argument checks, error messages, and the bridge to the C++ internals. Nothing here
// lets an exception or a crash escape to the caller for bad input.
#include <exception>
#include <memory>
#include <new>
#include <string>

#include "gnrt/gnrt.h"
#include "image.h"
#include "model.h"
#include "plan.h"

struct gnrt_model {
  gnrt::Model model;
};

struct gnrt_plan {
  std::unique_ptr<gnrt::Plan> plan;
};

namespace {

thread_local std::string g_last_error;

gnrt_status fail(const gnrt::Status& s) {
  g_last_error = s.message;
  return s.code;
}

gnrt_status fail(gnrt_status code, const char* message) {
  g_last_error = message;
  return code;
}

#define GNRT_STRINGIZE2(x) #x
#define GNRT_STRINGIZE(x) GNRT_STRINGIZE2(x)

}  // namespace

extern "C" {

const char* gnrt_version(void) {
  return GNRT_STRINGIZE(GNRT_VERSION_MAJOR) "." GNRT_STRINGIZE(
      GNRT_VERSION_MINOR) "." GNRT_STRINGIZE(GNRT_VERSION_PATCH);
}

const char* gnrt_status_string(gnrt_status status) {
  switch (status) {
    case GNRT_OK:
      return "GNRT_OK";
    case GNRT_INVALID_ARGUMENT:
      return "GNRT_INVALID_ARGUMENT";
    case GNRT_IO_ERROR:
      return "GNRT_IO_ERROR";
    case GNRT_INVALID_MODEL:
      return "GNRT_INVALID_MODEL";
    case GNRT_UNSUPPORTED:
      return "GNRT_UNSUPPORTED";
    case GNRT_OUT_OF_MEMORY:
      return "GNRT_OUT_OF_MEMORY";
    case GNRT_RESOURCE_LIMIT:
      return "GNRT_RESOURCE_LIMIT";
    case GNRT_INVALID_STATE:
      return "GNRT_INVALID_STATE";
    case GNRT_INTERNAL:
      return "GNRT_INTERNAL";
  }
  return "GNRT_UNKNOWN_STATUS";
}

const char* gnrt_last_error(void) { return g_last_error.c_str(); }

static gnrt_status load_common(gnrt_model** model, const void* data, size_t size,
                               const char* path) {
  if (!model) return fail(GNRT_INVALID_ARGUMENT, "model output pointer is NULL");
  *model = nullptr;
  std::unique_ptr<gnrt_model> m(new (std::nothrow) gnrt_model());
  if (!m) return fail(GNRT_OUT_OF_MEMORY, "out of memory loading a model");
  gnrt::Status s;
#if defined(__cpp_exceptions)
  try {
    s = path ? gnrt::load_model_file(path, &m->model) : gnrt::load_model(data, size, &m->model);
  } catch (const std::bad_alloc&) {
    return fail(GNRT_OUT_OF_MEMORY, "out of memory loading a model");
  } catch (const std::exception& e) {
    return fail(GNRT_INTERNAL, (std::string("loading failed: ") + e.what()).c_str());
  }
#else
  s = path ? gnrt::load_model_file(path, &m->model) : gnrt::load_model(data, size, &m->model);
#endif
  if (!s.ok()) return fail(s);
  *model = m.release();
  return GNRT_OK;
}

gnrt_status gnrt_model_load_buffer(const void* data, size_t size, gnrt_model** model) {
  return load_common(model, data, size, nullptr);
}

gnrt_status gnrt_model_load_file(const char* path, gnrt_model** model) {
  if (!path) {
    if (model) *model = nullptr;
    return fail(GNRT_INVALID_ARGUMENT, "model path is NULL");
  }
  return load_common(model, nullptr, 0, path);
}

void gnrt_model_destroy(gnrt_model* model) { delete model; }

gnrt_status gnrt_model_get_info(const gnrt_model* model, gnrt_model_info* info) {
  if (!model || !info) return fail(GNRT_INVALID_ARGUMENT, "gnrt_model_get_info: NULL argument");
  const gnrt::Model& m = model->model;
  info->name = m.name.c_str();
  info->input_channels = m.input_channels;
  info->default_height = m.default_height;
  info->default_width = m.default_width;
  const gnrt::TensorDesc& out = m.tensors[m.outputs[0]];
  info->num_classes = out.channels * out.default_height * out.default_width;
  info->num_operators = static_cast<int>(m.ops.size());
  info->num_tensors = static_cast<int>(m.tensors.size());
  info->params_dense = m.params_dense;
  info->nonzeros = m.nonzeros;
  info->params_dense_training = m.params_dense_training;
  info->nonzeros_training = m.nonzeros_training;
  info->test_accuracy = m.test_accuracy;
  return GNRT_OK;
}

const char* gnrt_model_label(const gnrt_model* model, int index) {
  if (!model || index < 0 || index >= static_cast<int>(model->model.labels.size())) return nullptr;
  return model->model.labels[index];
}

gnrt_status gnrt_model_normalization(const gnrt_model* model, int channel, float* mean,
                                     float* std_dev) {
  if (!model || !mean || !std_dev)
    return fail(GNRT_INVALID_ARGUMENT, "gnrt_model_normalization: NULL argument");
  if (channel < 0 || channel >= model->model.input_channels)
    return fail(GNRT_INVALID_ARGUMENT, "gnrt_model_normalization: channel out of range");
  *mean = model->model.mean[channel];
  *std_dev = model->model.std_dev[channel];
  return GNRT_OK;
}

void gnrt_options_init(gnrt_options* options) {
  if (!options) return;
  options->struct_size = sizeof(gnrt_options);
  options->num_threads = 1;
  options->input_height = 0;
  options->input_width = 0;
  options->max_arena_bytes = size_t{512} << 20;
  options->force_reference = 0;
  options->max_macs = std::uint64_t{1} << 37;
}

gnrt_status gnrt_plan_create(const gnrt_model* model, const gnrt_options* options,
                             gnrt_plan** plan) {
  if (!plan) return fail(GNRT_INVALID_ARGUMENT, "plan output pointer is NULL");
  *plan = nullptr;
  if (!model) return fail(GNRT_INVALID_ARGUMENT, "model is NULL");
  gnrt_options defaults;
  gnrt_options_init(&defaults);
  if (options && options->struct_size != sizeof(gnrt_options))
    return fail(GNRT_INVALID_ARGUMENT,
                "gnrt_options.struct_size mismatch: call gnrt_options_init first");
  const gnrt_options& o = options ? *options : defaults;
  if (o.input_height < 0 || o.input_width < 0)
    return fail(GNRT_INVALID_ARGUMENT, "input size must not be negative");
  gnrt::PlanConfig config;
  config.threads = o.num_threads;
  config.height = o.input_height;
  config.width = o.input_width;
  config.max_arena_bytes = o.max_arena_bytes ? o.max_arena_bytes : defaults.max_arena_bytes;
  config.force_reference = o.force_reference != 0;
  config.max_macs = o.max_macs ? o.max_macs : defaults.max_macs;
  std::unique_ptr<gnrt_plan> p(new (std::nothrow) gnrt_plan());
  if (!p) return fail(GNRT_OUT_OF_MEMORY, "out of memory creating a plan");
  gnrt::Status s;
#if defined(__cpp_exceptions)
  try {
    s = gnrt::Plan::create(model->model, config, &p->plan);
  } catch (const std::bad_alloc&) {
    return fail(GNRT_OUT_OF_MEMORY, "out of memory creating a plan");
  } catch (const std::exception& e) {  // e.g. std::system_error when a worker thread cannot start
    return fail(GNRT_INTERNAL, (std::string("creating a plan failed: ") + e.what()).c_str());
  }
#else
  s = gnrt::Plan::create(model->model, config, &p->plan);
#endif
  if (!s.ok()) return fail(s);
  *plan = p.release();
  return GNRT_OK;
}

void gnrt_plan_destroy(gnrt_plan* plan) { delete plan; }

size_t gnrt_plan_arena_bytes(const gnrt_plan* plan) { return plan ? plan->plan->arena_bytes() : 0; }
size_t gnrt_plan_weight_bytes(const gnrt_plan* plan) {
  return plan ? plan->plan->weight_bytes() : 0;
}

static gnrt_status shape_of(const gnrt_plan* plan, int tensor, int dims[4]) {
  const gnrt::TensorLayout& l = plan->plan->layout(tensor);
  dims[0] = 1;
  dims[1] = l.channels;
  dims[2] = l.height;
  dims[3] = l.width;
  return GNRT_OK;
}

gnrt_status gnrt_plan_input_shape(const gnrt_plan* plan, int dims[4]) {
  if (!plan || !dims) return fail(GNRT_INVALID_ARGUMENT, "gnrt_plan_input_shape: NULL argument");
  return shape_of(plan, plan->plan->input_tensor(), dims);
}

gnrt_status gnrt_plan_output_shape(const gnrt_plan* plan, int dims[4]) {
  if (!plan || !dims) return fail(GNRT_INVALID_ARGUMENT, "gnrt_plan_output_shape: NULL argument");
  return shape_of(plan, plan->plan->output_tensor(), dims);
}

gnrt_status gnrt_plan_set_input(gnrt_plan* plan, const float* data, size_t count) {
  if (!plan) return fail(GNRT_INVALID_ARGUMENT, "plan is NULL");
  const gnrt::Status s = plan->plan->set_input(data, count);
  return s.ok() ? GNRT_OK : fail(s);
}

gnrt_status gnrt_plan_set_input_image_u8(gnrt_plan* plan, const uint8_t* pixels, int height,
                                         int width, int channels) {
  if (!plan) return fail(GNRT_INVALID_ARGUMENT, "plan is NULL");
  const gnrt::Status s = gnrt::set_input_image(plan->plan.get(), pixels, height, width, channels);
  return s.ok() ? GNRT_OK : fail(s);
}

gnrt_status gnrt_plan_run(gnrt_plan* plan) {
  if (!plan) return fail(GNRT_INVALID_ARGUMENT, "plan is NULL");
  const gnrt::Status s = plan->plan->run();
  return s.ok() ? GNRT_OK : fail(s);
}

gnrt_status gnrt_plan_get_output(const gnrt_plan* plan, float* data, size_t count) {
  if (!plan) return fail(GNRT_INVALID_ARGUMENT, "plan is NULL");
  const gnrt::Status s = plan->plan->get_output(data, count);
  return s.ok() ? GNRT_OK : fail(s);
}

gnrt_status gnrt_plan_set_profiling(gnrt_plan* plan, int enabled) {
  if (!plan) return fail(GNRT_INVALID_ARGUMENT, "plan is NULL");
  plan->plan->set_profiling(enabled != 0);
  return GNRT_OK;
}

int gnrt_plan_num_operators(const gnrt_plan* plan) {
  return plan ? static_cast<int>(plan->plan->ops().size()) : 0;
}

const char* gnrt_plan_operator_name(const gnrt_plan* plan, int index) {
  if (!plan || index < 0 || index >= gnrt_plan_num_operators(plan)) return nullptr;
  return plan->plan->ops()[index].desc->name.c_str();
}

const char* gnrt_plan_operator_kernel(const gnrt_plan* plan, int index) {
  if (!plan || index < 0 || index >= gnrt_plan_num_operators(plan)) return nullptr;
  return plan->plan->ops()[index].kernel_name;
}

uint64_t gnrt_plan_operator_nanoseconds(const gnrt_plan* plan, int index) {
  if (!plan || index < 0 || index >= gnrt_plan_num_operators(plan)) return 0;
  return plan->plan->ops()[index].nanoseconds;
}

const char* gnrt_plan_isa(const gnrt_plan* plan) {
  return plan ? gnrt::kernels::isa_name(plan->plan->isa()) : "";
}

}  // extern "C"
