// Decode(): libipt's block decoder over every queue, aggregated into block
// and branch counts per (module, file offset).
#include <cstdio>
#include <map>
#include <set>
#include <unordered_map>

#include "address_spaces.h"
#include "decode_loop.h"
#include "epochs.h"

namespace hwcov::decoder {
namespace {

std::string Hex(uint64_t value) {
  char buf[24];
  std::snprintf(buf, sizeof buf, "0x%llx", static_cast<unsigned long long>(value));
  return buf;
}

struct PairHash {
  size_t operator()(const std::pair<uint64_t, uint64_t>& p) const {
    return std::hash<uint64_t>()(p.first * 0x9e3779b97f4a7c15ull ^ p.second);
  }
};

struct RuntimeBlock {
  uint64_t count = 0;
  uint32_t instructions = 0;
};

// Block and edge counts of one queue, in runtime addresses.
struct QueueCounts {
  std::unordered_map<std::pair<uint64_t, uint64_t>, RuntimeBlock, PairHash> blocks;
  std::unordered_map<std::pair<uint64_t, uint64_t>, uint64_t, PairHash> edges;  // end -> next
  std::optional<uint64_t> pending_end;
  uint64_t instructions = 0;
};

using BlockKey = std::tuple<uint32_t, uint64_t, uint64_t>;
using BranchKey = std::pair<uint32_t, uint64_t>;

struct ProfileBuilder {
  std::map<BlockKey, BlockCount> blocks;
  std::map<BranchKey, BranchCount> branches;

