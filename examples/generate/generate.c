/*===- generate.c - generate text with a compiled model ------------*- C -*-===*
 *
 *   OUT -p PROMPT -n N [--max-new-tokens N] [--temp T] [--top-p P]
 *       [--top-k K] [--seed S] [--threads K] [--tokens] [--perplexity FILE]
 *       [--weights FILE] [--map] [--logits FILE] [--no-prefill] [--ignore-eos]
 *       [--dump-logits FILE] [--prompt-tokens ID,ID,...]
 *       [--bench PP,TG[,D] [--reps R]] [--chat [--system TEXT]] [--version]
 *       [--help]
 *
 * `OUT --help` lists them with their defaults. A bad option gets one line
 * naming it. --threads defaults to the machine's physical cores and is
 * capped at its processors, with a note; -n past the model's context is
 * clamped, with a note.
 *
 * -n counts positions including the prompt (as llama2.c's `run -n`);
 * generation stops early when the model emits BOS, as llama2.c's run.c does
 * (--tokens lists that final BOS, as the golden files do), or EOS.
 * Prints the text, then tokens/s on stderr, prompt and generation apart.
 * --prompt-tokens feeds token ids instead of text; with --dump-logits it
 * writes the logits of every prompt position (f32, position-major), the
 * form utils/peer's llama.cpp driver writes too. --bench PP,TG measures a
 * PP-token prefill and TG decode steps after a 4-token prompt, R times
 * after a warm-up, and prints the medians (as utils/peer's driver does);
 * --bench PP,TG,D runs both after D tokens of context (llama-bench's -d).
 * --chat converses in the model's chat format (chat.c): -p is then one user
 * message answered once, else each line of standard input is a turn.
 * The model is whatever the
 * program was linked with (`tlmc compile --exe`); its weights come from the
 * object (--embed-weights), --weights FILE, or OUT.tlmw beside the program.
 *
 *===----------------------------------------------------------------------===*/

#include "chat.h"
#include "tlm/tlm.h"

#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

extern const tlm_model tlm_default_model;

typedef struct options {
  const char *prompt;
  int steps;
  float temperature, top_p;
  int top_k;
  unsigned long long seed;
  int threads;
  int print_tokens;
  const char *perplexity_file;
  const char *weights;
  const char *logits_file; /* the first generated token's logits */
  const char *dump_file;   /* --perplexity: every scored position's logits */
  int no_prefill;          /* feed the prompt one decode step at a time */
  int ignore_eos;          /* run all -n positions (benchmarks) */
  const char *prompt_tokens; /* comma-separated ids instead of -p */
  int bench_pp, bench_tg;  /* --bench PP,TG[,D] */
  int bench_depth;         /* D: context evaluated before each timed run */
  int reps;
  int max_new;             /* --max-new-tokens: generated tokens, or 0 */
  int version;             /* --version */
  int map_file;            /* --map: map the container instead of reading it */
  int chat;                /* --chat */
  int prompt_given;        /* -p was given */
  const char *system;      /* --system */
} options;

static void usage(FILE *out, const char *argv0) {
  fprintf(out,
          "usage: %s [options]\n"
          "Generates text with the model this program was compiled with.\n\n"
          "  -p PROMPT             the prompt (default: empty)\n"
          "  -n N                  positions, prompt included, as llama2.c's -n\n"
          "                        (default 256; at most the model's context)\n"
          "  --max-new-tokens N    generate N tokens after the prompt (instead of -n)\n"
          "  --temp T              temperature, 0 = greedy (default 1.0)\n"
          "  --top-p P             nucleus sampling, 0 < P <= 1 (default 0.9)\n"
          "  --top-k K             keep the K most likely, 0 = all (default 0)\n"
          "  --seed S              sampling seed (default: the time)\n"
          "  --threads K           threads (default: the machine's physical cores)\n"
          "  --tokens              also print the prompt and generated token ids\n"
          "  --ignore-eos          run all positions (benchmarks)\n"
          "  --no-prefill          feed the prompt one decode step at a time\n"
          "  --prompt-tokens IDS   comma-separated token ids instead of -p\n"
          "  --logits FILE         the first generated token's logits, as text\n"
          "  --dump-logits FILE    every prompt position's logits (f32); with\n"
          "                        --perplexity, every scored position's\n"
          "  --perplexity FILE     perplexity on FILE's paragraphs\n"
          "  --bench PP,TG[,D]     time a PP-token prefill and TG decode steps\n"
          "                        (after D tokens of context, default 0)\n"
          "  --reps R              --bench repetitions (default 5)\n"
          "  --weights FILE        the container (default: this program's path + .tlmw)\n"
          "  --map                 map the container (lazy, shared with the OS cache;\n"
          "                        the file must not shrink meanwhile) instead of\n"
          "                        reading it into memory\n"
          "  --chat                converse in the model's chat format: with -p,\n"
          "                        answer that one message; else each line of\n"
          "                        standard input is a turn (an empty line ends)\n"
          "  --system TEXT         --chat: the system prompt\n"
          "  --version             the runtime and the model\n"
          "  -h, --help            this text\n",
          argv0);
}

