// Reading the text of given samples of one registered data file: the client's read path
// (DESIGN.md §3.6). A job's file table says where a file is, how it was registered (size,
// mtime, format, compression, text selector) and where its offsets live; this reads the text
// of any subset of its samples without scanning the file.
//
//   SampleFile file{.path = jf.path, .format = jf.format, .compression = jf.compression,
//                   .text_fields = jf.text_fields, .offsets_path = jf.offsets_path,
//                   .size_bytes = jf.size_bytes, .mtime_ns = jf.mtime_ns};
//   MIXTERA_ASSIGN_OR_RETURN(std::vector<std::string> texts,
//                            ReadSampleTexts(file, {3, 4, 5, 90}));
//
// How each format is read:
//   jsonl       The offsets file ("<offsets_path>.offsets") gives every line's extent in the
//               decompressed stream. Wanted samples are grouped into spans (runs of
//               consecutive samples, also bridging gaps of up to kMaxSpanGapBytes) and each
//               span is one positioned read (plain files) or one stretch of decoding
//               (compressed files: from the last seek point of "<offsets_path>.seek" at or
//               before the span, decoding forward across later spans and reopening at a seek
//               point only when that skips decoding). Each line is parsed as JSON and the text
//               fields are resolved as JSON pointers (the same rules as ingest: RFC 6901
//               escapes, array indices; "" is the whole record).
//   webdataset  The same spans over the tar stream (plain or compressed); a sample's extent
//               runs from its first member's header to the end of its last member, and the
//               tar headers inside are parsed with TarSampleScanner. The text fields are
//               member extensions ("txt"); a member's bytes are its text.
//   parquet     The text columns of the wanted rows (file_row_number) through the process's
//               in-memory DuckDB instance; see ReadParquetSampleTexts.
// Several text fields are joined with kTextFieldSeparator, in the order declared.
//
// Targets: ReadSampleTexts and ReadParquetSampleTexts are defined in mixtera::formats_parquet
// (Parquet needs DuckDB); everything else here is in mixtera::formats, which does not link
// DuckDB. A client links mixtera::formats_parquet.
//
// Thread safety: the functions keep no state between calls (beyond the shared DuckDB
// instance, which is safe to use from several threads); they may be called concurrently.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "formats/tar_reader.h"
#include "mixtera/result.h"
#include "mixtera/status.h"

namespace mixtera::formats {

// What a job knows about a registered data file (chunk::JobFile carries the same fields).
struct SampleFile {
  std::string path;
  std::string format;       // "jsonl" | "parquet" | "webdataset"
  std::string compression;  // "none" | "gzip" | "zstd" | "xz" | "bz2" (jsonl and webdataset)
  // JSON pointers ("/text") for jsonl, column names for parquet, member extensions ("txt")
  // for webdataset. At least one is needed to read texts.
  std::vector<std::string> text_fields;
  // "<dir>/offsets/<dataset_id>/<file_id>"; the reader appends ".offsets" and ".seek".
  std::string offsets_path;
  int64_t size_bytes = 0;  // as registered
  int64_t mtime_ns = 0;    // as registered (st_mtim in nanoseconds)
};

// Joins the values of several text fields of one sample.
inline constexpr std::string_view kTextFieldSeparator = "\n\n";
// Wanted samples closer than this (bytes between one's end and the next one's start) are read
// in one span. For compressed files the gap is free (it is decoded anyway); for plain files a
// read of the gap costs a copy, so they join only across gaps that copy in about the time of
// another pread().
inline constexpr int64_t kMaxSpanGapBytes = int64_t{64} << 10;
inline constexpr int64_t kMaxPlainSpanGapBytes = int64_t{4} << 10;
// A span grows past this only to hold a single sample larger than it; it bounds the reader's
// buffer (the texts themselves are returned whole).
inline constexpr int64_t kMaxSpanBytes = int64_t{32} << 20;

// Keeps the per-file state of recent reads — the offsets and the byte-range reader, whose
// decoder stays where the last read stopped — so that reading a later part of a compressed
// file continues decoding instead of restarting at a seek point (a stream's consecutive
// chunks). Holds up to `max_files` files, dropping the least recently used; an entry is
// used only for the same path, size and mtime. Not thread-safe: one cache per reading
// thread.
class ReaderCache {
 public:
  explicit ReaderCache(size_t max_files = 32);
  ~ReaderCache();
  ReaderCache(const ReaderCache&) = delete;
  ReaderCache& operator=(const ReaderCache&) = delete;

