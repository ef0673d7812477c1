/* Four worker threads with code that only some of them run: each thread's
 * trace is its own AUX queue. */
#include <pthread.h>
#include <stdio.h>

static int results[4];

static int work(int id) {
  int s = 0;
  for (int i = 0; i < 100; i++) {
    if (i % (id + 2) == 0)
      s += i;
    else
      s -= 1;
  }
  return s;
}

static int never_called(int x) {
  return x * 7;
}

static void *run(void *arg) {
  int id = (int)(long)arg;
  results[id] = work(id);
  if (id == 3)
    results[id] += 1000;
  else if (id > 5)
    results[id] = never_called(id);
  return NULL;
}

int main(void) {
  pthread_t t[4];
  for (long i = 0; i < 4; i++)
    pthread_create(&t[i], NULL, run, (void *)i);
  for (int i = 0; i < 4; i++)
    pthread_join(t[i], NULL);
  int total = 0;
  for (int i = 0; i < 4; i++)
    total += results[i];
  printf("total=%d\n", total);
  return 0;
}
