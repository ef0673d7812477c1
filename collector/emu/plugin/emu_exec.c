#include "emu_exec.h"

#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* 0 when |path| is an executable x86-64 ELF file, else an errno value. */
static int CheckElf(const char* path) {
  struct stat st;
  if (stat(path, &st) != 0) return errno;
  if (!S_ISREG(st.st_mode)) return EACCES;
  if (access(path, X_OK) != 0) return errno;
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return errno;
  Elf64_Ehdr header;
  ssize_t n = read(fd, &header, sizeof header);
  close(fd);
  if (n != (ssize_t)sizeof header || memcmp(header.e_ident, ELFMAG, SELFMAG) != 0 ||
      header.e_ident[EI_CLASS] != ELFCLASS64 || header.e_machine != EM_X86_64)
    return ENOEXEC;
  return 0;
}

/* Reads "#!INTERP [ARG]" of a script into |line|; sets *interp and *arg. */
static int ReadShebang(const char* path, char* line, size_t size, char** interp, char** arg) {
  if (access(path, X_OK) != 0) return errno;
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return errno;
  ssize_t n = read(fd, line, size - 1);
  close(fd);
  if (n < 3 || line[0] != '#' || line[1] != '!') return ENOEXEC;
  line[n] = '\0';
  char* end = strchr(line, '\n');
  if (!end) return ENOEXEC; /* longer than the buffer: leave it to the kernel */
  *end = '\0';
  char* p = line + 2;
  while (*p == ' ' || *p == '\t') ++p;
  if (!*p) return ENOEXEC;
  *interp = p;
  while (*p && *p != ' ' && *p != '\t') ++p;
  *arg = NULL;
  if (*p) {
    *p++ = '\0';
    while (*p == ' ' || *p == '\t') ++p;
    char* last = p + strlen(p);
    while (last > p && (last[-1] == ' ' || last[-1] == '\t')) *--last = '\0';
    if (*p) *arg = p; /* the kernel passes the rest of the line as one argument */
  }
  return 0;
}

int hwcov_emu_exec_argv(const char* qemu, const char* plugin_arg, const char* path,
                        char* const argv[], const char** out, size_t out_max, char* line,
                        size_t line_size) {
  size_t argc = 0;
  while (argv && argv[argc]) ++argc;
  const char *target = path, *argv0 = argc ? argv[0] : path;
  char *interp = NULL, *interp_arg = NULL;
  int error = CheckElf(path);
  if (error == ENOEXEC) {
    error = ReadShebang(path, line, line_size, &interp, &interp_arg);
    if (error) return error;
    error = CheckElf(interp);
    if (error) return error;
    target = interp;
    argv0 = interp;
  }
  if (error) return error;
  size_t k = 0;
  if (out_max < argc + 10) return E2BIG;
  out[k++] = qemu;
  out[k++] = "-0";
  out[k++] = argv0;
  out[k++] = "-plugin";
  out[k++] = plugin_arg;
  out[k++] = target;
  if (interp) {
    if (interp_arg) out[k++] = interp_arg;
    out[k++] = path;
  }
  for (size_t i = 1; i < argc; ++i) out[k++] = argv[i];
  out[k] = NULL;
  return 0;
}
