#include <catch2/catch.hpp>
#include <string>
#include <vector>

#include "runtime/bundle_format.hpp"

using procrun::BundleEntry;
using procrun::BundleKind;
using procrun::encode_bundle;
using procrun::kTrailerSize;
using procrun::parse_bundle;
using procrun::ParsedBundle;

namespace {

std::string sample() {
  return encode_bundle({{BundleKind::kChunk, "main.lua", "\x1bLJ main"},
                        {BundleKind::kChunk, "mod/util.lua", "\x1bLJ util"},
                        {BundleKind::kData, "assets/a.txt", "hello"}},
                       /*exe_size=*/1000);
}

std::string parse_error(const std::string& bytes) {
  ParsedBundle b;
  std::string err = parse_bundle(bytes, &b);
  if (!err.empty()) CHECK(b.entries.empty());
  return err;
}

void put_le(std::string* s, size_t at, uint64_t v, size_t width) {
  for (size_t i = 0; i < width; i++, v >>= 8)
    (*s)[at + i] = static_cast<char>(v & 0xff);
}

// Rewrites the trailer's checksum to match, so that a change to the
// entries reaches the entry parser.
std::string fix_checksum(std::string s) {
  std::string_view payload(s.data(), s.size() - kTrailerSize);
  put_le(&s, s.size() - kTrailerSize + 24, procrun::bundle_checksum(payload),
         8);
  return s;
}

// The bundle of one main chunk whose header says path_len, data_len.
std::string with_sizes(uint64_t path_len, uint64_t data_len) {
  std::string s = encode_bundle({{BundleKind::kChunk, "m.lua", "xy"}}, 0);
  put_le(&s, 4, path_len, 4);
  put_le(&s, 8, data_len, 8);
  return fix_checksum(s);
}

}  // namespace

TEST_CASE("an encoded bundle parses back to the same entries", "[bundle]") {
  std::string bytes = sample();
  ParsedBundle b;
  REQUIRE(parse_bundle(bytes, &b) == "");
  CHECK(b.exe_size == 1000);
  REQUIRE(b.entries.size() == 3);
  CHECK(b.entries[0].path == "main.lua");
  CHECK(b.entries[0].kind == BundleKind::kChunk);
  CHECK(b.entries[1].data == "\x1bLJ util");
  CHECK(b.entries[2].kind == BundleKind::kData);
  CHECK(b.entries[2].data == "hello");
  CHECK(encode_bundle(b.entries, b.exe_size) == bytes);
}

TEST_CASE("every truncation of a bundle is an error", "[bundle]") {
  std::string bytes = sample();
  for (size_t n = 0; n < bytes.size(); n++) {
    INFO("length " << n);
    CHECK(parse_error(bytes.substr(0, n)) != "");
    CHECK(parse_error(bytes.substr(bytes.size() - n)) != "");
  }
}

// The executable's size is not covered: start-up checks it against the
// stamp in the executable.
TEST_CASE("a flipped byte in a bundle is an error or a wrong exe size",
          "[bundle]") {
  std::string bytes = sample();
  for (size_t i = 0; i < bytes.size(); i++) {
    std::string bad = bytes;
    bad[i] ^= 0x20;
    INFO("offset " << i);
    ParsedBundle b;
    std::string err = parse_bundle(bad, &b);
    CHECK((err != "" || b.exe_size != 1000));
  }
}

TEST_CASE("a damaged payload fails the checksum", "[bundle]") {
  std::string bytes = sample();
  bytes[20] ^= 1;
  CHECK(parse_error(bytes) == "checksum mismatch (the file is damaged)");
}

TEST_CASE("bytes appended after the trailer are an error", "[bundle]") {
  CHECK(parse_error(sample() + "x") == "no bundle trailer (bad magic)");
  CHECK(parse_error("") == "truncated: no trailer");
}

TEST_CASE("another format version is refused by name", "[bundle]") {
  std::string bytes = sample();
  put_le(&bytes, bytes.size() - kTrailerSize + 20, 2, 4);
  CHECK(parse_error(bytes) ==
        "format version 2 is not supported (this procrun reads version 1)");
}

