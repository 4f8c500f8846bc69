// Expanding dataset path patterns into files (DESIGN.md §3.1): `*`, `?` and `[...]` match
// within one path component (never across '/'), `**` matches any number of folders;
// hidden files and folders (names starting with '.') are skipped unless the pattern names
// them explicitly; symlinks are followed (a folder reached twice is visited once); a
// literal folder means every non-hidden file below it. The result is sorted by path, so file
// ids are deterministic.
#pragma once

#include <string>
#include <vector>

#include "mixtera/result.h"

namespace mixtera::ingest {

// Returns the sorted, de-duplicated absolute paths of the regular files matched by any of
// `patterns` (absolute patterns). Errors: NotFound naming a pattern that matches nothing.
Result<std::vector<std::string>> ExpandPathPatterns(const std::vector<std::string>& patterns);

}  // namespace mixtera::ingest
