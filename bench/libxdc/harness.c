// bench/libxdc/harness.c: times libxdc (github.com/nyx-fuzz/libxdc), the
// Intel PT decoder of kAFL/Nyx, on the PT of a perf.data trace, to set it
// beside hwcov's decoder (bench/decode). See README.md in this folder.
//
//   harness [-n N] [--bitmap-size BYTES] [--range-file GLOB]... [--check FILE]
//           [--no-warm] [--force] [--keep-timing-packets] TRACE
//
// What it does, in order:
//  1. Reads the perf.data (file mode): the first attr's config (is noretcomp
//     set?), MMAP/MMAP2 records (the page-fetch callback reads the mapped
//     files' bytes at the recorded offsets), COMM/FORK (tid -> pid), and the
//     AUXTRACE records, whose PT bytes are concatenated per stream (queue idx
//     and cpu, or tid when cpu is -1: one stream per thread in hwcov's traces).
//  2. Walks every packet once (untimed): counts them, refuses TNT-64 (libxdc's
//     release build asserts on it) and a config without noretcomp (libxdc
//     wants a TIP for every return) unless --force, replaces the timing
//     packets libxdc does not take (TSC, MTC, TMA, CYC: it returns
//     decoder_unkown_packet) by PAD bytes of the same length, and counts the
//     IPs that fall outside the filter.
//  3. Filter ranges (libxdc takes 4, as the IA32_RTIT_ADDRn MSRs): the
//     executable mappings of the files matching --range-file, by default of
//     the file that holds the trace's first TIP.PGE target (the traced
//     program: hwcov's default filter is the program's own executable).
//  4. Times libxdc_decode over all streams, CPU time of the process
//     (CLOCK_PROCESS_CPUTIME_ID): N "fresh" runs (libxdc_init, decode, free:
//     empty CFG and tracelet caches; init and free not timed), then N "warm"
//     runs on one decoder after one untimed warm-up decode (the caches full:
//     libxdc's design point, one trace decoded over and over while fuzzing).
//     Every run's result code is checked: anything but decoder_success or
//     decoder_success_pt_overflow (a page fault, an unknown packet, TNT bits
//     left over) is reported and makes the exit status 1.
//  5. --check FILE (lines "ADDR TAKEN NOT_TAKEN", absolute addresses of the
//     conditional branches and their counts, e.g. from `hwcov dump`; see
//     check.sh): compares (a) the bitmap of the first fresh run with the
//     bitmap those counts predict (libxdc's cached mode puts only conditional
//     edges in it: byte [hash(src, dst)] += count, mod 256), and (b) per branch,
//     the taken/not-taken counts of one decode in libxdc's trace mode (edge
//     callback) with the file's.
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <fnmatch.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "libxdc.h"

#define PAGE 0x1000ULL

static void die(const char* fmt, ...) __attribute__((format(printf, 1, 2), noreturn));
static void die(const char* fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  fflush(stdout);
  fprintf(stderr, "harness: ");
  vfprintf(stderr, fmt, ap);
  fprintf(stderr, "\n");
  va_end(ap);
  exit(2);
}

static void* xrealloc(void* p, size_t n) {
  p = realloc(p, n ? n : 1);
  if (!p) die("out of memory");
  return p;
}

// ---- perf.data ------------------------------------------------------------

typedef struct {
  uint32_t pid;
  uint64_t start, end, pgoff;
  bool exec;
  char* file;
  uint8_t* bytes;  // [start, end) read from the file (zero past its end), loaded on demand
  size_t seq;      // record order: a later mapping wins where two overlap
} Mapping;

typedef struct {
  uint32_t idx, tid;
  int32_t cpu;
  uint32_t pid;
  uint8_t* data;
  size_t size, cap;
} Stream;

static Mapping* maps;
static size_t n_maps;
static Stream* streams;
static size_t n_streams;
static uint32_t (*tidpid)[2];
static size_t n_tidpid;
static uint64_t attr_config, attr_type;
static uint64_t aux_truncated;

static uint32_t PidOf(uint32_t tid) {
  for (size_t i = 0; i < n_tidpid; ++i)
    if (tidpid[i][0] == tid) return tidpid[i][1];
  return tid;
}
static void NoteTid(uint32_t pid, uint32_t tid) {
  for (size_t i = 0; i < n_tidpid; ++i)
    if (tidpid[i][0] == tid) {
      tidpid[i][1] = pid;
      return;
    }
  tidpid = xrealloc(tidpid, (n_tidpid + 1) * sizeof *tidpid);
  tidpid[n_tidpid][0] = tid;
  tidpid[n_tidpid][1] = pid;
  ++n_tidpid;
}

static Stream* StreamFor(uint32_t idx, int32_t cpu, uint32_t tid) {
  if (cpu != -1) tid = UINT32_MAX;  // per-CPU buffers: the CPU is the stream
  for (size_t i = 0; i < n_streams; ++i)
    if (streams[i].idx == idx && streams[i].cpu == cpu && streams[i].tid == tid) return &streams[i];
  streams = xrealloc(streams, (n_streams + 1) * sizeof *streams);
  Stream* s = &streams[n_streams++];
  memset(s, 0, sizeof *s);
  s->idx = idx;
  s->cpu = cpu;
  s->tid = tid;
  return s;
}

