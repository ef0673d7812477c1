#include "process_maps.h"

#include <sys/mman.h>
#include <sys/uio.h>

#include <fstream>
#include <sstream>

namespace hwcov::collector {

std::vector<ExecMapping> ReadAllMappings(pid_t pid) {
  std::ifstream maps("/proc/" + std::to_string(pid) + "/maps");
  std::vector<ExecMapping> out;
  std::string line;
  while (std::getline(maps, line)) {
    // 55d0c8a1c000-55d0c8a1d000 r-xp 00001000 fe:01 1234   /path/to/file
    std::istringstream in(line);
    std::string range, perms, offset, dev, inode, path;
    in >> range >> perms >> offset >> dev >> inode;
    std::getline(in >> std::ws, path);
    if (perms.size() < 3 || path == "[vsyscall]") continue;
    if (path.empty() || (path[0] == '[' && path != "[vdso]")) continue;  // heap, stack, JIT
    ExecMapping m;
    m.executable = perms[2] == 'x';
    auto dash = range.find('-');
    m.start = std::stoull(range.substr(0, dash), nullptr, 16);
    m.end = std::stoull(range.substr(dash + 1), nullptr, 16);
    m.pgoff = std::stoull(offset, nullptr, 16);
    m.path = path;
    out.push_back(m);
  }
  return out;
}

trace::MmapEvent ToMmapEvent(pid_t pid, const ExecMapping& mapping) {
  trace::MmapEvent e;
  e.pid = static_cast<uint32_t>(pid);
  e.tid = static_cast<uint32_t>(pid);
  e.start = mapping.start;
  e.len = mapping.end - mapping.start;
  e.pgoff = mapping.pgoff;
  e.prot = PROT_READ | PROT_EXEC;
  e.flags = MAP_PRIVATE;
  e.filename = mapping.path;
  if (!mapping.anonymous()) e.build_id = ReadElfBuildId(mapping.path);
  return e;
}

size_t ReadTraceeMemory(pid_t pid, uint64_t addr, std::span<uint8_t> out) {
  size_t done = 0;
  while (done < out.size()) {
    // Never cross a page boundary in one read: the next page may be unmapped.
    const uint64_t at = addr + done;
    const size_t in_page = 4096 - (at & 4095);
    const size_t want = std::min(out.size() - done, in_page);
    iovec local{out.data() + done, want};
    iovec remote{reinterpret_cast<void*>(at), want};
    ssize_t n = process_vm_readv(pid, &local, 1, &remote, 1, 0);
    if (n <= 0) break;
    done += static_cast<size_t>(n);
  }
  return done;
}

}  // namespace hwcov::collector
