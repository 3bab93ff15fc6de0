/* libgnrt: sparse CNN inference runtime. The one public header; C-callable.
 *
 * Lifecycle:  load (gnrt_model) -> plan (gnrt_plan) -> set input -> run -> read output -> destroy.
 *
 * Ownership and lifetimes
 *  - gnrt_model_load_buffer reads the model in place: the caller's buffer must stay valid and
 *    unchanged until gnrt_model_destroy. gnrt_model_load_file maps the file; the model owns the
 *    mapping.
 *  - A gnrt_model is immutable after loading and may be shared by several plans and threads.
 *    It must outlive every plan created from it.
 *  - A gnrt_plan owns its arena and packed weights. gnrt_plan_run allocates nothing. One plan is
 *    used by one thread at a time; use one plan per thread for concurrent inference.
 *  - Strings returned by the library (labels, names, errors) are owned by the library. Model
 *    strings live as long as the model; gnrt_last_error's string until the next failing call on
 *    the same thread.
 *
 * Errors: every call that can fail returns a gnrt_status; on failure a message naming the
 * offending tensor, operator or argument is available from gnrt_last_error() (thread-local).
 * No function throws or aborts on bad input.
 */
#ifndef GNRT_GNRT_H_
#define GNRT_GNRT_H_

#include <stddef.h>
#include <stdint.h>

#include "gnrt/gnrt_export.h"

