// The emulator backend (QEMU user mode with hwcov's TCG plugin).
#include "backend.h"
#include "hwcov/support.h"

namespace hwcov::collector {
namespace {

class EmuBackend : public TraceBackend {
 public:
  RecordResult Record(const RecordOptions&) override {
    throw Error("the emu backend is not implemented in this build yet");
  }
};

}  // namespace

std::string EmuUnavailableReason() { return "the emu backend is not implemented yet"; }

std::unique_ptr<TraceBackend> MakeEmuBackend() { return std::make_unique<EmuBackend>(); }

}  // namespace hwcov::collector
