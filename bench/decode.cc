// bench/decode TRACE...: decode speed and peak memory, in one run, on the
// same traces, of (a) libipt's instruction decoder walking every instruction
// (hwcov decode --list-insns), (b) libipt's block decoder over each stream in
// one piece on one thread, (c) hwcov's decoder (the coverage fast path,
// handing what it does not model to libipt) with -j1 and -jN, and hwcov's
// parallel plan with libipt's block decoder for every stretch. Each runs in a
// child process so that its peak RSS is its own.
// Last line: speedup_vs_pt_insn=X.X (wall) speedup_vs_pt_insn_cpu=X.X (CPU
// time of the child) parallel_efficiency=Y% peak_j1=M peak_jN=M.
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <thread>
#include <vector>

#include "hwcov/decoder.h"
#include "hwcov/trace.h"

namespace {

struct Result {
  double seconds = 0;      // wall
  double cpu_seconds = 0;  // user + system, of the child alone
  uint64_t instructions = 0;
  uint64_t libipt_stretch_bytes = 0;  // hwcov's fast path: bytes it handed to libipt
  uint64_t step_lookups = 0, step_misses = 0, steps_built = 0;  // its step cache
  long peak_kib = 0;
};

// Runs |work| (returns instructions decoded) in a child; times it there.
template <typename Work>
Result InChild(Work work) {
  int pipe_fds[2];
  if (pipe(pipe_fds) != 0) std::abort();
  pid_t pid = fork();
  if (pid == 0) {
    const auto start = std::chrono::steady_clock::now();
    Result r;
    r.instructions = work(r);
    r.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    (void)!write(pipe_fds[1], &r, sizeof r);
    _exit(0);
  }
  close(pipe_fds[1]);
  Result r;
  (void)!read(pipe_fds[0], &r, sizeof r);
  close(pipe_fds[0]);
  int status = 0;
  rusage usage{};
  wait4(pid, &status, 0, &usage);
  r.peak_kib = usage.ru_maxrss;
  auto seconds = [](const timeval& t) { return t.tv_sec + t.tv_usec / 1e6; };
  r.cpu_seconds = seconds(usage.ru_utime) + seconds(usage.ru_stime);
  return r;
}

}  // namespace

