#include "base/logging.h"

#include <unistd.h>

#include <cstdio>
#include <mutex>
#include <string>

#include "base/macros.h"

namespace mixtera {
namespace {
std::mutex& StderrMutex() {
  static std::mutex mu;
  return mu;
}
}  // namespace

void LogWarning(std::string_view msg) {
  std::lock_guard<std::mutex> lock(StderrMutex());
  std::fprintf(stderr, "mixtera: warning: %.*s\n", static_cast<int>(msg.size()), msg.data());
}

void LogInfo(std::string_view msg) {
  std::lock_guard<std::mutex> lock(StderrMutex());
  std::fprintf(stderr, "mixtera: %.*s\n", static_cast<int>(msg.size()), msg.data());
}

bool StderrIsTerminal() { return isatty(STDERR_FILENO) == 1; }

namespace internal {
void CheckFailed(const char* cond, const char* file, int line) {
  std::fprintf(stderr, "mixtera: check failed at %s:%d: %s\n", file, line, cond);
  std::abort();
}
}  // namespace internal

}  // namespace mixtera
