// Diagnostics on stderr. stdout belongs to command output (DESIGN.md §3.2), so everything
// here writes to stderr. Thread safety: all functions may be called from any thread.
#pragma once

#include <string_view>

namespace mixtera {

// Writes "mixtera: warning: <msg>" on stderr.
void LogWarning(std::string_view msg);
// Writes "mixtera: <msg>" on stderr.
void LogInfo(std::string_view msg);

// True when stderr is a terminal (progress output is shown only then).
bool StderrIsTerminal();

}  // namespace mixtera
