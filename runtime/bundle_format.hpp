// The bundle payload: Lua chunks and data files appended to a copy of the
// procrun executable. A pure unit (bytes in, entries or an error out) so
// that the unit tests and the fuzz target run exactly what start-up runs.
//
// Layout, all integers little-endian:
//   executable | entry... | trailer (kTrailerSize bytes, at the very end)
// entry:   u8 kind, u8[3] zero, u32 path length, u64 data length, path,
//          data
// trailer: u64 payload size (the entries' bytes), u64 executable size,
//          u32 entry count, u32 format version, u64 checksum (FNV-1a 64
//          of the entries' bytes), 8-byte magic "PRCNBNDL"
// The first entry is the main chunk. Paths are relative, '/'-separated,
// without "." or ".." parts, and unique.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace procrun {

enum class BundleKind : uint8_t {
  kChunk = 1,  // LuaJIT bytecode: the main chunk or a module
  kData = 2,   // a file read with proc.bundle.read
};

struct BundleEntry {
  BundleKind kind;
  std::string_view path;  // relative to the entry script's directory
  std::string_view data;
};

struct ParsedBundle {
  uint64_t exe_size = 0;  // bytes of the executable before the payload
  std::vector<BundleEntry> entries;  // views into the parsed bytes
};

constexpr size_t kTrailerSize = 40;
constexpr uint32_t kBundleVersion = 1;
constexpr size_t kMaxBundlePath = 4096;

// FNV-1a, 64 bits: enough to catch damage, not meant against tampering.
uint64_t bundle_checksum(std::string_view bytes);

// Parses the entries and trailer that end a bundled executable (bytes
// starts at the first entry). Trusts no size. Returns "" and fills *out,
// or returns what is wrong, lowercase, and leaves *out empty.
std::string parse_bundle(std::string_view bytes, ParsedBundle* out);

// The bytes parse_bundle reads back: entries, then the trailer. The first
// entry must be the main chunk; paths must be valid (check_bundle_path).
std::string encode_bundle(const std::vector<BundleEntry>& entries,
                          uint64_t exe_size);

// True if bytes end with a trailer's magic: a quick test for a file that
// procrun --bundle wrote, which parse_bundle checks in full.
bool ends_with_bundle_magic(std::string_view bytes);

// "" if path may name an entry, else why not.
std::string check_bundle_path(std::string_view path);

}  // namespace procrun
