// The POSIX parts of proc that stand alone: signal names, the PATH search
// and the exec-format check.
#include <sys/stat.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <string>

#include "modules/proc.hpp"

using namespace procrun::proc;

namespace {

// A fresh directory under /tmp, removed with everything in it.
struct TempDir {
  std::string path;
  TempDir() {
    char name[] = "/tmp/procrun-unit.XXXXXX";
    REQUIRE(mkdtemp(name) != nullptr);
    path = name;
  }
  ~TempDir() {
    std::string cmd = "rm -rf '" + path + "'";
    CHECK(std::system(cmd.c_str()) == 0);
  }
  std::string file(const std::string& name, const std::string& text,
                   mode_t mode) const {
    std::string p = path + '/' + name;
    FILE* f = std::fopen(p.c_str(), "wb");
    REQUIRE(f != nullptr);
    std::fwrite(text.data(), 1, text.size(), f);
    std::fclose(f);
    REQUIRE(chmod(p.c_str(), mode) == 0);
    return p;
  }
};

}  // namespace

TEST_CASE("signal names are taken with or without SIG", "[proc][signals]") {
  CHECK(signal_by_name("TERM") == SIGTERM);
  CHECK(signal_by_name("SIGTERM") == SIGTERM);
  CHECK(signal_by_name("KILL") == SIGKILL);
  CHECK(signal_by_name("USR2") == SIGUSR2);
  CHECK(signal_by_name("CONT") == SIGCONT);
}

TEST_CASE("unknown signal names are refused", "[proc][signals]") {
  CHECK(signal_by_name("FOO") == -1);
  CHECK(signal_by_name("term") == -1);
  CHECK(signal_by_name("SIG") == -1);
  CHECK(signal_by_name("") == -1);
}

TEST_CASE("a path is seen from inside dir unless absolute", "[proc][path]") {
  CHECK(path_in_dir("/d", "x/y") == "/d/x/y");
  CHECK(path_in_dir("/d", "/abs") == "/abs");
  CHECK(path_in_dir("", "rel") == "rel");
  CHECK(has_dir_part("./x"));
  CHECK_FALSE(has_dir_part("ls"));
}

TEST_CASE("the PATH search finds the first runnable file", "[proc][path]") {
  TempDir a, b;
  b.file("tool", "#!/bin/sh\n", 0755);
  std::string found;
  CHECK(search_path("tool", a.path + ':' + b.path, "", &found) == 0);
  CHECK(found == b.path + "/tool");
  a.file("tool", "#!/bin/sh\n", 0755);
  CHECK(search_path("tool", a.path + ':' + b.path, "", &found) == 0);
  CHECK(found == a.path + "/tool");
}

TEST_CASE("the PATH search skips unrunnable files and dirs", "[proc][path]") {
  TempDir a, b;
  a.file("tool", "#!/bin/sh\n", 0644);
  REQUIRE(mkdir((b.path + "/tool").c_str(), 0755) == 0);
  std::string found;
  CHECK(search_path("tool", a.path + ':' + b.path, "", &found) == UV_EACCES);
  CHECK(search_path("nothing", a.path, "", &found) == UV_ENOENT);
}

TEST_CASE("relative PATH entries are searched inside dir", "[proc][path]") {
  TempDir d;
  REQUIRE(mkdir((d.path + "/bin").c_str(), 0755) == 0);
  d.file("bin/tool", "#!/bin/sh\n", 0755);
  d.file("here", "#!/bin/sh\n", 0755);
  std::string found;
  CHECK(search_path("tool", "bin", d.path, &found) == 0);
  CHECK(found == "bin/tool");
  CHECK(search_path("here", "/nonexistent::", d.path, &found) == 0);
  CHECK(found == "./here");
}

TEST_CASE("exec format: scripts and ELF pass, text does not", "[proc][exec]") {
  TempDir d;
  CHECK(check_exec_format(d.file("s", "#!/bin/sh\n", 0755)) == 0);
  CHECK(check_exec_format("/bin/sh") == 0);
  CHECK(check_exec_format(d.file("t", "echo hi\n", 0755)) == kErrNoExec);
  CHECK(check_exec_format(d.file("e", "", 0755)) == kErrNoExec);
  // Not executable, or missing: left for the spawn to report.
  CHECK(check_exec_format(d.file("n", "echo hi\n", 0644)) == 0);
  CHECK(check_exec_format(d.path + "/missing") == 0);
}