static uint64_t U64(const uint8_t* p) {
  uint64_t v;
  memcpy(&v, p, 8);
  return v;
}
static uint32_t U32(const uint8_t* p) {
  uint32_t v;
  memcpy(&v, p, 4);
  return v;
}

static void AddMapping(uint32_t pid, uint64_t addr, uint64_t len, uint64_t pgoff, bool exec,
                       const char* file) {
  maps = xrealloc(maps, (n_maps + 1) * sizeof *maps);
  Mapping* m = &maps[n_maps];
  m->pid = pid;
  m->start = addr;
  m->end = addr + len;
  m->pgoff = pgoff;
  m->exec = exec;
  m->file = strdup(file);
  m->bytes = NULL;
  m->seq = n_maps++;
}

static void ReadPerfData(const char* path) {
  int fd = open(path, O_RDONLY);
  if (fd < 0) die("%s: %s", path, strerror(errno));
  struct stat st;
  fstat(fd, &st);
  const size_t fsize = (size_t)st.st_size;
  uint8_t* f = mmap(NULL, fsize, PROT_READ, MAP_PRIVATE, fd, 0);
  if (f == MAP_FAILED) die("%s: mmap: %s", path, strerror(errno));
  close(fd);
  if (fsize < 16 || memcmp(f, "PERFILE2", 8) != 0) die("%s: not a perf.data file (PERFILE2)", path);
  const uint64_t hsize = U64(f + 8);
  if (hsize == 16) die("%s: pipe-mode perf.data is not supported; record to a file", path);
  if (hsize < 72 || fsize < hsize) die("%s: bad header size %" PRIu64, path, hsize);
  const uint64_t attr_size = U64(f + 16), attrs_off = U64(f + 24), attrs_size = U64(f + 32);
  uint64_t data_off = U64(f + 40), data_size = U64(f + 48);
  if (attrs_size >= attr_size && attr_size >= 64 && attrs_off + 64 <= fsize) {
    attr_type = U32(f + attrs_off);
    attr_config = U64(f + attrs_off + 8);  // perf_event_attr: type u32, size u32, config u64
  }
  if (data_size == 0) {  // a recording that never finished: read to the end
    fprintf(stderr, "harness: %s: data size 0 in the header, reading to the end of the file\n", path);
    data_size = fsize - data_off;
  }
  if (data_off + data_size > fsize) die("%s: data section past the end of the file", path);
  const uint8_t* p = f + data_off;
  const uint8_t* end = p + data_size;
  while (p + 8 <= end) {
    const uint32_t type = U32(p);
    const uint16_t misc = (uint16_t)(U32(p + 4) & 0xffff);
    const uint16_t size = (uint16_t)(U32(p + 4) >> 16);
    if (size < 8 || p + size > end) die("%s: bad record at offset %td", path, p - f);
    switch (type) {
      case 1: {  // MMAP: pid tid addr len pgoff filename
        const bool data = misc & (1 << 13);  // PERF_RECORD_MISC_MMAP_DATA
        AddMapping(U32(p + 8), U64(p + 16), U64(p + 24), U64(p + 32), !data, (const char*)p + 40);
        NoteTid(U32(p + 8), U32(p + 12));
        break;
      }
      case 10: {  // MMAP2: ... pgoff, 24 bytes of inode or build id, prot, flags, filename
        AddMapping(U32(p + 8), U64(p + 16), U64(p + 24), U64(p + 32), U32(p + 64) & PROT_EXEC,
                   (const char*)p + 72);
        NoteTid(U32(p + 8), U32(p + 12));
        break;
      }
      case 3:  // COMM: pid tid
        NoteTid(U32(p + 8), U32(p + 12));
        break;
      case 7:  // FORK: pid ppid tid ptid
        NoteTid(U32(p + 8), U32(p + 16));
        break;
      case 11:  // AUX: aux_offset aux_size flags
        if (U64(p + 24) & 1) ++aux_truncated;
        break;
      case 71: {  // AUXTRACE: size offset reference idx tid cpu reserved, then size bytes
        const uint64_t n = U64(p + 8);
        if (p + size + n > end) {
          fprintf(stderr, "harness: AUXTRACE record cut at the end of the file, keeping its bytes\n");
        }
        const uint64_t have = (uint64_t)(end - (p + size)) < n ? (uint64_t)(end - (p + size)) : n;
        Stream* s = StreamFor(U32(p + 32), (int32_t)U32(p + 40), U32(p + 36));
        if (s->size + have + 64 > s->cap) {
          s->cap = (s->size + have + 64) * 2;
          s->data = xrealloc(s->data, s->cap);
        }
        memcpy(s->data + s->size, p + size, have);
        s->size += have;
        p += have;  // the PT follows the record; its size is not in header.size
        break;
      }
      default:
        break;
    }
    p += size;
  }
  munmap(f, fsize);
  for (size_t i = 0; i < n_streams; ++i) streams[i].pid = PidOf(streams[i].tid);
}

