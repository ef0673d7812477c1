// Fuzz target: the Intel PT decoder (decoder::Decode and ListInstructions,
// i.e. libipt's block and instruction decoders inside hwcov's resync loop,
// epochs, images and profile building) over arbitrary bytes as the PT
// stream of one thread, with a fixed image: data/loops-nopie (a non-PIE
// build of tests/programs/loops.c, so that its addresses never move) as
// the soft tracer recorded it, a second copy of it mapped later (PT
// timestamps choose between the two address spaces) and a [vdso] whose
// bytes are a snapshot. The trace is built in memory from trace.h's plain
// types, so decoder.h needs no test-only entry point; only the PT bytes
// come from a file, because AUX data is a view into the mapped file.
#include <elf.h>

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <iterator>
#include <memory>
#include <vector>

#include "fuzz_input.h"
#include "hwcov/decoder.h"
#include "hwcov/trace.h"

namespace {

namespace trace = hwcov::trace;
using hwcov::fuzz::Check;

constexpr uint32_t kPid = 4242;
constexpr uint64_t kVdso = 0x7ffff7fc1000;
constexpr uint64_t kSecondCopy = 0x10000000;              // added to the image's addresses
constexpr uint64_t kSecondCopyTime = 10'000'000'000'000;  // ns: after the seeds' TSCs

std::vector<uint8_t> ReadAll(const char* path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

// The PT_LOAD segments of the image, mapped as the kernel maps them.
std::vector<trace::MmapEvent> ImageMappings(const std::vector<uint8_t>& elf, const char* path) {
  Check(elf.size() >= sizeof(Elf64_Ehdr), "fixed image readable");
  Elf64_Ehdr eh;
  std::memcpy(&eh, elf.data(), sizeof eh);
  std::vector<trace::MmapEvent> out;
  for (unsigned i = 0; i < eh.e_phnum; ++i) {
    Elf64_Phdr ph;
    const uint64_t at = eh.e_phoff + uint64_t{i} * eh.e_phentsize;
    Check(at + sizeof ph <= elf.size(), "fixed image program headers");
    std::memcpy(&ph, elf.data() + at, sizeof ph);
    if (ph.p_type != PT_LOAD) continue;
    trace::MmapEvent m;
    m.pid = m.tid = kPid;
    m.start = ph.p_vaddr & ~uint64_t{0xfff};
    m.len = ((ph.p_vaddr + ph.p_memsz + 0xfff) & ~uint64_t{0xfff}) - m.start;
    m.pgoff = ph.p_offset & ~uint64_t{0xfff};
    m.prot = (ph.p_flags & PF_X ? 4 : 0) | (ph.p_flags & PF_R ? 1 : 0);
    m.executable = ph.p_flags & PF_X;
    m.filename = path;
    m.build_id = hwcov::ReadElfBuildId(path);
    m.sample.pid = m.sample.tid = kPid;
    m.sample.time = 1;
    out.push_back(m);
  }
  return out;
}

trace::Trace MakeFixedTrace() {
  static const char* const kImage = HWCOV_FUZZ_DATA_DIR "/loops-nopie";
  const std::vector<uint8_t> elf = ReadAll(kImage);
  trace::Trace t;
  t.path = "fuzz-input";
  t.attrs.push_back(
      {10,
       128,
       0x2401,
       trace::kSampleIp | trace::kSampleTid | trace::kSampleTime | trace::kSampleIdentifier,
       1u << 18,
       {1}});
  // The soft tracer's AUXTRACE_INFO: identity time conversion, TSC on.
  t.pt = trace::PtInfo{
      10, 0x2401, {10, 0, 1, 0, 1, 0x400, 0x800, 0, 0, 0, 0x200, 0x3c000, 0, 0, 0x2, 0, 0, 0}};
  trace::CommEvent comm;
  comm.pid = comm.tid = kPid;
  comm.exec = true;
  comm.name = "loops-nopie";
  t.comms.push_back(comm);
  t.itrace_starts.push_back({{kPid, kPid, 1, UINT32_MAX}, kPid, kPid});
  for (const trace::MmapEvent& m : ImageMappings(elf, kImage)) {
    t.mmaps.push_back(m);
    trace::MmapEvent later = m;
    later.start += kSecondCopy;
    later.sample.time = kSecondCopyTime;
    t.mmaps.push_back(later);
    if (m.executable && t.snapshots.empty()) {
      // Code without a file: the decoder reads it through libipt's callback.
      trace::CodeSnapshot vdso{kPid, kVdso, "[vdso]", {}};
      const uint64_t n =
          std::min<uint64_t>(0x2000, elf.size() - std::min<uint64_t>(m.pgoff, elf.size()));
      vdso.bytes.assign(elf.begin() + static_cast<long>(m.pgoff),
                        elf.begin() + static_cast<long>(m.pgoff + n));
      t.snapshots.push_back(vdso);
      trace::MmapEvent v;
      v.pid = v.tid = kPid;
      v.start = kVdso;
      v.len = 0x2000;
      v.prot = 5;
      v.filename = "[vdso]";
      v.sample = m.sample;
      t.mmaps.push_back(v);
    }
  }
  return t;
}

// Differential: hwcov's fast path against libipt's block decoder |r|, which
// decodes whatever the fast path declines.
void ExpectSameAsLibipt(const hwcov::decoder::ExecutionProfile& r,
                        const hwcov::decoder::ExecutionProfile& p) {
  if (r.instructions != p.instructions || r.decoded_bytes != p.decoded_bytes ||
      r.gaps.size() != p.gaps.size() || r.blocks.size() != p.blocks.size())
    std::fprintf(stderr,
                 "fast path: %llu instructions, %llu bytes decoded, %zu gaps, %zu blocks; "
                 "libipt: %llu, %llu, %zu, %zu\n",
                 static_cast<unsigned long long>(p.instructions),
                 static_cast<unsigned long long>(p.decoded_bytes), p.gaps.size(), p.blocks.size(),
                 static_cast<unsigned long long>(r.instructions),
                 static_cast<unsigned long long>(r.decoded_bytes), r.gaps.size(), r.blocks.size());
  Check(r.instructions == p.instructions && r.decoded_bytes == p.decoded_bytes &&
            r.unmapped_instructions == p.unmapped_instructions && r.gaps.size() == p.gaps.size() &&
            r.blocks.size() == p.blocks.size() && r.branches.size() == p.branches.size(),
        "fast path totals equal libipt's");
  for (size_t i = 0; i < p.blocks.size(); ++i)
    Check(r.blocks[i].begin == p.blocks[i].begin && r.blocks[i].last == p.blocks[i].last &&
              r.blocks[i].count == p.blocks[i].count,
          "fast path blocks equal libipt's");
  for (size_t i = 0; i < p.branches.size(); ++i)
    Check(r.branches[i].offset == p.branches[i].offset &&
              r.branches[i].taken == p.branches[i].taken &&
              r.branches[i].not_taken == p.branches[i].not_taken,
          "fast path branches equal libipt's");
  for (size_t i = 0; i < p.gaps.size(); ++i)
    Check(r.gaps[i].kind == p.gaps[i].kind && r.gaps[i].trace_offset == p.gaps[i].trace_offset,
          "fast path gaps equal libipt's");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static hwcov::fuzz::ScratchFile file("input.pt");
  static trace::Trace t = MakeFixedTrace();
  t.file = std::make_shared<hwcov::MappedFile>(file.Write(data, size));
  // Two buffers: a stretch that spans them is copied to the heap, whose
  // bounds ASan knows exactly (a mapped file's page has slack).
  trace::AuxQueue queue{0, kPid, UINT32_MAX, {}};
  const uint64_t half = size / 2;
  queue.buffers.push_back({0, 0, half, 0, 0, 0, kPid, UINT32_MAX});
  queue.buffers.push_back({half, 0, size - half, half, 0, 0, kPid, UINT32_MAX});
  t.queues = {queue};

  try {
    const hwcov::decoder::ExecutionProfile p = hwcov::decoder::Decode(t);
    Check(p.trace_bytes == size, "every PT byte counted");
    Check(p.decoded_bytes <= p.trace_bytes, "decoded bytes within the trace");
    for (const auto& b : p.blocks)
      Check(b.module < p.modules.size() && b.begin <= b.last && b.count > 0, "valid block");
    for (const auto& b : p.branches) Check(b.module < p.modules.size(), "valid branch");
    // Differential (ExpectSameAsLibipt). The profiles must be equal
    // when libipt found no error: where it did, how many instructions it
    // decodes before noticing depends on what its block cache (shared through
    // the image section cache) holds from the stretches decoded before, so
    // libipt does not agree with itself across decode orders.
    hwcov::decoder::DecodeOptions reference;
    reference.libipt_only = true;
    const hwcov::decoder::ExecutionProfile r = hwcov::decoder::Decode(t, reference);
    const bool comparable = std::none_of(r.gaps.begin(), r.gaps.end(), [](const auto& g) {
      return g.kind == hwcov::decoder::GapKind::kDecodeError;
    });
    if (comparable) {
      ExpectSameAsLibipt(r, p);
      // The fast path's step cache: evicting at every other step, or none.
      for (size_t entries : {size_t{2}, size_t{0}}) {
        hwcov::decoder::DecodeOptions options;
        options.step_cache_entries = entries;
        ExpectSameAsLibipt(r, hwcov::decoder::Decode(t, options));
      }
    }
    uint64_t insns = 0;
    hwcov::decoder::ListInstructions(
        t, [&](uint64_t) { ++insns; }, [](const hwcov::decoder::Gap&) {});
    hwcov::fuzz::Accepted(std::to_string(p.instructions) + " instructions in " +
                          std::to_string(p.blocks.size()) + " blocks, " +
                          std::to_string(p.gaps.size()) + " gaps, " + std::to_string(insns) +
                          " listed");
  } catch (const hwcov::Error& e) {
    hwcov::fuzz::Refused(e.what());
  }
  return 0;
}
