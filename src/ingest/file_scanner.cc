#include "ingest/file_scanner.h"

#include <simdjson.h>

#include <cstring>
#include <map>
#include <memory>
#include <optional>
#include <set>

#include "base/macros.h"
#include "base/strings.h"
#include "formats/input_stream.h"
#include "formats/line_reader.h"
#include "formats/offsets_file.h"
#include "formats/parquet_scanner.h"
#include "formats/tar_reader.h"
#include "ingest/fast_json_parser.h"

namespace mixtera::ingest {
namespace {

using model::DataFormat;
using model::FileRecord;
using model::SampleBatch;

static_assert(formats::LineReader::kPadding >= simdjson::SIMDJSON_PADDING,
              "line buffers must leave simdjson's padding after each line");

bool IsBlank(std::string_view line) {
  for (char c : line) {
    if (c != ' ' && c != '\t' && c != '\r') return false;
  }
  return true;
}

std::string JsonErrorText(simdjson::error_code code) {
  if (code == simdjson::UTF8_ERROR) return "invalid UTF-8";
  return StrCat("malformed JSON (", simdjson::error_message(code), ")");
}

// Handles bad records per on_error: counts and keeps an example under skip, or returns the
// located error under fail.
class BadRecordPolicy {
 public:
  BadRecordPolicy(ScanShared* shared, FileRecord* file) : shared_(shared), file_(file) {}

  // `where` is e.g. "line 3"; returns OK when the record is skipped.
  Status Handle(const std::string& where, const Status& error) {
    return HandleLocated(
        Status(error.code(), StrCat(file_->path, ": ", where, ": ", error.message())));
  }

  // As Handle(), for an error whose message already names the file and the record.
  Status HandleLocated(const Status& error) {
    std::string msg = error.message();
    if (shared_->spec->on_error == model::OnError::kFail) {
      return Status(error.code(), msg + " (set on_error: skip to skip bad records)");
    }
    ++file_->num_skipped;
    std::lock_guard<std::mutex> lock(shared_->mu);
    if (static_cast<int>(shared_->skipped_examples.size()) <
        shared_->options->max_reported_errors) {
      shared_->skipped_examples.push_back(std::move(msg));
    }
    return Status::OK();
  }

 private:
  ScanShared* shared_;
  FileRecord* file_;
};

class Scanner {
 public:
  Scanner(ScanShared* shared, FileRecord* file, const BatchSink& emit)
      : shared_(shared),
        file_(file),
        emit_(emit),
        bad_(shared, file),
        batch_(shared->TakeBatch(file->file_id)) {}

  Status Run() {
    switch (shared_->spec->format) {
      case DataFormat::kJsonl:
        return shared_->parser ? ScanJsonlWithParser() : ScanJsonl();
      case DataFormat::kWebDataset:
        return ScanTar();
      case DataFormat::kParquet:
        return ScanParquet();
    }
    return Status::Internal("unknown format");
  }

 private:
  std::string OffsetsPath() const {
    return StrCat(shared_->offsets_dir, "/", file_->file_id, ".offsets");
  }
  std::string SeekPath() const {
    return StrCat(shared_->offsets_dir, "/", file_->file_id, ".seek");
  }

  Result<std::unique_ptr<formats::InputStream>> OpenStream() {
    MIXTERA_ASSIGN_OR_RETURN(file_->compression, formats::DetectFileCompression(file_->path));
    formats::InputStreamOptions opts;
    opts.gzip_checkpoint_interval = shared_->options->gzip_checkpoint_interval;
    if (file_->compression != model::Compression::kNone) opts.seek_points = &seek_points_;
    return formats::OpenInputStream(file_->path, file_->compression, opts);
  }

  // Writes the seek points of a compressed file and warns when a large one has none.
  Status FinishStream(int64_t decompressed_bytes) {
    if (file_->compression == model::Compression::kNone) return Status::OK();
    file_->num_seek_points = static_cast<int64_t>(seek_points_.size());
    MIXTERA_RETURN_IF_ERROR(formats::WriteSeekPoints(SeekPath(), seek_points_));
    if (seek_points_.empty() && decompressed_bytes > shared_->options->gzip_checkpoint_interval) {
      std::lock_guard<std::mutex> lock(shared_->mu);
      shared_->warnings.push_back(StrCat(
          file_->path, ": ", model::CompressionName(file_->compression), " file of ",
          HumanBytes(decompressed_bytes),
          " has no seek points (e.g. a single zstd frame): clients will decode it from the start "
          "to read any range; recompress with frames (zstd --long -B) for random access"));
    }
    return Status::OK();
  }