// ---- the page-fetch callback ---------------------------------------------

static void LoadMapping(Mapping* m) {
  if (m->bytes) return;
  const size_t len = (size_t)(m->end - m->start);
  m->bytes = calloc(1, len);
  if (!m->bytes) die("out of memory (mapping %s)", m->file);
  int fd = open(m->file, O_RDONLY);
  if (fd < 0) {
    fprintf(stderr, "harness: cannot read %s (%s): its pages will be page faults\n", m->file,
            strerror(errno));
    free(m->bytes);
    m->bytes = (uint8_t*)-1;
    return;
  }
  size_t got = 0;
  while (got < len) {
    ssize_t r = pread(fd, m->bytes + got, len - got, (off_t)(m->pgoff + got));
    if (r <= 0) break;  // past the end of the file: zeros, as the kernel maps them
    got += (size_t)r;
  }
  close(fd);
}

typedef struct {
  uint32_t pid;
  uint64_t fetches, faults;
} PageCache;

// libxdc asks for the page holding |addr| and reads (addr & 0xfff) into it.
static const Mapping* FindMapping(uint32_t pid, uint64_t addr) {
  const Mapping* best = NULL;
  for (size_t i = 0; i < n_maps; ++i) {
    const Mapping* m = &maps[i];
    if (m->pid == pid && m->exec && addr >= m->start && addr < m->end && (!best || m->seq > best->seq))
      best = m;
  }
  return best;
}

static void* PageFetch(void* opaque, uint64_t addr, bool* success) {
  PageCache* pc = opaque;
  ++pc->fetches;
  const uint64_t page = addr & ~(PAGE - 1);
  Mapping* m = (Mapping*)FindMapping(pc->pid, page);
  if (m && page + PAGE <= m->end) LoadMapping(m);
  if (!m || page + PAGE > m->end || m->bytes == (uint8_t*)-1) {
    ++pc->faults;
    *success = false;
    return NULL;
  }
  *success = true;
  return m->bytes + (page - m->start);
}

// ---- packets --------------------------------------------------------------

typedef struct {
  uint64_t pad, tnt8, tnt8_bits, tnt64, tip, pge, pgd, fup, mode, psb, psbend, cbr, pip, ovf,
      vmcs, tsc, mtc, tma, cyc, other, ips, ips_outside;
  uint64_t first_pge;
  bool have_pge;
} PacketCounts;

static uint64_t (*ranges)[2];
static size_t n_ranges;

static bool InRanges(uint64_t ip) {
  for (size_t i = 0; i < n_ranges; ++i)
    if (ip >= ranges[i][0] && ip < ranges[i][1]) return true;
  return false;
}

// Walks the packets of |d|; with |rewrite|, turns TSC, MTC, TMA and CYC into PAD.
// Returns false (and says where) at a packet it does not know.
static bool WalkPackets(uint8_t* d, size_t n, bool rewrite, PacketCounts* c, size_t* bad_offset) {
  size_t i = 0;
  uint64_t last_ip = 0;
  // Start at the first PSB, as libxdc does.
  static const uint8_t psb[16] = {2, 0x82, 2, 0x82, 2, 0x82, 2, 0x82, 2, 0x82, 2, 0x82, 2, 0x82, 2, 0x82};
  uint8_t* first = memmem(d, n, psb, 16);
  if (!first) return true;
  i = (size_t)(first - d);
  while (i < n) {
    const uint8_t b = d[i];
    size_t len = 0;
    if (b == 0) {
      ++c->pad;
      len = 1;
    } else if (b == 0x02) {
      if (i + 1 >= n) break;
      const uint8_t b1 = d[i + 1];
      switch (b1) {
        case 0x82: len = 16; ++c->psb; last_ip = 0; break;
        case 0x23: len = 2; ++c->psbend; break;
        case 0x03: len = 4; ++c->cbr; break;
        case 0x43: len = 8; ++c->pip; break;
        case 0xa3: len = 8; ++c->tnt64; break;
        case 0xf3: len = 2; ++c->ovf; last_ip = 0; break;
        case 0xc8: len = 7; ++c->vmcs; break;
        case 0x73:
          len = 7;
          ++c->tma;
          if (rewrite) memset(d + i, 0, len);
          break;
        case 0xc3: len = 11; ++c->other; break;  // MNT
        case 0x83: len = 2; ++c->other; break;   // TraceStop
        default:
          if ((b1 & 0x1f) == 0x12) {  // PTWRITE
            len = 2 + (((b1 >> 5) & 3) == 1 ? 8 : 4);
            ++c->other;
          } else {
            *bad_offset = i;
            return false;
          }
      }
    } else if ((b & 1) == 0) {  // TNT-8: stop bit, then 1..6 bits
      ++c->tnt8;
      c->tnt8_bits += (uint64_t)(31 - __builtin_clz(b)) - 1;
      len = 1;
    } else if ((b & 3) == 3) {  // CYC: header, then bytes while bit 0 is set
      len = 1;
      if (b & 4)  // Exp: more bytes, each with bit 0 saying whether another follows
        while (i + len < n) {
          const uint8_t e = d[i + len];
          ++len;
          if (!(e & 1)) break;
        }
      ++c->cyc;
      if (rewrite) memset(d + i, 0, len);
    } else if (b == 0x19) {
      len = 8;
      ++c->tsc;
      if (rewrite) memset(d + i, 0, len);
    } else if (b == 0x59) {
      len = 2;
      ++c->mtc;
      if (rewrite) memset(d + i, 0, len);
    } else if (b == 0x99) {
      len = 2;
      ++c->mode;
    } else {
      const uint8_t kind = b & 0x1f;
      const unsigned ipc = b >> 5;
      static const uint8_t ip_bytes[8] = {0, 2, 4, 6, 6, 0xff, 8, 0xff};
      if ((kind != 0x0d && kind != 0x11 && kind != 0x01 && kind != 0x1d) || ip_bytes[ipc] == 0xff) {
        *bad_offset = i;
        return false;
      }
      len = 1 + ip_bytes[ipc];
      if (i + len > n) break;
      if (ipc) {
        uint64_t v = 0;
        memcpy(&v, d + i + 1, ip_bytes[ipc]);
        uint64_t ip;
        switch (ipc) {
          case 1: ip = (last_ip & ~0xffffULL) | v; break;
          case 2: ip = (last_ip & ~0xffffffffULL) | v; break;
          case 3: ip = (uint64_t)((int64_t)(v << 16) >> 16); break;
          case 4: ip = (last_ip & ~0xffffffffffffULL) | v; break;
          default: ip = v; break;
        }
        last_ip = ip;
        ++c->ips;
        if (n_ranges && !InRanges(ip)) {
          // A TIP.PGD's target is outside by definition (that is why tracing stopped).
          if (kind != 0x01) ++c->ips_outside;
        }
        if (kind == 0x11 && !c->have_pge) {
          c->have_pge = true;
          c->first_pge = ip;
        }
      }
      if (kind == 0x0d) ++c->tip;
      else if (kind == 0x11) ++c->pge;
      else if (kind == 0x01) ++c->pgd;
      else ++c->fup;
    }
    i += len;
  }
  return true;
}

