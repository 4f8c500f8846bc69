// Reads the samples a chunk names (DESIGN.md §3.6): for every key part of the descriptor, the
// texts of its ranges' samples, in range order. Each data file is read once per chunk (all
// keys' samples of it together) through formats::ReadSampleTexts, which checks the file's
// size and mtime against registration first and uses the stored offsets and seek points.
//
// Thread safety: pure function of its arguments (files are only read).
#pragma once

#include <string>
#include <vector>

#include "chunk/job.h"
#include "formats/sample_reader.h"
#include "mixtera/result.h"

namespace mixtera::client {

// texts[p][i] is the text of the i-th sample of chunk.keys[p] (ranges in order); with
// `records`, the whole record instead (formats::ReadSampleRecords, dict mode). Errors: those
// of formats::ReadSampleTexts / ReadSampleRecords (a missing or changed file, corrupt
// offsets, ...), naming the file; InvalidArgument for a range outside the job's file table.
// `cache` (optional) keeps files' readers open from one chunk to the next.
Result<std::vector<std::vector<std::string>>> ReadChunkTexts(const chunk::JobDefinition& job,
                                                             const chunk::ChunkDescriptor& chunk,
                                                             bool records = false,
                                                             formats::ReaderCache* cache = nullptr);

}  // namespace mixtera::client
