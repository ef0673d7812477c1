#include "intel_pt_binaries.h"

#include <cstdio>
#include <fstream>

#include "hwcov/support.h"

namespace hwcov::collector {
namespace {

// Our own [vdso]: the kernel maps the same vDSO image into every 64-bit
// process, so its bytes stand in for the traced process's, which may be
// gone by the time they would be read.
std::vector<uint8_t> OwnVdso() {
  std::ifstream maps("/proc/self/maps");
  std::string line;
  while (std::getline(maps, line)) {
    if (line.find("[vdso]") == std::string::npos) continue;
    uint64_t start = 0, end = 0;
    if (std::sscanf(line.c_str(), "%lx-%lx", &start, &end) != 2) break;
    const auto* p = reinterpret_cast<const uint8_t*>(start);
    return std::vector<uint8_t>(p, p + (end - start));
  }
  return {};
}

}  // namespace

void MappedBinaries::Add(const SidebandRecord& m, trace::TraceSink& sink) {
  if (m.filename == "[vdso]") {
    if (!vdso_read_) vdso_ = OwnVdso();
    vdso_read_ = true;
    if (vdso_.size() == m.len) sink.AddSnapshot({m.pid, m.start, m.filename, vdso_});
    return;
  }
  if (m.filename.empty() || m.filename[0] == '[' || !files_.insert(m.filename).second) return;
  std::optional<BuildId> id = m.build_id ? m.build_id : ReadElfBuildId(m.filename);
  if (id && !id->empty()) sink.AddBuildId({-1, m.filename, *id});
}

}  // namespace hwcov::collector
