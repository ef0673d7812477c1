// Shared vocabulary of all hwcov stages: the error type, atomic output files,
// build ids and the x86 instruction classifier the tracer, decoder and mapper
// agree on.
#pragma once

#include <cstdint>
#include <filesystem>
#include <fstream>
#include <optional>
#include <span>
#include <stdexcept>
#include <string>
#include <string_view>

namespace hwcov {

// The one error convention of the codebase: libraries throw hwcov::Error with
// a message that already names the file, offset or address concerned; only
// the CLI catches, prints "hwcov: <what>" and chooses the exit code.
class Error : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// Ctrl-C, SIGTERM or SIGQUIT stopped the work before there was anything to
// keep (e.g. before the program started): not hwcov's failure, so the CLI
// exits as a shell reports a program killed by |signal| (128 + signal).
class Interrupted : public Error {
 public:
  Interrupted(int signal, const std::string& what) : Error(what), signal_(signal) {}
  int signal() const { return signal_; }

 private:
  int signal_;
};

// "SIGINT", "SIGSEGV"... (the number for a signal without a name).
std::string SignalName(int signal);

// "<path>: <what>", the shape every file-related error takes.
[[noreturn]] void ThrowFileError(const std::filesystem::path& path, const std::string& what);

// Writes to "<path>.tmp.<pid>" and renames onto <path> only in Commit(), so a
// failed or interrupted run never leaves a half-written output that looks
// complete. Destroying an uncommitted file removes the temporary.
class AtomicFile {
 public:
  explicit AtomicFile(std::filesystem::path path);
  ~AtomicFile();
  AtomicFile(const AtomicFile&) = delete;
  AtomicFile& operator=(const AtomicFile&) = delete;

  std::ofstream& stream() { return out_; }
  const std::filesystem::path& path() const { return path_; }
  void Commit();

 private:
  std::filesystem::path path_;
  std::filesystem::path tmp_;
  std::ofstream out_;
  bool committed_ = false;
};

// Temporary files and directories that a run names "<prefix><pid>..." and
// removes when it ends. A run killed with SIGKILL cannot, so later runs call
// this: it removes those in |dir| whose hwcov process no longer exists (a
// live pid, or one reused by another process, keeps them).
void RemoveStaleOwnedEntries(const std::filesystem::path& dir, std::string_view prefix);

// A read-only memory mapping of a whole file (empty files map to no bytes).
class MappedFile {
 public:
  explicit MappedFile(const std::filesystem::path& path);  // throws Error
  ~MappedFile();
  MappedFile(const MappedFile&) = delete;
  MappedFile& operator=(const MappedFile&) = delete;
  std::span<const uint8_t> bytes() const { return {data_, size_}; }
  // Drops the whole pages inside |range| (a part of bytes()) from memory;
  // reading them again reloads them from the file. Keeps the resident size
  // of a long sequential read bounded.
  void Release(std::span<const uint8_t> range) const;

 private:
  const uint8_t* data_ = nullptr;
  size_t size_ = 0;
};

// A GNU build id (NT_GNU_BUILD_ID), usually 20 bytes of SHA-1.
struct BuildId {
  std::string bytes;  // raw, not hex
  bool empty() const { return bytes.empty(); }
  std::string Hex() const;
  static BuildId FromHex(const std::string& hex);
  friend bool operator==(const BuildId&, const BuildId&) = default;
};

// Reads the build id note of an ELF file; nullopt when the file has none or is
// not ELF.
std::optional<BuildId> ReadElfBuildId(const std::filesystem::path& path);

// How an instruction can change control flow, in the classes Intel PT
// distinguishes. Derived from the instruction bytes alone.
enum class InsnKind : uint8_t {
  kOther,         // falls through
  kCondJump,      // Jcc, JrCXZ, LOOPcc: one TNT bit
  kDirectJump,    // JMP rel: no packet
  kDirectCall,    // CALL rel: no packet, pushes a return address
  kIndirectJump,  // JMP r/m: TIP
  kIndirectCall,  // CALL r/m: TIP, pushes
  kReturn,        // RET near: compressed TNT bit or TIP
  kFarTransfer,   // SYSCALL, SYSENTER, INT n, far CALL/JMP/RET, IRET: leaves user tracing
};

struct InsnInfo {
  uint8_t length = 0;  // 0 when the bytes do not decode
  InsnKind kind = InsnKind::kOther;
  std::optional<uint64_t> target;  // absolute target of a relative branch
  bool has_rep = false;            // REP/REPE/REPNE string op: traps once per iteration
};

// Classifies the 64-bit instruction at |ip| whose bytes start at |code|.
InsnInfo ClassifyInsn(std::span<const uint8_t> code, uint64_t ip);

// Where user code goes on after a far transfer (SYSCALL, INT n...) that
// returns to it: the next instruction when each instruction is observed
// (single-stepping), anywhere when only block boundaries are (a signal
// handler may run on the way back from a system call).
enum class AfterFarTransfer { kFallThrough, kAnywhere };

// Whether |next| can be the instruction that runs right after the one at
// |ip| with no signal delivered in between; nullopt where the bytes cannot
// tell (indirect branches and returns may go anywhere). A REP string
// instruction may repeat itself.
std::optional<bool> IsSuccessor(uint64_t ip, const InsnInfo& insn, uint64_t next,
                                AfterFarTransfer far);

}  // namespace hwcov
