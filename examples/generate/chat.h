/*===- chat.h - the generator's chat mode --------------------------*- C -*-===*/

#ifndef TLM_EXAMPLES_GENERATE_CHAT_H
#define TLM_EXAMPLES_GENERATE_CHAT_H

#include "tlm/tlm.h"

typedef struct chat_options {
  const char *system;  /* the system prompt, or NULL */
  const char *prompt;  /* one user message, then exit; NULL: read turns */
  int max_new;         /* tokens per reply at most */
  int print_tokens;    /* print each turn's prompt and reply ids */
  tlm_sampler sampler;
} chat_options;

/* Converses in the model's chat format: each user turn (from `prompt`, or
 * one per line of standard input until an empty line or its end) is put in
 * the format by tlm_chat_format, only the text the turn adds is evaluated
 * (the KV cache keeps the conversation), and the reply is printed as it is
 * sampled, until the model ends its turn. Returns the exit status. */
int run_chat(tlm_session *session, const chat_options *options);

#endif /* TLM_EXAMPLES_GENERATE_CHAT_H */
