// The ring-buffer readers against simulated buffers: plain memory in the
// mmap layout (user page, data area, AUX area) with a writer that plays the
// kernel's part (write bytes at head, then publish head; respect tail).
#include <gtest/gtest.h>

#include <atomic>
#include <cstring>
#include <numeric>
#include <thread>

#include "hwcov/support.h"
#include "intel_pt_ring.h"
#include "intel_pt_sideband.h"

namespace hwcov::collector {
namespace {

// One perf buffer: a user page, a data area and an AUX area.
class SimulatedBuffer {
 public:
  SimulatedBuffer(size_t data_size, size_t aux_size)
      : page_storage_(sizeof(perf_event_mmap_page) + 64), data_(data_size), aux_(aux_size) {
    page_ = reinterpret_cast<perf_event_mmap_page*>(page_storage_.data());
    std::memset(page_, 0, sizeof *page_);
    page_->data_size = data_size;
    page_->aux_size = aux_size;
  }
  perf_event_mmap_page* page() { return page_; }
  std::span<uint8_t> data() { return data_; }
  std::span<uint8_t> aux() { return aux_; }

  // The kernel's side: false when the reader has not freed enough room.
  bool WriteData(std::span<const uint8_t> bytes) {
    return Write(data_, reinterpret_cast<uint64_t*>(&page_->data_head),
                 reinterpret_cast<uint64_t*>(&page_->data_tail), bytes);
  }
  bool WriteAux(std::span<const uint8_t> bytes) {
    return Write(aux_, reinterpret_cast<uint64_t*>(&page_->aux_head),
                 reinterpret_cast<uint64_t*>(&page_->aux_tail), bytes);
  }

 private:
  static bool Write(std::vector<uint8_t>& area, uint64_t* head_word, uint64_t* tail_word,
                    std::span<const uint8_t> bytes) {
    const uint64_t tail = __atomic_load_n(tail_word, __ATOMIC_ACQUIRE);
    const uint64_t head = __atomic_load_n(head_word, __ATOMIC_RELAXED);
    if (area.size() - (head - tail) < bytes.size()) return false;
    for (size_t i = 0; i < bytes.size(); ++i) area[(head + i) & (area.size() - 1)] = bytes[i];
    __atomic_store_n(head_word, head + bytes.size(), __ATOMIC_RELEASE);
    return true;
  }

