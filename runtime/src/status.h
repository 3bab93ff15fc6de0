// Internal status: a code from the public enum and a message for gnrt_last_error.
#pragma once

#include <string>

#include "gnrt/gnrt.h"

namespace gnrt {

struct Status {
  gnrt_status code = GNRT_OK;
  std::string message;
  bool ok() const { return code == GNRT_OK; }
  static Status Ok() { return {}; }
};

inline Status make_error(gnrt_status code, std::string message) {
  return Status{code, std::move(message)};
}

}  // namespace gnrt
