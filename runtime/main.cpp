#include "modules/proc_launcher.hpp"
#include "runtime/host.hpp"
#include "runtime/std_fds.hpp"

int main(int argc, char** argv) {
  if (procrun::proc::is_launcher_call(argc, argv))
    return procrun::proc::run_launcher(argc, argv);
  procrun::open_closed_std_fds();
  return procrun::run_host(argc, argv);
}