  BranchCount& Branch(uint32_t module, uint64_t offset) {
    BranchCount& b = branches[{module, offset}];
    b.module = module;
    b.offset = offset;
    return b;
  }
};

// Walks each distinct block once with the x86 classifier: conditional
// branches inside a block fell through; the one ending it went wherever the
// next block started.
void AddQueue(const QueueCounts& counts, const CodeImage& image, ProfileBuilder& out,
              ExecutionProfile& profile) {
  for (const auto& [range, block] : counts.blocks) {
    const auto [ip, end_ip] = range;
    const Mapping* m = image.Find(ip);
    if (!m || end_ip >= m->end) {
      profile.unmapped_instructions += block.count * block.instructions;
      continue;
    }
    const uint64_t begin = ip - m->start + m->pgoff;
    BlockCount& b = out.blocks[{m->module, begin, end_ip - m->start + m->pgoff}];
    b.module = m->module;
    b.begin = begin;
    b.last = end_ip - m->start + m->pgoff;
    b.instructions = block.instructions;
    b.count += block.count;
    uint64_t at = ip;
    while (at < end_ip) {
      InsnInfo insn = ClassifyInsn(image.CodeAt(at, 15), at);
      if (insn.length == 0) break;
      if (insn.kind == InsnKind::kCondJump)
        out.Branch(m->module, at - m->start + m->pgoff).not_taken += block.count;
      at += insn.length;
    }
    if (at != end_ip)
      profile.warnings.push_back("block " + Hex(ip) + "-" + Hex(end_ip) + " in " + m->path +
                                 " does not decode as one instruction sequence");
  }
  for (const auto& [edge, count] : counts.edges) {
    const auto [from, to] = edge;
    const Mapping* m = image.Find(from);
    if (!m) continue;
    InsnInfo insn = ClassifyInsn(image.CodeAt(from, 15), from);
    if (insn.kind != InsnKind::kCondJump) continue;
    BranchCount& b = out.Branch(m->module, from - m->start + m->pgoff);
    (to == from + insn.length ? b.not_taken : b.taken) += count;
  }
}

}  // namespace

std::string GapKindName(GapKind kind) {
  switch (kind) {
    case GapKind::kOverflow:
      return "overflow";
    case GapKind::kLostData:
      return "lost-data";
    case GapKind::kNoImage:
      return "no-image";
    case GapKind::kDecodeError:
      return "decode-error";
  }
  return "?";
}

ExecutionProfile Decode(const trace::Trace& trace) {
  ExecutionProfile profile;
  DecodeContext context(trace);
  AddressSpaces spaces(trace);
  ProfileBuilder builder;
  for (const trace::AuxQueue& queue : trace.queues) {
    QueueStream stream(trace, queue);
    profile.trace_bytes += stream.bytes().size();
    const std::optional<uint32_t> pid =
        queue.cpu == UINT32_MAX ? std::optional(spaces.PidOfThread(queue.tid)) : std::nullopt;
    for (const Epoch& epoch : PlanEpochs(trace, spaces, pid, stream.bytes())) {
      std::unique_ptr<CodeImage> image = context.ImageFor(epoch.mmaps, pid);
      QueueCounts counts;
      auto on_block = [&](const pt_block& block) {
        if (counts.pending_end) ++counts.edges[{*counts.pending_end, block.ip}];
        RuntimeBlock& b = counts.blocks[{block.ip, block.end_ip}];
        ++b.count;
        b.instructions = block.ninsn;
        counts.instructions += block.ninsn;
        counts.pending_end = block.end_ip;
      };
      auto on_event = [&](const pt_event& event, uint64_t offset) {
        counts.pending_end.reset();  // control flow left the trace between blocks
        if (event.type == ptev_overflow) {
          Gap gap;
          gap.kind = GapKind::kOverflow;
          gap.queue = queue.idx;
          gap.trace_offset = offset;
          gap.detail = "trace buffer overflow (OVF): trace lost until the next sync";
          profile.gaps.push_back(gap);
        }
      };
      auto bytes = stream.bytes().subspan(epoch.begin, epoch.end - epoch.begin);
      const uint64_t stop =
          epoch.stop_offset == UINT64_MAX ? UINT64_MAX : epoch.stop_offset - epoch.begin;
      LoopResult loop = RunDecodeLoop<BlockApi>(MakeConfig(trace, bytes), image->image(),
                                                queue.idx, on_block, on_event, epoch.begin, stop);
      profile.decoded_bytes += loop.decoded_bytes;
      profile.instructions += counts.instructions;
      profile.gaps.insert(profile.gaps.end(), loop.gaps.begin(), loop.gaps.end());
      AddQueue(counts, *image, builder, profile);
    }
  }
  for (Gap& gap : RecordedLossGaps(trace)) profile.gaps.push_back(std::move(gap));
  for (auto& [key, block] : builder.blocks) profile.blocks.push_back(block);
  for (auto& [key, branch] : builder.branches) profile.branches.push_back(branch);
  profile.modules = std::move(context.modules.modules());
  profile.warnings.insert(profile.warnings.begin(), context.warnings.begin(),
                          context.warnings.end());
  // Each distinct warning once, in first-seen order.
  std::set<std::string> seen;
  std::erase_if(profile.warnings, [&](const std::string& w) { return !seen.insert(w).second; });
  return profile;
}

void ListInstructions(const trace::Trace& trace, const std::function<void(uint64_t ip)>& on_insn,
                      const std::function<void(const Gap&)>& on_gap) {
  DecodeContext context(trace);
  AddressSpaces spaces(trace);
  for (const trace::AuxQueue& queue : trace.queues) {
    QueueStream stream(trace, queue);
    const std::optional<uint32_t> pid =
        queue.cpu == UINT32_MAX ? std::optional(spaces.PidOfThread(queue.tid)) : std::nullopt;
    for (const Epoch& epoch : PlanEpochs(trace, spaces, pid, stream.bytes())) {
      std::unique_ptr<CodeImage> image = context.ImageFor(epoch.mmaps, pid);
      auto bytes = stream.bytes().subspan(epoch.begin, epoch.end - epoch.begin);
      const uint64_t stop =
          epoch.stop_offset == UINT64_MAX ? UINT64_MAX : epoch.stop_offset - epoch.begin;
      LoopResult loop = RunDecodeLoop<InsnApi>(
          MakeConfig(trace, bytes), image->image(), queue.idx,
          [&](const pt_insn& insn) { on_insn(insn.ip); }, [](const pt_event&, uint64_t) {},
          epoch.begin, stop);
      for (const Gap& gap : loop.gaps) on_gap(gap);
    }
  }
}

}  // namespace hwcov::decoder
