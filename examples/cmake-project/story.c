/*===- story.c - a greedy story from a model compiled into this binary ----===*
 *
 *   story PROMPT [POSITIONS]
 *
 * The smallest complete use of the runtime's C API: open a session on the
 * model the build compiled (weights embedded), tokenize, evaluate the
 * prompt, then sample greedily until BOS/EOS or POSITIONS (default 256),
 * printing each piece as llama2.c does.
 *===----------------------------------------------------------------------===*/
#include "stories.h"

#include <stdio.h>
#include <stdlib.h>

int main(int argc, char **argv) {
  if (argc < 2 || argc > 3) {
    fprintf(stderr, "usage: %s PROMPT [POSITIONS]\n", argv[0]);
    return 2;
  }
  long positions = argc == 3 ? strtol(argv[2], NULL, 10) : 256;
  if (positions < 1 || positions > STORIES_CONTEXT) {
    fprintf(stderr, "error: POSITIONS must be in [1, %d]\n", STORIES_CONTEXT);
    return 2;
  }
  char error[256];
  tlm_session *session = NULL;
  if (tlm_session_open(&stories_model, NULL, 0, NULL, &session, error,
                       sizeof error) != TLM_OK) {
    fprintf(stderr, "error: %s\n", error);
    return 1;
  }
  const tlm_config *config = tlm_session_config(session);
  int32_t tokens[STORIES_CONTEXT];
  size_t count = 0;
  if (tlm_tokenize(session, argv[1], 1, tokens, STORIES_CONTEXT, &count) !=
          TLM_OK ||
      count > (size_t)positions ||
      tlm_eval(session, tokens, count, NULL) != TLM_OK) {
    fprintf(stderr, "error: %s\n", tlm_session_error(session));
    tlm_session_close(session);
    return 1;
  }
  /* The prompt as the tokenizer reads it back, then the continuation. */
  for (size_t i = 1; i < count; ++i) {
    size_t length;
    const char *piece = tlm_token_text(session, tokens[i - 1], tokens[i],
                                       &length);
    fwrite(piece, 1, length, stdout);
  }
  tlm_sampler sampler;
  tlm_sampler_init(&sampler, 0.0f, 1.0f, 0, 1);
  /* As llama2.c's run: positions [0, POSITIONS) are evaluated, and the
   * token sampled after the last one is printed but never evaluated. */
  int32_t previous = tokens[count - 1];
  for (long pos = (long)count - 1; pos < positions; ++pos) {
    int32_t next = tlm_sample(session, &sampler);
    if (next < 0) {
      fprintf(stderr, "story: %s\n", tlm_session_error(session));
      tlm_session_close(session);
      return 1;
    }
    if (next == config->bos || next == config->eos)
      break;
    size_t length;
    const char *piece = tlm_token_text(session, previous, next, &length);
    fwrite(piece, 1, length, stdout);
    if (pos + 1 < positions && tlm_eval(session, &next, 1, NULL) != TLM_OK) {
      fprintf(stderr, "error: %s\n", tlm_session_error(session));
      tlm_session_close(session);
      return 1;
    }
    previous = next;
  }
  printf("\n");
  tlm_session_close(session);
  return 0;
}
