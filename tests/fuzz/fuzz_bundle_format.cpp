// libFuzzer target for the bundle payload parser, the code every bundled
// executable runs on its own tail at start-up. Built with clang by
// tests/CMakeLists.txt and run briefly by ctest (fuzz.bundle_format).
#include <cstddef>
#include <cstdint>
#include <string>

#include "runtime/bundle_format.hpp"

namespace {

// Odd-sized inputs get a matching checksum, so that mutations reach the
// entry parser instead of stopping at the checksum.
void maybe_fix_checksum(std::string* s) {
  using procrun::kTrailerSize;
  if (s->size() < kTrailerSize || s->size() % 2 == 0) return;
  std::string_view payload(s->data(), s->size() - kTrailerSize);
  uint64_t sum = procrun::bundle_checksum(payload);
  for (size_t i = 0; i < 8; i++, sum >>= 8)
    (*s)[s->size() - kTrailerSize + 24 + i] = static_cast<char>(sum & 0xff);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string bytes(reinterpret_cast<const char*>(data), size);
  maybe_fix_checksum(&bytes);
  procrun::ParsedBundle b;
  if (!procrun::parse_bundle(bytes, &b).empty()) return 0;
  // What parses must encode back to the same bytes: nothing was skipped.
  if (procrun::encode_bundle(b.entries, b.exe_size) != bytes) __builtin_trap();
  return 0;
}
