/* Faults in the middle of a basic block: SIGSEGV from a store with
 * instructions after it in the same block, caught and left with siglongjmp;
 * a fault on the last instruction of a block (an indirect call through a
 * protected slot) that the handler repairs and returns to; then, as asked,
 * an unhandled fault ("crash") or SIGKILL ("kill") that ends the program
 * before it can write anything. */
#include <setjmp.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>

static sigjmp_buf env;
static volatile int faults;

static volatile int repaired, calls;
static void (**slot)(void);

static void on_segv(int sig, siginfo_t* info, void* context) {
  (void)sig;
  (void)context;
  if (slot && info->si_addr == (void*)slot) { /* the call's slot: readable, and retry */
    mprotect((void*)slot, 4096, PROT_READ | PROT_WRITE);
    repaired++;
    return;
  }
  faults++;
  siglongjmp(env, 1);
}

static void callee(void) { calls++; }

/* "call *(slot)" ends a block and faults itself while the slot's page is
 * protected; the handler returns to it and it runs again. */
static void call_through_protected_slot(void) {
  slot = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  *slot = callee;
  mprotect((void*)slot, 4096, PROT_NONE);
  __asm__ volatile("sub $128, %%rsp\n\tcall *(%0)\n\tadd $128, %%rsp"
                   :
                   : "r"(slot)
                   : "rax", "rcx", "rdx", "rsi", "rdi", "r8", "r9", "r10", "r11", "memory", "cc");
}

static int poke(volatile int* p, int v) {
  int a = v * 3;
  int b = a + 1;
  *p = b; /* faults when p is NULL: the rest of the block never runs */
  a = b * 2;
  return a;
}

static int after_crash(void) { return faults * 2; }

int main(int argc, char** argv) {
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_sigaction = on_segv;
  sa.sa_flags = SA_SIGINFO;
  sigemptyset(&sa.sa_mask);
  sigaction(SIGSEGV, &sa, NULL);
  int x = 0;
  volatile int ok = 0;
  for (volatile int i = 0; i < 6; i++) {
    volatile int* p = (i % 2) ? NULL : &x;
    if (sigsetjmp(env, 1) == 0) ok += poke(p, i);
  }
  call_through_protected_slot();
  printf("faults=%d ok=%d repaired=%d calls=%d\n", faults, ok, repaired, calls);
  fflush(stdout);
  if (argc > 1 && strcmp(argv[1], "crash") == 0) {
    signal(SIGSEGV, SIG_DFL);
    ok += poke(NULL, 1);
    ok += after_crash();
  }
  if (argc > 1 && strcmp(argv[1], "kill") == 0) {
    raise(SIGKILL);
    ok += after_crash();
  }
  return ok == 0;
}