  // Ends a streamed file: record count, offsets, seek points, the last batch.
  Status FinishFile(formats::OffsetsWriter* offsets, int64_t end_offset) {
    file_->num_records = offsets->num_records();
    MIXTERA_RETURN_IF_ERROR(CheckNotEmpty(file_->num_records));
    MIXTERA_RETURN_IF_ERROR(offsets->Finish());
    MIXTERA_RETURN_IF_ERROR(FinishStream(end_offset));
    Flush();
    return Status::OK();
  }

  void FlushIfFull() {
    if (batch_.num_rows() >= shared_->options->batch_rows) Flush();
  }
  void Flush() {
    if (batch_.num_rows() == 0) return;
    shared_->samples_done += static_cast<int64_t>(batch_.num_rows());
    file_->num_samples += static_cast<int64_t>(batch_.num_rows());
    emit_(std::move(batch_));
    batch_ = shared_->TakeBatch(file_->file_id);
  }

  Status CheckNotEmpty(int64_t records) {
    if (records == 0) {
      return Status::InvalidArgument(StrCat(file_->path, ": file is empty (no records)"));
    }
    return Status::OK();
  }

  static std::string LineWhere(int64_t index) { return StrCat("line ", index + 1); }

  std::vector<std::string> PropertyPointers() const {
    std::vector<std::string> pointers;
    for (const auto& p : shared_->spec->properties) pointers.push_back(p.field);
    return pointers;
  }

  Status ScanJsonl() {
    MIXTERA_ASSIGN_OR_RETURN(auto stream, OpenStream());
    MIXTERA_ASSIGN_OR_RETURN(auto offsets, formats::OffsetsWriter::Create(OffsetsPath()));
    formats::LineReader reader(std::move(stream));
    simdjson::dom::parser parser;
    // The fast path serves clean records; anything else goes through the DOM path below,
    // which decides and words the error.
    std::unique_ptr<FastJsonRecordParser> fast = FastJsonRecordParser::Make(
        shared_->spec->properties, PropertyPointers(), shared_->spec->text_fields);
    formats::LineReader::Line line;
    int64_t end_offset = 0;
    for (;;) {
      MIXTERA_ASSIGN_OR_RETURN(bool more, reader.Next(&line));
      if (!more) break;
      if ((line.index & 1023) == 0 && shared_->cancelled.load(std::memory_order_relaxed)) {
        return Status::Cancelled("registration cancelled");
      }
      MIXTERA_RETURN_IF_ERROR(offsets->Add(line.offset, static_cast<int64_t>(line.bytes.size())));
      end_offset = line.offset + static_cast<int64_t>(line.bytes.size());
      if (IsBlank(line.bytes)) continue;
      if (fast != nullptr && fast->Parse(line.bytes, &batch_)) {
        batch_.sample_ids.push_back(line.index);
        FlushIfFull();
        continue;
      }
      simdjson::dom::element doc;
      auto error = parser
                       .parse(reinterpret_cast<const uint8_t*>(line.bytes.data()),
                              line.bytes.size(), /*realloc_if_needed=*/false)
                       .get(doc);
      Status st;
      if (error) {
        st = Status::Corruption(JsonErrorText(error));
      } else if (!doc.is_object()) {
        st = Status::Corruption(StrCat("expected a JSON object, got ", DescribeJson(doc)));
      } else {
        st = shared_->json_extractor->CheckText(doc);
        if (st.ok()) st = shared_->json_extractor->Extract(doc, &batch_);
      }
      if (!st.ok()) {
        MIXTERA_RETURN_IF_ERROR(bad_.Handle(LineWhere(line.index), st));
        continue;
      }
      batch_.sample_ids.push_back(line.index);
      FlushIfFull();
    }
    return FinishFile(offsets.get(), end_offset);
  }

