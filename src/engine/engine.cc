#include "engine/engine.h"

#include <sys/stat.h>

#include <filesystem>
#include <nlohmann/json.hpp>
#include <set>

#include "base/macros.h"
#include "base/strings.h"

namespace mixtera::engine {

namespace fs = std::filesystem;

Engine::Engine(std::string dir, std::unique_ptr<store::MetadataStore> store)
    : dir_(std::move(dir)), store_(std::move(store)) {}

Engine::~Engine() = default;

Result<std::unique_ptr<Engine>> Engine::Open(const std::string& dir, const EngineOptions& options) {
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec) return Status::IOError(StrCat("cannot create Mixtera directory '", dir, "': ", ec.message()));
  if (!fs::is_directory(dir, ec)) {
    return Status::InvalidArgument(StrCat("'", dir, "' is not a directory"));
  }
  std::string abs_dir = fs::absolute(dir).lexically_normal().string();
  if (abs_dir.size() > 1 && abs_dir.back() == '/') abs_dir.pop_back();
  fs::create_directories(abs_dir + "/offsets", ec);
  if (ec) return Status::IOError(StrCat("cannot create '", abs_dir, "/offsets': ", ec.message()));
  MIXTERA_ASSIGN_OR_RETURN(auto store,
                           store::MetadataStore::Open(abs_dir + "/mixtera.duckdb", options.store));
  std::unique_ptr<Engine> engine(new Engine(abs_dir, std::move(store)));
  MIXTERA_RETURN_IF_ERROR(engine->RemoveStaleOffsets());
  return engine;
}

std::string Engine::OffsetsDir(int64_t dataset_id) const {
  return StrCat(dir_, "/offsets/", dataset_id);
}

Status Engine::RemoveStaleOffsets() {
  MIXTERA_ASSIGN_OR_RETURN(auto datasets, store_->ListDatasets());
  std::set<std::string> live;
  for (const auto& d : datasets) live.insert(std::to_string(d.dataset_id));
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(dir_ + "/offsets", ec)) {
    if (!live.count(entry.path().filename().string())) fs::remove_all(entry.path(), ec);
  }
  return Status::OK();
}

Result<ingest::IngestReport> Engine::RegisterDataset(const model::DatasetSpec& spec,
                                                     const ingest::IngestOptions& options,
                                                     ingest::RecordParser* parser) {
  auto context = StrCat("registering dataset '", spec.name, "'");
  MIXTERA_ASSIGN_OR_RETURN(std::unique_ptr<store::DatasetWriter> writer, store_->BeginDataset(spec));
  std::string offsets_dir = OffsetsDir(writer->dataset_id());
  std::error_code ec;
  fs::remove_all(offsets_dir, ec);
  fs::create_directories(offsets_dir, ec);
  if (ec) return Status::IOError(StrCat("cannot create '", offsets_dir, "': ", ec.message()));
  auto report = ingest::IngestDataset(spec, writer.get(), offsets_dir, options, parser);
  Status st = report.status();
  if (st.ok()) st = writer->Commit();
  if (!st.ok()) {
    writer.reset();  // rolls back
    fs::remove_all(offsets_dir, ec);
    return st;
  }
  return report;
}

Result<std::vector<model::DatasetInfo>> Engine::ListDatasets() { return store_->ListDatasets(); }

Result<model::DatasetInfo> Engine::GetDataset(const std::string& name) {
  return store_->GetDataset(name);
}

Result<std::vector<model::FileRecord>> Engine::ListFiles(const std::string& name) {
  return store_->ListFiles(name);
}

Status Engine::RemoveDataset(const std::string& name) {
  MIXTERA_ASSIGN_OR_RETURN(model::DatasetInfo info, store_->GetDataset(name));
  MIXTERA_RETURN_IF_ERROR(store_->RemoveDataset(name));
  std::error_code ec;
  fs::remove_all(OffsetsDir(info.dataset_id), ec);
  return Status::OK();
}

Result<VerifyReport> Engine::Verify(const std::optional<std::string>& name) {
  std::vector<model::DatasetInfo> datasets;
  if (name) {
    MIXTERA_ASSIGN_OR_RETURN(model::DatasetInfo info, store_->GetDataset(*name));
    datasets.push_back(std::move(info));
  } else {
    MIXTERA_ASSIGN_OR_RETURN(datasets, store_->ListDatasets());
  }
  VerifyReport report;
  for (const auto& d : datasets) {
    MIXTERA_ASSIGN_OR_RETURN(auto files, store_->ListFiles(d.name));
    for (const auto& f : files) {
      ++report.num_files_checked;
      FileChange change;
      change.dataset = d.name;
      change.path = f.path;
      change.registered_size_bytes = f.size_bytes;
      change.registered_mtime_ns = f.mtime_ns;
      struct stat st;
      if (stat(f.path.c_str(), &st) != 0) {
        change.change = "missing";
        change.current_size_bytes = -1;
        change.current_mtime_ns = -1;
        report.changes.push_back(std::move(change));
        continue;
      }
      change.current_size_bytes = static_cast<int64_t>(st.st_size);
      change.current_mtime_ns = static_cast<int64_t>(st.st_mtim.tv_sec) * 1000000000 + st.st_mtim.tv_nsec;
      if (change.current_size_bytes != f.size_bytes) {
        change.change = "size";
      } else if (change.current_mtime_ns != f.mtime_ns) {
        change.change = "mtime";
      } else {
        continue;
      }
      report.changes.push_back(std::move(change));
    }
  }
  return report;
}

std::string DatasetInfoJson(const model::DatasetInfo& info) {
  nlohmann::json j;
  j["name"] = info.name;
  j["format"] = std::string(model::DataFormatName(info.format));
  j["num_files"] = info.num_files;
  j["num_samples"] = info.num_samples;
  j["num_skipped"] = info.num_skipped;
  j["total_bytes"] = info.total_bytes;
  j["on_error"] = info.on_error == model::OnError::kSkip ? "skip" : "fail";
  j["text"] = info.text_fields;
  nlohmann::json props = nlohmann::json::array();
  for (const auto& p : info.properties) {
    nlohmann::json jp;
    jp["name"] = p.name;
    jp["type"] = std::string(model::PropertyTypeName(p.type));
    jp["nullable"] = p.nullable;
    jp["field"] = p.field;
    if (!p.enum_values.empty()) jp["values"] = p.enum_values;
    props.push_back(std::move(jp));
  }
  j["properties"] = std::move(props);
  return j.dump();
}

}  // namespace mixtera::engine