#ifdef __cplusplus
extern "C" {
#endif

#define GNRT_VERSION_MAJOR 0
#define GNRT_VERSION_MINOR 1
#define GNRT_VERSION_PATCH 0

/* Status codes. New codes are only ever appended; treat unknown nonzero values as errors. */
typedef enum gnrt_status {
  GNRT_OK = 0,
  GNRT_INVALID_ARGUMENT = 1, /* a NULL handle, an out-of-range size, a wrong buffer length */
  GNRT_IO_ERROR = 2,         /* a file could not be opened, read or mapped */
  GNRT_INVALID_MODEL = 3,    /* the bytes are not a valid .gnrt model */
  GNRT_UNSUPPORTED = 4,      /* valid, but uses something this build cannot run */
  GNRT_OUT_OF_MEMORY = 5,
  GNRT_RESOURCE_LIMIT = 6, /* the plan would exceed gnrt_options.max_arena_bytes or max_macs */
  GNRT_INVALID_STATE = 7,  /* e.g. run before an input was set */
  GNRT_INTERNAL = 8
} gnrt_status;

typedef struct gnrt_model gnrt_model;
typedef struct gnrt_plan gnrt_plan;

/* "MAJOR.MINOR.PATCH"; static storage. */
GNRT_API const char* gnrt_version(void);

/* Short name of a status, e.g. "GNRT_INVALID_MODEL"; static storage. */
GNRT_API const char* gnrt_status_string(gnrt_status status);

/* Message of the last failing call on this thread, or "" if none. */
GNRT_API const char* gnrt_last_error(void);

/* ----------------------------------------------------------------------------------------- */
/* Models */

GNRT_API gnrt_status gnrt_model_load_buffer(const void* data, size_t size, gnrt_model** model);
GNRT_API gnrt_status gnrt_model_load_file(const char* path, gnrt_model** model);
/* NULL is accepted and ignored. */
GNRT_API void gnrt_model_destroy(gnrt_model* model);

typedef struct gnrt_model_info {
  const char* name; /* never NULL; "" if absent */
  int input_channels;
  int default_height;
  int default_width;
  int num_classes; /* elements of the (first) output at any input size */
  int num_operators;
  int num_tensors;
  uint64_t params_dense;          /* weights of the deployed conv/FC layers if stored dense */
  uint64_t nonzeros;              /* nonzero weights actually stored */
  uint64_t params_dense_training; /* pruning summary from the producer, 0 if unknown */
  uint64_t nonzeros_training;
  float test_accuracy; /* as recorded by the producer, -1 if unknown */
} gnrt_model_info;

GNRT_API gnrt_status gnrt_model_get_info(const gnrt_model* model, gnrt_model_info* info);

/* Class label `index` (0 <= index < num_classes), or NULL when the model has no labels. */
GNRT_API const char* gnrt_model_label(const gnrt_model* model, int index);

/* Input normalization of channel c: x = (pixel / 255 - mean) / std. Defaults 0 and 1. */
GNRT_API gnrt_status gnrt_model_normalization(const gnrt_model* model, int channel, float* mean,
                                              float* std_dev);

/* ----------------------------------------------------------------------------------------- */
/* Plans */

typedef struct gnrt_options {
  size_t struct_size;     /* sizeof(gnrt_options); set by gnrt_options_init */
  int num_threads;        /* >= 1; default 1 */
  int input_height;       /* 0: the model's default */
  int input_width;        /* 0: the model's default */
  size_t max_arena_bytes; /* plans needing a larger arena fail with GNRT_RESOURCE_LIMIT;
                              default 512 MiB; 0 means the default */
  int force_reference;    /* nonzero: use the scalar reference kernels only (for testing) */
  uint64_t max_macs;      /* plans whose one run needs more dense-equivalent multiply-adds plus
                              pooling taps fail with GNRT_RESOURCE_LIMIT; default 2^37 (GoogLeNet
                              at 224x224 needs 1.6e9); 0 means the default */
} gnrt_options;

GNRT_API void gnrt_options_init(gnrt_options* options);

/* Infers shapes for the chosen input size, packs weights, plans one arena. options may be NULL
 * (defaults). */
GNRT_API gnrt_status gnrt_plan_create(const gnrt_model* model, const gnrt_options* options,
                                      gnrt_plan** plan);
GNRT_API void gnrt_plan_destroy(gnrt_plan* plan);

/* Bytes of the activation arena this plan uses (excluding packed weights). */
GNRT_API size_t gnrt_plan_arena_bytes(const gnrt_plan* plan);
/* Bytes of plan-owned weight data (packed / converted weights, offset tables). */
GNRT_API size_t gnrt_plan_weight_bytes(const gnrt_plan* plan);

/* Shapes as NCHW (batch 1). dims must hold 4 entries. */
GNRT_API gnrt_status gnrt_plan_input_shape(const gnrt_plan* plan, int dims[4]);
GNRT_API gnrt_status gnrt_plan_output_shape(const gnrt_plan* plan, int dims[4]);

/* Copies `count` floats (must equal C*H*W of the input) in NCHW order into the plan. */
GNRT_API gnrt_status gnrt_plan_set_input(gnrt_plan* plan, const float* data, size_t count);

/* Convenience for apps: interleaved 8-bit pixels (height x width x channels, channels 1 or 3),
 * resized bilinearly to the plan's input size, converted to the model's channel count
 * (gray <-> RGB) and normalized with the model's mean/std. */
GNRT_API gnrt_status gnrt_plan_set_input_image_u8(gnrt_plan* plan, const uint8_t* pixels,
                                                  int height, int width, int channels);

/* Runs the model on the current input. Allocates nothing. */
GNRT_API gnrt_status gnrt_plan_run(gnrt_plan* plan);

/* Copies the output (count must equal its element count) after a successful run. */
GNRT_API gnrt_status gnrt_plan_get_output(const gnrt_plan* plan, float* data, size_t count);

/* Per-operator timing of the last run, in nanoseconds, when profiling was enabled with
 * gnrt_plan_set_profiling. Returns the number of operators. */
GNRT_API gnrt_status gnrt_plan_set_profiling(gnrt_plan* plan, int enabled);
GNRT_API int gnrt_plan_num_operators(const gnrt_plan* plan);
GNRT_API const char* gnrt_plan_operator_name(const gnrt_plan* plan, int index);
/* Kernel chosen for operator `index`, e.g. "f32_conv2d_sparse__scalar". */
GNRT_API const char* gnrt_plan_operator_kernel(const gnrt_plan* plan, int index);
GNRT_API uint64_t gnrt_plan_operator_nanoseconds(const gnrt_plan* plan, int index);

/* Instruction set the optimized kernels were chosen for ("scalar", "avx2", "avx512", "neon"). */
GNRT_API const char* gnrt_plan_isa(const gnrt_plan* plan);

#ifdef __cplusplus
}
#endif

#endif /* GNRT_GNRT_H_ */
