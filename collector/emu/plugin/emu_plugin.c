/* hwcov's QEMU TCG plugin: records a program's control flow for the emu
 * backend (docs/emu-backend.md), in the files described in emu_format.h.
 *
 *   qemu-x86_64 -plugin hwcov-qemu-plugin.so,cfg=DIR/config,seq=0 PROG ARGS
 *
 * Per translated block (TB) it appends the block's instruction bytes to the
 * instance's table; per executed TB a callback replays a per-thread
 * successor predictor and writes only mispredicted transitions (a few ns per
 * TB, well under a bit per instruction). Where a TB stopped early (a fault
 * in its middle) is told by markers before the instructions that can fault:
 * inline counter increments while the program has one thread, callbacks
 * storing a per-vCPU position once it has several (QEMU 7.2's inline ops are
 * global, not per vCPU). Syscalls are written in order with the blocks;
 * fork is followed by opening the child's own files. An execve is QEMU's own
 * host execve: hwcov's exec supervisor decides whether the new program runs
 * under QEMU again (exec_supervisor.h); the streams end before it.
 *
 * Counting mode ("count 1" in the config): the callback instead counts the
 * TB's entry and which plain successor its last instruction went to, in a
 * shared per-TB table (<pid>.<seq>.cnt); only what the counts cannot tell
 * (a TB left early, a signal's delivery, where rt_sigreturn resumed) goes to
 * the thread's stream. hwcov turns the table into an execution profile
 * without any trace (emu_counter.cc).
 *
 * This file is the instance's state and QEMU's callbacks; the configuration
 * (emu_config.c), the mappings code runs from (emu_maps.c), the questions
 * asked of single instructions (emu_insn.c), exec following (emu_exec.c) and
 * the stream format (emu_format.h) have files of their own. The successor
 * predictor stays here, beside the per-TB callbacks that run it: it is the
 * hot path, and one translation unit lets the compiler inline it. */
#define _GNU_SOURCE
#include "emu_plugin.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#include "emu_config.h"
#include "emu_exec.h"
#include "emu_format.h"
#include "emu_insn.h"
#include "emu_maps.h"
#include "insn_class.h"
#include "qemu_plugin_api.h"
#include "test_name.h"

QEMU_PLUGIN_EXPORT int qemu_plugin_version = 1;

#define MAX_VCPUS 1024
#define WINDOW_WORDS HWCOV_EMU_WINDOW_WORDS
#define likely(x) __builtin_expect(!!(x), 1)
#define unlikely(x) __builtin_expect(!!(x), 0)

/* --- configuration (written by the emu backend) ------------------------- */

static char g_cfg[PATH_MAX];
static struct hwcov_emu_config g_config = {.inherit = 1};

/* --- this instance ------------------------------------------------------- */

struct tb_info {
  /* What counting mode's hot path reads (OnTbCount), in the cache line of
   * the TB's counts (the struct then lives in hwcov_emu_count.plugin): */
  uint64_t vaddr;
  uint64_t fall, target; /* the last instruction's plain successors (0: none) */
  uint32_t id;
  uint16_t span;   /* last_ip - vaddr */
  uint8_t handler; /* the TB starts a signal handler */
  uint8_t bits;    /* TB_ANY, TB_CHECKED */
  /* The rest: */
  uint64_t last_ip;
  /* Counting mode, single-threaded: n - 1 minus the marks of each of its
   * executions left early, summed (so the marks of the others are known). */
  uint64_t deficit;
  uint32_t n, flags;
  uint32_t succ; /* predictor while single-threaded: 1 + the TB that last followed, 0 none */
  uint8_t far;   /* far transfer: even a signal handler's entry is plain */
  uint8_t rep;   /* a REP string instruction last: it may repeat */
};

/* tb_info.bits */
enum {
  TB_ANY = 1, /* indirect branch, return or far transfer: any successor */
  /* Its endings need the marker check (CountEnding): position mode, or a
   * target inside itself (where a TB left early goes on: the two look
   * alike). */
  TB_CHECKED = 2,
};

struct vcpu {
  int open, fd;
  struct tb_info* cur; /* TB entered last */
  struct hwcov_emu_stream_header* h;
  uint64_t* window;
  uint64_t window_base; /* word index of window[0] */
  uint32_t* succ;       /* predictor once multi-threaded: 1 + the last successor of each TB id */
  uint32_t cap;
  int resumed; /* counting mode: an rt_sigreturn ran; the next TB is where it resumed */
};

static pthread_mutex_t g_lock = PTHREAD_MUTEX_INITIALIZER;
static int g_pid;
static unsigned g_seq;
static int g_started, g_traced;
static int g_parent_pid = -1, g_parent_tid = -1;
static unsigned g_parent_seq;
static uint32_t g_inherited_tbs, g_inherited_maps;
static int g_tbs_fd = -1;
static uint32_t g_next_tb, g_streams;
static volatile uint64_t* g_counter; /* inline-op target: its address never changes */
static int g_multi;                  /* a second vCPU exists: position mode */
static struct vcpu* g_vcpu[MAX_VCPUS];
static struct vcpu* g_open[MAX_VCPUS]; /* g_vcpu[i] while its stream is open, else NULL */
static struct tb_info** g_infos;       /* by TB id */
static uint32_t g_cap_infos;
static uint64_t* g_handlers; /* signal handler addresses (rt_sigaction) */
static size_t g_n_handlers, g_cap_handlers;
static int g_cnt_fd = -1;                 /* counting mode: <pid>.<seq>.cnt */
static struct hwcov_emu_count** g_chunks; /* its chunks, each mapped on its own */
static size_t g_n_chunks, g_cap_chunks;

