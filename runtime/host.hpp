// The host: runs the command line the way luajit does.
#pragma once

#include <lua.hpp>

namespace procrun {

// Runs procrun with this command line; returns the process exit status.
int run_host(int argc, char** argv);

// Calls the function below nargs arguments on the stack with a traceback
// handler, interruptible by Ctrl-C. Returns the lua_pcall status; on error
// the message (with traceback) is on the stack.
int call_protected(lua_State* L, int nargs, int nresults);

// Prints the error on top of the stack, if status says there is one, as
// one "procrun: ..." report on stderr, and pops it. Returns status.
int report(lua_State* L, int status);

// Replaces the error on top of L's stack with "message + traceback" of
// co from level on. Errors that are not strings stay as they are unless
// __tostring makes one, as in luajit; report() then says so.
void add_traceback(lua_State* L, lua_State* co, int level);

// Prints "procrun: msg" on stderr.
void print_message(const char* msg);

// Ctrl-C and SIGTERM handling during call_protected (platform files).
void arm_interrupt(lua_State* L);
void disarm_interrupt();

// Whether a SIGTERM has asked procrun to end; errors are not reported
// then. finish_termination, at the very end, dies of that SIGTERM.
bool termination_requested();
void finish_termination();

// The interactive loop (repl.cpp).
void run_repl(lua_State* L);

}  // namespace procrun
