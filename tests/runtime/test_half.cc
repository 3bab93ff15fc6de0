// gnrt/half.h: the float16 <-> float32 conversions the loader's float16 weights go through.
#include <doctest/doctest.h>

#include <cmath>
#include <initializer_list>

#include "gnrt/half.h"

TEST_CASE("half conversion round-trips and rounds to nearest even") {
  for (float v : {0.0f, 1.0f, -2.5f, 65504.0f, 6.1035156e-05f, 5.9604645e-08f, 0.333251953125f})
    CHECK(gnrt::half_to_float(gnrt::float_to_half(v)) == v);
  CHECK(gnrt::float_to_half(1.0f + 1.0f / 2048) == gnrt::float_to_half(1.0f));  // tie -> even
  CHECK(gnrt::half_to_float(gnrt::float_to_half(1e6f)) == INFINITY);
  CHECK(gnrt::half_to_float(gnrt::float_to_half(1e-9f)) == 0.0f);
}
