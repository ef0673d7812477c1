// The bytes QueueStream hands to libipt: libipt 2.0.5's pt_sync_forward reads
// one byte past a buffer whose last 8-byte-aligned word is PSB payload (fixed
// upstream in libipt 2.1, 037a46c0), which the pt_decoder fuzzer found as a
// SEGV when a trace file's AUX data ended a page. Here the buffer ends where
// an inaccessible page starts, so an over-read faults every time.
#include "pt_stream.h"

#include <gtest/gtest.h>
#include <intel-pt.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cstring>
#include <vector>

namespace hwcov::decoder {
namespace {

// |size| bytes that end where a PROT_NONE page begins.
class GuardedBytes {
 public:
  explicit GuardedBytes(size_t size) : page_(static_cast<size_t>(sysconf(_SC_PAGESIZE))) {
    base_ = static_cast<uint8_t*>(
        mmap(nullptr, 2 * page_, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0));
    EXPECT_NE(base_, MAP_FAILED);
    EXPECT_EQ(mprotect(base_ + page_, page_, PROT_NONE), 0);
    data_ = base_ + page_ - size;
    size_ = size;
  }
  ~GuardedBytes() { munmap(base_, 2 * page_); }
  uint8_t* data() { return data_; }
  std::span<const uint8_t> bytes() const { return {data_, size_}; }

 private:
  size_t page_;
  uint8_t* base_ = nullptr;
  uint8_t* data_ = nullptr;
  size_t size_ = 0;
};

// Where libipt's packet decoder first synchronises in |bytes|, or its error.
int64_t SyncOffset(std::span<const uint8_t> bytes) {
  pt_config config;
  pt_config_init(&config);
  config.begin = const_cast<uint8_t*>(bytes.data());
  config.end = const_cast<uint8_t*>(bytes.data() + bytes.size());
  pt_packet_decoder* decoder = pt_pkt_alloc_decoder(&config);
  int64_t result = pt_pkt_sync_forward(decoder);
  uint64_t offset = 0;
  if (result >= 0 && pt_pkt_get_sync_offset(decoder, &offset) >= 0)
    result = static_cast<int64_t>(offset);
  pt_pkt_free_decoder(decoder);
  return result;
}

TEST(QueueStream, ATraceEndingInPsbPayloadAtAPageEndIsNotReadPastByLibipt) {
  // 56 PADs, then the first half of a PSB (02 82 four times), cut off by the
  // end of the trace: its last aligned word is PSB payload.
  GuardedBytes guarded(64);
  std::memset(guarded.data(), 0, 56);
  for (int i = 0; i < 4; ++i) {
    guarded.data()[56 + 2 * i] = 0x02;
    guarded.data()[56 + 2 * i + 1] = 0x82;
  }
  QueueStream stream(guarded.bytes(), 0);
  std::vector<uint8_t> scratch;
  const std::span<const uint8_t> bytes = stream.Range(0, 64, scratch);
  ASSERT_EQ(bytes.size(), 64u);
  EXPECT_EQ(std::memcmp(bytes.data(), guarded.data(), 64), 0);
  EXPECT_NE(bytes.data(), guarded.data());  // a copy, with readable bytes after it
  // libipt's answer (it reads the copy's slack, not the guard page): no PSB.
  EXPECT_EQ(SyncOffset(bytes), -pte_eos);
}

TEST(QueueStream, OtherBuffersAreHandedOverAsTheyAre) {
  GuardedBytes guarded(64);
  std::memset(guarded.data(), 0, 64);  // PADs only: no PSB payload at the end
  QueueStream stream(guarded.bytes(), 0);
  std::vector<uint8_t> scratch;
  const std::span<const uint8_t> bytes = stream.Range(0, 64, scratch);
  EXPECT_EQ(bytes.data(), guarded.data());
  EXPECT_EQ(SyncOffset(bytes), -pte_eos);
}

}  // namespace
}  // namespace hwcov::decoder
