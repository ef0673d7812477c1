// A process a hardware recording attaches to: only looked at. (A launched
// command is a ChildProcess held before its exec, process.h.)
#pragma once

#include <sys/types.h>

#include <string>
#include <vector>

namespace hwcov::collector {

// The threads of a running process (/proc/PID/task), or throws when it
// does not exist.
std::vector<pid_t> ThreadsOf(pid_t pid);
bool ProcessExists(pid_t pid);
// The executable a running process runs (/proc/PID/exe).
std::string ExecutableOf(pid_t pid);

}  // namespace hwcov::collector
