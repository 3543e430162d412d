// Start-up guard for the standard descriptors.
#pragma once

namespace procrun {

// Opens /dev/null onto each of fds 0, 1 and 2 that is closed. A process
// started with one closed would otherwise get its next descriptor there:
// libuv's epoll fd on 0 aborts in uv__close, and a file opened on 1 or 2
// would receive the script's output. Failures are left alone: with no
// /dev/null there is nothing better to put there.
void open_closed_std_fds();

}  // namespace procrun
