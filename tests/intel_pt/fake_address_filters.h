// The kernel's Intel PT address filters, modelled for the fake kernel: how
// PERF_EVENT_IOC_SET_FILTER parses the string (kernel/events/core.c
// perf_event_parse_addr_filter) and how a file filter becomes a virtual
// address range in a task (perf_event_addr_filters_apply for a running
// task, __perf_addr_filters_adjust for each later mmap, both through
// perf_addr_filter_vma_adjust / perf_addr_filter_match).
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace hwcov::testing {

// A file mapping of a task's mm, as /proc/PID/maps lists it.
struct FakeVma {
  uint64_t start = 0, end = 0;
  uint64_t pgoff = 0;  // file offset of |start| (vma->vm_pgoff << PAGE_SHIFT)
  std::string path;
  // file_inode(vma->vm_file). On overlayfs vm_file is the backing file, so
  // this differs from the inode the filter's path resolves to; 0: stat(path).
  uint64_t inode = 0;
  bool exec = true;
};

struct FakeFilter {
  std::string action;  // "filter", "start" or "stop"
  uint64_t offset = 0, size = 0;
  std::string path;
  uint64_t inode = 0;  // d_inode of the path kern_path() resolved
};

// perf_event_parse_addr_filter: tokens split at ' ', ',' and '\n' (so a
// path with a space or a comma falls apart), an action then
// "OFFSET/SIZE@PATH"; the path must exist (kern_path). A negative errno
// on failure.
int ParseKernelFilters(const std::string& text, std::vector<FakeFilter>* out);

struct FakeRange {
  uint64_t start = 0, size = 0;
};

// Where |filter| binds in a running task (perf_addr_filter_apply): the
// first file VMA in address order whose file range overlaps the filter's
// (ends inclusive), executable or not.
std::optional<FakeRange> ApplyToRunningTask(const FakeFilter& filter,
                                            const std::vector<FakeVma>& mm);

// Where |filter| binds after an exec that maps |mapped| in that order
// (perf_event_addr_filters_exec clears the range, then every overlapping
// mmap rebinds it: the last one wins).
std::optional<FakeRange> ApplyAfterExec(const FakeFilter& filter,
                                        const std::vector<FakeVma>& mapped);

// The VMAs the kernel's ELF loader (fs/binfmt_elf.c elf_map) makes for
// |path| loaded at |base|: one per PT_LOAD, page-aligned, in header order.
std::vector<FakeVma> LoadElf(const std::string& path, uint64_t base);

}  // namespace hwcov::testing
