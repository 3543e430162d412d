// POSIX parts of spawning: how a bare name is found in PATH, and which
// files the kernel can execute.
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "modules/proc.hpp"

namespace procrun {
namespace proc {
namespace {

bool is_runnable_file(const std::string& path, bool* exists) {
  struct stat st;
  if (stat(path.c_str(), &st) != 0 || !S_ISREG(st.st_mode)) return false;
  *exists = true;
  return access(path.c_str(), X_OK) == 0;
}

bool starts_with(const char* data, size_t size, const char* magic) {
  size_t n = std::strlen(magic);
  return size >= n && std::memcmp(data, magic, n) == 0;
}

}  // namespace

const char* const kShellArgv[] = {"/bin/sh", "-c", nullptr};

bool has_dir_part(const std::string& cmd) {
  return cmd.find('/') != std::string::npos;
}

std::string path_in_dir(const std::string& dir, const std::string& path) {
  if (dir.empty() || path.empty() || path[0] == '/') return path;
  return dir + '/' + path;
}

std::string default_search_path() {
  char buf[1024];
  size_t n = confstr(_CS_PATH, buf, sizeof buf);
  if (n == 0 || n > sizeof buf) return "/bin:/usr/bin";
  return buf;
}

// Like execvp: an empty entry is the current directory, and a match that
// cannot be run is skipped, leaving EACCES as the error if nothing else
// matches.
int search_path(const std::string& name, const std::string& path,
                const std::string& dir, std::string* found) {
  bool exists = false;
  size_t start = 0;
  for (;;) {
    size_t end = path.find(':', start);
    std::string entry = path.substr(start, end - start);
    std::string candidate = (entry.empty() ? "." : entry) + '/' + name;
    if (is_runnable_file(path_in_dir(dir, candidate), &exists)) {
      *found = candidate;
      return 0;
    }
    if (end == std::string::npos) break;
    start = end + 1;
  }
  return exists ? UV_EACCES : UV_ENOENT;
}

// NOTE: glibc's execvp, which libuv 1.44 uses, runs a file that fails with
// ENOEXEC through /bin/sh, so a text file without "#!" would run as a
// shell script. We refuse it here instead: only ELF files, Mach-O files
// and "#!" scripts pass. A format registered through binfmt_misc is
// refused too. Spawns that exec with execve (the quick spawn, the
// launcher) skip this: the kernel answers ENOEXEC itself.
int check_exec_format(const std::string& path) {
  bool exists = false;
  if (!is_runnable_file(path, &exists)) return 0;  // spawn will say why
  int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return 0;  // execute-only: let the kernel decide
  char head[4];
  ssize_t n;
  do n = read(fd, head, sizeof head);
  while (n < 0 && errno == EINTR);
  close(fd);
  if (n < 0) return 0;
  size_t size = static_cast<size_t>(n);
  const char* const magics[] = {
      "\x7f"
      "ELF",
      "#!",
      "\xfe\xed\xfa\xce",
      "\xfe\xed\xfa\xcf",
      "\xce\xfa\xed\xfe",
      "\xcf\xfa\xed\xfe",
      "\xca\xfe\xba\xbe"};
  for (const char* m : magics)
    if (starts_with(head, size, m)) return 0;
  return kErrNoExec;
}

}  // namespace proc
}  // namespace procrun
