// Running a command under qemu-x86_64 with hwcov's plugin: finding both,
// checking they work together, and waiting for every process of the run.
#pragma once

#include <filesystem>

#include "hwcov/collector.h"

namespace hwcov::collector {

struct EmuTools {
  std::filesystem::path qemu;    // $HWCOV_QEMU, else qemu-x86_64 on $PATH
  std::filesystem::path plugin;  // $HWCOV_QEMU_PLUGIN, else next to the hwcov executable
};

// Finds QEMU and the plugin and checks, once per process, that QEMU runs a
// program with the plugin loaded. Throws hwcov::Error with the reason.
const EmuTools& FindEmuTools();

// Runs options.command natively under the exec supervisor
// (exec_supervisor.h), its selected programs (IsSelectedExecutable) under
// QEMU with the plugin recording into |dir|, until the command and every
// process it started have ended (hwcov is their subreaper). Ctrl-C, SIGTERM
// and SIGQUIT are passed on as the soft backend does. Returns the command's
// wait status; throws when the plugin or QEMU failed in any process.
int RunUnderEmu(const EmuTools& tools, const RecordOptions& options,
                const std::filesystem::path& dir);

}  // namespace hwcov::collector
