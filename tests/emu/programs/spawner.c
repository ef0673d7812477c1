/* Starts |argv[2]| in the way |argv[1]| names, for the emu backend's exec
 * supervisor tests (emu_exec_test.cc): posix_spawn, vfork + execv, fexecve,
 * execv from a second thread, plain execv, fexecve of a memfd copy; "segv"
 * dies of SIGSEGV. The started program gets the argument "1" ("5" from the
 * thread); spawn, vfork and grandchild (a fork's fork execs it) return 10, 20
 * or 30 + its exit status. */
#define _GNU_SOURCE
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

extern char** environ;
static const char* program;

static void* ExecFromThread(void* unused) {
  (void)unused;
  char* args[] = {(char*)program, "5", NULL};
  execv(program, args);
  return NULL;
}

static int CopyToMemfd(const char* path) {
  int fd = memfd_create("spawner-copy", 0), in = open(path, O_RDONLY);
  char buffer[65536];
  ssize_t n;
  while ((n = read(in, buffer, sizeof buffer)) > 0)
    if (write(fd, buffer, (size_t)n) != n) return -1;
  close(in);
  return fd;
}

int main(int argc, char** argv) {
  if (argc < 2) return 2;
  const char* mode = argv[1];
  if (!strcmp(mode, "segv")) {
    volatile int* nowhere = NULL;
    return *nowhere;
  }
  if (argc < 3) return 2;
  program = argv[2];
  char* args[] = {(char*)program, "1", NULL};
  int status = 0;
  if (!strcmp(mode, "spawn")) {
    pid_t pid;
    if (posix_spawn(&pid, program, NULL, NULL, args, environ) != 0) return 3;
    waitpid(pid, &status, 0);
    return 10 + WEXITSTATUS(status);
  }
  if (!strcmp(mode, "vfork")) {
    pid_t pid = vfork();
    if (pid == 0) {
      execv(program, args);
      _exit(99);
    }
    waitpid(pid, &status, 0);
    return 20 + WEXITSTATUS(status);
  }
  if (!strcmp(mode, "grandchild")) { /* a fork's fork execs */
    pid_t pid = fork();
    if (pid == 0) {
      pid_t grandchild = fork();
      if (grandchild == 0) {
        execv(program, args);
        _exit(99);
      }
      waitpid(grandchild, &status, 0);
      _exit(WEXITSTATUS(status));
    }
    waitpid(pid, &status, 0);
    return 30 + WEXITSTATUS(status);
  }
  if (!strcmp(mode, "fexecve")) fexecve(open(program, O_RDONLY | O_CLOEXEC), args, environ);
  if (!strcmp(mode, "memfd")) fexecve(CopyToMemfd(program), args, environ);
  if (!strcmp(mode, "thread")) {
    pthread_t thread;
    pthread_create(&thread, NULL, ExecFromThread, NULL);
    pthread_join(thread, NULL);
  }
  if (!strcmp(mode, "exec")) execv(program, args);
  perror(mode);
  return 4;
}
