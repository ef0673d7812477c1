// Where a file lives, for address filters: the kernel matches a file filter
// by inode against vma->vm_file (kernel/events/core.c
// perf_addr_filter_match), and two places make that inode differ from the
// one the filter's path names: overlayfs (Docker, Podman), whose mappings
// carry the backing file until "perf/core: Fix address filter match with
// backing files" (late 2025), and a traced process in another mount
// namespace, where the path names another file or none.
#pragma once

#include <sys/types.h>

#include <filesystem>
#include <string>

namespace hwcov::collector {

// The type of the filesystem holding |path| ("ext4", "overlay"), from the
// longest mount point containing it in |mountinfo| (proc/self/mountinfo);
// empty when unknown.
std::string FilesystemTypeOf(const std::filesystem::path& mountinfo, const std::string& path);

// Whether |pid| sees another mount namespace than hwcov
// (|proc|/PID/ns/mnt against |proc|/self/ns/mnt); false when unknown.
bool InOtherMountNamespace(const std::filesystem::path& proc, pid_t pid);

}  // namespace hwcov::collector