  std::vector<uint8_t> page_storage_;
  perf_event_mmap_page* page_;
  std::vector<uint8_t> data_;
  std::vector<uint8_t> aux_;
};

std::vector<uint8_t> Record(uint32_t type, size_t size, uint8_t fill) {
  std::vector<uint8_t> r(size, fill);
  perf_event_header h{type, 0, static_cast<uint16_t>(size)};
  std::memcpy(r.data(), &h, sizeof h);
  return r;
}

std::vector<uint8_t> Bytes(size_t n, uint8_t first) {
  std::vector<uint8_t> b(n);
  std::iota(b.begin(), b.end(), first);
  return b;
}

TEST(DataRing, RecordsInOrderIncludingOneThatWraps) {
  SimulatedBuffer buf(256, 64);
  DataRing ring(buf.page(), buf.data());
  std::vector<std::vector<uint8_t>> got;
  auto collect = [&](std::span<const uint8_t> r) { got.emplace_back(r.begin(), r.end()); };

  const auto a = Record(PERF_RECORD_COMM, 96, 0xa1), b = Record(PERF_RECORD_MMAP2, 120, 0xb2);
  ASSERT_TRUE(buf.WriteData(a));
  ASSERT_TRUE(buf.WriteData(b));
  EXPECT_EQ(ring.Drain(collect), 216u);
  EXPECT_EQ(buf.page()->data_tail, 216u);  // space given back
  // 216 + 80 runs past 256: this record is split across the end.
  const auto c = Record(PERF_RECORD_AUX, 80, 0xc3);
  ASSERT_TRUE(buf.WriteData(c));
  EXPECT_EQ(ring.Drain(collect), 80u);
  ASSERT_EQ(got.size(), 3u);
  EXPECT_EQ(got[0], a);
  EXPECT_EQ(got[1], b);
  EXPECT_EQ(got[2], c);  // contiguous again
  EXPECT_EQ(ring.Drain(collect), 0u);
}

TEST(DataRing, HeaderSplitAcrossTheEnd) {
  SimulatedBuffer buf(64, 64);
  DataRing ring(buf.page(), buf.data());
  int n = 0;
  ASSERT_TRUE(buf.WriteData(Record(PERF_RECORD_COMM, 60, 1)));
  ring.Drain([&](std::span<const uint8_t>) { ++n; });
  const auto r = Record(PERF_RECORD_LOST, 16, 2);  // header bytes 60..63 and 0..3
  ASSERT_TRUE(buf.WriteData(r));
  std::vector<uint8_t> got;
  ring.Drain([&](std::span<const uint8_t> rec) { got.assign(rec.begin(), rec.end()); });
  EXPECT_EQ(got, r);
}

TEST(DataRing, CorruptSizeIsAnError) {
  SimulatedBuffer buf(64, 64);
  DataRing ring(buf.page(), buf.data());
  std::vector<uint8_t> bad(16, 0);  // header.size 0
  ASSERT_TRUE(buf.WriteData(bad));
  EXPECT_THROW(ring.Drain([](std::span<const uint8_t>) {}), Error);
}

TEST(AuxRing, ReadsWithoutWrapThenWrappedInTwoPieces) {
  SimulatedBuffer buf(64, 64);
  AuxRing ring(buf.page(), buf.aux());
  std::vector<AuxRead> reads;
  std::vector<std::vector<uint8_t>> copies;
  auto collect = [&](const AuxRead& r) {
    reads.push_back(r);
    std::vector<uint8_t> all(r.first.begin(), r.first.end());
    all.insert(all.end(), r.second.begin(), r.second.end());
    copies.push_back(all);
  };
  EXPECT_EQ(ring.Drain(collect), 0u);  // nothing yet
  const auto first = Bytes(40, 0);
  ASSERT_TRUE(buf.WriteAux(first));
  EXPECT_EQ(ring.Drain(collect), 40u);
  EXPECT_EQ(buf.page()->aux_tail, 40u);
  // 50 more: 24 fit before the end, 26 wrap to the start.
  const auto second = Bytes(50, 100);
  ASSERT_TRUE(buf.WriteAux(second));
  EXPECT_EQ(ring.Drain(collect), 50u);
  ASSERT_EQ(reads.size(), 2u);
  EXPECT_EQ(reads[0].offset, 0u);
  EXPECT_EQ(reads[0].first.size(), 40u);
  EXPECT_TRUE(reads[0].second.empty());
  EXPECT_EQ(reads[1].offset, 40u);  // stream position, what AUXTRACE.offset holds
  EXPECT_EQ(reads[1].first.size(), 24u);
  EXPECT_EQ(reads[1].second.size(), 26u);
  EXPECT_EQ(copies[0], first);
  EXPECT_EQ(copies[1], second);
  EXPECT_EQ(buf.page()->aux_tail, 90u);
}

TEST(AuxRing, FullAreaAndExactEnd) {
  SimulatedBuffer buf(64, 64);
  AuxRing ring(buf.page(), buf.aux());
  ASSERT_TRUE(buf.WriteAux(Bytes(64, 0)));  // exactly full
  EXPECT_FALSE(buf.WriteAux(Bytes(1, 0)));  // the kernel would stop (TRUNCATED)
  AuxRead read;
  ring.Drain([&](const AuxRead& r) { read = r; });
  EXPECT_EQ(read.first.size(), 64u);
  EXPECT_TRUE(read.second.empty());
  ASSERT_TRUE(buf.WriteAux(Bytes(64, 7)));  // room again, ends exactly at the end
  ring.Drain([&](const AuxRead& r) { read = r; });
  EXPECT_EQ(read.offset, 64u);
  EXPECT_EQ(read.first.size(), 64u);
  EXPECT_TRUE(read.second.empty());
}

TEST(AuxRing, HeadTooFarAheadIsAnError) {
  SimulatedBuffer buf(64, 64);
  AuxRing ring(buf.page(), buf.aux());
  buf.page()->aux_head = 65;  // overwritten data a writable mapping never allows
  EXPECT_THROW(ring.Drain([](const AuxRead&) {}), Error);
}

// The kernel's view of loss: the AUX area filled up, the CPU stopped, and
// the kernel said so with a PERF_RECORD_AUX flagged TRUNCATED; a later
// record flags PARTIAL. The data ring delivers both; ParseSideband reads
// the flags.
TEST(AuxRing, TruncatedAndPartialFlagsArriveThroughTheDataRing) {
  SimulatedBuffer buf(256, 64);
  DataRing data(buf.page(), buf.data());
  AuxRing aux(buf.page(), buf.aux());
  const uint64_t st = PERF_SAMPLE_TID | PERF_SAMPLE_TIME | PERF_SAMPLE_CPU | PERF_SAMPLE_IDENTIFIER;
  auto aux_record = [&](uint64_t offset, uint64_t size, uint64_t flags) {
    std::vector<uint8_t> r(8 + 24 + 32, 0);
    perf_event_header h{PERF_RECORD_AUX, 0, static_cast<uint16_t>(r.size())};
    std::memcpy(r.data(), &h, 8);
    std::memcpy(r.data() + 8, &offset, 8);
    std::memcpy(r.data() + 16, &size, 8);
    std::memcpy(r.data() + 24, &flags, 8);
    const uint32_t pid = 7, cpu = 3;
    std::memcpy(r.data() + 32, &pid, 4);
    std::memcpy(r.data() + 36, &pid, 4);
    std::memcpy(r.data() + 48, &cpu, 4);
    return r;
  };
  ASSERT_TRUE(buf.WriteAux(Bytes(64, 0)));
  ASSERT_FALSE(buf.WriteAux(Bytes(8, 0)));  // no room: this is where trace is lost
  ASSERT_TRUE(buf.WriteData(aux_record(0, 64, PERF_AUX_FLAG_TRUNCATED)));
  uint64_t aux_bytes = aux.Drain([](const AuxRead&) {});
  EXPECT_EQ(aux_bytes, 64u);
  ASSERT_TRUE(buf.WriteAux(Bytes(16, 0)));
  ASSERT_TRUE(buf.WriteData(aux_record(64, 16, PERF_AUX_FLAG_PARTIAL)));
  std::vector<SidebandRecord> seen;
  data.Drain([&](std::span<const uint8_t> r) { seen.push_back(ParseSideband(r, st)); });
  ASSERT_EQ(seen.size(), 2u);
  EXPECT_EQ(seen[0].aux_flags, uint64_t{PERF_AUX_FLAG_TRUNCATED});
  EXPECT_EQ(seen[0].aux_size, 64u);
  EXPECT_EQ(seen[0].sample.cpu, 3u);
  EXPECT_EQ(seen[1].aux_flags, uint64_t{PERF_AUX_FLAG_PARTIAL});
  EXPECT_EQ(seen[1].aux_offset, 64u);
  EXPECT_EQ(aux.Drain([](const AuxRead&) {}), 16u);
}

// A producer thread writing as fast as the ring allows and a reader
// draining concurrently: every byte arrives, in order, through many wraps.
TEST(Rings, ConcurrentProducerAndReader) {
  SimulatedBuffer buf(512, 256);
  DataRing data(buf.page(), buf.data());
  AuxRing aux(buf.page(), buf.aux());
  constexpr int kRecords = 20000;
  constexpr size_t kAuxBytes = 300000;
  std::atomic<bool> done{false};
  std::thread producer([&] {
    size_t aux_sent = 0;
    int sent = 0;
    while (sent < kRecords || aux_sent < kAuxBytes) {
      if (sent < kRecords) {
        auto r = Record(PERF_RECORD_COMM, 8 + 8 * (sent % 7), static_cast<uint8_t>(sent));
        if (buf.WriteData(r)) ++sent;
      }
      if (aux_sent < kAuxBytes) {
        const size_t n = std::min<size_t>(1 + aux_sent % 97, kAuxBytes - aux_sent);
        std::vector<uint8_t> chunk(n);
        for (size_t i = 0; i < n; ++i) chunk[i] = static_cast<uint8_t>((aux_sent + i) * 31);
        if (buf.WriteAux(chunk)) aux_sent += n;
      }
    }
    done = true;
  });
  int received = 0;
  size_t aux_received = 0;
  bool ok = true;
  uint64_t expected_offset = 0;
  for (;;) {
    const bool finished = done.load();
    data.Drain([&](std::span<const uint8_t> r) {
      ok &= r.size() == 8 + 8 * static_cast<size_t>(received % 7);
      ok &= r.size() == 8 || r[8] == static_cast<uint8_t>(received);
      ++received;
    });
    aux.Drain([&](const AuxRead& r) {
      ok &= r.offset == expected_offset;
      for (auto part : {r.first, r.second})
        for (uint8_t b : part) ok &= b == static_cast<uint8_t>((aux_received++) * 31);
      expected_offset += r.size();
    });
    if (finished) break;  // everything was published before |done|: all drained now
  }
  producer.join();
  EXPECT_TRUE(ok);
  EXPECT_EQ(received, kRecords);
  EXPECT_EQ(aux_received, kAuxBytes);
}

TEST(TimeConversion, ReadsTheUserPageAsPerfDoes) {
  SimulatedBuffer buf(64, 64);
  auto* p = buf.page();
  p->time_shift = 31;
  p->time_mult = 0x6aaaaaaa;
  p->time_zero = 12345;
  p->cap_user_time_zero = 1;
  TimeConversion t = ReadTimeConversion(p);
  EXPECT_TRUE(t.cap_user_time_zero);
  EXPECT_EQ(t.time_shift, 31);
  EXPECT_EQ(t.time_mult, 0x6aaaaaaau);
  EXPECT_EQ(t.time_zero, 12345u);
  p->cap_user_time_zero = 0;  // no TSC (e.g. a VM): zeros, decoders go timeless
  t = ReadTimeConversion(p);
  EXPECT_FALSE(t.cap_user_time_zero);
  EXPECT_EQ(t.time_mult, 0u);
}

}  // namespace
}  // namespace hwcov::collector
