// The command line, parsed the way luajit parses it. A pure function of
// argv so that unit tests can call it.
#pragma once

#include <string>
#include <vector>

namespace procrun {

// Options that run something, kept in command-line order.
enum class ActionKind {
  kExecute,     // -e chunk
  kRequire,     // -l name
  kJitCommand,  // -j cmd
  kJitOpt,      // -O[opt]
};

struct Action {
  ActionKind kind;
  std::string arg;
};

struct Options {
  std::vector<Action> actions;
  bool interactive = false;  // -i
  bool version = false;      // -v, also implied by -i
  bool no_env = false;       // -E
  bool executes = false;     // some -e was given: no REPL or stdin after it
  bool help = false;         // -h, --help
  // -b: argv[bytecode_index..] go to jit.bcsave; nothing else runs.
  int bytecode_index = 0;
  // --bundle: argv[bundle_index..] describe a bundle to build.
  int bundle_index = 0;
  // argv index of the script, or argc when there is none. Also the base of
  // the arg table: arg[i - script_index] = argv[i].
  int script_index = 0;
  bool script_is_stdin = false;  // the script is "-" (not after "--")
  // -m name: the script is module name, found as require finds it;
  // argv[script_index] is the name.
  bool script_is_module = false;
  // Set on a usage error; the caller prints it and the usage text.
  std::string error;
};

Options parse_command_line(int argc, const char* const* argv);

// The text printed by -h and after a usage error.
const char* usage_text();

}  // namespace procrun