uint64_t Now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

void Fatal(const char* what) {
  static const char kPrefix[] = "hwcov emu plugin: ";
  char line[PATH_MAX + 128];
  snprintf(line, sizeof line, "%s%s: %s\n", kPrefix, what, strerror(errno));
  (void)!write(2, line, strlen(line));
  /* hwcov reads PID.SEQ.fatal after the run and fails with this reason, so
   * that the exit status is never taken for the program's. */
  char path[PATH_MAX + 64];
  if (g_config.out[0] &&
      snprintf(path, sizeof path, "%s/%d.%u.fatal", g_config.out, getpid(), g_seq) > 0) {
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd >= 0) {
      const char* reason = line + sizeof kPrefix - 1;
      (void)!write(fd, reason, strlen(reason));
      close(fd);
    }
  }
  _exit(125);
}

static void FilePath(char* out, size_t size, const char* suffix) {
  const int n = snprintf(out, size, "%s/%d.%u.%s", g_config.out, g_pid, g_seq, suffix);
  if (n < 0 || (size_t)n >= size) Fatal("output directory path too long");
}

static void WriteAll(int fd, const void* data, size_t size) {
  const char* p = data;
  while (size) {
    ssize_t n = write(fd, p, size);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) Fatal("cannot write the TB table");
    p += n;
    size -= (size_t)n;
  }
}

void AppendRecord(void* head, size_t head_size, const void* tail, size_t tail_size,
                  const void* tail2, size_t tail2_size) {
  struct hwcov_emu_record* rec = head;
  size_t total = head_size + tail_size + tail2_size;
  size_t padded = (total + 7) & ~(size_t)7;
  rec->size = (uint32_t)padded;
  char buffer[8192];
  if (padded <= sizeof buffer) {
    memcpy(buffer, head, head_size);
    if (tail_size) memcpy(buffer + head_size, tail, tail_size);
    if (tail2_size) memcpy(buffer + head_size + tail_size, tail2, tail2_size);
    memset(buffer + total, 0, padded - total);
    WriteAll(g_tbs_fd, buffer, padded); /* one write: a crash never leaves half a record */
    return;
  }
  static const char zeros[8];
  WriteAll(g_tbs_fd, head, head_size);
  if (tail_size) WriteAll(g_tbs_fd, tail, tail_size);
  if (tail2_size) WriteAll(g_tbs_fd, tail2, tail2_size);
  WriteAll(g_tbs_fd, zeros, padded - total);
}

/* Copies guest memory (the same addresses in user mode) without trusting it. */
static int SafeRead(void* out, uint64_t address, size_t size) {
  struct iovec local = {out, size}, remote = {(void*)(uintptr_t)address, size};
  return process_vm_readv(getpid(), &local, 1, &remote, 1, 0) == (ssize_t)size;
}

/* --- instance start and fork ---------------------------------------------- */

static void OpenTable(void) {
  char path[PATH_MAX];
  FilePath(path, sizeof path, "tbs");
  g_tbs_fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_APPEND | O_CLOEXEC, 0600);
  if (g_tbs_fd < 0) Fatal(path);
}

/* Points the counter page at this instance's file, at the address the inline
 * ops of already translated code write to. */
static void MapCounter(void) {
  char path[PATH_MAX];
  FilePath(path, sizeof path, "ctr");
  int fd = open(path, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0 || ftruncate(fd, HWCOV_EMU_PAGE) != 0) Fatal(path);
  const uint64_t value = g_counter ? *g_counter : 0, multi = g_multi;
  void* at = mmap((void*)g_counter, HWCOV_EMU_PAGE, PROT_READ | PROT_WRITE,
                  MAP_SHARED | (g_counter ? MAP_FIXED : 0), fd, 0);
  if (at == MAP_FAILED) Fatal(path);
  close(fd);
  g_counter = at;
  g_counter[0] = value;
  g_counter[1] = multi;
}

/* --- counting mode: the per-TB table ---------------------------------------- */

static const size_t kChunkBytes = (size_t)HWCOV_EMU_COUNT_CHUNK * sizeof(struct hwcov_emu_count);

_Static_assert(offsetof(struct hwcov_emu_count, target) ==
                   offsetof(struct hwcov_emu_count, fall) + sizeof(uint64_t),
               "OnTbCount finds a TB's target count beside its fall-through count");
_Static_assert(sizeof(struct tb_info) <= sizeof(((struct hwcov_emu_count*)0)->plugin),
               "a TB's state fits beside its counts");
_Static_assert(offsetof(struct hwcov_emu_count, plugin) + offsetof(struct tb_info, last_ip) <= 64,
               "the hot path's part of a TB's state shares the cache line of its counts");

static inline struct hwcov_emu_count* CountsOf(struct tb_info* info) {
  return (struct hwcov_emu_count*)((char*)info - offsetof(struct hwcov_emu_count, plugin));
}

/* Maps chunk |i| of the table file, at |at| (the address the parent's
 * translated code uses, after a fork) or anywhere. */
static struct hwcov_emu_count* MapChunk(size_t i, void* at) {
  if (ftruncate(g_cnt_fd, (off_t)((i + 1) * kChunkBytes)) != 0) Fatal("cannot grow the TB counts");
  void* p = mmap(at, kChunkBytes, PROT_READ | PROT_WRITE, MAP_SHARED | (at ? MAP_FIXED : 0),
                 g_cnt_fd, (off_t)(i * kChunkBytes));
  if (p == MAP_FAILED) Fatal("cannot map the TB counts");
  return p;
}

