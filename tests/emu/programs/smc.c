/* Stores into the page of the code it runs: QEMU then drops its translation
 * of the block being run and goes on at the store, in the middle of that
 * block (a block left early with no signal). The byte stored is the one
 * already there, so the program itself does not change. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>

__attribute__((noinline)) static int store_into_own_page(volatile unsigned char* byte, int n) {
  int sum = 0;
  for (int i = 0; i < n; i++) {
    sum += i * 3;
    *byte = *byte;
    sum ^= i;
  }
  return sum;
}

int main(int argc, char** argv) {
  const uintptr_t page = (uintptr_t)sysconf(_SC_PAGESIZE);
  unsigned char* code = (unsigned char*)((uintptr_t)store_into_own_page & ~(page - 1));
  if (mprotect(code, 2 * page, PROT_READ | PROT_WRITE | PROT_EXEC) != 0) {
    perror("mprotect");
    return 1;
  }
  const int n = argc > 1 ? atoi(argv[1]) : 5;
  printf("%d\n", store_into_own_page((volatile unsigned char*)store_into_own_page, n));
  return 0;
}
