// The launcher. Some settings must be made inside the child between fork
// and exec: resource limits, dying with the parent. uv_spawn has no hook
// there, so for a child that needs one procrun spawns itself in launcher
// mode instead: a few lines of C++ that run before any Lua is set up,
// apply the settings and exec the target. An exec failure (or a setting
// the system refuses) goes back to the parent through an extra pipe on the
// launcher's fd 3, so errors stay as precise as a direct spawn's. Spawns
// that need no such setting do not go through the launcher at all.
#pragma once

#include "modules/proc.hpp"

namespace procrun {
namespace proc {

struct LaunchSetup {
  uv_file report = -1;  // procrun's end of the report pipe
  uv_file child = -1;   // the launcher's end, to become its fd 3
};

// True if s asks for something only the launcher can do.
bool needs_launcher(const SpawnSpec& s);

// Makes s run the launcher (exe, this binary) with the target and its
// settings as arguments (before s's argv views are made).
void wrap_in_launcher(SpawnSpec& s, const std::string& exe);

// Opens the report pipe. Returns 0 or a negative libuv error.
int open_launch_report(LaunchSetup* ls);

// After the launcher was spawned: closes the launcher's end, waits for its
// report and closes procrun's. Returns 0 once the target runs, else the
// error, with *what naming the setting that failed ("" for the exec).
int read_launch_report(LaunchSetup* ls, std::string* what);

// Closes both ends (after a failed spawn).
void close_launch(LaunchSetup* ls);

// For main(): whether argv is a launcher call (the marker as argv[1] and
// a pipe's write end as fd 3), and the launcher itself, which returns
// only on failure (with the exit status to use).
bool is_launcher_call(int argc, char** argv);
int run_launcher(int argc, char** argv);

}  // namespace proc
}  // namespace procrun
