/* fork: the child runs code the parent never runs, and its exit status
 * passes back through waitpid. */
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

static int child_work(int n) {
  int s = 0;
  for (int i = 0; i < n; i++)
    s += i;
  return s;
}

static void parent_only(int status) {
  printf("parent: child exited %d\n", status);
}

int main(int argc, char **argv) {
  int n = argc > 1 ? atoi(argv[1]) : 10;
  fflush(stdout);
  pid_t pid = fork();
  if (pid < 0) {
    perror("fork");
    return 1;
  }
  if (pid == 0) {
    printf("child: %d\n", child_work(n));
    exit(3); /* exit(), not _exit(): gcov writes its counters at exit */
  }
  int status = 0;
  waitpid(pid, &status, 0);
  parent_only(WEXITSTATUS(status));
  return 0;
}
