// Mixture files (DESIGN.md §3.4; the full format with the nested hierarchical and schedule
// forms is in docs/mixtures.md). The Python mixture classes send the same document as JSON.
#pragma once

#include <string>
#include <string_view>

#include "mixtera/result.h"
#include "model/mixture_spec.h"

namespace mixtera::mixture {

// Parses a mixture document (YAML or JSON). `origin` names it in errors (a path, or
// "mixture"). Hierarchical trees are flattened into static weights (products down the
// tree). Errors: InvalidArgument naming the offending entry: unknown keys, a missing or
// wrong-typed field, weights that are negative or do not sum to 1 (tolerance 1e-3; they
// are then renormalized), empty keys or value lists, repeat < 1, chunk_size < 1, weights
// on a mixture type that takes none.
Result<model::MixtureSpec> ParseMixtureSpec(std::string_view text, const std::string& origin);
// Reads and parses a mixture file. Errors: IOError naming the path, or as above.
Result<model::MixtureSpec> ParseMixtureSpecFile(const std::string& path);

// The canonical JSON form (hierarchical already flattened: type "static" with
// "hierarchical": true). ParseMixtureSpec(MixtureSpecToJson(s)) gives back s.
std::string MixtureSpecToJson(const model::MixtureSpec& spec);

// {"prop": [values], ...} with properties sorted by name.
std::string MixtureKeyToJson(const model::MixtureKey& key);
// "prop:v1:v2;prop2:v3" (the original's string form), for human-readable output.
std::string MixtureKeyToString(const model::MixtureKey& key);

}  // namespace mixtera::mixture
