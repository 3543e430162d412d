// From a checked SpawnSpec to what uv_spawn takes: the child's environment,
// the file to execute and the argv. Failures found here, before spawning,
// get precise messages: which dir, which PATH.
#include <algorithm>

#include "modules/proc.hpp"
#include "modules/proc_launcher.hpp"
#include "modules/proc_spawn.hpp"

namespace procrun {
namespace proc {
namespace {

void apply_change(std::vector<std::string>& env, const EnvChange& c) {
  std::string prefix = c.name + '=';
  env.erase(std::remove_if(env.begin(), env.end(),
                           [&](const std::string& v) {
                             return v.compare(0, prefix.size(), prefix) == 0;
                           }),
            env.end());
  if (c.set) env.push_back(prefix + c.value);
}

// The child's environment, if it is not simply ours; 0 or a libuv error.
int build_env(SpawnSpec& s) {
  if (s.has_env) {
    s.own_env = true;
    s.final_env = s.env;
    return 0;
  }
  if (s.changes.empty()) return 0;
  s.own_env = true;
  if (int rc = read_environ(&s.final_env)) return rc;
  for (const EnvChange& c : s.changes) apply_change(s.final_env, c);
  return 0;
}

// The PATH the child will see, or the default search path.
std::string child_path(const SpawnSpec& s) {
  std::string path;
  if (!s.own_env) {
    if (getenv_value("PATH", &path) == 0) return path;
    return default_search_path();
  }
  for (const std::string& v : s.final_env)
    if (v.compare(0, 5, "PATH=") == 0) return v.substr(5);
  return default_search_path();
}

int check_dir(lua_State* L, const SpawnSpec& s) {
  if (!s.has_dir) return 0;
  uv_fs_t req;
  int rc = uv_fs_stat(nullptr, &req, s.dir.c_str(), nullptr);
  if (rc == 0 && (req.statbuf.st_mode & S_IFMT) != S_IFDIR) rc = UV_ENOTDIR;
  uv_fs_req_cleanup(&req);
  if (rc == 0) return 0;
  return push_os_errorf(L, rc, "%s '%s': dir '%s'", s.op, s.subject.c_str(),
                        s.dir.c_str());
}

int find_program(lua_State* L, SpawnSpec& s) {
  if (has_dir_part(s.program)) {
    s.file = s.program;
  } else {
    std::string path = child_path(s);
    if (int rc = search_path(s.program, path, s.dir, &s.file)) {
      lua_pushfstring(L, "%s '%s'", s.op, s.subject.c_str());
      std::string note = "searched PATH=" + path;
      return push_os_error(L, rc, note.c_str());
    }
  }
  if (quick_spawn_available() || needs_launcher(s)) return 0;
  if (int rc = check_exec_format(path_in_dir(s.dir, s.file)))
    return push_os_errorf(L, rc, "%s '%s'", s.op, s.subject.c_str());
  return 0;
}

int self_path(std::string* out) {
  char exe[4096];
  size_t size = sizeof exe;
  if (int rc = uv_exepath(exe, &size)) return rc;
  out->assign(exe, size);
  return 0;
}

// exec_luafile runs this very binary, never one found in PATH.
int find_self(lua_State* L, SpawnSpec& s) {
  if (int rc = self_path(&s.file))
    return push_os_errorf(L, rc, "%s '%s': executable path", s.op,
                          s.subject.c_str());
  s.args[0] = s.file;
  if (s.module) return 0;  // the child looks for it as require does

  uv_fs_t req;
  std::string script = path_in_dir(s.dir, s.subject);
  int rc = uv_fs_access(nullptr, &req, script.c_str(), R_OK, nullptr);
  uv_fs_req_cleanup(&req);
  if (rc == 0) return 0;
  return push_os_errorf(L, rc, "%s '%s'", s.op, s.subject.c_str());
}

// In a bundled executable the app runs unless PROCRUN_PLAIN is set, so
// exec_luafile sets it; the child takes it out of its own environment at
// start-up, and its children see it only if they are relaunched too.
void mark_plain(SpawnSpec& s) {
  EnvChange plain{"PROCRUN_PLAIN", "1", /*set=*/true};
  if (s.has_env)
    apply_change(s.env, plain);
  else
    s.changes.push_back(plain);
}

void fill_views(SpawnSpec& s) {
  for (std::string& a : s.args) s.argv.push_back(&a[0]);
  s.argv.push_back(nullptr);
  if (!s.own_env) return;
  for (std::string& v : s.final_env) s.envp.push_back(&v[0]);
  s.envp.push_back(nullptr);
}

}  // namespace

int prepare_spawn(lua_State* L, SpawnSpec& s) {
  if (int n = check_dir(L, s)) return n;
  if (s.luafile) mark_plain(s);
  if (int rc = build_env(s))
    return push_os_errorf(L, rc, "%s '%s': environment", s.op,
                          s.subject.c_str());
  int n = s.luafile ? find_self(L, s) : find_program(L, s);
  if (n) return n;
  if (needs_launcher(s)) {
    std::string exe;
    if (int rc = self_path(&exe))
      return push_os_errorf(L, rc, "%s '%s': executable path", s.op,
                            s.subject.c_str());
    wrap_in_launcher(s, exe);
  }
  fill_views(s);
  return 0;
}

}  // namespace proc
}  // namespace procrun
