// procrun --bundle: compiles the sources, copies this executable with its
// stamp set, appends the payload. OUT appears whole or not at all: it is
// written under a temporary name beside it and renamed at the end.
#include "runtime/bundle_build.hpp"

#include <uv.h>

#include <cstring>

#include "runtime/bundle.hpp"

namespace procrun {
namespace {

std::string os_error(const char* op, const std::string& path, int rc) {
  return std::string(op) + " '" + path + "': " + uv_err_name(rc) + ": " +
         uv_strerror(rc);
}

bool ends_with(const std::string& s, const char* suffix) {
  size_t n = std::strlen(suffix);
  return s.size() >= n && s.compare(s.size() - n, n, suffix) == 0;
}

std::string read_file(const std::string& path, std::string* out) {
  uv_fs_t req;
  uv_file fd =
      uv_fs_open(nullptr, &req, path.c_str(), UV_FS_O_RDONLY, 0, nullptr);
  uv_fs_req_cleanup(&req);
  if (fd < 0) return os_error("open", path, fd);
  char buf[65536];
  int rc;
  do {
    uv_buf_t b = uv_buf_init(buf, sizeof buf);
    rc = uv_fs_read(nullptr, &req, fd, &b, 1, -1, nullptr);
    uv_fs_req_cleanup(&req);
    if (rc > 0) out->append(buf, rc);
  } while (rc > 0);
  uv_fs_close(nullptr, &req, fd, nullptr);
  uv_fs_req_cleanup(&req);
  return rc < 0 ? os_error("read", path, rc) : "";
}

// Source to bytecode, with string.dump so that --strip can drop the debug
// info. A first line starting with '#' is blanked, as luaL_loadfile skips
// it, keeping line numbers.
std::string compile(lua_State* L, const BundleSource& src, bool strip,
                    std::string* out) {
  std::string text;
  std::string err = read_file(src.disk_path, &text);
  if (!err.empty()) return err;
  if (!text.empty() && text[0] == '#')
    text.erase(0, std::min(text.find('\n'), text.size()));
  std::string name = "@" + src.path;
  int top = lua_gettop(L);
  if (luaL_loadbuffer(L, text.data(), text.size(), name.c_str()) != 0) {
    err = lua_tostring(L, -1);
    lua_settop(L, top);
    return err;
  }
  lua_getglobal(L, "string");
  lua_getfield(L, -1, "dump");
  lua_pushvalue(L, top + 1);
  lua_pushboolean(L, strip);
  int status = lua_pcall(L, 2, 1, 0);
  if (status == 0)
    out->assign(lua_tostring(L, -1), lua_objlen(L, -1));
  else
    err = "dump '" + src.path + "': " + lua_tostring(L, -1);
  lua_settop(L, top);
  return err;
}

struct Image {
  std::vector<std::string> blobs;  // what the entries' views point into
  std::vector<BundleEntry> entries;
};

std::string make_entries(lua_State* L, const BundleArgs& args,
                         const std::vector<BundleSource>& srcs, Image* img) {
  img->blobs.resize(srcs.size());
  for (size_t i = 0; i < srcs.size(); i++) {
    bool lua = i == 0 || ends_with(srcs[i].path, ".lua");
    std::string err = lua ? compile(L, srcs[i], args.strip, &img->blobs[i])
                          : read_file(srcs[i].disk_path, &img->blobs[i]);
    if (!err.empty()) return err;
    err = check_bundle_path(srcs[i].path);
    if (!err.empty()) return "'" + srcs[i].path + "': " + err;
    img->entries.push_back({lua ? BundleKind::kChunk : BundleKind::kData,
                            srcs[i].path, img->blobs[i]});
  }
  return "";
}

void put_le64(std::string* s, size_t at, uint64_t v) {
  for (size_t i = 0; i < 8; i++, v >>= 8) (*s)[at + i] = char(v & 0xff);
}

// This executable with its stamp saying where the payload starts and how
// large the whole file is.
std::string stamped_exe(uint64_t payload_size, std::string* exe) {
  char path[4096];
  size_t size = sizeof path;
  if (int rc = uv_exepath(path, &size))
    return os_error("read", "executable path", rc);
  std::string err = read_file(std::string(path, size), exe);
  if (!err.empty()) return err;
  std::string_view magic = bundle_stamp_magic();
  size_t at = exe->find(magic);
  if (at == std::string::npos || at + magic.size() + 16 > exe->size() ||
      exe->find(magic, at + 1) != std::string::npos)
    return "cannot find the bundle stamp in '" + std::string(path, size) + "'";
  put_le64(exe, at + magic.size(), exe->size());
  put_le64(exe, at + magic.size() + 8, exe->size() + payload_size);
  return "";
}

std::string write_all(uv_file fd, const std::string& path,
                      const std::string& bytes) {
  uv_fs_t req;
  size_t done = 0;
  while (done < bytes.size()) {
    uv_buf_t b = uv_buf_init(const_cast<char*>(bytes.data()) + done,
                             bytes.size() - done);
    int rc = uv_fs_write(nullptr, &req, fd, &b, 1, -1, nullptr);
    uv_fs_req_cleanup(&req);
    if (rc < 0) return os_error("write", path, rc);
    done += rc;
  }
  return "";
}

// Writes exe and payload to a new file beside out, then renames it.
std::string write_out(const std::string& out, const std::string& exe,
                      const std::string& payload) {
  size_t slash = out.rfind('/');
  std::string dir = slash == std::string::npos ? "." : out.substr(0, slash);
  std::string tmpl = dir + "/.procrun-bundle-XXXXXX";
  uv_fs_t req;
  uv_file fd = uv_fs_mkstemp(nullptr, &req, tmpl.c_str(), nullptr);
  std::string tmp = fd >= 0 ? req.path : "";
  uv_fs_req_cleanup(&req);
  if (fd < 0) return os_error("create", tmpl, fd);
  std::string err = write_all(fd, tmp, exe);
  if (err.empty()) err = write_all(fd, tmp, payload);
  int rc = uv_fs_close(nullptr, &req, fd, nullptr);
  uv_fs_req_cleanup(&req);
  if (err.empty() && rc < 0) err = os_error("close", tmp, rc);
  if (err.empty() &&
      (rc = uv_fs_chmod(nullptr, &req, tmp.c_str(), 0755, nullptr)) < 0)
    err = os_error("chmod", tmp, rc);
  uv_fs_req_cleanup(&req);
  if (err.empty() &&
      (rc = uv_fs_rename(nullptr, &req, tmp.c_str(), out.c_str(), nullptr)) < 0)
    err = os_error("rename", out, rc);
  uv_fs_req_cleanup(&req);
  if (!err.empty()) uv_fs_unlink(nullptr, &req, tmp.c_str(), nullptr);
  uv_fs_req_cleanup(&req);
  return err;
}

std::string build(lua_State* L, const BundleArgs& args) {
  if (own_bundle_stamp().file_size != 0)
    return "this executable is a bundle itself; bundle with procrun";
  std::vector<BundleSource> srcs;
  std::string err = collect_bundle_sources(args, &srcs);
  Image img;
  if (err.empty()) err = make_entries(L, args, srcs, &img);
  if (!err.empty()) return err;
  std::string exe;
  std::string payload = encode_bundle(img.entries, 0);
  err = stamped_exe(payload.size(), &exe);
  if (!err.empty()) return err;
  payload = encode_bundle(img.entries, exe.size());
  return write_out(args.out, exe, payload);
}

}  // namespace

BundleArgs parse_bundle_args(int argc, const char* const* argv, int first) {
  BundleArgs a;
  int i = first + 1;
  for (; i < argc && argv[i][0] == '-'; i++) {
    if (std::strcmp(argv[i], "--") == 0) {
      i++;
      break;
    } else if (std::strcmp(argv[i], "--strip") == 0) {
      a.strip = true;
    } else if (std::strcmp(argv[i], "-o") == 0 && i + 1 < argc) {
      a.out = argv[++i];
    } else if (std::strcmp(argv[i], "-o") == 0) {
      a.error = "'-o' needs an argument";
      return a;
    } else {
      a.error = "unrecognized bundle option '" + std::string(argv[i]) + "'";
      return a;
    }
  }
  if (a.out.empty())
    a.error = "'--bundle' needs '-o OUT'";
  else if (i >= argc)
    a.error = "'--bundle' needs an entry script";
  if (!a.error.empty()) return a;
  a.entry = argv[i];
  a.files.assign(argv + i + 1, argv + argc);
  return a;
}

std::string build_bundle(lua_State* L, const BundleArgs& args) {
  std::string err;
  try {
    err = build(L, args);
  } catch (const std::bad_alloc&) {
    err = "not enough memory";
  }
  return err.empty() ? "" : "bundle '" + args.out + "': " + err;
}

}  // namespace procrun