int main(int argc, char** argv) {
  // --hwcov-only: just the hwcov rows (quick turns while tuning; the
  // figures quoted in docs/benchmarks.md come from full runs).
  // --step-cache N: the fast path's step cache size (steps per worker).
  bool hwcov_only = false;
  size_t step_entries = hwcov::decoder::DecodeOptions{}.step_cache_entries;
  int first = 1;
  for (; first < argc && argv[first][0] == '-'; ++first) {
    const std::string arg = argv[first];
    if (arg == "--hwcov-only") {
      hwcov_only = true;
    } else if (arg == "--step-cache" && first + 1 < argc) {
      step_entries = std::strtoull(argv[++first], nullptr, 10);
    } else {
      first = argc;
    }
  }
  if (first >= argc) {
    std::fprintf(stderr, "usage: %s [--hwcov-only] [--step-cache N] TRACE...\n", argv[0]);
    return 2;
  }
  std::vector<std::string> paths(argv + first, argv + argc);
  // Trace size from the files alone: the parent decodes nothing, so that the
  // children's peak RSS (which starts from the parent's) is their own.
  uint64_t bytes = 0;
  for (const auto& p : paths)
    for (const auto& queue : hwcov::trace::ReadPerfData(p).queues)
      for (const auto& buffer : queue.buffers) bytes += buffer.size;
  const unsigned cores = std::max(1u, std::thread::hardware_concurrency());
  auto decode = [&](unsigned jobs, uint64_t stretch, bool libipt_only) {
    return InChild([&](Result& r) {
      uint64_t n = 0;
      for (const auto& p : paths) {
        hwcov::decoder::DecodeOptions o;
        o.jobs = jobs;
        o.stretch_bytes = stretch;
        o.libipt_only = libipt_only;
        o.step_cache_entries = step_entries;
        const hwcov::decoder::ExecutionProfile profile =
            hwcov::decoder::Decode(hwcov::trace::ReadPerfData(p), o);
        n += profile.instructions;
        r.libipt_stretch_bytes += profile.libipt_stretch_bytes;
        r.step_lookups += profile.fast_path_step_lookups;
        r.step_misses += profile.fast_path_step_misses;
        r.steps_built += profile.fast_path_steps_built;
      }
      return n;
    });
  };
  Result insn;
  if (!hwcov_only)
    insn = InChild([&](Result&) {
      uint64_t n = 0;
      hwcov::decoder::DecodeOptions o;
      o.stretch_bytes = UINT64_MAX;
      for (const auto& p : paths)
        hwcov::decoder::ListInstructions(
            hwcov::trace::ReadPerfData(p), [&](uint64_t) { ++n; },
            [](const hwcov::decoder::Gap&) {}, o);
      return n;
    });
  Result block, j1_libipt;
  if (!hwcov_only) {
    block = decode(1, UINT64_MAX, true);
    j1_libipt = decode(1, 0, true);
  }
  // The quick rows are the median of kRuns interleaved runs: on a shared
  // machine one short run can land on a burst of other work.
  constexpr int kRuns = 5;
  std::vector<Result> j1_runs, jn_runs;
  for (int i = 0; i < kRuns; ++i) {
    j1_runs.push_back(decode(1, 0, false));
    jn_runs.push_back(decode(cores, 0, false));
  }
  auto median = [](std::vector<Result> runs) {
    std::sort(runs.begin(), runs.end(),
              [](const Result& a, const Result& b) { return a.seconds < b.seconds; });
    return runs[runs.size() / 2];
  };
  const Result j1 = median(j1_runs);
  const Result jn = median(jn_runs);
  // The fastest run too: on a machine shared with others' work, noise only
  // ever adds time, so A/B comparisons while tuning read this one.
  auto fastest = [](const std::vector<Result>& runs, double Result::*field) {
    double best = runs.front().*field;
    for (const Result& r : runs) best = std::min(best, r.*field);
    return best;
  };
  auto row = [&](const char* name, const Result& r) {
    std::printf(
        "%-42s %7.1f MB/s %7.1f MB/cpu-s %8.1f M insn/s %8.3f s %8.3f cpu-s  peak %7ld KiB\n", name,
        bytes / r.seconds / 1e6, bytes / r.cpu_seconds / 1e6, r.instructions / r.seconds / 1e6,
        r.seconds, r.cpu_seconds, r.peak_kib);
  };
  std::printf(
      "%zu trace(s), %.1f MB of Intel PT, %u cores; the fast path handed %.2f%% of "
      "the bytes to libipt\n",
      paths.size(), bytes / 1e6, cores,
      100.0 * j1.libipt_stretch_bytes / std::max<uint64_t>(bytes, 1));
  std::printf(
      "step cache: %zu steps, %.2f MiB per worker; -j1: %.1f M lookups, %.2f%% missed, %.2f%% "
      "built anew; "
      "hwcov rows: median of %d runs\n",
      step_entries, step_entries * hwcov::decoder::kStepCacheBytesPerEntry / 1048576.0,
      j1.step_lookups / 1e6, 100.0 * j1.step_misses / std::max<uint64_t>(j1.step_lookups, 1),
      100.0 * j1.steps_built / std::max<uint64_t>(j1.step_lookups, 1), kRuns);
  row("(a) libipt pt_insn, every instruction", insn);
  row("(b) libipt pt_blk, one stretch per stream", block);
  row("    hwcov -j1 --decoder libipt (pt_blk)", j1_libipt);
  row("(c) hwcov -j1", j1);
  char label[64];
  std::snprintf(label, sizeof label, "(c) hwcov -j%u", cores);
  row(label, jn);
  std::printf("fastest of %d runs: -j1 %.3f cpu-s, %.3f s; -j%u %.3f cpu-s, %.3f s\n", kRuns,
              fastest(j1_runs, &Result::cpu_seconds), fastest(j1_runs, &Result::seconds), cores,
              fastest(jn_runs, &Result::cpu_seconds), fastest(jn_runs, &Result::seconds));
  std::printf(
      "speedup_vs_pt_insn=%.1f speedup_vs_pt_insn_cpu=%.1f parallel_efficiency=%.0f%% "
      "peak_j1=%.1fMiB peak_j%u=%.1fMiB\n",
      insn.seconds / j1.seconds, insn.cpu_seconds / j1.cpu_seconds,
      100.0 * j1.seconds / (jn.seconds * cores), j1.peak_kib / 1024.0, cores, jn.peak_kib / 1024.0);
  return 0;
}
