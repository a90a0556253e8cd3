/*===- chat.c - the generator's chat mode --------------------------*- C -*-===*
 *
 * The conversation lives in the session's KV cache; each turn evaluates only
 * what it adds: the text tlm_chat_format writes for the new user message
 * (which first closes the previous reply, e.g. with "<|eot_id|>"), then the
 * sampled reply one token at a time. A reply ends at the chat format's
 * end-of-turn token or EOS; that token is not evaluated, since the next
 * turn's text starts with it.
 *
 *===----------------------------------------------------------------------===*/

#include "chat.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

typedef struct conversation {
  tlm_message *messages;
  char **texts; /* the messages' contents, owned */
  size_t count, capacity;
} conversation;

static int add_message(conversation *c, tlm_role role, const char *content) {
  if (c->count == c->capacity) {
    size_t capacity = c->capacity ? 2 * c->capacity : 8;
    tlm_message *grown = realloc(c->messages, capacity * sizeof *grown);
    if (grown)
      c->messages = grown;
    char **texts = grown ? realloc(c->texts, capacity * sizeof *texts) : NULL;
    if (!texts)
      return 0;
    c->texts = texts;
    c->capacity = capacity;
  }
  char *copy = strdup(content);
  if (!copy)
    return 0;
  c->messages[c->count].role = role;
  c->messages[c->count].content = copy;
  c->texts[c->count] = copy;
  ++c->count;
  return 1;
}

/* A line of standard input without its newline; NULL at the end. */
static char *read_line(void) {
  size_t capacity = 0;
  char *line = NULL;
  ssize_t n = getline(&line, &capacity, stdin);
  if (n < 0) {
    free(line);
    return NULL;
  }
  while (n > 0 && (line[n - 1] == '\n' || line[n - 1] == '\r'))
    line[--n] = '\0';
  return line;
}

/* Evaluates what messages[first..] add to the conversation. */
static int feed_turn(tlm_session *s, const conversation *c, size_t first,
                     int print_tokens) {
  size_t length = 0;
  tlm_chat_format(s, c->messages, c->count, first, NULL, 0, &length);
  char *text = malloc(length + 1);
  size_t capacity = 2 * length + 2; /* tlm_tokenize's bound */
  int32_t *tokens = malloc(capacity * sizeof *tokens);
  size_t n = 0;
  int ok = text && tokens &&
           tlm_chat_format(s, c->messages, c->count, first, text, length + 1,
                           &length) == TLM_OK &&
           tlm_tokenize(s, text, 0, tokens, capacity, &n) == TLM_OK &&
           tlm_eval(s, tokens, n, NULL) == TLM_OK;
  if (ok && print_tokens) {
    printf("prompt:");
    for (size_t i = 0; i < n; ++i)
      printf(" %d", tokens[i]);
    printf("\n");
  }
  free(text);
  free(tokens);
  return ok;
}

/* Samples, prints and evaluates the reply; its text into *reply. */
static int reply(tlm_session *s, const chat_options *o, char **reply_text) {
  const tlm_config *c = tlm_session_config(s);
  int32_t end = tlm_chat_end_token(s);
  tlm_sampler sampler = o->sampler;
  size_t length = 0, capacity = 256;
  char *text = malloc(capacity);
  int32_t previous = -1;
  if (!text)
    return 0;
  text[0] = '\0';
  if (o->print_tokens)
    printf("reply:");
  for (int i = 0; i < o->max_new; ++i) {
    int32_t token = tlm_sample(s, &sampler);
    if (token < 0)
      return 0;
    if (token == end || token == c->eos)
      break;
    size_t piece_length;
    const char *piece = tlm_token_text(s, previous, token, &piece_length);
    if (o->print_tokens) {
      printf(" %d", token);
    } else {
      fwrite(piece, 1, piece_length, stdout);
      fflush(stdout);
    }
    if (length + piece_length + 1 > capacity) {
      capacity = 2 * (length + piece_length + 1);
      char *grown = realloc(text, capacity);
      if (!grown)
        return 0;
      text = grown;
    }
    memcpy(text + length, piece, piece_length);
    text[length += piece_length] = '\0';
    previous = token;
    if (tlm_position(s) + 1 >= (uint32_t)c->context) {
      fprintf(stderr, "\nnote: the context (%d positions) is full\n",
              c->context);
      break;
    }
    if (tlm_eval(s, &token, 1, NULL) != TLM_OK)
      return 0;
  }
  printf("\n");
  *reply_text = text;
  return 1;
}

int run_chat(tlm_session *s, const chat_options *o) {
  if (tlm_chat_end_token(s) < 0) {
    fprintf(stderr, "error: --chat: the model was compiled without a chat "
                    "template (tlmc compile prints why)\n");
    return 1;
  }
  conversation c = {0};
  int status = 0;
  if (o->system && !add_message(&c, TLM_ROLE_SYSTEM, o->system))
    goto out_of_memory;
  int interactive = o->prompt == NULL;
  for (int turn = 0;; ++turn) {
    char *user = NULL;
    if (interactive) {
      if (isatty(STDIN_FILENO))
        fputs("> ", stdout), fflush(stdout);
      user = read_line();
      if (!user || !*user) {
        free(user);
        break;
      }
    } else if (turn > 0) {
      break;
    }
    size_t first = turn == 0 ? 0 : c.count;
    int added = add_message(&c, TLM_ROLE_USER, user ? user : o->prompt);
    free(user);
    if (!added)
      goto out_of_memory;
    char *answer = NULL;
    if (!feed_turn(s, &c, first, o->print_tokens) || !reply(s, o, &answer)) {
      fprintf(stderr, "error: %s\n", tlm_session_error(s));
      status = 1;
      break;
    }
    int kept = add_message(&c, TLM_ROLE_ASSISTANT, answer);
    free(answer);
    if (!kept)
      goto out_of_memory;
  }
  goto done;
out_of_memory:
  fprintf(stderr, "error: out of memory\n");
  status = 1;
done:
  for (size_t i = 0; i < c.count; ++i)
    free(c.texts[i]);
  free(c.texts);
  free(c.messages);
  return status;
}