// ---- conditional branches (for --check) -------------------------------

// Decodes a conditional branch at |addr| (Jcc rel8/rel32, JrCXZ, LOOPcc);
// returns its length and sets |target|, or 0 if it is not one.
static unsigned CondBranch(uint32_t pid, uint64_t addr, uint64_t* target) {
  const Mapping* m = FindMapping(pid, addr);
  if (!m) return 0;
  LoadMapping((Mapping*)m);
  if (m->bytes == (uint8_t*)-1 || addr + 16 > m->end) return 0;
  const uint8_t* p = m->bytes + (addr - m->start);
  unsigned i = 0;
  while (i < 14 && (p[i] == 0x2e || p[i] == 0x3e || p[i] == 0xf2 || p[i] == 0xf3 || p[i] == 0x66 ||
                    p[i] == 0x67 || (p[i] >= 0x40 && p[i] <= 0x4f)))
    ++i;
  if ((p[i] >= 0x70 && p[i] <= 0x7f) || (p[i] >= 0xe0 && p[i] <= 0xe3)) {
    const unsigned len = i + 2;
    *target = addr + len + (uint64_t)(int64_t)(int8_t)p[i + 1];
    return len;
  }
  if (p[i] == 0x0f && p[i + 1] >= 0x80 && p[i + 1] <= 0x8f) {
    const unsigned len = i + 6;
    int32_t rel;
    memcpy(&rel, p + i + 2, 4);
    *target = addr + len + (uint64_t)(int64_t)rel;
    return len;
  }
  return 0;
}

typedef struct {
  uint64_t addr, taken, not_taken;  // expected (from the file)
  uint64_t got_taken, got_not_taken;
  uint64_t target, fall;
} Branch;

static Branch* branches;
static size_t n_branches;
static uint64_t trace_cond_edges, trace_other_edges, trace_unknown_cond;

static int CmpBranch(const void* a, const void* b) {
  const uint64_t x = ((const Branch*)a)->addr, y = ((const Branch*)b)->addr;
  return x < y ? -1 : x > y;
}

static Branch* FindBranch(uint64_t addr) {
  size_t lo = 0, hi = n_branches;
  while (lo < hi) {
    size_t mid = (lo + hi) / 2;
    if (branches[mid].addr < addr) lo = mid + 1;
    else hi = mid;
  }
  return lo < n_branches && branches[lo].addr == addr ? &branches[lo] : NULL;
}

typedef struct {
  uint32_t pid;
} EdgeState;

