#include "intel_pt_ring.h"

#include <algorithm>
#include <cstring>

#include "hwcov/support.h"

namespace hwcov::collector {

uint64_t LoadHead(const uint64_t* head) { return __atomic_load_n(head, __ATOMIC_ACQUIRE); }

void StoreTail(uint64_t* tail, uint64_t value) {
  // perf's smp_mb() before the tail write: every read of the buffer above
  // completes before the kernel may see the space as free. The store is a
  // release too, so the ordering is explicit to the language (and to
  // ThreadSanitizer), not only to the CPU.
  __atomic_thread_fence(__ATOMIC_SEQ_CST);
  __atomic_store_n(tail, value, __ATOMIC_RELEASE);
}

TimeConversion ReadTimeConversion(const perf_event_mmap_page* page) {
  TimeConversion t;
  for (int attempt = 0; attempt < 1000; ++attempt) {
    const uint32_t seq = __atomic_load_n(&page->lock, __ATOMIC_ACQUIRE);
    t.time_shift = page->time_shift;
    t.time_mult = page->time_mult;
    t.time_zero = page->time_zero;
    t.cap_user_time_zero = page->cap_user_time_zero;
    __atomic_thread_fence(__ATOMIC_ACQUIRE);
    if (__atomic_load_n(&page->lock, __ATOMIC_RELAXED) == seq && !(seq & 1)) break;
  }
  // perf: cap_user_time_zero = tc.time_mult != 0 when the page offers it.
  t.cap_user_time_zero = t.cap_user_time_zero && t.time_mult != 0;
  if (!t.cap_user_time_zero) t = TimeConversion{};
  return t;
}

DataRing::DataRing(perf_event_mmap_page* page, std::span<uint8_t> data)
    : page_(page), data_(data) {}

uint64_t DataRing::Drain(const std::function<void(std::span<const uint8_t>)>& on_record) {
  const uint64_t head = LoadHead(reinterpret_cast<const uint64_t*>(&page_->data_head));
  uint64_t tail = page_->data_tail;  // only we write it
  const uint64_t size = data_.size();
  const uint64_t mask = size - 1;
  const uint64_t start = tail;
  while (head - tail >= sizeof(perf_event_header)) {
    perf_event_header h;
    const uint64_t at = tail & mask;
    const uint64_t first = std::min<uint64_t>(sizeof h, size - at);
    std::memcpy(&h, data_.data() + at, first);
    std::memcpy(reinterpret_cast<uint8_t*>(&h) + first, data_.data(), sizeof h - first);
    if (h.size < sizeof h || h.size > size || h.size > head - tail)
      throw Error("perf ring buffer corrupt: record of type " + std::to_string(h.type) +
                  " with size " + std::to_string(h.size) + " at position " + std::to_string(tail) +
                  " (head " + std::to_string(head) + ")");
    if (at + h.size <= size) {
      on_record({data_.data() + at, h.size});
    } else {  // the record wraps: copy both parts into one piece
      scratch_.resize(h.size);
      const uint64_t part = size - at;
      std::memcpy(scratch_.data(), data_.data() + at, part);
      std::memcpy(scratch_.data() + part, data_.data(), h.size - part);
      on_record(scratch_);
    }
    tail += h.size;
  }
  if (tail != start) StoreTail(reinterpret_cast<uint64_t*>(&page_->data_tail), tail);
  return tail - start;
}

AuxRing::AuxRing(perf_event_mmap_page* page, std::span<uint8_t> aux)
    : page_(page), aux_(aux), tail_(page->aux_tail) {}

uint64_t AuxRing::Head() const {
  return LoadHead(reinterpret_cast<const uint64_t*>(&page_->aux_head));
}

uint64_t AuxRing::Drain(const std::function<void(const AuxRead&)>& on_data, uint64_t head) {
  if (head == tail_) return 0;
  const uint64_t size = aux_.size();
  if (head - tail_ > size)
    throw Error("Intel PT AUX area overrun: head " + std::to_string(head) + " is more than " +
                std::to_string(size) + " bytes past tail " + std::to_string(tail_));
  const uint64_t len = head - tail_;
  const uint64_t at = tail_ & (size - 1);
  AuxRead read;
  read.offset = tail_;
  const uint64_t first = std::min(len, size - at);
  read.first = {aux_.data() + at, first};
  read.second = {aux_.data(), len - first};
  on_data(read);
  tail_ = head;
  StoreTail(reinterpret_cast<uint64_t*>(&page_->aux_tail), head);
  return len;
}

}  // namespace hwcov::collector
