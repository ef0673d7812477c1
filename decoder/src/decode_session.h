// One decode, planned and run a range of stream at a time: Decode() gives it
// every queue's whole stream at once; StreamDecoder gives it what has been
// recorded so far, cut at a sync point, again and again, and the profile is
// the same (docs/architecture.md, "Decoding while recording").
#pragma once

#include <memory>
#include <vector>

#include "hwcov/decoder.h"
#include "pt_stream.h"
#include "sync_points.h"

namespace hwcov::decoder {

class DecodeSession {
 public:
  // |trace| holds the sideband; it may grow between Run()s (appended to,
  // never changed), but not during one.
  DecodeSession(const trace::Trace& trace, const DecodeOptions& options);
  ~DecodeSession();
  DecodeSession(const DecodeSession&) = delete;
  DecodeSession& operator=(const DecodeSession&) = delete;

  // Plans bytes [begin, stream.size()) of |queue|'s stream, whose sync points
  // from |begin| on are |syncs|. With |cut| (one of |syncs|), the range ends
  // there, as a stretch ends at the next one's PSB, and the queue's next
  // range must begin at |cut|; without, the range runs to the stream's end.
  // |begin| is 0 or the previous range's cut.
  void Plan(const trace::AuxQueue& queue, std::unique_ptr<QueueStream> stream, uint64_t begin,
            std::vector<SyncPoint> syncs, const SyncPoint* cut);
  // Decodes what is planned on the worker threads and adds it to the profile.
  void Run();
  // The profile, once every queue's last range has run, with the trace's
  // recorded losses as gaps, or |loss_gaps| instead (a per-test decode gives
  // each test the losses of its queues).
  ExecutionProfile Finish();
  ExecutionProfile Finish(std::vector<Gap> loss_gaps);

  struct State;  // decode.cc

 private:
  std::unique_ptr<State> state_;
};

}  // namespace hwcov::decoder
