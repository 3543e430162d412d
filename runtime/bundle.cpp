#include "runtime/bundle.hpp"

#include <uv.h>

#include <cstring>

#include "runtime/builtins.hpp"

namespace procrun {
namespace {

// NOTE: volatile keeps the compiler from folding reads of the zeros; the
// bundler patches the 16 bytes after the magic in its copy of the file.
constexpr size_t kStampMagicSize = 16;
volatile unsigned char g_stamp[kStampMagicSize + 16] = {
    'p', 'r', 'o', 'c', 'r', 'u', 'n', '-',
    's', 't', 'a', 'm', 'p', '-', 'v', '1'};

struct Loaded {
  std::string exe_path;
  std::string bytes;  // the payload and trailer, which entries point into
  ParsedBundle parsed;
};

Loaded g_bundle;

uint64_t stamp_field(size_t at) {
  uint64_t v = 0;
  for (size_t i = 8; i-- > 0;) v = v << 8 | g_stamp[kStampMagicSize + at + i];
  return v;
}

std::string os_error(const char* what, int rc) {
  return std::string(what) + ": " + uv_err_name(rc) + ": " + uv_strerror(rc);
}

// Reads [offset, end of file) of the executable, which must be `size`
// bytes long.
std::string read_tail(uv_file fd, const BundleStamp& st, std::string* out) {
  uv_fs_t req;
  int rc = uv_fs_fstat(nullptr, &req, fd, nullptr);
  uint64_t size = req.statbuf.st_size;
  uv_fs_req_cleanup(&req);
  if (rc < 0) return os_error("stat", rc);
  if (size != st.file_size)
    return "truncated or extended: the file has " + std::to_string(size) +
           " bytes, the bundle " + std::to_string(st.file_size);
  out->resize(st.file_size - st.exe_size);
  size_t done = 0;
  while (done < out->size()) {
    uv_buf_t buf = uv_buf_init(&(*out)[done], out->size() - done);
    rc = uv_fs_read(nullptr, &req, fd, &buf, 1, st.exe_size + done, nullptr);
    uv_fs_req_cleanup(&req);
    if (rc < 0) return os_error("read", rc);
    if (rc == 0) return "truncated while reading";
    done += rc;
  }
  return "";
}

std::string read_payload(const BundleStamp& st, Loaded* b) {
  if (st.exe_size >= st.file_size) return "bad stamp";
  uv_fs_t req;
  int fd = uv_fs_open(nullptr, &req, b->exe_path.c_str(), UV_FS_O_RDONLY, 0,
                      nullptr);
  uv_fs_req_cleanup(&req);
  if (fd < 0) return os_error("open", fd);
  std::string err = read_tail(fd, st, &b->bytes);
  uv_fs_close(nullptr, &req, fd, nullptr);
  uv_fs_req_cleanup(&req);
  return err;
}

std::string exe_path(std::string* out) {
  char buf[4096];
  size_t size = sizeof buf;
  if (int rc = uv_exepath(buf, &size)) return os_error("executable path", rc);
  out->assign(buf, size);
  return "";
}

const BundleEntry* find_chunk(lua_State* L, const char* base,
                              const char* suffix) {
  size_t len;
  const char* path = lua_pushfstring(L, "%s%s", base, suffix);
  lua_tolstring(L, -1, &len);
  const BundleEntry* e = bundle_find({path, len});
  lua_pop(L, 1);
  return e && e->kind == BundleKind::kChunk ? e : nullptr;
}

// A package.loaders entry: "a.b" is "a/b.lua" or "a/b/init.lua", as the
// default package.path finds them from the entry script's directory.
int bundle_searcher(lua_State* L) {
  const char* name = luaL_checkstring(L, 1);
  const char* base = luaL_gsub(L, name, ".", "/");
  const BundleEntry* e = find_chunk(L, base, ".lua");
  if (!e) e = find_chunk(L, base, "/init.lua");
  if (!e) {
    lua_pushfstring(L, "\n\tno module '%s' in the bundle", name);
    return 1;
  }
  if (load_bundle_chunk(L, *e) != 0)
    return luaL_error(L, "error loading bundled module '%s': %s", name,
                      lua_tostring(L, -1));
  return 1;
}

}  // namespace

BundleStamp own_bundle_stamp() {
  return {stamp_field(0), stamp_field(8)};
}

std::string_view bundle_stamp_magic() {
  static char magic[kStampMagicSize];
  for (size_t i = 0; i < kStampMagicSize; i++) magic[i] = g_stamp[i];
  return {magic, kStampMagicSize};
}

bool take_plain_request() {
  char value[8];
  size_t size = sizeof value;
  int rc = uv_os_getenv("PROCRUN_PLAIN", value, &size);
  if (rc == UV_ENOENT) return false;
  uv_os_unsetenv("PROCRUN_PLAIN");
  return rc == UV_ENOBUFS || (rc == 0 && size > 0);
}

std::string load_own_bundle() {
  BundleStamp st = own_bundle_stamp();
  if (st.file_size == 0) return "";
  Loaded& b = g_bundle;
  std::string err = exe_path(&b.exe_path);
  if (err.empty()) err = read_payload(st, &b);
  if (err.empty()) err = parse_bundle(b.bytes, &b.parsed);
  if (err.empty() && b.parsed.exe_size != st.exe_size)
    err = "the trailer and the stamp disagree";
  if (err.empty()) return "";
  err = "bundle '" + b.exe_path + "': " + err;
  b = Loaded{};
  return err;
}

bool have_bundle() {
  return !g_bundle.parsed.entries.empty();
}

const std::string& bundle_exe_path() {
  return g_bundle.exe_path;
}

const BundleEntry* bundle_main() {
  return have_bundle() ? &g_bundle.parsed.entries[0] : nullptr;
}

const BundleEntry* bundle_find(std::string_view path) {
  for (const BundleEntry& e : g_bundle.parsed.entries)
    if (e.path == path) return &e;
  return nullptr;
}

const std::vector<BundleEntry>& bundle_entries() {
  return g_bundle.parsed.entries;
}

int load_bundle_chunk(lua_State* L, const BundleEntry& e) {
  lua_pushliteral(L, "@");
  lua_pushlstring(L, e.path.data(), e.path.size());
  lua_concat(L, 2);
  int status =
      luaL_loadbuffer(L, e.data.data(), e.data.size(), lua_tostring(L, -1));
  lua_remove(L, -2);
  return status;
}

void install_bundle_searcher(lua_State* L) {
  if (!have_bundle()) return;
  insert_searcher(L, bundle_searcher, 3);  // after preload and built-ins
}

}  // namespace procrun
