// The test a running process is for (test_name.h's rule), read from
// /proc/PID/cmdline and /proc/PID/environ: the soft backend's view of a
// program it stopped right after its exec.
#pragma once

#include <sys/types.h>

#include <string>

namespace hwcov::collector {

// The name, or "" when the process's files cannot be read (it has gone).
std::string TestNameOfProcess(pid_t pid);

}  // namespace hwcov::collector
