#include "address_spaces.h"

#include <algorithm>

namespace hwcov::decoder {

AddressSpaces::AddressSpaces(const trace::Trace& trace) : trace_(trace) {
  for (const trace::MmapEvent& m : trace.mmaps)
    if (m.executable && m.len) mmaps_[m.pid].push_back(&m);
  for (auto& [pid, list] : mmaps_)
    std::stable_sort(list.begin(), list.end(),
                     [](const auto* a, const auto* b) { return a->sample.time < b->sample.time; });
  for (const trace::CommEvent& c : trace.comms)
    if (c.exec) execs_[c.pid].push_back(c.sample.time);
  for (const trace::TaskEvent& t : trace.tasks)
    if (!t.exit && t.pid != t.ppid && t.pid == t.tid) forked_from_[t.pid] = {t.ppid, t.time};
}

std::vector<const trace::MmapEvent*> AddressSpaces::At(uint32_t pid, uint64_t time) const {
  return At(pid, time, 0);
}

std::vector<const trace::MmapEvent*> AddressSpaces::At(uint32_t pid, uint64_t time,
                                                       int depth) const {
  // The last exec at or before |time| wipes what came before it.
  uint64_t since = 0;
  bool exec_seen = false;
  if (auto e = execs_.find(pid); e != execs_.end())
    for (uint64_t t : e->second)
      if (t <= time && t >= since) {
        since = t;
        exec_seen = true;
      }
  std::vector<const trace::MmapEvent*> out;
  if (auto f = forked_from_.find(pid); f != forked_from_.end() && f->second.first != pid) {
    const auto [parent, fork_time] = f->second;
    constexpr int kMaxForkDepth = 256;  // corrupt FORK records may form a cycle
    if ((!exec_seen || fork_time > since) && depth < kMaxForkDepth) {
      out = At(parent, std::min(fork_time, time), depth + 1);
      since = std::max(since, fork_time);
    }
  }
  if (auto m = mmaps_.find(pid); m != mmaps_.end())
    for (const trace::MmapEvent* e : m->second)
      if (e->sample.time >= since && e->sample.time <= time) out.push_back(e);
  return out;
}

std::vector<const trace::MmapEvent*> AddressSpaces::All() const {
  std::vector<const trace::MmapEvent*> out;
  for (const trace::MmapEvent& m : trace_.mmaps)
    if (m.executable && m.len) out.push_back(&m);
  return out;
}

uint32_t AddressSpaces::PidOfThread(uint32_t tid) const {
  for (const auto& s : trace_.itrace_starts)
    if (s.tid == tid) return s.pid;
  for (const auto& t : trace_.tasks)
    if (t.tid == tid) return t.pid;
  for (const auto& c : trace_.comms)
    if (c.tid == tid) return c.pid;
  return tid;
}

}  // namespace hwcov::decoder
