// Finding the files a bundle takes, and their paths inside it.
#include <uv.h>

#include <algorithm>

#include "runtime/bundle_build.hpp"

namespace procrun {
namespace {

constexpr int kMaxDepth = 32;  // stops a symlink loop in a walked tree

std::string os_error(const char* op, const std::string& path, int rc) {
  return std::string(op) + " '" + path + "': " + uv_err_name(rc) + ": " +
         uv_strerror(rc);
}

std::string absolute(const std::string& path) {
  if (!path.empty() && path[0] == '/') return normalize_path(path);
  char cwd[4096];
  size_t size = sizeof cwd;
  if (uv_cwd(cwd, &size) != 0) return normalize_path(path);
  return normalize_path(std::string(cwd, size) + "/" + path);
}

// 0, or a libuv error; *is_dir says what path is.
int stat_kind(const std::string& path, bool* is_dir, bool* is_file) {
  uv_fs_t req;
  int rc = uv_fs_stat(nullptr, &req, path.c_str(), nullptr);
  *is_dir = rc == 0 && (req.statbuf.st_mode & S_IFMT) == S_IFDIR;
  *is_file = rc == 0 && (req.statbuf.st_mode & S_IFMT) == S_IFREG;
  uv_fs_req_cleanup(&req);
  return rc;
}

struct Walk {
  std::string root;  // the entry's directory, absolute, no trailing '/'
  std::string skip;  // OUT, absolute
  std::vector<BundleSource>* out;
};

std::string add_path(const Walk& w, const std::string& abs, int depth);

std::string add_dir(const Walk& w, const std::string& dir, int depth) {
  if (depth > kMaxDepth) return "'" + dir + "': too deeply nested";
  uv_fs_t req;
  int rc = uv_fs_scandir(nullptr, &req, dir.c_str(), 0, nullptr);
  std::vector<std::string> names;
  uv_dirent_t ent;
  while (rc >= 0 && uv_fs_scandir_next(&req, &ent) == 0)
    if (ent.name[0] != '.') names.push_back(ent.name);
  uv_fs_req_cleanup(&req);
  if (rc < 0) return os_error("scandir", dir, rc);
  std::sort(names.begin(), names.end());
  for (const std::string& name : names) {
    std::string err = add_path(w, dir + "/" + name, depth + 1);
    if (!err.empty()) return err;
  }
  return "";
}

std::string add_path(const Walk& w, const std::string& abs, int depth) {
  if (abs == w.skip) return "";
  if (abs == w.root) return add_dir(w, abs, depth);
  if (abs.compare(0, w.root.size() + 1, w.root + "/") != 0)
    return "'" + abs + "' is outside the entry script's directory '" + w.root +
           "'";
  bool is_dir, is_file;
  if (int rc = stat_kind(abs, &is_dir, &is_file))
    return os_error("stat", abs, rc);
  if (is_dir) return add_dir(w, abs, depth);
  if (is_file) w.out->push_back({abs, abs.substr(w.root.size() + 1)});
  return "";  // sockets, fifos and devices stay out
}

// Sorted by path with the entry first; a file named twice counts once.
void sort_sources(std::vector<BundleSource>* v) {
  auto by_path = [](const BundleSource& a, const BundleSource& b) {
    return a.path < b.path;
  };
  std::sort(v->begin() + 1, v->end(), by_path);
  auto same = [](const BundleSource& a, const BundleSource& b) {
    return a.path == b.path;
  };
  v->erase(std::unique(v->begin() + 1, v->end(), same), v->end());
  const std::string& entry = v->front().path;
  v->erase(
      std::remove_if(v->begin() + 1, v->end(),
                     [&](const BundleSource& s) { return s.path == entry; }),
      v->end());
}

}  // namespace

// TODO: POSIX paths only; a Windows port needs drive letters and '\\'
// here and in the bundle's own paths.
std::string normalize_path(const std::string& path) {
  std::vector<std::string> parts;
  size_t start = 0;
  while (start <= path.size()) {
    size_t end = std::min(path.find('/', start), path.size());
    std::string part = path.substr(start, end - start);
    if (part == "..") {
      if (!parts.empty()) parts.pop_back();
    } else if (!part.empty() && part != ".") {
      parts.push_back(part);
    }
    start = end + 1;
  }
  std::string out;
  for (const std::string& p : parts) out += "/" + p;
  return out.empty() ? "/" : out;
}

std::string collect_bundle_sources(const BundleArgs& args,
                                   std::vector<BundleSource>* out) {
  std::string entry = absolute(args.entry);
  bool is_dir, is_file;
  if (int rc = stat_kind(entry, &is_dir, &is_file))
    return os_error("stat", args.entry, rc);
  if (!is_file) return "'" + args.entry + "' is not a file";
  size_t slash = entry.rfind('/');
  Walk w{entry.substr(0, slash), absolute(args.out), out};
  out->push_back({entry, entry.substr(slash + 1)});
  for (const std::string& f : args.files) {
    std::string err = add_path(w, absolute(f), 0);
    if (!err.empty()) return err;
  }
  sort_sources(out);
  return "";
}

}  // namespace procrun