/* One line naming the culprit, then where to look; exit status 1. */
static void bad_option(const char *argv0, const char *what, const char *detail) {
  fprintf(stderr, "error: %s: %s (%s --help lists the options)\n", what,
          detail, argv0);
  exit(1);
}

/* A whole-string number in [lo, hi], or bad_option. */
static double number_in(const char *argv0, const char *what, const char *v,
                        double lo, double hi, const char *expected) {
  char *end = NULL;
  double x = v ? strtod(v, &end) : 0;
  if (!v || !*v || (end && *end) || x < lo || x > hi) {
    char detail[160];
    snprintf(detail, sizeof detail, "expected %s, got '%s'", expected,
             v ? v : "");
    bad_option(argv0, what, detail);
  }
  return x;
}

/* The machine's physical cores (as llama.cpp counts them: distinct core ids
 * of online CPUs), or the online CPUs where the topology is not readable. */
static int physical_cores(void) {
  long online = sysconf(_SC_NPROCESSORS_ONLN);
  int cores = 0;
  char seen[1024] = {0};
  for (long cpu = 0; cpu < online && cpu < 1024; ++cpu) {
    char path[128];
    snprintf(path, sizeof path,
             "/sys/devices/system/cpu/cpu%ld/topology/thread_siblings_list", cpu);
    FILE *f = fopen(path, "r");
    if (!f)
      return online > 0 ? (int)online : 1;
    long first = -1;
    if (fscanf(f, "%ld", &first) != 1)
      first = cpu;
    fclose(f);
    if (first >= 0 && first < 1024 && !seen[first]) {
      seen[first] = 1;
      ++cores;
    }
  }
  return cores > 0 ? cores : 1;
}