  // The number of files whose readers are held now (at most `max_files`).
  size_t size() const;

  struct Impl;  // sample_reader.cc
  std::unique_ptr<Impl> impl_;
};

// Returns the text of each sample in `sample_ids`, in that order (one string per id).
// `cache` (optional) keeps JSONL and WebDataset readers open across calls.
//
// Before reading, checks the file against its registration (CheckSampleFile). Errors:
//   NotFound             the data file, its offsets file or its seek-point file is missing;
//   FailedPrecondition   the file's size or mtime changed since registration (names both);
//   InvalidArgument      `sample_ids` not strictly ascending; an unknown format or
//                        compression; no text fields; a text field missing from a sample or
//                        not a string (JSON) / a NULL (Parquet) / a missing member
//                        (WebDataset) — naming the file, the sample and the field; a blank
//                        JSONL line (not a sample); a text column that does not exist or is
//                        not VARCHAR;
//   OutOfRange           a sample id at or beyond the file's number of records;
//   Corruption           a record that no longer parses (bad JSON, a bad tar header), or
//                        offsets that do not match the data file;
//   IOError              the OS failed.
// All messages name the data file's path.
Result<std::vector<std::string>> ReadSampleTexts(const SampleFile& file,
                                                 const std::vector<uint32_t>& sample_ids,
                                                 ReaderCache* cache = nullptr);

// Dict mode (DESIGN.md §3.6): each sample whole, with all its fields, in `sample_ids` order.
//   jsonl       the record's JSON text (the line), checked to parse as a JSON object;
//   webdataset  the sample's key and all its members (EncodeTarRecord's framing);
//   parquet     every column of the row as one JSON object (DuckDB's to_json; BLOBs become
//               strings), plus the key "file_row_number".
// Checks and errors as ReadSampleTexts (text fields are not needed).
Result<std::vector<std::string>> ReadSampleRecords(const SampleFile& file,
                                                   const std::vector<uint32_t>& sample_ids,
                                                   ReaderCache* cache = nullptr);

// The framing of a WebDataset record: u32 key length, key, u32 member count, then per
// member u32 extension length, extension, u64 data length, data (little-endian).
std::string EncodeTarRecord(const std::string& key, const std::vector<TarMember>& members);

// ---- Building blocks (ReadSampleTexts = CheckSampleFile + the reader of the format) ----

// Checks that `file.path` exists with the registered size and mtime. Errors: NotFound ("<path>:
// missing ..."), FailedPrecondition ("<path>: changed since registration: size A -> B bytes,
// mtime X -> Y ns"), IOError.
Status CheckSampleFile(const SampleFile& file);

// Checks that `sample_ids` is strictly ascending. Errors: InvalidArgument naming the path.
Status CheckSampleIds(const SampleFile& file, const std::vector<uint32_t>& sample_ids);

// The per-format readers behind ReadSampleTexts. They do not check size and mtime.
// REQUIRES: CheckSampleIds(file, sample_ids) is OK; the format matches.
// In mixtera::formats:
Result<std::vector<std::string>> ReadJsonlSampleTexts(const SampleFile& file,
                                                      const std::vector<uint32_t>& sample_ids);
Result<std::vector<std::string>> ReadWebDatasetSampleTexts(const SampleFile& file,
                                                           const std::vector<uint32_t>& sample_ids);
// JSONL or WebDataset texts (or records), through `cache` when given.
Result<std::vector<std::string>> ReadByteSamples(const SampleFile& file,
                                                 const std::vector<uint32_t>& sample_ids,
                                                 bool records, ReaderCache* cache);
Result<std::vector<std::string>> ReadJsonlSampleRecords(const SampleFile& file,
                                                        const std::vector<uint32_t>& sample_ids);
Result<std::vector<std::string>> ReadWebDatasetSampleRecords(
    const SampleFile& file, const std::vector<uint32_t>& sample_ids);
// In mixtera::formats_parquet. The rows are selected with a bitmap over the range between the
// first and the last wanted row, split where wanted rows are far apart, so DuckDB decodes
// only the row groups that hold wanted rows.
Result<std::vector<std::string>> ReadParquetSampleTexts(const SampleFile& file,
                                                        const std::vector<uint32_t>& sample_ids);
Result<std::vector<std::string>> ReadParquetSampleRecords(const SampleFile& file,
                                                          const std::vector<uint32_t>& sample_ids);

}  // namespace mixtera::formats
