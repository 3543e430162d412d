#include "runtime/options.hpp"

#include <cstring>

namespace procrun {
namespace {

Options fail(Options opts, std::string message) {
  opts.error = std::move(message);
  return opts;
}

// Options that take a value accept it attached (-eCHUNK) or as the next
// argument (-e CHUNK), as in luajit.
bool take_value(int argc, const char* const* argv, int* i, std::string* out) {
  const char* attached = argv[*i] + 2;
  if (*attached) {
    *out = attached;
    return true;
  }
  if (*i + 1 >= argc) return false;
  *out = argv[++*i];
  return true;
}

// luajit lets only -O options come before -b: each is one argument and
// one action, so argv[1..i-1] were all -O when every action is one.
bool only_jit_opts_before(const Options& opts, int i) {
  if (opts.actions.size() != size_t(i - 1) || opts.help) return false;
  for (const Action& a : opts.actions)
    if (a.kind != ActionKind::kJitOpt) return false;
  return true;
}

}  // namespace

Options parse_command_line(int argc, const char* const* argv) {
  Options opts;
  int i = 1;

  for (; i < argc; i++) {
    const char* a = argv[i];
    if (a[0] != '-') break;  // the script
    if (a[1] == '\0') {      // "-": the script is stdin
      opts.script_is_stdin = true;
      break;
    }
    if (std::strcmp(a, "--") == 0) {
      i++;
      break;
    }
    if (std::strcmp(a, "--bundle") == 0) {
      if (i != 1) return fail(opts, "'--bundle' must be the first option");
      opts.bundle_index = i;
      opts.script_index = argc;
      return opts;
    }
    if (std::strcmp(a, "-m") == 0) {
      if (i + 1 >= argc) return fail(opts, "'-m' needs an argument");
      opts.script_is_module = true;
      i++;
      break;
    }
    if (std::strcmp(a, "--help") == 0 || std::strcmp(a, "-h") == 0) {
      opts.help = true;
      continue;
    }
    char flag = a[1];
    bool bare = a[2] == '\0';
    switch (flag) {
      case 'i':
      case 'v':
        if (!bare)
          return fail(opts, "unrecognized option '" + std::string(a) + "'");
        opts.version = true;
        if (flag == 'i') opts.interactive = true;
        break;
      case 'E':
        if (!bare)
          return fail(opts, "unrecognized option '" + std::string(a) + "'");
        opts.no_env = true;
        break;
      case 'e':
      case 'l':
      case 'j': {
        Action act{flag == 'e'   ? ActionKind::kExecute
                   : flag == 'l' ? ActionKind::kRequire
                                 : ActionKind::kJitCommand,
                   {}};
        if (!take_value(argc, argv, &i, &act.arg))
          return fail(opts,
                      "'-" + std::string(1, flag) + "' needs an argument");
        if (flag == 'e') opts.executes = true;
        opts.actions.push_back(std::move(act));
        break;
      }
      case 'O':
        opts.actions.push_back({ActionKind::kJitOpt, a + 2});
        break;
      case 'b':
        // As in luajit: -b takes the rest of the line and follows only -O.
        if (!only_jit_opts_before(opts, i))
          return fail(opts, "'-b' must be the first option (or follow -O)");
        opts.bytecode_index = i;
        opts.script_index = argc;
        return opts;
      default:
        return fail(opts, "unrecognized option '" + std::string(a) + "'");
    }
  }
  opts.script_index = i < argc ? i : argc;  // argc is 0 without argv[0]
  return opts;
}

const char* usage_text() {
  return "usage: procrun [options]... [script [args]...].\n"
         "Available options are:\n"
         "  -e chunk  Execute string 'chunk'.\n"
         "  -l name   Require library 'name'.\n"
         "  -b ...    Save or list bytecode.\n"
         "  -m name   Run module 'name', found as require finds it, as "
         "the script.\n"
         "  -j cmd    Perform LuaJIT control command.\n"
         "  -O[opt]   Control LuaJIT optimizations.\n"
         "  -i        Enter interactive mode after executing 'script'.\n"
         "  -v        Show version information.\n"
         "  -E        Ignore environment variables.\n"
         "  -h        Show this help.\n"
         "  --        Stop handling options.\n"
         "  -         Execute stdin and stop handling options.\n"
         "  --bundle -o OUT [--strip] script [file|dir]...\n"
         "            Write OUT: this executable with the script and "
         "files.\n";
}

}  // namespace procrun
