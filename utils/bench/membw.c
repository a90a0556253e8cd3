/*===- membw.c - memory read bandwidth, the decode roofline --------*- C -*-===*
 *
 *   tlmc-membw [THREADS] [MIB]
 *
 * Decode of a 100M-1B parameter model reads every weight once per token, so
 * its ceiling is the rate at which the cores can stream memory. This reads
 * a buffer of MIB MiB (default 1024, far beyond the caches) with THREADS
 * threads, each summing its own contiguous slice (a small buffer many
 * times over), and prints the best of 7 passes as "membw threads=T mib=M
 * gb_s=X". The sums are printed too so the
 * reads cannot be optimized away.
 *
 *===----------------------------------------------------------------------===*/

#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

typedef struct slice {
  const uint64_t *begin;
  size_t words;
  int repeats; /* passes over the slice: small buffers are read many times */
  uint64_t sum;
  pthread_barrier_t *start;
  double started; /* when the barrier let it go */
} slice;

static double now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* 64 bytes of the buffer as one value: the compiler keeps it in one vector
 * register where the target has 512-bit ones, in two or four narrower ones
 * elsewhere. */
typedef uint64_t lane8 __attribute__((vector_size(64)));

static void *read_slice(void *arg) {
  slice *s = arg;
  pthread_barrier_wait(s->start);
  s->started = now();
  /* Whole vector loads into four independent sums, 256 bytes a step: a
   * decode kernel reads its weights with vector loads, and a core issuing
   * 8-byte loads one by one is bound by its load ports before memory
   * (measured here: 25-30 GB/s on 1 thread against 31-37 for this loop),
   * which would understate the roofline. The slice's words past the last
   * whole step are summed one by one. */
  const lane8 *v = (const lane8 *)s->begin;
  size_t steps = s->words / 32;
  lane8 a = {0}, b = {0}, c = {0}, d = {0};
  uint64_t rest = 0;
  for (int r = 0; r < s->repeats; ++r) {
    for (size_t i = 0; i < steps; ++i) {
      a += v[4 * i];
      b += v[4 * i + 1];
      c += v[4 * i + 2];
      d += v[4 * i + 3];
    }
    for (size_t i = steps * 32; i < s->words; ++i)
      rest += s->begin[i];
    /* Keep the passes: each must read the memory again (without the
     * memory clobber the compiler may sum the slice once). */
    __asm__ volatile("" : "+m"(a), "+m"(b), "+m"(c), "+m"(d) : : "memory");
  }
  lane8 sum = a + b + c + d;
  s->sum = rest;
  for (int i = 0; i < 8; ++i)
    s->sum += sum[i];
  return NULL;
}

int main(int argc, char **argv) {
  int threads = argc > 1 ? atoi(argv[1]) : 1;
  long mib = argc > 2 ? atol(argv[2]) : 1024;
  if (threads < 1 || threads > 256 || mib < 1) {
    fprintf(stderr, "usage: tlmc-membw [THREADS 1..256] [MIB >= 1]\n");
    return 1;
  }
  size_t bytes = (size_t)mib << 20;
  uint64_t *buffer = aligned_alloc(64, bytes);
  if (!buffer) {
    fprintf(stderr, "tlmc-membw: cannot allocate %ld MiB\n", mib);
    return 1;
  }
  memset(buffer, 1, bytes); /* touch every page before timing */
  size_t words = bytes / sizeof(uint64_t), per = words / (size_t)threads;
  /* At least ~512 MiB per timed pass, so that a buffer that fits in a
   * cache is timed over many reads, not one (timer resolution). */
  int repeats = (int)((512ull << 20) / bytes);
  if (repeats < 1)
    repeats = 1;
  double best = 0;
  uint64_t check = 0;
  for (int pass = 0; pass < 7; ++pass) {
    /* The main thread reads slice 0 itself: as a bystander waiting on the
     * barrier it could be scheduled only after the readers had run (one
     * more thread than processors), timing nothing. */
    pthread_barrier_t start;
    pthread_barrier_init(&start, NULL, (unsigned)threads);
    pthread_t tid[256];
    slice s[256];
    for (int t = 0; t < threads; ++t) {
      s[t].begin = buffer + (size_t)t * per;
      s[t].words = t + 1 == threads ? words - (size_t)t * per : per;
      s[t].start = &start;
      s[t].repeats = repeats;
      if (t > 0)
        pthread_create(&tid[t], NULL, read_slice, &s[t]);
    }
    read_slice(&s[0]);
    double t0 = s[0].started;
    for (int t = 1; t < threads; ++t)
      pthread_join(tid[t], NULL);
    double seconds = now() - t0;
    pthread_barrier_destroy(&start);
    for (int t = 0; t < threads; ++t)
      check += s[t].sum;
    double rate = (double)bytes * repeats / seconds / 1e9;
    best = rate > best ? rate : best;
  }
  printf("membw threads=%d mib=%ld gb_s=%.2f (checksum %llu)\n", threads, mib,
         best, (unsigned long long)check);
  free(buffer);
  return 0;
}
