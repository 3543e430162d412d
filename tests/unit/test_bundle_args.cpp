#include <catch2/catch.hpp>
#include <vector>

#include "runtime/bundle_build.hpp"
#include "runtime/options.hpp"

using procrun::BundleArgs;
using procrun::normalize_path;
using procrun::parse_bundle_args;

namespace {

BundleArgs parse(std::vector<const char*> args) {
  args.insert(args.begin(), {"procrun", "--bundle"});
  return parse_bundle_args(static_cast<int>(args.size()), args.data(), 1);
}

procrun::Options parse_line(std::vector<const char*> args) {
  args.insert(args.begin(), "procrun");
  return procrun::parse_command_line(static_cast<int>(args.size()),
                                     args.data());
}

}  // namespace

TEST_CASE("--bundle takes -o, --strip, the entry and files", "[bundle]") {
  BundleArgs a = parse({"-o", "out", "--strip", "app.lua", "lib", "-x"});
  REQUIRE(a.error == "");
  CHECK(a.out == "out");
  CHECK(a.strip);
  CHECK(a.entry == "app.lua");
  CHECK(a.files == std::vector<std::string>{"lib", "-x"});
}

TEST_CASE("--bundle without -o or an entry is a usage error", "[bundle]") {
  CHECK(parse({"app.lua"}).error == "'--bundle' needs '-o OUT'");
  CHECK(parse({"-o", "out"}).error == "'--bundle' needs an entry script");
  CHECK(parse({"-o"}).error == "'-o' needs an argument");
  CHECK(parse({"-q", "-o", "x", "a.lua"}).error ==
        "unrecognized bundle option '-q'");
}

TEST_CASE("-- lets a bundle entry start with a dash", "[bundle]") {
  BundleArgs a = parse({"-o", "out", "--", "-app.lua"});
  REQUIRE(a.error == "");
  CHECK(a.entry == "-app.lua");
  CHECK_FALSE(a.strip);
}

TEST_CASE("--bundle must come first on the command line", "[bundle]") {
  procrun::Options o = parse_line({"--bundle", "-o", "x", "a.lua"});
  CHECK(o.error == "");
  CHECK(o.bundle_index == 1);
  CHECK(o.actions.empty());
  CHECK(parse_line({"-e", "x=1", "--bundle"}).error ==
        "'--bundle' must be the first option");
}

TEST_CASE("-m makes the next argument a module run as the script",
          "[options]") {
  procrun::Options o = parse_line({"-e", "x=1", "-m", "a.b", "-v", "y"});
  REQUIRE(o.error == "");
  CHECK(o.script_is_module);
  CHECK(o.script_index == 4);
  CHECK_FALSE(o.version);
  CHECK(parse_line({"-m"}).error == "'-m' needs an argument");
}

TEST_CASE("paths normalize lexically", "[bundle]") {
  CHECK(normalize_path("/a/./b/../c") == "/a/c");
  CHECK(normalize_path("/a//b/") == "/a/b");
  CHECK(normalize_path("/../a") == "/a");
  CHECK(normalize_path("/") == "/");
}
