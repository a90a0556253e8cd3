/*===- two_sessions.c - two sessions of one model, two threads at once ----===*
 *
 *   two_sessions PROMPT POSITIONS
 *
 * Opens two sessions over the same compiled model and the same embedded
 * container, runs a greedy continuation of PROMPT in each on its own thread
 * at the same time (each session with 2 pool threads of its own), and
 * compares both with the same run done alone first: the runtime keeps no
 * state between sessions, so all three must agree token for token.
 * test/e2e/cmake_project.py links it by hand against a compiled
 * stories260K (`stories.h`) and runs it, in the sanitizer configuration
 * too. Prints "identical" and exits 0, or says what differed.
 *===----------------------------------------------------------------------===*/
#include "stories.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
  const char *prompt;
  long positions;
  int32_t tokens[STORIES_CONTEXT];
  size_t count;
  int failed;
} Run;

static void *generate(void *arg) {
  Run *run = (Run *)arg;
  char error[256];
  tlm_session_options options = {0};
  options.threads = 2;
  tlm_session *s = NULL;
  if (tlm_session_open(&stories_model, NULL, 0, &options, &s, error,
                       sizeof error) != TLM_OK) {
    fprintf(stderr, "error: %s\n", error);
    run->failed = 1;
    return NULL;
  }
  if (tlm_tokenize(s, run->prompt, 1, run->tokens, STORIES_CONTEXT,
                   &run->count) != TLM_OK ||
      run->count > (size_t)run->positions ||
      tlm_eval(s, run->tokens, run->count, NULL) != TLM_OK) {
    fprintf(stderr, "error: %s\n", tlm_session_error(s));
    run->failed = 1;
    tlm_session_close(s);
    return NULL;
  }
  tlm_sampler greedy;
  tlm_sampler_init(&greedy, 0.0f, 1.0f, 0, 1);
  while ((long)run->count < run->positions) {
    int32_t next = tlm_sample(s, &greedy);
    if (next < 0 || tlm_eval(s, &next, 1, NULL) != TLM_OK) {
      fprintf(stderr, "error: %s\n", tlm_session_error(s));
      run->failed = 1;
      break;
    }
    run->tokens[run->count++] = next;
  }
  tlm_session_close(s);
  return NULL;
}

static int same(const Run *a, const Run *b) {
  return a->count == b->count &&
         memcmp(a->tokens, b->tokens, a->count * sizeof(int32_t)) == 0;
}

int main(int argc, char **argv) {
  if (argc != 3) {
    fprintf(stderr, "usage: %s PROMPT POSITIONS\n", argv[0]);
    return 2;
  }
  long positions = strtol(argv[2], NULL, 10);
  if (positions < 1 || positions > STORIES_CONTEXT) {
    fprintf(stderr, "error: POSITIONS must be in [1, %d]\n", STORIES_CONTEXT);
    return 2;
  }
  static Run alone, first, second;
  Run *runs[3] = {&alone, &first, &second};
  for (int i = 0; i < 3; ++i) {
    runs[i]->prompt = argv[1];
    runs[i]->positions = positions;
  }
  generate(&alone);
  pthread_t threads[2];
  if (pthread_create(&threads[0], NULL, generate, &first) != 0 ||
      pthread_create(&threads[1], NULL, generate, &second) != 0) {
    fprintf(stderr, "error: cannot start threads\n");
    return 1;
  }
  pthread_join(threads[0], NULL);
  pthread_join(threads[1], NULL);
  if (alone.failed || first.failed || second.failed)
    return 1;
  if (!same(&alone, &first) || !same(&alone, &second)) {
    fprintf(stderr, "error: concurrent sessions differ from one alone "
                    "(%zu, %zu, %zu tokens)\n",
            alone.count, first.count, second.count);
    return 1;
  }
  printf("identical: %zu tokens\n", alone.count);
  return 0;
}
