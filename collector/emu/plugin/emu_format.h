/* The files hwcov's QEMU plugin (emu_plugin.c) writes and the emu backend
 * (emu_stream.cc) reads: a C header shared by both. See docs/emu-backend.md.
 *
 * One directory per recording. Every program instance (a process between
 * two execs) is named "<pid>.<seq>": seq 0 is the process's first program,
 * seq N+1 the program its execve started under a new QEMU.
 *
 *   <pid>.<seq>.tbs        instance records, appended with write(2): what
 *                          the instance is, each translated block (TB) with
 *                          its instruction bytes, each code mapping, each
 *                          signal handler
 *   <pid>.<seq>.ctr        one page, MAP_SHARED: the instance's instruction
 *                          counter (single-threaded exactness), then a word
 *                          set once the process has a second thread
 *   <pid>.<seq>.<tid>.str  one thread's control flow: a header page, then
 *                          64-bit words, both MAP_SHARED so that a program
 *                          killed by any signal leaves its trace complete.
 *   <pid>.<seq>.cnt        counting mode only ("count 1" in the config): one
 *                          struct hwcov_emu_count per TB id, MAP_SHARED; the
 *                          thread streams then hold only the rare events
 *                          the counts cannot tell (HWCOV_EMU_EV_PARTIAL...).
 *
 * All integers are little-endian; records are padded to 8 bytes. */
#ifndef HWCOV_EMU_FORMAT_H
#define HWCOV_EMU_FORMAT_H

#include <stdint.h>

#define HWCOV_EMU_PAGE 4096u
#define HWCOV_EMU_STREAM_MAGIC 0x3152545356554d45ull /* "EMUVSTR1" */
#define HWCOV_EMU_NONE 0xffffffffu                   /* no TB / no mapping */
/* A thread stream is written through windows of this many words (8 MiB):
 * hwcov frees the ones it has read while the plugin writes later ones. */
#define HWCOV_EMU_WINDOW_WORDS (1u << 20)
/* While hwcov reads a stream, the plugin starts a new window only when hwcov
 * has read up to this many windows before it (back-pressure: the program
 * waits, nothing is lost), so the files stay small however long the run. */
#define HWCOV_EMU_AHEAD_WINDOWS 1u

/* --- <pid>.<seq>.tbs ---------------------------------------------------- */

enum hwcov_emu_record_type {
  HWCOV_EMU_REC_INSTANCE = 1, /* struct hwcov_emu_instance, then exe, comm and test strings */
  HWCOV_EMU_REC_TB = 2,       /* struct hwcov_emu_tb, sizes[n], bytes[] */
  HWCOV_EMU_REC_MAP = 3,      /* struct hwcov_emu_map, then the path */
  HWCOV_EMU_REC_HANDLER = 4,  /* struct hwcov_emu_handler */
};

/* The longest test name an instance record holds (bytes, with the NUL). */
#define HWCOV_EMU_TEST_NAME_MAX 4096

struct hwcov_emu_record {
  uint32_t type;
  uint32_t size; /* whole record including this header, a multiple of 8 */
};

/* Written once, when the instance starts tracing (or decides not to). */
struct hwcov_emu_instance {
  struct hwcov_emu_record rec;
  uint64_t time; /* CLOCK_MONOTONIC ns */
  int32_t pid;
  uint32_t seq;
  int32_t parent_pid; /* fork parent, or -1 (first program, or after exec) */
  uint32_t parent_seq;
  uint32_t inherited_tbs;     /* TB ids below this belong to the fork parent */
  uint32_t inherited_maps;    /* map indexes below this belong to the fork parent */
  int32_t parent_tid;         /* thread that forked, or -1 */
  uint32_t traced;            /* 0: only followed (--only-exe, --no-inherit) */
  uint32_t exe_len, comm_len; /* strings follow, NUL-terminated: exe, comm, test */
  uint32_t test_len;          /* the test it runs for (test_name.h) */
  uint32_t reserved;
};

/* TB flags */
/* Its markers (before the instructions that can fault, and before the last)
 * store a per-vCPU position (translated multi-threaded); else they add the
 * distance from the previous marker to a counter, which then grows by the
 * index of the last marker passed: the instance counter (trace mode) or the
 * TB's own (counting mode, hwcov_emu_count.marks). */
#define HWCOV_EMU_TB_POS 1u

struct hwcov_emu_tb {
  struct hwcov_emu_record rec;
  uint64_t vaddr;
  uint32_t id;
  uint32_t map; /* index of the MAP record holding vaddr, or NONE */
  uint16_t n;   /* instructions */
  uint16_t flags;
  uint32_t bytes; /* total instruction bytes; sizes[n] then bytes follow */
};

struct hwcov_emu_map {
  struct hwcov_emu_record rec;
  uint64_t time;
  uint64_t start, end, pgoff;
  uint32_t index;
  uint32_t path_len; /* path follows, NUL-terminated */
};

