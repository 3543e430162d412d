#include "runtime/bundle_format.hpp"

#include <algorithm>

namespace procrun {
namespace {

constexpr char kMagic[] = "PRCNBNDL";
constexpr size_t kMagicSize = 8;
constexpr size_t kEntryHeader = 16;

uint64_t get_le(std::string_view s, size_t at, size_t width) {
  uint64_t v = 0;
  for (size_t i = width; i-- > 0;)
    v = v << 8 | static_cast<unsigned char>(s[at + i]);
  return v;
}

void put_le(std::string* out, uint64_t v, size_t width) {
  for (size_t i = 0; i < width; i++, v >>= 8)
    out->push_back(static_cast<char>(v & 0xff));
}

struct Trailer {
  uint64_t payload_size;
  uint64_t exe_size;
  uint32_t count;
  uint32_t version;
  uint64_t checksum;
};

std::string read_trailer(std::string_view bytes, Trailer* t) {
  if (bytes.size() < kTrailerSize) return "truncated: no trailer";
  std::string_view tail = bytes.substr(bytes.size() - kTrailerSize);
  if (tail.substr(kTrailerSize - kMagicSize) != kMagic)
    return "no bundle trailer (bad magic)";
  *t = Trailer{get_le(tail, 0, 8), get_le(tail, 8, 8),
               static_cast<uint32_t>(get_le(tail, 16, 4)),
               static_cast<uint32_t>(get_le(tail, 20, 4)), get_le(tail, 24, 8)};
  if (t->version != kBundleVersion)
    return "format version " + std::to_string(t->version) +
           " is not supported (this procrun reads version " +
           std::to_string(kBundleVersion) + ")";
  if (t->payload_size != bytes.size() - kTrailerSize)
    return "truncated or extended: the trailer gives " +
           std::to_string(t->payload_size) + " payload bytes, there are " +
           std::to_string(bytes.size() - kTrailerSize);
  return "";
}

// Reads the entry at *at, advancing *at past it; sizes are checked against
// what is left before any arithmetic uses them.
std::string read_entry(std::string_view payload, size_t* at, BundleEntry* e) {
  size_t left = payload.size() - *at;
  if (left < kEntryHeader) return "truncated entry header";
  uint64_t kind = get_le(payload, *at, 1);
  if (kind != 1 && kind != 2) return "unknown entry kind";
  if (get_le(payload, *at + 1, 3) != 0) return "bad entry header";
  uint64_t path_len = get_le(payload, *at + 4, 4);
  uint64_t data_len = get_le(payload, *at + 8, 8);
  left -= kEntryHeader;
  if (path_len > left || data_len > left - path_len)
    return "entry larger than the payload";
  size_t p = *at + kEntryHeader;
  e->kind = static_cast<BundleKind>(kind);
  e->path = payload.substr(p, path_len);
  e->data = payload.substr(p + path_len, data_len);
  *at = p + path_len + data_len;
  return check_bundle_path(e->path);
}

std::string check_entries(const std::vector<BundleEntry>& entries) {
  if (entries.empty() || entries[0].kind != BundleKind::kChunk)
    return "no main chunk";
  std::vector<std::string_view> paths;
  for (const BundleEntry& e : entries) paths.push_back(e.path);
  std::sort(paths.begin(), paths.end());
  if (std::adjacent_find(paths.begin(), paths.end()) != paths.end())
    return "duplicate path";
  return "";
}

std::string read_entries(std::string_view payload, uint32_t count,
                         std::vector<BundleEntry>* out) {
  size_t at = 0;
  for (uint32_t i = 0; i < count; i++) {
    BundleEntry e{};
    std::string err = read_entry(payload, &at, &e);
    if (!err.empty()) return err + " (entry " + std::to_string(i + 1) + ")";
    out->push_back(e);
  }
  if (at != payload.size()) return "bytes after the last entry";
  return check_entries(*out);
}

}  // namespace

uint64_t bundle_checksum(std::string_view bytes) {
  uint64_t h = 0xcbf29ce484222325ull;
  for (char c : bytes) {
    h ^= static_cast<unsigned char>(c);
    h *= 0x100000001b3ull;
  }
  return h;
}

bool ends_with_bundle_magic(std::string_view bytes) {
  return bytes.size() >= kMagicSize &&
         bytes.substr(bytes.size() - kMagicSize) == kMagic;
}

std::string check_bundle_path(std::string_view path) {
  if (path.empty() || path.size() > kMaxBundlePath) return "bad path length";
  if (path.front() == '/' || path.back() == '/') return "bad path";
  if (path.find('\0') != std::string_view::npos) return "NUL in path";
  size_t start = 0;
  while (start <= path.size()) {
    size_t end = std::min(path.find('/', start), path.size());
    std::string_view part = path.substr(start, end - start);
    if (part.empty() || part == "." || part == "..") return "bad path";
    start = end + 1;
  }
  return "";
}

std::string parse_bundle(std::string_view bytes, ParsedBundle* out) {
  *out = ParsedBundle{};
  Trailer t{};
  std::string err = read_trailer(bytes, &t);
  if (!err.empty()) return err;
  std::string_view payload = bytes.substr(0, t.payload_size);
  if (bundle_checksum(payload) != t.checksum)
    return "checksum mismatch (the file is damaged)";
  // Each entry takes at least a header: a larger count cannot be right.
  if (t.count > payload.size() / kEntryHeader)
    return "entry count larger than the payload";
  err = read_entries(payload, t.count, &out->entries);
  if (!err.empty()) {
    *out = ParsedBundle{};
    return err;
  }
  out->exe_size = t.exe_size;
  return "";
}

std::string encode_bundle(const std::vector<BundleEntry>& entries,
                          uint64_t exe_size) {
  std::string out;
  for (const BundleEntry& e : entries) {
    put_le(&out, static_cast<uint64_t>(e.kind), 4);
    put_le(&out, e.path.size(), 4);
    put_le(&out, e.data.size(), 8);
    out.append(e.path);
    out.append(e.data);
  }
  uint64_t checksum = bundle_checksum(out);
  uint64_t payload_size = out.size();
  put_le(&out, payload_size, 8);
  put_le(&out, exe_size, 8);
  put_le(&out, entries.size(), 4);
  put_le(&out, kBundleVersion, 4);
  put_le(&out, checksum, 8);
  out.append(kMagic, kMagicSize);
  return out;
}

}  // namespace procrun