static void OnEdge(void* opaque, uint64_t src, uint64_t dst) {
  EdgeState* es = opaque;
  Branch* br = FindBranch(src);
  if (br) {
    ++trace_cond_edges;
    if (dst == br->target && dst == br->fall) {  // a Jcc to the next instruction
      ++br->got_taken;
    } else if (dst == br->target) {
      ++br->got_taken;
    } else if (dst == br->fall) {
      ++br->got_not_taken;
    } else {
      ++trace_unknown_cond;
    }
    return;
  }
  if (src == UINT64_MAX || dst == UINT64_MAX) {  // INIT_TRACE_IP: tracing on/off
    ++trace_other_edges;
    return;
  }
  uint64_t t;
  if (CondBranch(es->pid, src, &t)) {  // a conditional branch the file does not list
    ++trace_cond_edges;
    ++trace_unknown_cond;
    return;
  }
  ++trace_other_edges;
}

static void ReadBranches(const char* path) {
  FILE* f = fopen(path, "r");
  if (!f) die("%s: %s", path, strerror(errno));
  uint64_t a, t, nt;
  char line[256];
  while (fgets(line, sizeof line, f)) {
    if (sscanf(line, "%" SCNx64 " %" SCNu64 " %" SCNu64, &a, &t, &nt) != 3) continue;
    branches = xrealloc(branches, (n_branches + 1) * sizeof *branches);
    Branch* b = &branches[n_branches++];
    memset(b, 0, sizeof *b);
    b->addr = a;
    b->taken = t;
    b->not_taken = nt;
  }
  fclose(f);
  qsort(branches, n_branches, sizeof *branches, CmpBranch);
}

// libxdc's edge hash (trace_cache.c: mix_bits, generate_result_offset).
static uint64_t MixBits(uint64_t v) {
  v ^= (v >> 31);
  v *= 0x7fb5d329728ea185ULL;
  return v;
}
static uint32_t EdgeSlot(uint64_t from, uint64_t to, size_t bitmap_size) {
  return (uint32_t)(MixBits(to) ^ (MixBits(from) >> 1)) & (uint32_t)(bitmap_size - 1);
}

// ---- timing -------------------------------------------------------------