struct hwcov_emu_handler {
  struct hwcov_emu_record rec;
  uint64_t address; /* a signal handler installed with rt_sigaction */
};

/* --- <pid>.<seq>.<tid>.str ---------------------------------------------- */

/* The header page. The plugin keeps its per-thread state here, so that it
 * survives the process: |run| transitions not yet written, and how far the
 * current TB got. */
struct hwcov_emu_stream_header {
  uint64_t magic;
  int32_t pid, tid;
  uint64_t start_time;
  uint64_t words;  /* valid words after the header page */
  uint64_t run;    /* predicted transitions after the last word */
  uint32_t exited; /* the thread ended normally, or exec'd */
  uint32_t reserved;
  /* Of the TB entered last (the words and the run tell which): */
  uint64_t cur_counter; /* the instance counter at its entry (counter mode) */
  uint64_t cur_pos;     /* the index of its last marker passed (position mode) */
  /* Written by hwcov while it reads this stream (|reading| set): how far it
   * has read. The plugin waits for it (HWCOV_EMU_AHEAD_WINDOWS). */
  uint64_t read_words;
  uint32_t reading;
  uint32_t cur_tb; /* counting mode: 1 + the id of the TB entered last, 0 none */
};

/* Stream words. A TB word (bit 31 clear): follow |run| = word >> 32 predicted
 * transitions, then enter TB |word & 0x7fffffff| (mispredicted). The
 * predictor, replayed by the reader: per thread, the successor last seen
 * after each TB; a transition equal to it is predicted, any other is written
 * and becomes the prediction.
 *
 * A control word (bit 31 set): |run| = word >> 32 predicted transitions
 * first, then an event of type (word >> 24) & 0x7f with (word & 0xffffff)
 * payload words. */
#define HWCOV_EMU_CONTROL 0x80000000u
enum hwcov_emu_event {
  HWCOV_EMU_EV_FLUSH = 1,         /* nothing: a run about to overflow */
  HWCOV_EMU_EV_LEFT_EARLY = 2,    /* [started]: the current TB stopped after |started|
                                     instructions began; the last of them did not complete
                                     (a synchronous fault) */
  HWCOV_EMU_EV_SYSCALL = 3,       /* [time, nr, a1..a6]: the current TB ends with this syscall */
  HWCOV_EMU_EV_SYSRET = 4,        /* [time, nr, ret] */
  HWCOV_EMU_EV_NEW_PREDICTOR = 5, /* the predictor starts empty (the process's second
                                     thread: the plugin moves it per thread) */
  /* Counting mode: */
  HWCOV_EMU_EV_PARTIAL = 6,    /* [tb, started]: TB |tb| stopped after |started| instructions
                                  began; the last of them did not complete */
  HWCOV_EMU_EV_TRANSITION = 7, /* [from, to]: |from| ran to its end and |to| began, which is
                                  not a plain successor of its last instruction (a signal's
                                  delivery); the branch outcome is not counted */
  HWCOV_EMU_EV_RESUMED = 8,    /* [tb]: the first TB entered after an rt_sigreturn */
};

/* --- <pid>.<seq>.cnt (counting mode) ------------------------------------ */

/* Of one TB: how often it was entered, and how often its last instruction
 * went on to each plain successor. Entries whose ending the counts cannot
 * tell are events in the thread's stream, and each thread's last TB is in
 * its header (cur_tb): hwcov corrects those entries (emu_counter.cc). */
struct hwcov_emu_count {
  uint64_t entries;
  uint64_t fall;   /* to the next instruction (a conditional branch not taken) */
  uint64_t target; /* to a relative branch's target (taken) */
  /* Of a TB translated single-threaded (no HWCOV_EMU_TB_POS): the sum over
   * its executions of the index of the last marker passed, so n - 1 per
   * complete one; hwcov finds how far the last execution got from it. */
  uint64_t marks;
  /* The plugin's own state of the TB, beside its counts so that the hot
   * path touches one cache line (emu_plugin.c); hwcov ignores it. */
  uint64_t plugin[11];
  uint64_t again; /* a REP string instruction's next iteration (the TB at it) */
};
#ifdef __cplusplus
static_assert(sizeof(hwcov_emu_count) == 128, "a TB's slot is two cache lines");
#else
_Static_assert(sizeof(struct hwcov_emu_count) == 128, "a TB's slot is two cache lines");
#endif
/* The file grows by this many TBs at a time, each chunk mapped on its own so
 * that the counters of running code never move. */
#define HWCOV_EMU_COUNT_CHUNK (1u << 16)

static inline uint64_t hwcov_emu_control(uint64_t run, uint32_t type, uint32_t payload) {
  return run << 32 | HWCOV_EMU_CONTROL | (uint64_t)type << 24 | payload;
}

#endif /* HWCOV_EMU_FORMAT_H */