static int parse_args(int argc, char **argv, options *o) {
  const char *argv0 = argv[0];
  o->prompt = "";
  o->steps = 256;
  o->max_new = 0;
  o->temperature = 1.0f;
  o->top_p = 0.9f;
  o->top_k = 0;
  o->seed = 0;
  o->threads = physical_cores();
  o->print_tokens = 0;
  o->perplexity_file = NULL;
  o->weights = NULL;
  o->logits_file = NULL;
  o->dump_file = NULL;
  o->no_prefill = 0;
  o->ignore_eos = 0;
  o->prompt_tokens = NULL;
  o->bench_pp = o->bench_tg = -1;
  o->bench_depth = 0;
  o->reps = 5;
  o->version = 0;
  o->chat = 0;
  o->prompt_given = 0;
  o->system = NULL;
  for (int i = 1; i < argc; ++i) {
    const char *a = argv[i];
    if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
      usage(stdout, argv0);
      exit(0);
    }
    if (!strcmp(a, "--version")) {
      o->version = 1;
      continue;
    }
    if (!strcmp(a, "--tokens")) {
      o->print_tokens = 1;
      continue;
    }
    if (!strcmp(a, "--map")) {
      o->map_file = 1;
      continue;
    }
    if (!strcmp(a, "--no-prefill")) {
      o->no_prefill = 1;
      continue;
    }
    if (!strcmp(a, "--ignore-eos")) {
      o->ignore_eos = 1;
      continue;
    }
    if (!strcmp(a, "--chat")) {
      o->chat = 1;
      continue;
    }
    static const char *const with_value[] = {
        "-p", "-n", "--max-new-tokens", "--temp", "-t", "--top-p", "--top-k",
        "--seed", "-s", "--threads", "--perplexity", "--weights", "--logits",
        "--dump-logits", "--prompt-tokens", "--reps", "--bench", "--system",
        NULL};
    int known = 0;
    for (int k = 0; with_value[k]; ++k)
      known |= !strcmp(a, with_value[k]);
    if (!known) {
      char detail[64];
      snprintf(detail, sizeof detail, "unknown option");
      bad_option(argv0, a, detail);
    }
    if (i + 1 >= argc)
      bad_option(argv0, a, "needs a value");
    const char *v = argv[++i];
    if (!strcmp(a, "-p")) {
      o->prompt = v;
      o->prompt_given = 1;
    } else if (!strcmp(a, "--system"))
      o->system = v;
    else if (!strcmp(a, "-n"))
      o->steps = (int)number_in(argv0, a, v, 1, 1e9, "positions >= 1");
    else if (!strcmp(a, "--max-new-tokens"))
      o->max_new = (int)number_in(argv0, a, v, 1, 1e9, "a count >= 1");
    else if (!strcmp(a, "--temp") || !strcmp(a, "-t"))
      o->temperature = (float)number_in(argv0, a, v, 0, 1e9, "a temperature >= 0");
    else if (!strcmp(a, "--top-p")) {
      o->top_p = (float)number_in(argv0, a, v, 0, 1, "0 < P <= 1");
      if (o->top_p <= 0)
        bad_option(argv0, a, "expected 0 < P <= 1, got 0");
    } else if (!strcmp(a, "--top-k"))
      o->top_k = (int)number_in(argv0, a, v, 0, 1e9, "a count >= 0");
    else if (!strcmp(a, "--seed") || !strcmp(a, "-s")) {
      char *end = NULL;
      o->seed = strtoull(v, &end, 10);
      if (!*v || *end)
        bad_option(argv0, a, "expected a non-negative integer");
    } else if (!strcmp(a, "--threads"))
      o->threads = (int)number_in(argv0, a, v, 1, 1e9, "a count >= 1");
    else if (!strcmp(a, "--perplexity"))
      o->perplexity_file = v;
    else if (!strcmp(a, "--weights"))
      o->weights = v;
    else if (!strcmp(a, "--logits"))
      o->logits_file = v;
    else if (!strcmp(a, "--dump-logits"))
      o->dump_file = v;
    else if (!strcmp(a, "--prompt-tokens"))
      o->prompt_tokens = v;
    else if (!strcmp(a, "--reps"))
      o->reps = (int)number_in(argv0, a, v, 1, 1e6, "a count >= 1");
    else if (!strcmp(a, "--bench")) {
      int end = 0;
      int counts = sscanf(v, "%d,%d%n,%d%n", &o->bench_pp, &o->bench_tg, &end,
                          &o->bench_depth, &end);
      if (counts < 2 || v[end] || o->bench_pp < 0 || o->bench_tg < 0 ||
          o->bench_depth < 0)
        bad_option(argv0, a, "expected PP,TG or PP,TG,D (counts)");
    }
  }
  if (o->system && !o->chat)
    bad_option(argv0, "--system", "only with --chat");
  if (o->chat && (o->prompt_tokens || o->perplexity_file || o->bench_pp >= 0))
    bad_option(argv0, "--chat",
               "not with --prompt-tokens, --perplexity or --bench");
  /* More threads than processors only make them wait for each other (the
   * pool's workers spin between products). */
  long online = sysconf(_SC_NPROCESSORS_ONLN);
  if (online > 0 && o->threads > online) {
    fprintf(stderr, "note: --threads %d is more than the machine's %ld "
                    "processors; using %ld\n", o->threads, online, online);
    o->threads = (int)online;
  }
  return 0;
}