/* A new table file for this instance; after a fork, its chunks replace the
 * parent's at the same addresses, with the TBs' state kept and the counts
 * from zero. */
static void OpenCounts(void) {
  if (!g_config.count_mode) return;
  if (g_cnt_fd >= 0) close(g_cnt_fd);
  char path[PATH_MAX];
  FilePath(path, sizeof path, "cnt");
  g_cnt_fd = open(path, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (g_cnt_fd < 0) Fatal(path);
  if (!g_n_chunks) return;
  struct hwcov_emu_count* saved = malloc(kChunkBytes);
  if (!saved) Fatal("out of memory");
  for (size_t i = 0; i < g_n_chunks; ++i) {
    memcpy(saved, g_chunks[i], kChunkBytes);
    MapChunk(i, g_chunks[i]);
    for (size_t k = 0; k < HWCOV_EMU_COUNT_CHUNK; ++k) {
      memcpy(g_chunks[i][k].plugin, saved[k].plugin, sizeof saved[k].plugin);
      ((struct tb_info*)g_chunks[i][k].plugin)->deficit = 0; /* of the parent's counts */
    }
  }
  free(saved);
}

static struct hwcov_emu_count* CountSlot(uint32_t id) {
  const size_t chunk = id / HWCOV_EMU_COUNT_CHUNK;
  while (g_n_chunks <= chunk) {
    if (g_n_chunks == g_cap_chunks) {
      g_cap_chunks = g_cap_chunks ? g_cap_chunks * 2 : 16;
      g_chunks = realloc(g_chunks, g_cap_chunks * sizeof *g_chunks);
      if (!g_chunks) Fatal("out of memory");
    }
    g_chunks[g_n_chunks] = MapChunk(g_n_chunks, NULL);
    ++g_n_chunks;
  }
  return g_chunks[chunk] + id % HWCOV_EMU_COUNT_CHUNK;
}

static int IsHandler(uint64_t address) {
  for (size_t i = 0; i < g_n_handlers; ++i)
    if (g_handlers[i] == address) return 1;
  return 0;
}

/* A new handler: TBs already translated at it start one from now on. */
static void AddHandler(uint64_t address) {
  if (IsHandler(address)) return;
  if (g_n_handlers == g_cap_handlers) {
    g_cap_handlers = g_cap_handlers ? g_cap_handlers * 2 : 16;
    g_handlers = realloc(g_handlers, g_cap_handlers * sizeof *g_handlers);
    if (!g_handlers) Fatal("out of memory");
  }
  g_handlers[g_n_handlers++] = address;
  for (uint32_t i = 0; i < g_next_tb; ++i)
    if (g_infos[i]->vaddr == address) g_infos[i]->handler = 1;
}

static void WriteInstance(const char* exe, const char* comm, const char* test) {
  struct hwcov_emu_instance r;
  memset(&r, 0, sizeof r);
  r.rec.type = HWCOV_EMU_REC_INSTANCE;
  r.time = Now();
  r.pid = g_pid;
  r.seq = g_seq;
  r.parent_pid = g_parent_pid;
  r.parent_seq = g_parent_seq;
  r.inherited_tbs = g_inherited_tbs;
  r.inherited_maps = g_inherited_maps;
  r.parent_tid = g_parent_tid;
  r.traced = (uint32_t)g_traced;
  r.exe_len = (uint32_t)strlen(exe) + 1;
  r.comm_len = (uint32_t)strlen(comm) + 1;
  r.test_len = (uint32_t)strlen(test) + 1;
  static char names[32 + HWCOV_EMU_TEST_NAME_MAX];
  memcpy(names, comm, r.comm_len);
  memcpy(names + r.comm_len, test, r.test_len);
  AppendRecord(&r, sizeof r, exe, r.exe_len, names, r.comm_len + r.test_len);
}

static char g_exe[PATH_MAX], g_comm[32], g_test[HWCOV_EMU_TEST_NAME_MAX];

/* The program's own command line, from QEMU's (hwcov_emu_exec_argv: qemu -0
 * ARGV0 -plugin ARG FILE ARGS...; the plugin reads the host's file, not the
 * guest's view of it), and the test name it gives with the environment,
 * which QEMU passes on to the program unchanged. */
static void FindTestName(void) {
  static char cmdline[65536];
  static const char *words[1024], *argv[1024];
  size_t n = 0, argc = 0, k = 0;
  int fd = open("/proc/self/cmdline", O_RDONLY | O_CLOEXEC);
  if (fd >= 0) {
    ssize_t got;
    while (n < sizeof cmdline - 1 && (got = read(fd, cmdline + n, sizeof cmdline - 1 - n)) > 0)
      n += (size_t)got;
    close(fd);
  }
  cmdline[n] = '\0';
  for (size_t at = 0; at < n && argc < 1024; at += strlen(cmdline + at) + 1)
    words[argc++] = cmdline + at;
  if (argc >= 6 && strcmp(words[1], "-0") == 0 && strcmp(words[3], "-plugin") == 0) {
    argv[k++] = words[2];
    for (size_t i = 6; i < argc; ++i) argv[k++] = words[i];
  }
  hwcov_test_name(g_test, sizeof g_test, getenv(HWCOV_TEST_NAME_VARIABLE),
                  getenv(HWCOV_PYTEST_VARIABLE), argv, k);
}

/* At the first translation: QEMU has loaded the program (path_to_binary is
 * not usable earlier) and nothing has run yet. */
static void StartInstance(void) {
  const char* binary = qemu_plugin_path_to_binary();
  if (!binary || !realpath(binary, g_exe))
    snprintf(g_exe, sizeof g_exe, "%s", binary ? binary : "");
  const char* slash = binary ? strrchr(binary, '/') : NULL;
  snprintf(g_comm, sizeof g_comm, "%.15s", slash ? slash + 1 : binary ? binary : "");
  g_traced = 1; /* hwcov ran this program under QEMU because it is selected */
  FindTestName();
  OpenTable();
  MapCounter();
  OpenCounts();
  WriteInstance(g_exe, g_comm, g_test);
  g_started = 1;
}

static void CloseStream(struct vcpu* v) {
  if (!v || !v->open) return;
  munmap(v->window, (size_t)WINDOW_WORDS * 8);
  munmap(v->h, HWCOV_EMU_PAGE);
  close(v->fd);
  free(v->succ);
  v->succ = NULL;
  v->cap = 0;
  v->cur = NULL;
  v->open = 0;
  for (unsigned i = 0; i < MAX_VCPUS; ++i)
    if (g_open[i] == v) g_open[i] = NULL;
}

/* In a fork child, at its first callback: the parent's files are still
 * mapped (shared with the parent) and must be dropped untouched. */
static void StartForkChild(unsigned vcpu_index) {
  pthread_mutex_init(&g_lock, NULL); /* another thread may have held it */
  struct vcpu* self = g_vcpu[vcpu_index];
  g_parent_tid = self && self->open ? self->h->tid : -1;
  for (unsigned i = 0; i < MAX_VCPUS; ++i) CloseStream(g_vcpu[i]);
  g_parent_pid = g_pid;
  g_parent_seq = g_seq;
  g_pid = getpid();
  g_seq = 0;
  g_inherited_tbs = g_next_tb;
  g_inherited_maps = hwcov_emu_maps_announced();
  g_streams = 0;
  /* The child's stream starts with an empty predictor, as its reader does. */
  for (uint32_t i = 0; i < g_next_tb; ++i) g_infos[i]->succ = 0;
  if (!g_config.inherit) g_traced = 0; /* --no-inherit */
  close(g_tbs_fd);
  OpenTable();
  MapCounter();
  OpenCounts();
  WriteInstance(g_exe, g_comm, g_test);
}

/* --- thread streams -------------------------------------------------------- */

/* Back-pressure (emu_format.h, HWCOV_EMU_AHEAD_WINDOWS): while hwcov reads
 * this stream, wait until it has read far enough for the window starting at
 * v->window_base. A reader that makes no progress for 2 s is not waited for:
 * the stream then grows as it would without back-pressure, never a hang. */
static void WaitForReader(struct vcpu* v) {
  uint64_t last = UINT64_MAX;
  unsigned stalled_us = 0;
  for (;;) {
    if (!__atomic_load_n(&v->h->reading, __ATOMIC_ACQUIRE)) return;
    const uint64_t read = __atomic_load_n(&v->h->read_words, __ATOMIC_ACQUIRE);
    if (v->window_base < read + (uint64_t)HWCOV_EMU_AHEAD_WINDOWS * WINDOW_WORDS) return;
    if (read != last) {
      last = read;
      stalled_us = 0;
    } else if (stalled_us >= 2000000) {
      return;
    }
    usleep(200);
    stalled_us += 200;
  }
}

static void MapWindow(struct vcpu* v) {
  if (v->window_base > 0) WaitForReader(v); /* not at the stream's start: no header yet */
  const off_t end = (off_t)HWCOV_EMU_PAGE + (off_t)(v->window_base + WINDOW_WORDS) * 8;
  if (ftruncate(v->fd, end) != 0) Fatal("cannot grow a thread stream");
  v->window = mmap(NULL, (size_t)WINDOW_WORDS * 8, PROT_READ | PROT_WRITE, MAP_SHARED, v->fd,
                   (off_t)HWCOV_EMU_PAGE + (off_t)v->window_base * 8);
  if (v->window == MAP_FAILED) Fatal("cannot map a thread stream");
}

static struct vcpu* OpenStream(unsigned vcpu_index) {
  if (!g_traced || vcpu_index >= MAX_VCPUS) return NULL;
  struct vcpu* v = g_vcpu[vcpu_index];
  if (!v) v = g_vcpu[vcpu_index] = calloc(1, sizeof *v);
  const int tid = (int)syscall(SYS_gettid);
  char suffix[64], path[PATH_MAX];
  snprintf(suffix, sizeof suffix, "%d.%u.str", tid, g_streams++);
  FilePath(path, sizeof path, suffix);
  v->fd = open(path, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (v->fd < 0) Fatal(path);
  v->window_base = 0;
  MapWindow(v);
  v->h = mmap(NULL, HWCOV_EMU_PAGE, PROT_READ | PROT_WRITE, MAP_SHARED, v->fd, 0);
  if (v->h == MAP_FAILED) Fatal(path);
  v->h->pid = g_pid;
  v->h->tid = tid;
  v->h->start_time = Now();
  __atomic_store_n(&v->h->magic, HWCOV_EMU_STREAM_MAGIC, __ATOMIC_RELEASE); /* header ready */
  v->open = 1;
  g_open[vcpu_index] = v;
  return v;
}

static void Put(struct vcpu* v, uint64_t word) {
  uint64_t i = v->h->words - v->window_base;
  if (unlikely(i >= WINDOW_WORDS)) {
    munmap(v->window, (size_t)WINDOW_WORDS * 8);
    v->window_base += WINDOW_WORDS;
    MapWindow(v);
    i = 0;
  }
  v->window[i] = word;
  /* After the word: hwcov reads the stream while it is written. */
  __atomic_store_n(&v->h->words, v->h->words + 1, __ATOMIC_RELEASE);
}

/* An event: the pending run of predicted transitions goes first. */
static void PutEvent(struct vcpu* v, uint32_t type, const uint64_t* payload, uint32_t n) {
  Put(v, hwcov_emu_control(v->h->run, type, n));
  v->h->run = 0;
  for (uint32_t i = 0; i < n; ++i) Put(v, payload[i]);
}

static void SetSuccessor(struct vcpu* v, uint32_t tb, uint32_t next) {
  if (tb >= v->cap) {
    uint32_t cap = v->cap ? v->cap : 4096;
    while (cap <= tb) cap *= 2;
    v->succ = realloc(v->succ, (size_t)cap * sizeof *v->succ);
    if (!v->succ) Fatal("out of memory");
    memset(v->succ + v->cap, 0, (size_t)(cap - v->cap) * sizeof *v->succ);
    v->cap = cap;
  }
  v->succ[tb] = next + 1;
}

/* --- execution callbacks (the hot path) ----------------------------------- */

/* The vCPU's open stream, opened at its first callback (NULL: not traced). */
static inline struct vcpu* VcpuOf(unsigned int vcpu_index) {
  struct vcpu* v = vcpu_index < MAX_VCPUS ? g_open[vcpu_index] : NULL;
  return likely(v != NULL) ? v : OpenStream(vcpu_index);
}

static void OnTbExec(unsigned int vcpu_index, void* udata) {
  struct tb_info* tb = udata;
  struct vcpu* v = VcpuOf(vcpu_index);
  if (unlikely(!v)) return;
  struct hwcov_emu_stream_header* h = v->h;
  struct tb_info* prev = v->cur;
  uint64_t hit = 0;
  if (likely(prev != NULL)) {
    /* How many instructions of the previous TB began. Without POS it was
     * translated while the program had one thread and counts with the
     * shared marker counter; QEMU flushes every translation before a second
     * thread starts (docs/emu-backend.md), so the g_multi test only guards
     * against a QEMU that would not. */
    uint64_t started = prev->n;
    if (prev->flags & HWCOV_EMU_TB_POS)
      started = h->cur_pos + 1;
    else if (!g_multi)
      started = *g_counter - h->cur_counter + 1;
    if (unlikely(started != prev->n)) PutEvent(v, HWCOV_EMU_EV_LEFT_EARLY, &started, 1);
    /* One thread: the slot is in the TB's own data, already in cache. Several:
     * each thread has its own table (both replay the same way). */
    uint32_t* slot = &prev->succ;
    if (unlikely(g_multi)) {
      if (unlikely(prev->id >= v->cap)) SetSuccessor(v, prev->id, HWCOV_EMU_NONE - 1);
      slot = &v->succ[prev->id];
    }
    /* Without branches on the outcome, which is as random as the program's
     * own data-dependent branches. */
    hit = *slot == tb->id + 1;
    *slot = tb->id + 1;
  }
  /* The word is stored in any case and kept only for a misprediction. */
  const uint64_t words = h->words, run = h->run;
  uint64_t at = words - v->window_base;
  if (unlikely(at >= WINDOW_WORDS)) {
    munmap(v->window, (size_t)WINDOW_WORDS * 8);
    v->window_base += WINDOW_WORDS;
    MapWindow(v);
    at = 0;
  }
  v->window[at] = run << 32 | tb->id;
  __atomic_store_n(&h->words, words + 1 - hit, __ATOMIC_RELEASE);
  h->run = (run + 1) & (0 - hit);
  if (unlikely(h->run == UINT32_MAX)) PutEvent(v, HWCOV_EMU_EV_FLUSH, NULL, 0);
  v->cur = tb;
  h->cur_counter = *g_counter;
  h->cur_pos = 0;
}

static inline void Add(uint64_t* counter, int multi) {
  if (unlikely(multi))
    __atomic_fetch_add(counter, 1, __ATOMIC_RELAXED);
  else
    ++*counter;
}

/* Counting mode's rare cases, out of line: the hot path stays small. */
static __attribute__((noinline, cold)) void CountPartial(struct vcpu* v, struct tb_info* prev,
                                                         uint64_t started) {
  const uint64_t payload[2] = {prev->id, started};
  PutEvent(v, HWCOV_EMU_EV_PARTIAL, payload, 2);
}

/* |prev| ended and |tb| began: neither its fall-through nor its target. */
static __attribute__((noinline)) void CountOtherSuccessor(struct vcpu* v, struct tb_info* prev,
                                                          struct tb_info* tb) {
  if (prev->rep && tb->vaddr == prev->last_ip) {
    Add(&CountsOf(prev)->again, g_multi);
  } else if (!(prev->bits & TB_ANY) || (tb->handler && !prev->far)) {
    const uint64_t payload[2] = {prev->id, tb->id};
    PutEvent(v, HWCOV_EMU_EV_TRANSITION, payload, 2);
  }
}

static __attribute__((noinline, cold)) void CountResumed(struct vcpu* v, struct tb_info* tb) {
  v->resumed = 0;
  const uint64_t id = tb->id;
  PutEvent(v, HWCOV_EMU_EV_RESUMED, &id, 1);
}

/* How |prev| ended, checked against its markers: it was left early, or
 * went on to |tb| as one of its plain successors or otherwise. */
static __attribute__((noinline)) void CountEnding(struct vcpu* v, struct tb_info* prev,
                                                  struct tb_info* tb, int multi) {
  struct hwcov_emu_count* c = CountsOf(prev);
  uint64_t started;
  if (prev->flags & HWCOV_EMU_TB_POS) {
    started = v->h->cur_pos + 1;
  } else {
    /* Its other executions (entries - 1, this one counted at its entry)
     * added n - 1 each but for the deficit: the rest is this one's. */
    const uint64_t others = (uint64_t)(prev->n - 1) * (c->entries - 1) - prev->deficit;
    started = c->marks - others + 1;
  }
  const uint64_t next = tb->vaddr;
  if (unlikely(started != prev->n)) {
    if (!(prev->flags & HWCOV_EMU_TB_POS)) prev->deficit += prev->n - started;
    CountPartial(v, prev, started);
  } else if (next == prev->fall) {
    Add(&c->fall, multi);
  } else if (next == prev->target) {
    Add(&c->target, multi);
  } else if (!(prev->bits & TB_ANY) || prev->rep || tb->handler) {
    CountOtherSuccessor(v, prev, tb);
  }
}

/* Counting mode's hot path: the previous TB's ending, then this entry, for
 * TBs translated while the program has one thread; QEMU flushes them all
 * before a second thread starts, so they never run beside another and
 * their counts take plain increments. A TB left early goes on at one of
 * its own instructions (QEMU restarts one after a write to a page with
 * code), at a signal handler's entry, or nowhere (the process died): so a
 * TB followed by one of its plain successors, outside it and not a
 * handler, ran to its end, and so did an indirect branch or return
 * followed by anything outside it. Only the other endings need the
 * markers' count (CountEnding). */
static void OnTbCount(unsigned int vcpu_index, void* udata) {
  struct tb_info* tb = udata;
  struct vcpu* v = VcpuOf(vcpu_index);
  if (unlikely(!v)) return;
  struct tb_info* prev = v->cur;
  if (likely(prev != NULL)) {
    const uint64_t next = tb->vaddr;
    const int to_fall = next == prev->fall;
    const int plain =
        (to_fall | (next == prev->target)) & !(prev->bits & TB_CHECKED) & !tb->handler;
    if (likely(plain))
      ++(&CountsOf(prev)->fall)[!to_fall]; /* fall, or target beside it */
    else if ((prev->bits != TB_ANY) | tb->handler | (next - prev->vaddr <= prev->span))
      CountEnding(v, prev, tb, g_multi);
  }
  if (unlikely(v->resumed)) CountResumed(v, tb);
  ++CountsOf(tb)->entries;
  v->cur = tb;
  v->h->cur_tb = tb->id + 1;
}

/* The same for TBs translated once the program has several threads:
 * atomic counts, and the position (OnInsnExec) instead of markers. */
static void OnTbCountParallel(unsigned int vcpu_index, void* udata) {
  struct tb_info* tb = udata;
  struct vcpu* v = VcpuOf(vcpu_index);
  if (unlikely(!v)) return;
  if (likely(v->cur != NULL)) CountEnding(v, v->cur, tb, 1);
  if (unlikely(v->resumed)) CountResumed(v, tb);
  Add(&CountsOf(tb)->entries, 1);
  v->cur = tb;
  v->h->cur_tb = tb->id + 1;
  v->h->cur_pos = 0;
}

/* The plain successors of a TB's last instruction (hwcov::IsSuccessor). */
static void ClassifyLast(struct tb_info* info, const uint8_t* code, size_t size) {
  struct hwcov_insn_class c;
  hwcov_classify_insn(code, size, info->last_ip, &c);
  const uint64_t fall = info->last_ip + (c.length ? c.length : size);
  info->rep = c.has_rep;
  switch (c.kind) {
    case HWCOV_INSN_OTHER:
      info->fall = fall;
      break;
    case HWCOV_INSN_COND_JUMP:
      info->fall = fall;
      info->target = c.has_target ? c.target : 0;
      break;
    case HWCOV_INSN_DIRECT_JUMP:
    case HWCOV_INSN_DIRECT_CALL:
      info->target = c.has_target ? c.target : 0;
      break;
    case HWCOV_INSN_FAR_TRANSFER:
      info->bits |= TB_ANY;
      info->far = 1;
      break;
    default:
      info->bits |= TB_ANY;
      break;
  }
}

static void OnInsnExec(unsigned int vcpu_index, void* udata) {
  struct vcpu* v = vcpu_index < MAX_VCPUS ? g_vcpu[vcpu_index] : NULL;
  if (likely(v && v->open)) v->h->cur_pos = (uintptr_t)udata;
}

/* --- translation ------------------------------------------------------------ */

static void OnTbTrans(qemu_plugin_id_t id, struct qemu_plugin_tb* tb) {
  (void)id;
  pthread_mutex_lock(&g_lock);
  if (!g_started) StartInstance();
  if (!g_traced) {
    pthread_mutex_unlock(&g_lock);
    return;
  }
  size_t n = qemu_plugin_tb_n_insns(tb);
  if (n > 1 && hwcov_emu_is_phantom(qemu_plugin_tb_get_insn(tb, n - 1))) --n;
  if (n == 0 || n > 0xffff) {
    pthread_mutex_unlock(&g_lock);
    return;
  }
  /* It lives as long as the TB may run; in counting mode, beside its counts. */
  struct tb_info* info =
      g_config.count_mode ? (struct tb_info*)CountSlot(g_next_tb)->plugin : calloc(1, sizeof *info);
  if (!info) Fatal("out of memory");
  info->id = g_next_tb++;
  if (info->id >= g_cap_infos) {
    g_cap_infos = g_cap_infos ? g_cap_infos * 2 : 4096;
    g_infos = realloc(g_infos, g_cap_infos * sizeof *g_infos);
    if (!g_infos) Fatal("out of memory");
  }
  g_infos[info->id] = info;
  info->n = (uint32_t)n;
  info->flags = g_multi ? HWCOV_EMU_TB_POS : 0;

  uint8_t sizes[0x10000];
  static uint8_t bytes[0x10000 * 16];
  size_t total = 0;
  for (size_t i = 0; i < n; ++i) {
    const struct qemu_plugin_insn* insn = qemu_plugin_tb_get_insn(tb, i);
    const size_t size = qemu_plugin_insn_size(insn);
    sizes[i] = (uint8_t)size;
    memcpy(bytes + total, qemu_plugin_insn_data(insn), size);
    total += size;
  }
  struct hwcov_emu_tb r;
  memset(&r, 0, sizeof r);
  r.rec.type = HWCOV_EMU_REC_TB;
  r.vaddr = qemu_plugin_tb_vaddr(tb);
  r.id = info->id;
  r.map = hwcov_emu_map_of(r.vaddr);
  r.n = (uint16_t)n;
  r.flags = (uint16_t)info->flags;
  r.bytes = (uint32_t)total;
  AppendRecord(&r, sizeof r, sizes, n, bytes, total);

  if (g_config.count_mode) {
    info->vaddr = r.vaddr;
    info->last_ip = r.vaddr + total - sizes[n - 1];
    ClassifyLast(info, bytes + total - sizes[n - 1], sizes[n - 1]);
    info->handler = (uint8_t)IsHandler(r.vaddr);
    info->span = (uint16_t)(info->last_ip - info->vaddr);
    if (info->flags & HWCOV_EMU_TB_POS) info->bits |= TB_CHECKED;
    if (info->target >= info->vaddr && info->target <= info->last_ip) info->bits |= TB_CHECKED;
    if (info->last_ip - info->vaddr > UINT16_MAX) info->bits |= TB_CHECKED; /* no span */
    qemu_plugin_register_vcpu_tb_exec_cb(
        tb, info->flags & HWCOV_EMU_TB_POS ? OnTbCountParallel : OnTbCount, QEMU_PLUGIN_CB_NO_REGS,
        info);
  } else {
    qemu_plugin_register_vcpu_tb_exec_cb(tb, OnTbExec, QEMU_PLUGIN_CB_NO_REGS, info);
  }
  /* Markers of how far the TB got: the counter (or position) reads the index
   * of the last marked instruction that began. The first instruction needs
   * none (entering the TB began it), the last always has one (so that a
   * complete TB reads n - 1), the others only if they can fault. */
  void* marker = g_config.count_mode ? (void*)&CountsOf(info)->marks : (void*)g_counter;
  size_t marked = 0, offset = sizes[0];
  for (size_t i = 1; i < n; ++i) {
    const int mark = i == n - 1 || hwcov_emu_may_fault(bytes + offset, sizes[i]);
    offset += sizes[i];
    if (!mark) continue;
    struct qemu_plugin_insn* insn = qemu_plugin_tb_get_insn(tb, i);
    if (info->flags & HWCOV_EMU_TB_POS)
      qemu_plugin_register_vcpu_insn_exec_cb(insn, OnInsnExec, QEMU_PLUGIN_CB_NO_REGS,
                                             (void*)(uintptr_t)i);
    else
      qemu_plugin_register_vcpu_insn_exec_inline(insn, QEMU_PLUGIN_INLINE_ADD_U64, marker,
                                                 i - marked);
    marked = i;
  }
  pthread_mutex_unlock(&g_lock); /* |bytes| is shared */
}

/* --- syscalls, threads, processes ------------------------------------------- */

static void SetExited(uint32_t exited) {
  for (unsigned i = 0; i < MAX_VCPUS; ++i)
    if (g_vcpu[i] && g_vcpu[i]->open)
      __atomic_store_n(&g_vcpu[i]->h->exited, exited, __ATOMIC_RELEASE);
}

/* QEMU's host execve of |path| replaces this process: the streams end here
 * (hwcov stops waiting for them) if the program would start; a failed
 * execve (a shell searching $PATH) reopens them on its return. */
static void EndBeforeExec(uint64_t path) {
  const char* out[16];
  char line[PATH_MAX + 64];
  char* const no_args[] = {NULL};
  if (hwcov_emu_exec_argv("", "", (const char*)(uintptr_t)path, no_args, out, 16, line,
                          sizeof line) == 0)
    SetExited(1);
}

static void OnSyscall(qemu_plugin_id_t id, unsigned int vcpu_index, int64_t num, uint64_t a1,
                      uint64_t a2, uint64_t a3, uint64_t a4, uint64_t a5, uint64_t a6, uint64_t a7,
                      uint64_t a8) {
  (void)id;
  (void)a7;
  (void)a8;
  struct vcpu* v = vcpu_index < MAX_VCPUS ? g_vcpu[vcpu_index] : NULL;
  if (g_traced && v && v->open) {
    if (g_config.count_mode) {
      if (num == SYS_rt_sigreturn) v->resumed = 1;
    } else {
      const uint64_t payload[8] = {Now(), (uint64_t)num, a1, a2, a3, a4, a5, a6};
      PutEvent(v, HWCOV_EMU_EV_SYSCALL, payload, 8);
    }
  }
  if (num == SYS_rt_sigaction && a2 && g_traced) {
    uint64_t handler = 0;
    if (SafeRead(&handler, a2, sizeof handler) && handler > 1) { /* not SIG_DFL/SIG_IGN */
      struct hwcov_emu_handler r = {{HWCOV_EMU_REC_HANDLER, 0}, handler};
      pthread_mutex_lock(&g_lock);
      AppendRecord(&r, sizeof r, NULL, 0, NULL, 0);
      AddHandler(handler);
      pthread_mutex_unlock(&g_lock);
    }
  }
  if (num == SYS_execve) EndBeforeExec(a1);
}

static void OnSyscallReturn(qemu_plugin_id_t id, unsigned int vcpu_index, int64_t num,
                            int64_t ret) {
  (void)id;
  switch (num) {
    case SYS_mmap:
    case SYS_munmap:
    case SYS_mprotect:
    case SYS_mremap:
    case SYS_shmat:
    case SYS_remap_file_pages:
      hwcov_emu_maps_changed();
      break;
    case SYS_execve:
      SetExited(0); /* it failed: the program goes on */
      break;
    case SYS_clone:
    case SYS_fork:
    case SYS_vfork:
      /* A new thread never returns here: ret 0 is a fork child (QEMU runs
       * vfork and CLONE_VFORK as fork). */
      if (ret == 0) {
        StartForkChild(vcpu_index);
        return;
      }
      break;
    default:
      break;
  }
  struct vcpu* v = vcpu_index < MAX_VCPUS ? g_vcpu[vcpu_index] : NULL;
  if (g_traced && v && v->open && !g_config.count_mode) {
    const uint64_t payload[3] = {Now(), (uint64_t)num, (uint64_t)ret};
    PutEvent(v, HWCOV_EMU_EV_SYSRET, payload, 3);
  }
}

static void OnVcpuInit(qemu_plugin_id_t id, unsigned int vcpu_index) {
  (void)id;
  /* Called on the parent thread inside clone, before QEMU flushes its
   * translations for parallel execution: every TB translated from now on
   * uses per-vCPU positions. */
  if (vcpu_index > 0 && !g_multi) {
    /* The one running thread (in clone) switches to a predictor table of
     * its own: its reader starts one at this event too. */
    for (unsigned i = 0; i < MAX_VCPUS; ++i)
      if (g_vcpu[i] && g_vcpu[i]->open) PutEvent(g_vcpu[i], HWCOV_EMU_EV_NEW_PREDICTOR, NULL, 0);
    g_multi = 1;
    if (g_counter) g_counter[1] = 1; /* for hwcov, if the process dies */
  }
  if (vcpu_index < MAX_VCPUS && !g_vcpu[vcpu_index])
    g_vcpu[vcpu_index] = calloc(1, sizeof(struct vcpu));
}

static void OnVcpuExit(qemu_plugin_id_t id, unsigned int vcpu_index) {
  (void)id;
  struct vcpu* v = vcpu_index < MAX_VCPUS ? g_vcpu[vcpu_index] : NULL;
  if (v && v->open) {
    __atomic_store_n(&v->h->exited, 1, __ATOMIC_RELEASE);
    CloseStream(v); /* a thread reusing this vCPU index gets a stream of its own */
  }
}

static void OnExit(qemu_plugin_id_t id, void* userdata) {
  (void)id;
  (void)userdata;
  SetExited(1);
}

QEMU_PLUGIN_EXPORT int qemu_plugin_install(qemu_plugin_id_t id, const qemu_info_t* info, int argc,
                                           char** argv) {
  (void)info;
  for (int i = 0; i < argc; ++i) {
    if (!strncmp(argv[i], "cfg=", 4))
      snprintf(g_cfg, sizeof g_cfg, "%s", argv[i] + 4);
    else if (!strncmp(argv[i], "seq=", 4))
      g_seq = (unsigned)strtoul(argv[i] + 4, NULL, 10);
    else if (!strcmp(argv[i], "probe=on"))
      return 0; /* hwcov checking that plugins load */
  }
  if (!g_cfg[0]) {
    qemu_plugin_outs("hwcov emu plugin: no cfg= argument\n");
    return 1;
  }
  if (hwcov_emu_read_config(g_cfg, &g_config) != 0) Fatal(g_cfg);
  g_pid = getpid();
  hwcov_emu_insn_init();
  qemu_plugin_register_vcpu_init_cb(id, OnVcpuInit);
  qemu_plugin_register_vcpu_exit_cb(id, OnVcpuExit);
  qemu_plugin_register_vcpu_tb_trans_cb(id, OnTbTrans);
  qemu_plugin_register_vcpu_syscall_cb(id, OnSyscall);
  qemu_plugin_register_vcpu_syscall_ret_cb(id, OnSyscallReturn);
  qemu_plugin_register_atexit_cb(id, OnExit, NULL);
  return 0;
}
