// Readers of the two ring buffers of a perf event (include/uapi/linux/
// perf_event.h, "mmap layout"): the data ring (kernel records: MMAP2, COMM,
// AUX, ITRACE_START, SWITCH, LOST...) and the AUX area (raw Intel PT bytes).
// Both work on plain memory, so tests stand in for the kernel.
//
// Protocol (kernel/events/ring_buffer.c): the kernel advances data_head /
// aux_head after writing; we read the head with acquire semantics (the
// kernel's comment: "userspace must issue an smp_rmb() after reading
// data_head"), copy the bytes, then publish data_tail / aux_tail after a
// full barrier (smp_mb() in perf) so the kernel never reuses space we are
// still reading. Heads and tails grow forever; positions wrap modulo the
// (power-of-two) size.
#pragma once

#include <linux/perf_event.h>

#include <cstdint>
#include <functional>
#include <span>
#include <vector>

#include "intel_pt_attr.h"

namespace hwcov::collector {

// Reads head/tail words shared with the kernel.
uint64_t LoadHead(const uint64_t* head);
void StoreTail(uint64_t* tail, uint64_t value);

// perf_read_tsc_conversion: the time fields of the user page, read under
// its seqlock; cap_user_time_zero false when the kernel does not offer TSC.
TimeConversion ReadTimeConversion(const perf_event_mmap_page* page);

class DataRing {
 public:
  DataRing(perf_event_mmap_page* page, std::span<uint8_t> data);

  // Calls |on_record| with each complete record in [data_tail, data_head)
  // (contiguous even when it wrapped), then advances data_tail. Returns the
  // bytes consumed. Throws hwcov::Error on a record the kernel cannot have
  // written (size 0 or larger than the ring).
  uint64_t Drain(const std::function<void(std::span<const uint8_t>)>& on_record);

 private:
  perf_event_mmap_page* page_;
  std::span<uint8_t> data_;
  std::vector<uint8_t> scratch_;  // a record that wraps, made contiguous
};

// One read of the AUX area: what perf puts in one PERF_RECORD_AUXTRACE.
struct AuxRead {
  uint64_t offset = 0;              // stream position of the first byte (the old tail)
  std::span<const uint8_t> first;   // up to the end of the area
  std::span<const uint8_t> second;  // from the start, when it wrapped
  uint64_t size() const { return first.size() + second.size(); }
};

class AuxRing {
 public:
  AuxRing(perf_event_mmap_page* page, std::span<uint8_t> aux);

  // Reads [aux_tail, |head|) as one AuxRead, hands it to |on_data| and
  // publishes aux_tail = |head|, a value Head() returned. Returns the bytes
  // read (0: nothing new). Throws when head ran more than the area ahead of
  // the tail (the kernel overwrote unread data, which it does not do with a
  // writable mapping).
  uint64_t Drain(const std::function<void(const AuxRead&)>& on_data, uint64_t head);
  uint64_t Drain(const std::function<void(const AuxRead&)>& on_data) {
    return Drain(on_data, Head());
  }
  // aux_head as the kernel published it.
  uint64_t Head() const;

 private:
  perf_event_mmap_page* page_;
  std::span<uint8_t> aux_;
  uint64_t tail_;
};

}  // namespace hwcov::collector
