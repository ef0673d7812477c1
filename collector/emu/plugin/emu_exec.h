/* How a program is started under QEMU with hwcov's plugin: shared by the emu
 * backend's exec supervisor (which rewrites the execve of every selected
 * program into this command line) and the plugin (which ends its streams
 * before an execve that will start a program). C, for both. */
#ifndef HWCOV_EMU_EXEC_H
#define HWCOV_EMU_EXEC_H

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Fills |out| (|out_max| entries, NULL-terminated) with the command line
 * `QEMU -0 ARGV0 -plugin PLUGIN_ARG TARGET ARGS...` that runs |path| with
 * arguments |argv| as execve(path, argv) would. A "#!" script runs its
 * interpreter, as the kernel does (QEMU only loads ELF files); the
 * interpreter line is kept in |line| (|line_size| bytes).
 *
 * Returns 0, or an errno value when execve(path) would fail or would not run
 * an x86-64 program (ENOENT, EACCES, ENOEXEC, E2BIG...): the caller then
 * leaves the execve to its normal course, so that a shell searching $PATH
 * still sees the failures it expects. */
int hwcov_emu_exec_argv(const char* qemu, const char* plugin_arg, const char* path,
                        char* const argv[], const char** out, size_t out_max, char* line,
                        size_t line_size);

#ifdef __cplusplus
}
#endif

#endif /* HWCOV_EMU_EXEC_H */
