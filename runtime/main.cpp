#include "runtime/host.hpp"

int main(int argc, char** argv) { return procrun::run_host(argc, argv); }