static double CpuNow(void) {
  struct timespec ts;
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}
static double WallNow(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static const char* ResultName(decoder_result_t r) {
  switch (r) {
    case decoder_success: return "decoder_success";
    case decoder_success_pt_overflow: return "decoder_success_pt_overflow";
    case decoder_page_fault: return "decoder_page_fault";
    case decoder_error: return "decoder_error";
    case decoder_unkown_packet: return "decoder_unkown_packet";
  }
  return "?";
}
static bool Ok(decoder_result_t r) { return r == decoder_success || r == decoder_success_pt_overflow; }

static size_t BitmapBytesSet(const uint8_t* b, size_t n) {
  size_t k = 0;
  for (size_t i = 0; i < n; ++i) k += b[i] != 0;
  return k;
}

static uint64_t filter[4][2];
static PageCache page_cache;

// Decodes every stream once with |x|; returns the CPU seconds of the decode
// calls alone and the worst result.
static double DecodeAll(libxdc_t* x, decoder_result_t* worst, uint64_t* fault_addr, double* wall) {
  double cpu = 0, w = 0;
  *worst = decoder_success;
  for (size_t i = 0; i < n_streams; ++i) {
    page_cache.pid = streams[i].pid;
    const double w0 = WallNow();
    const double c0 = CpuNow();
    decoder_result_t r = libxdc_decode(x, streams[i].data, streams[i].size);
    cpu += CpuNow() - c0;
    w += WallNow() - w0;
    if (!Ok(r) || (r == decoder_success_pt_overflow && *worst == decoder_success)) {
      if (Ok(*worst)) {
        *worst = r;
        if (r == decoder_page_fault) *fault_addr = libxdc_get_page_fault_addr(x);
      }
    }
  }
  *wall = w;
  return cpu;
}

static int CmpDouble(const void* a, const void* b) {
  const double x = *(const double*)a, y = *(const double*)b;
  return x < y ? -1 : x > y;
}

static void Usage(void) {
  fprintf(stderr,
          "usage: harness [-n N] [--bitmap-size BYTES] [--range-file GLOB]... [--check FILE] "
          "[--no-warm] [--force] [--keep-timing-packets] TRACE\n"
          "  -n N               timed runs of each kind (default 5)\n"
          "  --bitmap-size B    libxdc's edge bitmap, a power of two <= 16 MiB (default 65536)\n"
          "  --range-file GLOB  filter ranges: the executable mappings of the files matching GLOB\n"
          "                     (repeatable; default: the file of the first TIP.PGE target)\n"
          "  --check FILE       compare with expected conditional-branch counts (ADDR TAKEN NOT_TAKEN)\n"
          "  --no-warm          fresh runs only\n"
          "  --force            decode even with TNT-64 packets or without noretcomp (to see libxdc fail)\n"
          "  --keep-timing-packets  do not turn TSC/MTC/TMA/CYC into PAD (to see libxdc fail)\n");
  exit(2);
}

int main(int argc, char** argv) {
  int runs = 5;
  size_t bitmap_size = 0x10000;
  const char** range_globs = NULL;
  size_t n_globs = 0;
  const char* check = NULL;
  const char* trace = NULL;
  bool warm = true, force = false, keep_timing = false;
  setvbuf(stdout, NULL, _IOLBF, 0);
  for (int i = 1; i < argc; ++i) {
    const char* a = argv[i];
    if (!strcmp(a, "-n") && i + 1 < argc) runs = atoi(argv[++i]);
    else if (!strcmp(a, "--bitmap-size") && i + 1 < argc) bitmap_size = strtoull(argv[++i], NULL, 0);
    else if (!strcmp(a, "--range-file") && i + 1 < argc) {
      range_globs = xrealloc(range_globs, (n_globs + 1) * sizeof *range_globs);
      range_globs[n_globs++] = argv[++i];
    } else if (!strcmp(a, "--check") && i + 1 < argc) check = argv[++i];
    else if (!strcmp(a, "--no-warm")) warm = false;
    else if (!strcmp(a, "--force")) force = true;
    else if (!strcmp(a, "--keep-timing-packets")) keep_timing = true;
    else if (a[0] == '-') Usage();
    else trace = a;
  }
  if (!trace || runs < 1) Usage();
  if (bitmap_size < 2 || (bitmap_size & (bitmap_size - 1)) || bitmap_size > (1u << 24))
    die("--bitmap-size must be a power of two, at most 16 MiB (libxdc keeps 24-bit offsets)");

  const double parse0 = CpuNow();
  ReadPerfData(trace);
  if (!n_streams) die("%s: no AUXTRACE data", trace);
  uint64_t total = 0;
  for (size_t i = 0; i < n_streams; ++i) total += streams[i].size;
  const double mb = (double)total / 1e6;
  const bool noretcomp = attr_config & (1ULL << 11);
  printf("libxdc: %s: %zu stream(s), %" PRIu64 " bytes of PT (%.1f MB); attr type %" PRIu64
         " config 0x%" PRIx64 " (%s)\n",
         trace, n_streams, total, mb, attr_type, attr_config,
         noretcomp ? "noretcomp: every return a TIP" : "return compression ON");
  if (aux_truncated) printf("libxdc: warning: %" PRIu64 " AUX records flagged truncated (data lost)\n", aux_truncated);
  {
    uint32_t pid0 = streams[0].pid;
    for (size_t i = 1; i < n_streams; ++i)
      if (streams[i].pid != pid0)
        printf("libxdc: warning: streams of several processes; one decoder and one set of ranges "
               "serve all of them\n");
  }

  // First pass: the first TIP.PGE, to pick the default filter.
  PacketCounts pre = {0};
  size_t bad = 0;
  if (!WalkPackets(streams[0].data, streams[0].size, false, &pre, &bad))
    die("stream 0: unknown packet 0x%02x at offset %zu", streams[0].data[bad], bad);

  // Filter ranges.
  const char* default_file = NULL;
  if (!n_globs) {
    if (!pre.have_pge) die("no TIP.PGE in the first stream: give --range-file");
    const Mapping* m = FindMapping(streams[0].pid, pre.first_pge);
    if (!m) die("the first TIP.PGE (0x%" PRIx64 ") is in no recorded mapping: give --range-file", pre.first_pge);
    default_file = m->file;
  }
  for (size_t i = 0; i < n_maps; ++i) {
    const Mapping* m = &maps[i];
    if (!m->exec || m->pid != streams[0].pid) continue;
    bool want = false;
    if (default_file) want = !strcmp(m->file, default_file);
    for (size_t g = 0; g < n_globs && !want; ++g) want = fnmatch(range_globs[g], m->file, 0) == 0;
    if (!want) continue;
    // Merge with an overlapping or adjacent range.
    bool merged = false;
    for (size_t r = 0; r < n_ranges; ++r)
      if (m->start <= ranges[r][1] && m->end >= ranges[r][0]) {
        if (m->start < ranges[r][0]) ranges[r][0] = m->start;
        if (m->end > ranges[r][1]) ranges[r][1] = m->end;
        merged = true;
      }
    if (!merged) {
      ranges = xrealloc(ranges, (n_ranges + 1) * sizeof *ranges);
      ranges[n_ranges][0] = m->start;
      ranges[n_ranges][1] = m->end;
      ++n_ranges;
    }
  }
  if (!n_ranges) die("no executable mapping matches the filter");
  if (n_ranges > 4) die("%zu filter ranges: libxdc takes at most 4", n_ranges);
  for (size_t r = 0; r < n_ranges; ++r) {
    filter[r][0] = ranges[r][0];
    filter[r][1] = ranges[r][1];
    const Mapping* m = FindMapping(streams[0].pid, ranges[r][0]);
    printf("libxdc: filter range %zu: 0x%" PRIx64 "-0x%" PRIx64 " (%" PRIu64 " KiB) %s\n", r,
           ranges[r][0], ranges[r][1], (ranges[r][1] - ranges[r][0]) >> 10, m ? m->file : "?");
  }
  // Load the ranges' bytes now, so that no file I/O lands in a timed decode.
  for (size_t i = 0; i < n_maps; ++i)
    if (maps[i].exec && maps[i].pid == streams[0].pid && InRanges(maps[i].start)) LoadMapping(&maps[i]);

  // Second pass over every stream: counts, checks, and the timing packets to PAD.
  PacketCounts c = {0};
  for (size_t i = 0; i < n_streams; ++i) {
    if (!WalkPackets(streams[i].data, streams[i].size, !keep_timing, &c, &bad))
      die("stream %zu: unknown packet 0x%02x at offset %zu", i, streams[i].data[bad], bad);
    // libxdc's end marker: one 0x55 byte after the data, not counted (libxdc.h,
    // readme: "You need to append a single byte 0x55"; libxdc_decode asserts it).
    memset(streams[i].data + streams[i].size, 0x55, 16);
  }
  if (keep_timing) printf("libxdc: --keep-timing-packets: TSC, MTC, TMA and CYC left in place\n");
  printf("libxdc: packets: PSB %" PRIu64 " TNT-8 %" PRIu64 " (%" PRIu64 " bits) TNT-64 %" PRIu64
         " TIP %" PRIu64 " PGE %" PRIu64 " PGD %" PRIu64 " FUP %" PRIu64 " MODE %" PRIu64 " PAD %" PRIu64
         " OVF %" PRIu64 "; turned into PAD: TSC %" PRIu64 " MTC %" PRIu64 " TMA %" PRIu64 " CYC %" PRIu64 "\n",
         c.psb, c.tnt8, c.tnt8_bits, c.tnt64, c.tip, c.pge, c.pgd, c.fup, c.mode, c.pad, c.ovf, c.tsc,
         c.mtc, c.tma, c.cyc);
  printf("libxdc: IPs in the trace outside the filter ranges (TIP.PGD targets aside): %" PRIu64
         " of %" PRIu64 "\n", c.ips_outside, c.ips);
  if (c.tnt64 && !force)
    die("the trace has %" PRIu64 " TNT-64 packets: libxdc's release build asserts on them "
        "(tnt_cache.c, append_tnt_cache_ltnt); record with --tnt8-only (or --force)", c.tnt64);
  if (!noretcomp && !force)
    die("the trace was recorded with return compression (config bit 11, noretcomp, is clear): "
        "libxdc expects a TIP for every return; record with --no-return-compression (or --force)");
  if (c.ips_outside)
    printf("libxdc: warning: the trace has code outside the ranges: libxdc's results are not "
           "meaningful (the filter must be the one used while tracing: give --range-file GLOB for each "
           "traced binary, at most 4 ranges)\n");
  printf("libxdc: reading the trace and preparing it: %.3f cpu-s (not in the figures below)\n",
         CpuNow() - parse0);

  uint8_t* bitmap = calloc(1, bitmap_size);
  uint8_t* first_bitmap = calloc(1, bitmap_size);
  page_cache.pid = streams[0].pid;
  int status = 0;
  double* fresh = calloc((size_t)runs, sizeof(double));
  double* hot = calloc((size_t)runs, sizeof(double));
  uint64_t fresh_hash = 0;
  size_t fresh_set = 0;

  for (int k = 0; k < runs; ++k) {
    memset(bitmap, 0, bitmap_size);
    libxdc_t* x = libxdc_init(filter, PageFetch, &page_cache, bitmap, bitmap_size);
    if (!x) die("libxdc_init failed");
    decoder_result_t r;
    uint64_t fault = 0;
    double wall;
    fresh[k] = DecodeAll(x, &r, &fault, &wall);
    const size_t set = BitmapBytesSet(bitmap, bitmap_size);
    const uint64_t hash = libxdc_bitmap_get_hash(x);
    printf("libxdc fresh %d: %-27s %7.3f cpu-s %7.3f s %8.1f MB/cpu-s  bitmap bytes set %zu of %zu, hash %016" PRIx64 "\n",
           k + 1, ResultName(r), fresh[k], wall, mb / fresh[k], set, bitmap_size, hash);
    if (r == decoder_page_fault)
      printf("libxdc: PAGE FAULT at 0x%" PRIx64 " (no bytes for it: outside the recorded mappings)\n", fault);
    if (!Ok(r)) status = 1;
    if (k == 0) {
      fresh_hash = hash;
      fresh_set = set;
      memcpy(first_bitmap, bitmap, bitmap_size);
    } else if (hash != fresh_hash) {
      printf("libxdc: warning: fresh run %d's bitmap differs from run 1's\n", k + 1);
    }
    libxdc_free(x);
  }

  if (warm) {
    memset(bitmap, 0, bitmap_size);
    libxdc_t* x = libxdc_init(filter, PageFetch, &page_cache, bitmap, bitmap_size);
    if (!x) die("libxdc_init failed");
    decoder_result_t r;
    uint64_t fault = 0;
    double wall;
    DecodeAll(x, &r, &fault, &wall);  // warm-up: fills the CFG and the tracelet cache
    if (!Ok(r)) status = 1;
    for (int k = 0; k < runs; ++k) {
      libxdc_bitmap_reset(x);
      hot[k] = DecodeAll(x, &r, &fault, &wall);
      const uint64_t hash = libxdc_bitmap_get_hash(x);
      printf("libxdc warm  %d: %-27s %7.3f cpu-s %7.3f s %8.1f MB/cpu-s  bitmap bytes set %zu, %s fresh\n",
             k + 1, ResultName(r), hot[k], wall, mb / hot[k], BitmapBytesSet(bitmap, bitmap_size),
             hash == fresh_hash ? "hash equal to" : "HASH DIFFERS FROM");
      if (r == decoder_page_fault)
        printf("libxdc: PAGE FAULT at 0x%" PRIx64 "\n", fault);
      if (!Ok(r)) status = 1;
    }
    libxdc_free(x);
  }

  if (check) {
    ReadBranches(check);
    uint64_t exp_total = 0, exp_edges = 0, not_cond = 0;
    uint8_t* expect = calloc(1, bitmap_size);
    for (size_t i = 0; i < n_branches; ++i) {
      Branch* b = &branches[i];
      const unsigned len = CondBranch(streams[0].pid, b->addr, &b->target);
      if (!len) {
        ++not_cond;
        continue;
      }
      b->fall = b->addr + len;
      exp_total += b->taken + b->not_taken;
      if (b->taken) {
        expect[EdgeSlot(b->addr, b->target, bitmap_size)] += (uint8_t)b->taken;
        ++exp_edges;
      }
      if (b->not_taken) {
        expect[EdgeSlot(b->addr, b->fall, bitmap_size)] += (uint8_t)b->not_taken;
        ++exp_edges;
      }
    }
    size_t differ = 0;
    for (size_t i = 0; i < bitmap_size; ++i) differ += expect[i] != first_bitmap[i];
    printf("check: %zu conditional branches expected (%" PRIu64 " not decodable as Jcc at their address), "
           "%" PRIu64 " executions, %" PRIu64 " distinct edges; the trace's TNT bits: %" PRIu64 "\n",
           n_branches, not_cond, exp_total, exp_edges, c.tnt8_bits);
    printf("check: libxdc's bitmap (fresh run 1, cached mode) against the one the expected counts "
           "predict: %zu of %zu bytes differ (%zu set in libxdc's, %zu in the prediction)\n",
           differ, bitmap_size, fresh_set, BitmapBytesSet(expect, bitmap_size));
    if (differ) status = 1;

    // One decode in libxdc's trace mode: every edge to the callback.
    memset(bitmap, 0, bitmap_size);
    libxdc_t* x = libxdc_init(filter, PageFetch, &page_cache, bitmap, bitmap_size);
    EdgeState es = {.pid = streams[0].pid};
    libxdc_register_edge_callback(x, OnEdge, &es);
    libxdc_enable_tracing(x);
    decoder_result_t r;
    uint64_t fault = 0;
    double wall;
    const double cpu = DecodeAll(x, &r, &fault, &wall);
    libxdc_free(x);
    size_t mismatched = 0, shown = 0;
    for (size_t i = 0; i < n_branches; ++i) {
      const Branch* b = &branches[i];
      if (!b->fall) continue;
      if (b->got_taken != b->taken || b->got_not_taken != b->not_taken) {
        ++mismatched;
        if (shown++ < 10)
          printf("check:   branch 0x%" PRIx64 ": expected taken %" PRIu64 " not-taken %" PRIu64
                 ", libxdc %" PRIu64 " / %" PRIu64 "\n",
                 b->addr, b->taken, b->not_taken, b->got_taken, b->got_not_taken);
      }
    }
    printf("check: libxdc trace mode (%s, %.3f cpu-s): %" PRIu64 " conditional edges (%" PRIu64
           " from branches the file does not list or to neither successor), %" PRIu64
           " other edges; %zu of %zu branches with counts different from the file's\n",
           ResultName(r), cpu, trace_cond_edges, trace_unknown_cond, trace_other_edges, mismatched,
           n_branches - not_cond);
    if (!Ok(r) || mismatched || trace_unknown_cond) status = 1;
  }

  qsort(fresh, (size_t)runs, sizeof(double), CmpDouble);
  printf("libxdc fresh: fastest of %d runs %.3f cpu-s (%.1f MB/cpu-s), median %.3f cpu-s (%.1f MB/cpu-s)\n",
         runs, fresh[0], mb / fresh[0], fresh[runs / 2], mb / fresh[runs / 2]);
  if (warm) {
    qsort(hot, (size_t)runs, sizeof(double), CmpDouble);
    printf("libxdc warm:  fastest of %d runs %.3f cpu-s (%.1f MB/cpu-s), median %.3f cpu-s (%.1f MB/cpu-s)\n",
           runs, hot[0], mb / hot[0], hot[runs / 2], mb / hot[runs / 2]);
  }
  struct rusage ru;
  getrusage(RUSAGE_SELF, &ru);
  printf("libxdc_mb=%.1f libxdc_fresh_cpu_s=%.3f libxdc_warm_cpu_s=%.3f libxdc_fresh_mb_per_cpu_s=%.1f "
         "libxdc_warm_mb_per_cpu_s=%.1f peak_rss_kib=%ld status=%s\n",
         mb, fresh[0], warm ? hot[0] : 0.0, mb / fresh[0], warm ? mb / hot[0] : 0.0, ru.ru_maxrss,
         status ? "FAILED" : "ok");
  return status;
}
