// The bundle this executable carries, if procrun --bundle made it: the
// payload is read and checked once at start-up, then serves the bundle
// searcher, proc.bundle and the host's main chunk.
#pragma once

#include <cstdint>
#include <lua.hpp>
#include <string>
#include <string_view>

#include "runtime/bundle_format.hpp"

namespace procrun {

// What the bundler writes into its copy of the executable: where the
// payload starts and how large the whole file is. Zero in a plain build,
// so that a plain start reads one variable and no file.
struct BundleStamp {
  uint64_t exe_size;
  uint64_t file_size;
};

// The stamp compiled into this binary.
BundleStamp own_bundle_stamp();

// The stamp's fixed bytes, which the bundler looks for in the image it
// copies; the 16 bytes after them hold exe_size and file_size.
std::string_view bundle_stamp_magic();

// Removes PROCRUN_PLAIN from the environment, so that only this process
// sees it; true if it was set to a non-empty value.
bool take_plain_request();

// Reads and checks the payload if the stamp says there is one. Returns
// "" (also when there is none) or a message naming the executable.
std::string load_own_bundle();

// True once load_own_bundle found a payload.
bool have_bundle();
// The executable's path, once a payload is loaded.
const std::string& bundle_exe_path();
// The main chunk, or the entry at a path; null if none.
const BundleEntry* bundle_main();
const BundleEntry* bundle_find(std::string_view path);
// The entries, in payload order (empty without a bundle).
const std::vector<BundleEntry>& bundle_entries();

// Loads a chunk entry as a function on the stack; lua_load's status.
int load_bundle_chunk(lua_State* L, const BundleEntry& e);

// Inserts the bundle searcher after the built-in one (package.loaders[3]),
// if a payload is loaded.
void install_bundle_searcher(lua_State* L);

}  // namespace procrun
