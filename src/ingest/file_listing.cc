#include "ingest/file_listing.h"

#include <dirent.h>
#include <fnmatch.h>
#include <sys/stat.h>

#include <algorithm>
#include <set>
#include <utility>

#include "base/strings.h"

namespace mixtera::ingest {
namespace {

bool HasWildcard(const std::string& s) { return s.find_first_of("*?[") != std::string::npos; }

std::vector<std::string> SplitComponents(const std::string& path) {
  std::vector<std::string> out;
  size_t pos = 0;
  while (pos <= path.size()) {
    size_t slash = path.find('/', pos);
    if (slash == std::string::npos) slash = path.size();
    if (slash > pos) out.push_back(path.substr(pos, slash - pos));
    pos = slash + 1;
  }
  return out;
}

std::string JoinPath(const std::string& dir, const std::string& name) {
  return dir == "/" ? "/" + name : dir + "/" + name;
}

// Sorted entry names of `dir`, without "." and "..".
std::vector<std::string> ListDir(const std::string& dir) {
  std::vector<std::string> names;
  DIR* d = opendir(dir.c_str());
  if (d == nullptr) return names;
  while (dirent* e = readdir(d)) {
    std::string name = e->d_name;
    if (name != "." && name != "..") names.push_back(std::move(name));
  }
  closedir(d);
  std::sort(names.begin(), names.end());
  return names;
}

class Matcher {
 public:
  explicit Matcher(std::vector<std::string>* out) : out_(out) {}

  // Matches components[i..] below `dir`.
  void Match(const std::string& dir, const std::vector<std::string>& components, size_t i) {
    if (i == components.size()) {
      AddPath(dir, /*explicit_path=*/false);
      return;
    }
    const std::string& comp = components[i];
    if (comp == "**") {
      struct stat st;
      if (stat(dir.c_str(), &st) != 0 || !S_ISDIR(st.st_mode)) return;
      if (!visited_.insert({st.st_dev, st.st_ino, i}).second) return;
      Match(dir, components, i + 1);  // zero folders
      for (const std::string& name : ListDir(dir)) {
        if (name[0] == '.') continue;
        std::string child = JoinPath(dir, name);
        if (IsDir(child)) Match(child, components, i);
      }
      return;
    }
    if (!HasWildcard(comp)) {
      std::string child = JoinPath(dir, comp);
      struct stat st;
      if (stat(child.c_str(), &st) != 0) return;
      if (i + 1 == components.size()) {
        AddPath(child, /*explicit_path=*/true);
      } else if (S_ISDIR(st.st_mode)) {
        Match(child, components, i + 1);
      }
      return;
    }
    for (const std::string& name : ListDir(dir)) {
      if (fnmatch(comp.c_str(), name.c_str(), FNM_PERIOD) != 0) continue;
      std::string child = JoinPath(dir, name);
      if (i + 1 == components.size()) {
        if (IsRegular(child)) out_->push_back(child);
      } else if (IsDir(child)) {
        Match(child, components, i + 1);
      }
    }
  }

 private:
  static bool IsDir(const std::string& p) {
    struct stat st;
    return stat(p.c_str(), &st) == 0 && S_ISDIR(st.st_mode);
  }
  static bool IsRegular(const std::string& p) {
    struct stat st;
    return stat(p.c_str(), &st) == 0 && S_ISREG(st.st_mode);
  }

  // A file is taken as is; a folder contributes every non-hidden file below it.
  void AddPath(const std::string& path, bool explicit_path) {
    struct stat st;
    if (stat(path.c_str(), &st) != 0) return;
    if (S_ISREG(st.st_mode)) {
      out_->push_back(path);
    } else if (S_ISDIR(st.st_mode)) {
      if (!visited_.insert({st.st_dev, st.st_ino, SIZE_MAX}).second) return;
      for (const std::string& name : ListDir(path)) {
        if (name[0] == '.') continue;
        AddPath(JoinPath(path, name), false);
      }
    } else if (explicit_path) {
      out_->push_back(path);  // e.g. a FIFO: let the reader report what it is
    }
  }

  std::vector<std::string>* out_;
  std::set<std::tuple<dev_t, ino_t, size_t>> visited_;
};

}  // namespace

Result<std::vector<std::string>> ExpandPathPatterns(const std::vector<std::string>& patterns) {
  std::vector<std::string> all;
  for (const std::string& pattern : patterns) {
    std::vector<std::string> found;
    Matcher matcher(&found);
    if (!HasWildcard(pattern)) {
      struct stat st;
      if (stat(pattern.c_str(), &st) != 0) {
        return Status::NotFound(StrCat("path '", pattern, "' does not exist"));
      }
    }
    matcher.Match("/", SplitComponents(pattern), 0);
    if (found.empty()) {
      return Status::NotFound(StrCat("path pattern '", pattern, "' matches no files"));
    }
    all.insert(all.end(), found.begin(), found.end());
  }
  std::sort(all.begin(), all.end());
  all.erase(std::unique(all.begin(), all.end()), all.end());
  return all;
}

}  // namespace mixtera::ingest
