// `mixtera query` (a dry run: what a query and a mixture would produce) and `mixtera
// chunks` (the chunk stream of one dp group), DESIGN.md §3.2 conventions.
#pragma once

#include <cstdint>
#include <string>

#include "chunk/job.h"

namespace mixtera::cli {

struct QueryCommand {
  std::string dir;
  std::string where;
  std::string mixture_path;  // empty: components only
  std::string tokenizer;     // for unit: tokens
  chunk::TokenPacking packing;
  bool json = false;
  bool bytes = true;        // compute the bytes of the matching samples from the offsets files
  int64_t max_listed = 20;  // components listed in the text output
};
int RunQuery(const QueryCommand& cmd);

struct ChunksCommand {
  std::string dir;
  std::string where;
  std::string mixture_path;
  std::string tokenizer;  // for unit: tokens
  chunk::TokenPacking packing;
  bool has_seed = false;
  uint64_t seed = 0;
  int64_t dp_groups = 1;
  int64_t dp_group = 0;
  int64_t limit = -1;  // -1: until the end
  bool json = false;
};
int RunChunks(const ChunksCommand& cmd);

}  // namespace mixtera::cli
