#include <catch2/catch.hpp>
#include <vector>

#include "runtime/options.hpp"

using procrun::ActionKind;
using procrun::Options;
using procrun::parse_command_line;

namespace {

Options parse(std::vector<const char*> args) {
  args.insert(args.begin(), "procrun");
  return parse_command_line(static_cast<int>(args.size()), args.data());
}

}  // namespace

TEST_CASE("no arguments leave the script index at argc", "[options]") {
  Options o = parse({});
  CHECK(o.error.empty());
  CHECK(o.script_index == 1);
  CHECK(o.actions.empty());
  CHECK_FALSE(o.script_is_stdin);
}

TEST_CASE("the first non-option is the script", "[options]") {
  Options o = parse({"-e", "x=1", "s.lua", "-e", "y"});
  CHECK(o.error.empty());
  CHECK(o.script_index == 3);
  REQUIRE(o.actions.size() == 1);
  CHECK(o.actions[0].arg == "x=1");
  CHECK(o.executes);
}

TEST_CASE("-e, -l and -j keep command-line order", "[options]") {
  Options o = parse({"-lfoo", "-e", "a", "-jv", "-O3", "-l", "bar"});
  REQUIRE(o.error.empty());
  REQUIRE(o.actions.size() == 5);
  CHECK(o.actions[0].kind == ActionKind::kRequire);
  CHECK(o.actions[0].arg == "foo");
  CHECK(o.actions[1].kind == ActionKind::kExecute);
  CHECK(o.actions[2].kind == ActionKind::kJitCommand);
  CHECK(o.actions[2].arg == "v");
  CHECK(o.actions[3].kind == ActionKind::kJitOpt);
  CHECK(o.actions[3].arg == "3");
  CHECK(o.actions[4].arg == "bar");
  CHECK(o.script_index == 8);
}

TEST_CASE("a lone dash makes stdin the script", "[options]") {
  Options o = parse({"-", "a"});
  CHECK(o.script_is_stdin);
  CHECK(o.script_index == 1);
}

TEST_CASE("a dash after -- is a file named -", "[options]") {
  Options o = parse({"--", "-"});
  CHECK_FALSE(o.script_is_stdin);
  CHECK(o.script_index == 2);
}

TEST_CASE("-- ends the options even before an option", "[options]") {
  Options o = parse({"--", "-e"});
  CHECK(o.error.empty());
  CHECK(o.actions.empty());
  CHECK(o.script_index == 2);
}

TEST_CASE("-i implies -v and -E sets no_env", "[options]") {
  Options o = parse({"-i", "-E"});
  CHECK(o.interactive);
  CHECK(o.version);
  CHECK(o.no_env);
}

TEST_CASE("an option missing its value is a usage error", "[options]") {
  for (const char* flag : {"-e", "-l", "-j"}) {
    CAPTURE(flag);
    Options o = parse({flag});
    CHECK(o.error == std::string("'") + flag + "' needs an argument");
  }
}

TEST_CASE("unknown options and flags with a tail are errors", "[options]") {
  CHECK(parse({"-x"}).error == "unrecognized option '-x'");
  CHECK(parse({"-vx"}).error == "unrecognized option '-vx'");
  CHECK(parse({"-ix"}).error == "unrecognized option '-ix'");
  CHECK(parse({"--foo"}).error == "unrecognized option '--foo'");
}

TEST_CASE("-b takes the rest of the line and must come first", "[options]") {
  Options o = parse({"-b", "in.lua", "-e", "out.o"});
  CHECK(o.error.empty());
  CHECK(o.bytecode_index == 1);
  CHECK(o.actions.empty());
  CHECK(parse({"-v", "-b", "x"}).error ==
        "'-b' must be the first option (or follow -O)");
}

TEST_CASE("-b may follow -O options and nothing else, as in luajit",
          "[options]") {
  Options o = parse({"-O3", "-O-fold", "-bl", "x.lua"});
  CHECK(o.error.empty());
  CHECK(o.bytecode_index == 3);
  REQUIRE(o.actions.size() == 2);
  CHECK(o.actions[1].kind == ActionKind::kJitOpt);
  const std::string refused = "'-b' must be the first option (or follow -O)";
  const std::vector<std::vector<const char*>> befores = {
      {"-O3", "-v"}, {"-E"},   {"-i"},      {"-h"},
      {"-lfoo"},     {"-jon"}, {"-e", "x"}, {"-O", "-e", "x"}};
  for (std::vector<const char*> args : befores) {
    CAPTURE(args.size(), args[0]);
    args.push_back("-b");
    CHECK(parse(args).error == refused);
  }
}

TEST_CASE("-h and --help ask for help", "[options]") {
  CHECK(parse({"-h"}).help);
  CHECK(parse({"--help"}).help);
  CHECK_FALSE(parse({"s.lua", "-h"}).help);
}

TEST_CASE("no argv at all parses as no script", "[options]") {
  Options o = parse_command_line(0, nullptr);
  CHECK(o.error.empty());
  CHECK(o.script_index == 0);
}
