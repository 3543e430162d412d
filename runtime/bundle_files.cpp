// Finding the files a bundle takes, and their paths inside it.
#include <uv.h>

#include <algorithm>

#include "runtime/bundle_build.hpp"
#include "runtime/bundle_format.hpp"

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

// What stat says about a path: its kind and which file it is.
struct FileInfo {
  bool is_dir = false;
  bool is_file = false;
  uint64_t dev = 0, ino = 0, size = 0;
};

// 0, or a libuv error.
int stat_path(const std::string& path, FileInfo* info) {
  uv_fs_t req;
  int rc = uv_fs_stat(nullptr, &req, path.c_str(), nullptr);
  if (rc == 0) {
    const uv_stat_t& st = req.statbuf;
    info->is_dir = (st.st_mode & S_IFMT) == S_IFDIR;
    info->is_file = (st.st_mode & S_IFMT) == S_IFREG;
    info->dev = st.st_dev;
    info->ino = st.st_ino;
    info->size = st.st_size;
  }
  uv_fs_req_cleanup(&req);
  return rc;
}

// True if the file ends with a bundle trailer's magic: an earlier OUT.
bool is_bundle_file(const std::string& path, const FileInfo& info) {
  if (info.size < kTrailerSize) return false;
  uv_fs_t req;
  uv_file fd =
      uv_fs_open(nullptr, &req, path.c_str(), UV_FS_O_RDONLY, 0, nullptr);
  uv_fs_req_cleanup(&req);
  if (fd < 0) return false;
  char tail[kTrailerSize];
  uv_buf_t b = uv_buf_init(tail, sizeof tail);
  int n =
      uv_fs_read(nullptr, &req, fd, &b, 1, info.size - sizeof tail, nullptr);
  uv_fs_req_cleanup(&req);
  uv_fs_close(nullptr, &req, fd, nullptr);
  uv_fs_req_cleanup(&req);
  return n == int(sizeof tail) &&
         ends_with_bundle_magic(std::string_view(tail, sizeof tail));
}

struct Walk {
  std::string root;      // the entry's directory, absolute, no trailing '/'
  std::string out_path;  // OUT, absolute
  FileInfo out_info;     // OUT's file, if out_exists
  bool out_exists = false;
  std::vector<BundleSource>* sources;
};

// OUT by name, or another name (a link) for OUT's file.
bool is_out(const Walk& w, const std::string& abs, const FileInfo& info) {
  return abs == w.out_path || (w.out_exists && info.dev == w.out_info.dev &&
                               info.ino == w.out_info.ino);
}

// Writing OUT would destroy an input, so the build stops before it starts.
std::string out_is_input(const std::string& name) {
  return "OUT is the input '" + name + "' (it would be overwritten)";
}

std::string add_path(const Walk& w, const std::string& abs, int depth,
                     const std::string& named);

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
    std::string err = add_path(w, dir + "/" + name, depth + 1, "");
    if (!err.empty()) return err;
  }
  return "";
}

// named: the argument that names abs, or "" for a file a walk found. A
// walk leaves out an earlier bundle at OUT, which rebuilding replaces.
std::string add_path(const Walk& w, const std::string& abs, int depth,
                     const std::string& named) {
  if (abs == w.root) return add_dir(w, abs, depth);
  if (abs.compare(0, w.root.size() + 1, w.root + "/") != 0)
    return "'" + abs + "' is outside the entry script's directory '" + w.root +
           "'";
  FileInfo info;
  if (int rc = stat_path(abs, &info)) return os_error("stat", abs, rc);
  if (info.is_dir) return add_dir(w, abs, depth);
  if (!info.is_file) return "";  // sockets, fifos and devices stay out
  if (is_out(w, abs, info)) {
    if (named.empty() && is_bundle_file(abs, info)) return "";
    return out_is_input(named.empty() ? abs : named);
  }
  w.sources->push_back({abs, abs.substr(w.root.size() + 1)});
  return "";
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
  FileInfo info;
  if (int rc = stat_path(entry, &info)) return os_error("stat", args.entry, rc);
  if (!info.is_file) return "'" + args.entry + "' is not a file";
  size_t slash = entry.rfind('/');
  Walk w{entry.substr(0, slash), absolute(args.out), {}, false, out};
  w.out_exists = stat_path(args.out, &w.out_info) == 0;
  if (is_out(w, entry, info)) return out_is_input(args.entry);
  out->push_back({entry, entry.substr(slash + 1)});
  for (const std::string& f : args.files) {
    std::string err = add_path(w, absolute(f), 0, f);
    if (!err.empty()) return err;
  }
  sort_sources(out);
  return "";
}

}  // namespace procrun