  // JSONL through a user parser: records go to the parser in batches; JSON validity and the
  // text field are still checked here.
  Status ScanJsonlWithParser() {
    MIXTERA_ASSIGN_OR_RETURN(auto stream, OpenStream());
    MIXTERA_ASSIGN_OR_RETURN(auto offsets, formats::OffsetsWriter::Create(OffsetsPath()));
    formats::LineReader reader(std::move(stream));
    simdjson::dom::parser parser;
    formats::LineReader::Line line;
    std::vector<std::string> pending_lines;
    std::vector<int64_t> pending_index;
    const auto& props = shared_->spec->properties;
    std::vector<PropertyChecker> checkers;
    for (const auto& p : props) checkers.emplace_back(p);

    auto flush_pending = [&]() -> Status {
      if (pending_lines.empty()) return Status::OK();
      std::vector<RecordParser::Record> records;
      records.reserve(pending_lines.size());
      for (size_t i = 0; i < pending_lines.size(); ++i)
        records.push_back({pending_index[i], pending_lines[i]});
      std::vector<std::vector<LooseValue>> values(records.size());
      std::vector<Status> errors(records.size());
      MIXTERA_RETURN_IF_ERROR(shared_->parser->ParseBatch(records, &values, &errors));
      for (size_t i = 0; i < records.size(); ++i) {
        Status st = errors[i];
        if (st.ok() && values[i].size() != props.size()) {
          st = Status::Internal("parser returned the wrong number of values");
        }
        for (size_t c = 0; st.ok() && c < props.size(); ++c) {
          st = checkers[c].AppendLoose(values[i][c], &batch_.columns[c]);
          if (!st.ok()) {
            for (size_t j = 0; j <= c; ++j) batch_.columns[j].TruncateTo(batch_.num_rows());
          }
        }
        if (!st.ok()) {
          MIXTERA_RETURN_IF_ERROR(bad_.Handle(LineWhere(records[i].line_index), st));
          continue;
        }
        batch_.sample_ids.push_back(records[i].line_index);
        FlushIfFull();
      }
      pending_lines.clear();
      pending_index.clear();
      return Status::OK();
    };

    int64_t end_offset = 0;
    for (;;) {
      MIXTERA_ASSIGN_OR_RETURN(bool more, reader.Next(&line));
      if (!more) break;
      if (shared_->cancelled.load(std::memory_order_relaxed))
        return Status::Cancelled("registration cancelled");
      MIXTERA_RETURN_IF_ERROR(offsets->Add(line.offset, static_cast<int64_t>(line.bytes.size())));
      end_offset = line.offset + static_cast<int64_t>(line.bytes.size());
      if (IsBlank(line.bytes)) continue;
      simdjson::dom::element doc;
      auto error =
          parser
              .parse(reinterpret_cast<const uint8_t*>(line.bytes.data()), line.bytes.size(), false)
              .get(doc);
      Status st;
      if (error) {
        st = Status::Corruption(JsonErrorText(error));
      } else {
        st = shared_->json_extractor->CheckText(doc);
      }
      if (!st.ok()) {
        MIXTERA_RETURN_IF_ERROR(bad_.Handle(LineWhere(line.index), st));
        continue;
      }
      pending_lines.emplace_back(line.bytes);
      pending_index.push_back(line.index);
      if (pending_lines.size() >= 1024) MIXTERA_RETURN_IF_ERROR(flush_pending());
    }
    MIXTERA_RETURN_IF_ERROR(flush_pending());
    return FinishFile(offsets.get(), end_offset);
  }

  struct WdsField {
    std::string extension;
    bool is_json = false;
    JsonPath path;
  };

  Status ScanTar() {
    const auto& props = shared_->spec->properties;
    std::vector<WdsField> fields;
    std::set<std::string> load;
    std::vector<PropertyChecker> checkers;
    for (const auto& p : props) {
      WdsField f;
      size_t colon = p.field.find(':');
      f.extension = p.field.substr(0, colon);
      if (colon != std::string::npos) {
        f.is_json = true;
        MIXTERA_ASSIGN_OR_RETURN(f.path, JsonPath::Parse(p.field.substr(colon + 1)));
      }
      load.insert(f.extension);
      fields.push_back(std::move(f));
      checkers.emplace_back(p);
    }
    MIXTERA_ASSIGN_OR_RETURN(auto stream, OpenStream());
    MIXTERA_ASSIGN_OR_RETURN(auto offsets, formats::OffsetsWriter::Create(OffsetsPath()));
    formats::TarSampleScanner scanner(std::move(stream), file_->path, load);
    simdjson::dom::parser parser;
    int64_t index = 0;
    int64_t end_offset = 0;
    for (;; ++index) {
      MIXTERA_ASSIGN_OR_RETURN(std::optional<formats::TarSample> sample, scanner.Next());
      if (!sample) break;
      if (shared_->cancelled.load(std::memory_order_relaxed))
        return Status::Cancelled("registration cancelled");
      MIXTERA_RETURN_IF_ERROR(
          offsets->Add(sample->begin_offset, sample->end_offset - sample->begin_offset));
      end_offset = sample->end_offset;
      Status st = ExtractTarSample(*sample, fields, checkers, &parser);
      if (!st.ok()) {
        MIXTERA_RETURN_IF_ERROR(bad_.Handle(StrCat("sample '", sample->key, "'"), st));
        continue;
      }
      batch_.sample_ids.push_back(index);
      FlushIfFull();
    }
    return FinishFile(offsets.get(), end_offset);
  }

