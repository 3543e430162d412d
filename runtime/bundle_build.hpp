// procrun --bundle -o OUT [--strip] ENTRY.lua [FILE|DIR ...]: writes OUT,
// a copy of this executable with the Lua files compiled to bytecode and
// every other file as data, appended as a payload (bundle_format.hpp).
#pragma once

#include <lua.hpp>
#include <string>
#include <vector>

namespace procrun {

struct BundleArgs {
  std::string out;
  bool strip = false;  // --strip: bytecode without debug info
  std::string entry;
  std::vector<std::string> files;  // files and directories, as given
  // Set on a usage error; the caller prints it and the usage text.
  std::string error;
};

// A pure function of argv: argv[first] is "--bundle".
BundleArgs parse_bundle_args(int argc, const char* const* argv, int first);

// One file that goes into the bundle.
struct BundleSource {
  std::string disk_path;  // where to read it
  std::string path;       // its path relative to the entry's directory
};

// The entry (first) and the files the arguments name, directories walked
// in sorted order, without dot-files and without an earlier bundle at OUT
// that a walk finds. Returns "" or what is wrong: a missing file, one
// outside the entry's directory, OUT being an input (by path or by file).
std::string collect_bundle_sources(const BundleArgs& args,
                                   std::vector<BundleSource>* out);

// "a/./b/../c" -> "a/c", lexically, for absolute paths.
std::string normalize_path(const std::string& path);

// Builds the bundle: "" on success, else the message, and no OUT (nor any
// temporary file) is left behind. L compiles the Lua files.
std::string build_bundle(lua_State* L, const BundleArgs& args);

}  // namespace procrun