static double now_seconds(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* Prints a piece as the tokens decode to it. Like llama2.c's safe_printf,
 * a lone ASCII control byte (a stray byte-fallback token) is dropped; bytes
 * of multi-byte UTF-8 characters, which byte-fallback tokens carry one at a
 * time, are printed as they come. */
static void print_piece(const char *piece, size_t length) {
  unsigned char c = (unsigned char)piece[0];
  if (length == 1 && c < 0x80 && !(isprint(c) || isspace(c)))
    return;
  fwrite(piece, 1, length, stdout);
}

static void print_token_line(const char *label, const int32_t *t, size_t n) {
  printf("%s:", label);
  for (size_t i = 0; i < n; ++i)
    printf(" %d", t[i]);
  printf("\n");
}

static int write_logits(const char *path, const float *logits, int vocab) {
  FILE *f = fopen(path, "w");
  if (!f) {
    fprintf(stderr, "error: %s: cannot write\n", path);
    return 1;
  }
  for (int i = 0; i < vocab; ++i)
    fprintf(f, "%.9g\n", logits[i]);
  fclose(f);
  return 0;
}

/* Token ids from "1,2,3" into `out` (at most `capacity`); -1 on bad text. */
static long parse_token_list(const char *list, int vocab, int32_t *out,
                             size_t capacity) {
  size_t n = 0;
  for (const char *p = list; *p;) {
    char *end;
    long v = strtol(p, &end, 10);
    if (end == p || v < 0 || v >= vocab || n == capacity ||
        (*end && *end != ','))
      return -1;
    out[n++] = (int32_t)v;
    p = *end ? end + 1 : end;
  }
  return n ? (long)n : -1;
}

static int generate(tlm_session *s, const options *o) {
  const tlm_config *c = tlm_session_config(s);
  size_t capacity = (o->prompt_tokens ? strlen(o->prompt_tokens)
                                      : strlen(o->prompt)) + 3;
  int32_t *prompt = malloc(sizeof(int32_t) * capacity);
  int32_t *generated = malloc(sizeof(int32_t) * (size_t)c->context + 1);
  size_t n_prompt = 0, n_generated = 0;
  if (o->prompt_tokens && prompt) {
    long n = parse_token_list(o->prompt_tokens, c->vocab, prompt, capacity);
    if (n < 0) {
      fprintf(stderr, "error: --prompt-tokens: expected comma-separated ids "
                      "in [0, %d)\n", c->vocab);
      return 1;
    }
    n_prompt = (size_t)n;
  } else if (!prompt || !generated ||
             tlm_tokenize(s, o->prompt, 1, prompt, capacity, &n_prompt) !=
                 TLM_OK) {
    fprintf(stderr, "error: %s\n", tlm_session_error(s));
    return 1;
  }
  /* The loop below samples one token per position after the prompt's last:
   * steps - (n_prompt - 1) tokens. */
  int steps = o->max_new ? (int)n_prompt - 1 + o->max_new : o->steps;
  if (steps > c->context) {
    fprintf(stderr, "note: %s asks for %d positions, more than the model's "
                    "context of %d; generating up to %d\n",
            o->max_new ? "--max-new-tokens" : "-n", steps, c->context,
            c->context);
    steps = c->context;
  }
  if ((int)n_prompt > steps) {
    fprintf(stderr, "error: the prompt has %zu tokens, more than -n %d\n",
            n_prompt, steps);
    return 1;
  }
  tlm_sampler sampler;
  unsigned long long seed = o->seed ? o->seed : (unsigned long long)time(NULL);
  tlm_sampler_init(&sampler, o->temperature, o->top_p, o->top_k, seed);

  /* The prompt's text, as the reference prints it. */
  for (size_t i = 1; i < n_prompt && !o->prompt_tokens; ++i) {
    size_t len;
    const char *piece = tlm_token_text(s, prompt[i - 1], prompt[i], &len);
    print_piece(piece, len);
  }
  fflush(stdout);

  /* --dump-logits: every prompt position's logits, from one evaluation. */
  float *prompt_logits = NULL;
  if (o->dump_file) {
    prompt_logits = malloc(sizeof(float) * n_prompt * (size_t)c->vocab);
    if (!prompt_logits) {
      fprintf(stderr, "error: out of memory\n");
      return 1;
    }
  }
  double start = now_seconds();
  size_t step = o->no_prefill ? 1 : n_prompt;
  for (size_t i = 0; i < n_prompt; i += step)
    if (tlm_eval(s, prompt + i, step,
                 prompt_logits ? prompt_logits + i * (size_t)c->vocab
                               : NULL) != TLM_OK) {
      fprintf(stderr, "error: %s\n", tlm_session_error(s));
      return 1;
    }
  double prompt_seconds = now_seconds() - start;
  if (prompt_logits) {
    FILE *f = fopen(o->dump_file, "wb");
    if (!f || fwrite(prompt_logits, sizeof(float), n_prompt * (size_t)c->vocab,
                     f) != n_prompt * (size_t)c->vocab) {
      fprintf(stderr, "error: %s: cannot write\n", o->dump_file);
      return 1;
    }
    fclose(f);
    free(prompt_logits);
  }
  if (o->logits_file && write_logits(o->logits_file, tlm_logits(s), c->vocab))
    return 1;
  int32_t token = prompt[n_prompt - 1];
  for (int pos = (int)n_prompt - 1; pos < steps;) {
    int32_t next = tlm_sample(s, &sampler);
    if (next < 0) {
      fprintf(stderr, "error: %s\n", tlm_session_error(s));
      return 1;
    }
    ++pos;
    generated[n_generated++] = next;
    /* Like run.c, BOS ends the story (listed, never printed); so does EOS
     * for models whose stories end with it. */
    if ((next == c->bos || next == c->eos) && !o->ignore_eos)
      break;
    size_t len;
    const char *piece = tlm_token_text(s, token, next, &len);
    print_piece(piece, len);
    fflush(stdout);
    token = next;
    if (pos >= steps)
      break;
    if (tlm_eval(s, &token, 1, NULL) != TLM_OK) {
      fprintf(stderr, "error: %s\n", tlm_session_error(s));
      return 1;
    }
  }
  double elapsed = now_seconds() - start;
  printf("\n");
  if (o->print_tokens) {
    print_token_line("prompt_tokens", prompt, n_prompt);
    print_token_line("generated_tokens", generated, n_generated);
  }
  fflush(stdout);
  fprintf(stderr, "achieved tok/s: %.1f (%u positions, seed %llu)\n",
          elapsed > 0 ? (double)tlm_position(s) / elapsed : 0.0,
          tlm_position(s), seed);
  /* Prompt evaluation and generation apart, as llama.cpp users read them.
   * Generation counts the decode steps (each generated token but the last
   * is fed back). */
  double decode_seconds = elapsed - prompt_seconds;
  size_t decoded = tlm_position(s) - n_prompt;
  fprintf(stderr,
          "prompt: %zu tokens in %.1f ms (%.1f tok/s); generation: %zu "
          "tokens in %.1f ms (%.1f tok/s)\n",
          n_prompt, 1e3 * prompt_seconds,
          prompt_seconds > 0 ? (double)n_prompt / prompt_seconds : 0.0,
          decoded, 1e3 * decode_seconds,
          decode_seconds > 0 && decoded ? (double)decoded / decode_seconds
                                        : 0.0);
  free(prompt);
  free(generated);
  return 0;
}

static int compare_doubles(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return (x > y) - (x < y);
}

static double median(double *v, int n) {
  qsort(v, (size_t)n, sizeof(double), compare_doubles);
  return v[n / 2];
}

/* The benchmark utils/bench/vs-llamacpp.sh runs beside llama.cpp's: a
 * PP-token prefill from position 0, and TG decode steps after a 4-token
 * prompt, each R times after a short warm-up; pseudo-random token ids (a
 * fixed seed); the medians. With a depth D, both start after D tokens of
 * context, evaluated untimed. */
static int bench(tlm_session *s, const options *o) {
  enum { kPrompt = 4 };
  const tlm_config *c = tlm_session_config(s);
  int depth = o->bench_depth;
  int tg_prefix = depth > 0 ? depth : kPrompt;
  int needed = depth + o->bench_pp > tg_prefix + o->bench_tg
                   ? depth + o->bench_pp
                   : tg_prefix + o->bench_tg;
  if (needed > c->context) {
    fprintf(stderr, "error: --bench %d,%d,%d needs a context of %d; the "
                    "model was compiled for %d\n", o->bench_pp, o->bench_tg,
            depth, needed, c->context);
    return 1;
  }
  size_t n = (size_t)(depth + o->bench_pp > tg_prefix ? depth + o->bench_pp
                                                       : tg_prefix);
  int32_t *tokens = malloc(sizeof(int32_t) * n);
  double *pp_seconds = malloc(sizeof(double) * (size_t)o->reps);
  double *tg_seconds = malloc(sizeof(double) * (size_t)o->reps);
  if (!tokens || !pp_seconds || !tg_seconds) {
    fprintf(stderr, "error: out of memory\n");
    return 1;
  }
  tlm_sampler greedy;
  tlm_sampler_init(&greedy, 0.0f, 1.0f, 0, 1);
  unsigned long long rng = 1234; /* xorshift64* */
  /* rep -1 is the warm-up (pages faulted in, caches and predictors warm):
   * a short one, so that slow models do not pay a whole run for it. */
  for (int rep = -1; rep < o->reps; ++rep) {
    int pp = rep < 0 && o->bench_pp > 32 ? 32 : o->bench_pp;
    int tg = rep < 0 && o->bench_tg > 8 ? 8 : o->bench_tg;
    for (size_t i = 0; i < n; ++i)
    {
      rng ^= rng >> 12, rng ^= rng << 25, rng ^= rng >> 27;
      tokens[i] = (int32_t)(((rng * 0x2545F4914F6CDD1DULL) >> 32) %
                            (unsigned long long)c->vocab);
    }
    if (pp > 0) {
      tlm_reset(s);
      if (depth > 0 && tlm_eval(s, tokens, (size_t)depth, NULL) != TLM_OK)
        goto failed;
      double t0 = now_seconds();
      if (tlm_eval(s, tokens + depth, (size_t)pp, NULL) != TLM_OK)
        goto failed;
      if (rep >= 0)
        pp_seconds[rep] = now_seconds() - t0;
    }
    if (tg > 0) {
      tlm_reset(s);
      if (tlm_eval(s, tokens, (size_t)tg_prefix, NULL) != TLM_OK)
        goto failed;
      int32_t token = tokens[0];
      double t0 = now_seconds();
      for (int i = 0; i < tg; ++i) {
        if (tlm_eval(s, &token, 1, NULL) != TLM_OK)
          goto failed;
        token = tlm_sample(s, &greedy);
        if (token < 0)
          goto failed;
      }
      if (rep >= 0)
        tg_seconds[rep] = now_seconds() - t0;
    }
  }
  printf("bench pp=%d tg=%d threads=%d context=%d", o->bench_pp, o->bench_tg,
         o->threads, c->context);
  if (depth > 0)
    printf(" depth=%d", depth);
  if (o->bench_pp > 0) {
    double m = median(pp_seconds, o->reps);
    printf(" pp_tok_s=%.2f ttft_ms=%.3f", o->bench_pp / m, 1e3 * m);
  }
  if (o->bench_tg > 0)
    printf(" tg_tok_s=%.2f", o->bench_tg / median(tg_seconds, o->reps));
  printf("\n");
  free(tokens);
  free(pp_seconds);
  free(tg_seconds);
  return 0;
failed:
  fprintf(stderr, "error: %s\n", tlm_session_error(s));
  return 1;
}

/* Reads the whole file; NUL-terminated. */
static char *read_text(const char *path) {
  FILE *f = fopen(path, "rb");
  if (!f)
    return NULL;
  fseek(f, 0, SEEK_END);
  long size = ftell(f);
  fseek(f, 0, SEEK_SET);
  char *text = size >= 0 ? malloc((size_t)size + 1) : NULL;
  if (text && fread(text, 1, (size_t)size, f) != (size_t)size) {
    free(text);
    text = NULL;
  }
  fclose(f);
  if (text)
    text[size] = '\0';
  return text;
}

/* Perplexity over paragraphs separated by blank lines: each evaluated on its
 * own from position 0 with BOS prepended (token 1), predicting tokens 2..n,
 * i.e. every token after BOS from the logits of the position before it. */
static int perplexity(tlm_session *s, const char *path, const char *dump) {
  const tlm_config *c = tlm_session_config(s);
  char *text = read_text(path);
  if (!text) {
    fprintf(stderr, "error: %s: cannot read\n", path);
    return 1;
  }
  size_t cap = (size_t)c->context;
  int32_t *tokens = malloc(sizeof(int32_t) * cap);
  float *logits = malloc(sizeof(float) * cap * (size_t)c->vocab);
  if (!tokens || !logits) {
    fprintf(stderr, "error: out of memory\n");
    return 1;
  }
  FILE *dump_out = dump ? fopen(dump, "wb") : NULL;
  if (dump && !dump_out) {
    fprintf(stderr, "error: %s: cannot write\n", dump);
    return 1;
  }
  double nll = 0;
  size_t predicted = 0;
  char *p = text;
  while (*p) {
    /* One paragraph: up to a blank line. */
    char *end = strstr(p, "\n\n");
    char *next = end ? end : p + strlen(p);
    char saved = *next;
    *next = '\0';
    while (*p == '\n' || *p == ' ')
      ++p;
    size_t len = strlen(p);
    while (len && (p[len - 1] == '\n' || p[len - 1] == ' '))
      p[--len] = '\0';
    if (len) {
      size_t n;
      if (tlm_tokenize(s, p, 1, tokens, cap, &n) != TLM_OK) {
        fprintf(stderr, "error: %s: %s\n", path, tlm_session_error(s));
        return 1;
      }
      tlm_reset(s);
      if (tlm_eval(s, tokens, n, logits) != TLM_OK) {
        fprintf(stderr, "error: %s: %s\n", path, tlm_session_error(s));
        return 1;
      }
      for (size_t i = 1; i < n; ++i) {
        const float *row = logits + (i - 1) * (size_t)c->vocab;
        double max = row[0], sum = 0;
        for (int v = 1; v < c->vocab; ++v)
          max = row[v] > max ? row[v] : max;
        for (int v = 0; v < c->vocab; ++v)
          sum += exp((double)row[v] - max);
        nll += -((double)row[tokens[i]] - max - log(sum));
        ++predicted;
        if (dump_out)
          fwrite(row, sizeof(float), (size_t)c->vocab, dump_out);
      }
    }
    *next = saved;
    p = next;
    while (*p == '\n')
      ++p;
  }
  if (!predicted) {
    fprintf(stderr, "error: %s: no tokens to predict\n", path);
    return 1;
  }
  if (dump_out)
    fclose(dump_out);
  printf("perplexity %.6f\n", exp(nll / (double)predicted));
  fprintf(stderr, "%zu predicted tokens, mean NLL %.6f\n", predicted,
          nll / (double)predicted);
  free(tokens);
  free(logits);
  free(text);
  return 0;
}

int main(int argc, char **argv) {
  options o;
  parse_args(argc, argv, &o);
  const tlm_model *model = &tlm_default_model;
  if (o.version) {
    printf("tlm generator, runtime ABI %u (built with ABI %d); model "
           "fingerprint %016llx, weights %llu bytes%s, arena %llu bytes\n",
           model->abi_version, TLM_ABI_VERSION,
           (unsigned long long)model->fingerprint,
           (unsigned long long)model->weights_bytes,
           model->embedded_container ? " (embedded)" : "",
           (unsigned long long)model->arena_bytes);
    return 0;
  }
  char path[4096];
  const char *weights = o.weights;
  if (!weights && !model->embedded_container) {
    snprintf(path, sizeof path, "%s.tlmw", argv[0]);
    weights = path;
  }
  tlm_session_options so = {o.threads, NULL, 0, o.map_file};
  tlm_session *s = NULL;
  char error[512];
  if (tlm_session_open_file(model, weights, &so, &s, error, sizeof error) !=
      TLM_OK) {
    fprintf(stderr, "error: %s\n", error);
    return 1;
  }
  int rc;
  if (o.chat) {
    chat_options co = {o.system, o.prompt_given ? o.prompt : NULL,
                       o.max_new ? o.max_new : 512, o.print_tokens, {0}};
    tlm_sampler_init(&co.sampler, o.temperature, o.top_p, o.top_k,
                     o.seed ? o.seed : (unsigned long long)time(NULL));
    rc = run_chat(s, &co);
  } else {
    rc = o.bench_pp >= 0       ? bench(s, &o)
         : o.perplexity_file ? perplexity(s, o.perplexity_file, o.dump_file)
                             : generate(s, &o);
  }
  tlm_session_close(s);
  return rc;
}
