// Reading a small file a user names — a dataset spec, a mixture file — whole, with bounds: a
// device (/dev/zero), a FIFO or a folder given in its place is an error, not a hang.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "mixtera/result.h"

namespace mixtera {

inline constexpr int64_t kMaxSmallFileBytes = int64_t{16} << 20;

// The contents of the regular file `path`. `what` names it in errors ("spec file").
// Errors: NotFound when missing; InvalidArgument when not a regular file or larger than
// `max_bytes`; IOError when it cannot be read.
Result<std::string> ReadSmallFile(const std::string& path, std::string_view what,
                                  int64_t max_bytes = kMaxSmallFileBytes);

}  // namespace mixtera