TEST_CASE("a payload size that disagrees with the file is an error",
          "[bundle]") {
  std::string bytes = sample();
  put_le(&bytes, bytes.size() - kTrailerSize, ~0ull, 8);
  CHECK(parse_error(bytes).find("truncated or extended") == 0);
}

TEST_CASE("entry sizes past the payload are caught without overflow",
          "[bundle]") {
  CHECK(parse_error(with_sizes(5, 2)) == "");
  CHECK(parse_error(with_sizes(5, 3)) ==
        "entry larger than the payload (entry 1)");
  CHECK(parse_error(with_sizes(0xffffffff, 2)) ==
        "entry larger than the payload (entry 1)");
  CHECK(parse_error(with_sizes(5, ~0ull)) ==
        "entry larger than the payload (entry 1)");
  CHECK(parse_error(with_sizes(5, ~0ull - 4)) ==
        "entry larger than the payload (entry 1)");
  CHECK(parse_error(with_sizes(4, 2)) == "bytes after the last entry");
}

TEST_CASE("an entry count past the payload is an error", "[bundle]") {
  std::string bytes = sample();
  put_le(&bytes, bytes.size() - kTrailerSize + 16, 0xffffffff, 4);
  CHECK(parse_error(bytes) == "entry count larger than the payload");
  put_le(&bytes, bytes.size() - kTrailerSize + 16, 4, 4);
  CHECK(parse_error(bytes) == "truncated entry header (entry 4)");
  put_le(&bytes, bytes.size() - kTrailerSize + 16, 2, 4);
  CHECK(parse_error(bytes) == "bytes after the last entry");
}

TEST_CASE("an unknown kind or a nonzero reserved byte is an error",
          "[bundle]") {
  std::string s = encode_bundle({{BundleKind::kChunk, "m.lua", "x"}}, 0);
  s[0] = 3;
  CHECK(parse_error(fix_checksum(s)) == "unknown entry kind (entry 1)");
  s[0] = 1;
  s[2] = 1;
  CHECK(parse_error(fix_checksum(s)) == "bad entry header (entry 1)");
}

TEST_CASE("a bundle must start with a chunk and have unique paths",
          "[bundle]") {
  CHECK(parse_error(encode_bundle({}, 0)) == "no main chunk");
  CHECK(parse_error(encode_bundle({{BundleKind::kData, "a", "x"}}, 0)) ==
        "no main chunk");
  CHECK(parse_error(encode_bundle(
            {{BundleKind::kChunk, "a", "x"}, {BundleKind::kData, "a", "y"}},
            0)) == "duplicate path");
}

TEST_CASE("paths that could escape or mislead are refused", "[bundle]") {
  for (const char* bad :
       {"", "/etc/passwd", "a/../b", "..", "./a", "a//b", "a/", "a/."}) {
    INFO("path '" << bad << "'");
    CHECK(procrun::check_bundle_path(bad) != "");
    std::string s = encode_bundle({{BundleKind::kChunk, bad, "x"}}, 0);
    CHECK(parse_error(s) != "");
  }
  CHECK(procrun::check_bundle_path(std::string("a\0b", 3)) == "NUL in path");
  CHECK(procrun::check_bundle_path(std::string(4097, 'a')) ==
        "bad path length");
  CHECK(procrun::check_bundle_path("a/b.c/..d") == "");
}

TEST_CASE("only bytes ending in the trailer magic look like a bundle",
          "[bundle]") {
  CHECK(procrun::ends_with_bundle_magic(sample()));
  CHECK(procrun::ends_with_bundle_magic("PRCNBNDL"));
  CHECK_FALSE(procrun::ends_with_bundle_magic(sample() + "x"));
  CHECK_FALSE(procrun::ends_with_bundle_magic("RCNBNDL"));
  CHECK_FALSE(procrun::ends_with_bundle_magic(""));
}
