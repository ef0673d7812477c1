#include "test_names.h"

#include <map>

namespace hwcov::decoder {

std::string TestNameOfProcess(const trace::Trace& trace, uint32_t pid) {
  std::map<uint32_t, uint32_t> parent;  // forked child -> parent (not threads)
  for (const trace::TaskEvent& t : trace.tasks)
    if (!t.exit && t.pid != t.ppid && t.pid == t.tid) parent.emplace(t.pid, t.ppid);
  constexpr int kMaxForkDepth = 256;  // corrupt FORK records may form a cycle
  uint32_t at = pid;
  for (int depth = 0; depth < kMaxForkDepth; ++depth) {
    if (auto it = trace.test_names.find(at); it != trace.test_names.end()) return it->second;
    const std::string* comm = nullptr;
    for (const trace::CommEvent& c : trace.comms)
      if (c.pid == at && c.exec) comm = &c.name;
    if (comm) return *comm;
    auto up = parent.find(at);
    if (up == parent.end()) break;
    at = up->second;
  }
  return "pid " + std::to_string(pid);
}

}  // namespace hwcov::decoder
