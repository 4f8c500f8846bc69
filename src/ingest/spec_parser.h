// Parsing and validating dataset specs (DESIGN.md §3.1; user documentation in
// docs/dataset_spec.md).
//
// A spec is a YAML or JSON mapping with the keys name, format, path, text, properties,
// on_error and preset. Unknown keys are an error, so a typo never silently changes what is
// registered.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "mixtera/result.h"
#include "model/dataset_spec.h"

namespace mixtera::ingest {

// Parses `text` (YAML or JSON). Relative paths resolve against `base_dir`.
// Errors: InvalidArgument naming the offending key and value.
Result<model::DatasetSpec> ParseDatasetSpec(std::string_view text, const std::string& base_dir);

// Reads and parses a spec file; relative paths resolve against the file's folder.
// Errors: NotFound / IOError for the file, InvalidArgument for its content (prefixed with
// the file's path).
Result<model::DatasetSpec> ParseDatasetSpecFile(const std::string& path);

// The preset names ("FINEWEB", "PILE", "RED_PAJAMA", "SLIM_PAJAMA").
std::vector<std::string> PresetNames();

// The properties of preset `name` for `format` (fields in that format's syntax).
// Errors: InvalidArgument naming the known presets.
Result<std::vector<model::PropertySchema>> PresetProperties(std::string_view name,
                                                            model::DataFormat format);

}  // namespace mixtera::ingest
