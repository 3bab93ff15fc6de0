// The model fuzz target's entry point, shared by the libFuzzer build (fuzz_model) and the corpus
// replay driver (fuzz_model_replay).
#pragma once

#include <cstddef>
#include <cstdint>

#include "gnrt/gnrt.h"

namespace gnrt_fuzz {

// What happened to one input. Statuses are GNRT_OK or an error; a stage that was not reached
// keeps kNotReached.
constexpr int kNotReached = -1;

struct Outcome {
  int load = kNotReached;      // gnrt_model_load_buffer
  int plan = kNotReached;      // gnrt_plan_create at the default size (capped)
  int plan_alt = kNotReached;  // gnrt_plan_create at a size derived from the input bytes
  int runs = 0;                // successful gnrt_plan_run calls
};

// Loads `data`, plans it twice with a 32 MiB arena cap, runs each plan that succeeds and checks
// the API's invariants. Any violated invariant aborts (after printing what was violated), so that
// both libFuzzer and the replay test report it.
Outcome exercise(const std::uint8_t* data, std::size_t size);

// Short name for a stage status ("ok", "GNRT_INVALID_MODEL", "-").
const char* status_name(int status);

}  // namespace gnrt_fuzz