  Status ExtractTarSample(const formats::TarSample& sample, const std::vector<WdsField>& fields,
                          const std::vector<PropertyChecker>& checkers,
                          simdjson::dom::parser* parser) {
    for (const std::string& ext : shared_->spec->text_fields) {
      if (sample.Find(ext) == nullptr) {
        return Status::InvalidArgument(StrCat("text member '.", ext, "' is missing"));
      }
    }
    size_t row = batch_.num_rows();
    auto fail = [&](Status st) {
      for (auto& column : batch_.columns) column.TruncateTo(row);
      return st;
    };
    std::vector<bool> done(fields.size(), false);
    for (size_t i = 0; i < fields.size(); ++i) {
      if (done[i]) continue;
      const std::string& ext = fields[i].extension;
      const formats::TarMember* member = sample.Find(ext);
      // Every field reading this member is handled now, so a JSON member is parsed once.
      simdjson::dom::element doc;
      bool json_parsed = false;
      for (size_t k = i; k < fields.size(); ++k) {
        if (done[k] || fields[k].extension != ext) continue;
        done[k] = true;
        const WdsField& f = fields[k];
        model::PropertyColumn* column = &batch_.columns[k];
        Status st;
        if (member == nullptr) {
          st = checkers[k].AppendJson(nullptr, column);
        } else if (!f.is_json) {
          st = checkers[k].AppendText(member->data, column);
        } else {
          if (!json_parsed) {
            padded_.assign(member->data);
            padded_.resize(member->data.size() + simdjson::SIMDJSON_PADDING);
            auto error = parser
                             ->parse(reinterpret_cast<const uint8_t*>(padded_.data()),
                                     member->data.size(), false)
                             .get(doc);
            if (error) {
              return fail(
                  Status::Corruption(StrCat("member '.", ext, "': ", JsonErrorText(error))));
            }
            json_parsed = true;
          }
          if (f.path.has_wildcard) {
            std::vector<simdjson::dom::element> values;
            bool found = false;
            CollectJsonPath(doc, f.path, &values, &found);
            st = checkers[k].AppendJsonList(values, found, column);
          } else {
            std::optional<simdjson::dom::element> value = ResolveJsonPath(doc, f.path);
            st = checkers[k].AppendJson(value ? &*value : nullptr, column);
          }
        }
        if (!st.ok()) return fail(st);
      }
    }
    return Status::OK();
  }

  Status ScanParquet() {
    MIXTERA_ASSIGN_OR_RETURN(
        auto scanner,
        formats::ParquetScanner::Open(file_->path, file_->file_id, shared_->spec->properties,
                                      shared_->spec->text_fields));
    // The scanner's row errors already name the file and the row.
    auto on_bad_row = [this](int64_t /*row*/, const Status& error) {
      return bad_.HandleLocated(error);
    };
    for (;;) {
      if (shared_->cancelled.load(std::memory_order_relaxed))
        return Status::Cancelled("registration cancelled");
      MIXTERA_ASSIGN_OR_RETURN(bool more, scanner->Next(&batch_, on_bad_row));
      FlushIfFull();
      if (!more) break;
    }
    file_->num_records = scanner->num_rows();
    MIXTERA_RETURN_IF_ERROR(CheckNotEmpty(file_->num_records));
    Flush();
    return Status::OK();
  }

  ScanShared* shared_;
  FileRecord* file_;
  const BatchSink& emit_;
  BadRecordPolicy bad_;
  SampleBatch batch_;
  std::vector<formats::SeekPoint> seek_points_;
  std::string padded_;  // a JSON member copied with simdjson's padding
};

}  // namespace

SampleBatch ScanShared::TakeBatch(int64_t file_id) {
  {
    std::lock_guard<std::mutex> lock(mu);
    if (!spare_batches.empty()) {
      SampleBatch batch = std::move(spare_batches.back());
      spare_batches.pop_back();
      batch.file_id = file_id;
      batch.TruncateTo(0);
      return batch;
    }
  }
  return SampleBatch(file_id, spec->properties);
}

void ScanShared::ReturnBatch(SampleBatch&& batch) {
  std::lock_guard<std::mutex> lock(mu);
  if (spare_batches.size() < max_spare_batches) spare_batches.push_back(std::move(batch));
}

Status ScanFile(ScanShared* shared, FileRecord* file, const BatchSink& emit_batch) {
  Scanner scanner(shared, file, emit_batch);
  return scanner.Run();
}

}  // namespace mixtera::ingest
