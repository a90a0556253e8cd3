//===- RuntimeTest.cpp - the C runtime on containers the compiler writes -*- C++ -*-===//
//
// Builds real containers with the codegen container writer (from generated
// models) and drives the runtime's C API on them: container verification
// against damage, the two tokenizers, the sampler. The entry points are
// stand-ins that write known logits; the compiled code itself is exercised
// by the end-to-end tests.
//
//===----------------------------------------------------------------------===//

#include "compiler/import/chat/ChatTemplate.h"
#include "runtime/include/tlm/tlm.h"
#include "runtime/src/Session.h"
#include "test/support/StandInModel.h"
#include "test/unit/TestSupport.h"
#include "utils/modelgen/ModelWriter.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <cstring>
#include <tuple>
#include <vector>

using namespace tlmc;
using namespace tlmc::test;

namespace {

using Fixture = StandIn;

Fixture makeFixture(const TokenizerData &tokenizer, uint64_t seed = 9) {
  auto standIn = StandInModel(seed).withTokenizer(tokenizer);
  if (!standIn) {
    ADD_FAILURE() << llvm::toString(standIn.takeError());
    return {};
  }
  return std::move(*standIn);
}

tlm_session *open(const Fixture &f, std::string *error = nullptr,
                  const std::vector<char> *bytes = nullptr) {
  const std::vector<char> &data = bytes ? *bytes : f.container.bytes;
  tlm_session *s = nullptr;
  char message[256] = {};
  tlm_status st = tlm_session_open(&f.model, data.data(), data.size(), nullptr,
                                   &s, message, sizeof message);
  if (error)
    *error = message;
  return st == TLM_OK ? s : nullptr;
}

TEST(Runtime, OpensAndEvaluates) {
  Fixture f = makeFixture(makeRandomModel(smallConfig(), 1).tokenizer);
  tlm_session *s = open(f);
  ASSERT_NE(s, nullptr);
  const tlm_config *c = tlm_session_config(s);
  EXPECT_EQ(c->vocab, 300);
  EXPECT_EQ(c->context, 32);
  int32_t tokens[3] = {1, 5, 299};
  EXPECT_EQ(tlm_eval(s, tokens, 3, nullptr), TLM_OK);
  EXPECT_EQ(tlm_position(s), 3u);
  EXPECT_EQ(tlm_logits(s)[123], 123 % 7 + 10.0f);
  int32_t bad = 300;
  EXPECT_EQ(tlm_eval(s, &bad, 1, nullptr), TLM_ERR_INVALID_ARGUMENT);
  EXPECT_NE(std::string(tlm_session_error(s)).find("outside the vocabulary"),
            std::string::npos);
  int32_t many[40] = {};
  EXPECT_EQ(tlm_eval(s, many, 30, nullptr), TLM_ERR_CONTEXT_FULL);
  tlm_reset(s);
  EXPECT_EQ(tlm_eval(s, many, 32, nullptr), TLM_OK);
  tlm_session_close(s);
}

// Careless callers get a status and a message, never undefined behaviour.
TEST(Runtime, ValidatesEveryArgument) {
  Fixture f = makeFixture(makeRandomModel(smallConfig(), 1).tokenizer);
  const std::vector<char> &bytes = f.container.bytes;
  tlm_session *s = nullptr;
  char message[256] = {};
  // Thread counts: negative or absurd are refused before any thread starts.
  for (int threads : {-1, 257, 100000}) {
    tlm_session_options options{};
    options.threads = threads;
    EXPECT_EQ(tlm_session_open(&f.model, bytes.data(), bytes.size(), &options,
                               &s, message, sizeof message),
              TLM_ERR_INVALID_ARGUMENT)
        << threads;
    EXPECT_NE(std::string(message).find("threads must be in [0, 256]"),
              std::string::npos)
        << message;
  }
  EXPECT_EQ(tlm_session_open(nullptr, bytes.data(), bytes.size(), nullptr, &s,
                             message, sizeof message),
            TLM_ERR_INVALID_ARGUMENT);
  EXPECT_EQ(tlm_session_open(&f.model, bytes.data(), bytes.size(), nullptr,
                             nullptr, message, sizeof message),
            TLM_ERR_INVALID_ARGUMENT);
  // A caller's arena that is too small or misaligned.
  std::vector<uint8_t> arena(f.model.arena_bytes + 128);
  tlm_session_options small{};
  small.arena = arena.data();
  small.arena_bytes = f.model.arena_bytes - 1;
  EXPECT_EQ(tlm_session_open(&f.model, bytes.data(), bytes.size(), &small, &s,
                             message, sizeof message),
            TLM_ERR_INVALID_ARGUMENT);
  tlm_session_options skewed{};
  uint8_t *aligned = reinterpret_cast<uint8_t *>(
      (reinterpret_cast<uintptr_t>(arena.data()) + 63) & ~uintptr_t(63));
  skewed.arena = aligned + 1;
  skewed.arena_bytes = f.model.arena_bytes;
  EXPECT_EQ(tlm_session_open(&f.model, bytes.data(), bytes.size(), &skewed,
                             &s, message, sizeof message),
            TLM_ERR_INVALID_ARGUMENT);
  EXPECT_NE(std::string(message).find("64-byte aligned"), std::string::npos);

  // NULL sessions: no crash, nothing done.
  EXPECT_EQ(tlm_eval(nullptr, nullptr, 0, nullptr), TLM_ERR_INVALID_ARGUMENT);
  EXPECT_EQ(tlm_logits(nullptr), nullptr);
  EXPECT_EQ(tlm_session_config(nullptr), nullptr);
  EXPECT_EQ(tlm_position(nullptr), 0u);
  tlm_reset(nullptr);
  tlm_session_close(nullptr);
  tlm_sampler_init(nullptr, 0.0f, 1.0f, 0, 1);
  tlm_sampler greedy;
  tlm_sampler_init(&greedy, 0.0f, 1.0f, 0, 1);
  EXPECT_EQ(tlm_sample(nullptr, &greedy), -1);
  size_t length = 7;
  EXPECT_STREQ(tlm_token_text(nullptr, 0, 1, &length), "");
  EXPECT_EQ(length, 0u);

  s = open(f);
  ASSERT_NE(s, nullptr);
  // Nothing evaluated yet: no logits, nothing to sample.
  EXPECT_EQ(tlm_logits(s), nullptr);
  EXPECT_EQ(tlm_sample(s, &greedy), -1);
  EXPECT_NE(std::string(tlm_session_error(s)).find("evaluate a token first"),
            std::string::npos);
  EXPECT_EQ(tlm_sample(s, nullptr), -1);
  // Tokens: NULL with a count, outside the vocabulary, past the context.
  EXPECT_EQ(tlm_eval(s, nullptr, 2, nullptr), TLM_ERR_INVALID_ARGUMENT);
  int32_t negative = -1;
  EXPECT_EQ(tlm_eval(s, &negative, 1, nullptr), TLM_ERR_INVALID_ARGUMENT);
  int32_t many[64] = {};
  EXPECT_EQ(tlm_eval(s, many, 33, nullptr), TLM_ERR_CONTEXT_FULL);
  EXPECT_EQ(tlm_eval(s, many, SIZE_MAX, nullptr), TLM_ERR_CONTEXT_FULL);
  EXPECT_EQ(tlm_position(s), 0u);
  int32_t one = 5;
  ASSERT_EQ(tlm_eval(s, &one, 1, nullptr), TLM_OK);
  EXPECT_NE(tlm_logits(s), nullptr);
  EXPECT_EQ(tlm_sample(s, &greedy), 123);
  // Samplers out of range (NaN included).
  for (auto [temperature, topP, topK] :
       {std::tuple<float, float, int>{-1.0f, 1.0f, 0},
        {std::nanf(""), 1.0f, 0},
        {0.8f, 0.0f, 0},
        {0.8f, 1.5f, 0},
        {0.8f, std::nanf(""), 0},
        {0.8f, 0.9f, -3}}) {
    tlm_sampler bad;
    tlm_sampler_init(&bad, temperature, topP, topK, 1);
    EXPECT_EQ(tlm_sample(s, &bad), -1) << temperature << " " << topP;
    EXPECT_NE(std::string(tlm_session_error(s)).find("sampler needs"),
              std::string::npos);
  }
  // Text: NULL arguments, a token outside the vocabulary.
  int32_t ids[8];
  size_t count = 0;
  EXPECT_EQ(tlm_tokenize(s, nullptr, 1, ids, 8, &count),
            TLM_ERR_INVALID_ARGUMENT);
  EXPECT_EQ(tlm_tokenize(s, "hi", 1, nullptr, 8, &count),
            TLM_ERR_INVALID_ARGUMENT);
  EXPECT_STREQ(tlm_token_text(s, 0, 300, &length), "");
  EXPECT_STREQ(tlm_token_text(s, 0, -5, &length), "");
  // A reset forgets the logits too.
  tlm_reset(s);
  EXPECT_EQ(tlm_logits(s), nullptr);
  tlm_session_close(s);
}

TEST(Runtime, SamplerIsSeededAndGreedyIsArgmax) {
  Fixture f = makeFixture(makeRandomModel(smallConfig(), 1).tokenizer);
  tlm_session *s = open(f);
  ASSERT_NE(s, nullptr);
  int32_t token = 1;
  ASSERT_EQ(tlm_eval(s, &token, 1, nullptr), TLM_OK);
  tlm_sampler greedy;
  tlm_sampler_init(&greedy, 0.0f, 1.0f, 0, 1);
  EXPECT_EQ(tlm_sample(s, &greedy), 123);
  auto draw = [&](float temp, float topP, int topK, uint64_t seed) {
    tlm_sampler sampler;
    tlm_sampler_init(&sampler, temp, topP, topK, seed);
    std::vector<int32_t> out;
    for (int i = 0; i < 50; ++i)
      out.push_back(tlm_sample(s, &sampler));
    return out;
  };
  EXPECT_EQ(draw(1.0f, 1.0f, 0, 7), draw(1.0f, 1.0f, 0, 7));
  EXPECT_NE(draw(1.0f, 1.0f, 0, 7), draw(1.0f, 1.0f, 0, 8));
  // top-k 1 is greedy whatever the seed; top-p keeps only the heavy head.
  for (int32_t t : draw(1.0f, 1.0f, 1, 3))
    EXPECT_EQ(t, 123);
  for (int32_t t : draw(0.5f, 0.5f, 0, 3))
    EXPECT_EQ(t, 123); // token 123 alone holds > 50% of the mass
  for (int32_t t : draw(1.5f, 0.8f, 0, 4))
    EXPECT_EQ(t % 7 == 6 || t == 123, true) << t;
  tlm_session_close(s);
}

TEST(Runtime, SentencePieceTokenizer) {
  TokenizerData tok = makeRandomModel(smallConfig(), 1).tokenizer;
  Fixture f = makeFixture(tok);
  tlm_session *s = open(f);
  ASSERT_NE(s, nullptr);
  auto id = [&](const std::string &t) {
    for (size_t i = 0; i < tok.tokens.size(); ++i)
      if (tok.tokens[i] == t)
        return int32_t(i);
    return int32_t(-1);
  };
  int32_t tokens[32];
  size_t n = 0;
  // "the" = " " + "t" + "h" + "e"; pairs merge by score: " t" (the first
  // generated pairs score highest), then "he" ...
  ASSERT_EQ(tlm_tokenize(s, "\xC3\xA9!", 1, tokens, 32, &n), TLM_OK);
  // BOS, the dummy space, then é as two byte tokens <0xC3><0xA9>, and "!"
  // (not in the vocabulary) as <0x21>.
  ASSERT_EQ(n, 5u);
  EXPECT_EQ(tokens[0], 1);
  EXPECT_EQ(tokens[1], id(" "));
  EXPECT_EQ(tokens[2], id("<0xC3>"));
  EXPECT_EQ(tokens[3], id("<0xA9>"));
  EXPECT_EQ(tokens[4], id("<0x21>"));
  size_t len;
  const char *text = tlm_token_text(s, tokens[2], tokens[3], &len);
  EXPECT_EQ(std::string(text, len), "\xA9");
  ASSERT_EQ(tlm_tokenize(s, "at", 0, tokens, 32, &n), TLM_OK);
  ASSERT_EQ(n, 2u); // " a" and "t" exist; " at" does not
  EXPECT_EQ(tokens[0], id(" a"));
  EXPECT_EQ(std::string(tlm_token_text(s, 1, tokens[0], &len), len), "a");
  EXPECT_EQ(tlm_tokenize(s, "a long text", 1, tokens, 3, &n),
            TLM_ERR_INVALID_ARGUMENT);
  tlm_session_close(s);
}

TEST(Runtime, ByteLevelTokenizer) {
  TokenizerData tok = makeByteLevelTokenizer();
  Fixture f = makeFixture(tok);
  std::string error;
  tlm_session *s = open(f, &error);
  ASSERT_NE(s, nullptr) << error;
  auto id = [&](const std::string &t) {
    for (size_t i = 0; i < tok.tokens.size(); ++i)
      if (tok.tokens[i] == t)
        return int32_t(i);
    return int32_t(-1);
  };
  const char *text = "hello the world's 42\n\n x";
  int32_t tokens[64];
  size_t n = 0;
  ASSERT_EQ(tlm_tokenize(s, text, 0, tokens, 64, &n), TLM_OK);
  std::vector<int32_t> got(tokens, tokens + n);
  std::vector<int32_t> want = {
      id("hello"), id("\xC4\xA0the"), id("\xC4\xA0"), id("w"), id("o"),
      id("r"),     id("l"),           id("d"),        id("'"), id("s"),
      id("\xC4\xA0"), id("4"),        id("2"),        id("\xC4\x8A"),
      id("\xC4\x8A"), id("\xC4\xA0"), id("x")};
  EXPECT_EQ(got, want);
  std::string decoded;
  for (size_t i = 0; i < n; ++i) {
    size_t len;
    const char *piece =
        tlm_token_text(s, i ? tokens[i - 1] : -1, tokens[i], &len);
    decoded.append(piece, len);
  }
  EXPECT_EQ(decoded, text);
  tlm_session_close(s);
}

TEST(Runtime, RefusesDamagedContainers) {
  Fixture f = makeFixture(makeRandomModel(smallConfig(), 1).tokenizer);
  const std::vector<char> &good = f.container.bytes;
  std::string error;
  // Cut anywhere.
  for (size_t cut = 0; cut < good.size(); cut += cut < 4096 ? 1 : 509) {
    std::vector<char> bytes(good.begin(), good.begin() + cut);
    tlm_session *s = open(f, &error, &bytes);
    ASSERT_EQ(s, nullptr) << "cut at " << cut;
    ASSERT_NE(error.find("container"), std::string::npos) << error;
  }
  // Flip bits in the header and metadata: never a crash; failure or a
  // session whose tables still verify.
  for (size_t at = 0; at < 3000 && at < good.size(); at += 3) {
    std::vector<char> bytes = good;
    bytes[at] ^= char(1 << (at % 8));
    tlm_session *s = open(f, &error, &bytes);
    if (s) {
      int32_t tokens[16];
      size_t n;
      tlm_tokenize(s, "hello", 1, tokens, 16, &n);
      tlm_session_close(s);
    }
  }
  // A container from another model (same shape, other weights).
  Fixture other = makeFixture(makeRandomModel(smallConfig(), 1).tokenizer, 10);
  tlm_session *s = open(f, &error, &other.container.bytes);
  EXPECT_EQ(s, nullptr);
  EXPECT_NE(error.find("does not match"), std::string::npos) << error;
  (void)s;
}

TEST(Runtime, FileChangedAfterOpenCannotReachTheSession) {
  // tlm_session_open_file reads the container into session memory by
  // default: truncating or rewriting the file after it was verified changes
  // nothing (a mapping would fault on pages past the new end).
  Fixture f = makeFixture(makeRandomModel(smallConfig(), 1).tokenizer);
  TempDir dir;
  std::string path = dir.path("m.tlmw");
  writeFile(path, f.container.bytes);
  tlm_session *s = nullptr;
  char message[256] = {};
  ASSERT_EQ(tlm_session_open_file(&f.model, path.c_str(), nullptr, &s,
                                  message, sizeof message),
            TLM_OK)
      << message;
  writeFile(path, std::vector<char>(16, 'x')); // truncated and rewritten
  int32_t tokens[8];
  size_t n = 0;
  ASSERT_EQ(tlm_tokenize(s, "hello", 1, tokens, 8, &n), TLM_OK);
  ASSERT_EQ(tlm_eval(s, tokens, n, nullptr), TLM_OK);
  tlm_sampler greedy;
  tlm_sampler_init(&greedy, 0.0f, 1.0f, 0, 1);
  EXPECT_EQ(tlm_sample(s, &greedy), kStandInTopToken);
  tlm_session_close(s);

  // The same file, now short: refused with its name, status and cause.
  EXPECT_EQ(tlm_session_open_file(&f.model, path.c_str(), nullptr, &s,
                                  message, sizeof message),
            TLM_ERR_CONTAINER);
  EXPECT_TRUE(llvm::StringRef(message).starts_with(path)) << message;
  // Mapping is the caller's choice, and reads the same container.
  writeFile(path, f.container.bytes);
  tlm_session_options mapped{};
  mapped.map_file = 1;
  ASSERT_EQ(tlm_session_open_file(&f.model, path.c_str(), &mapped, &s,
                                  message, sizeof message),
            TLM_OK)
      << message;
  tlm_session_close(s);
}

TEST(Runtime, ContainerMustMatchTheCompiledConfiguration) {
  // A hostile container can carry a real model's fingerprint; what the
  // compiled code indexes by (vocab, context) is checked on its own.
  Fixture f = makeFixture(makeRandomModel(smallConfig(), 1).tokenizer);
  std::string error;
  for (auto [vocab, context] : {std::pair{299, 32}, std::pair{300, 64}}) {
    Fixture compiledOther = f;
    compiledOther.model.vocab = vocab;
    compiledOther.model.context = context;
    EXPECT_EQ(open(compiledOther, &error), nullptr);
    EXPECT_NE(error.find("container configuration (vocab 300, context 32) is "
                         "not the compiled model's"),
              std::string::npos)
        << error;
  }
  // A container must be 8-byte aligned (its u32/u64 tables are read in
  // place).
  std::vector<uint64_t> storage(f.container.bytes.size() / 8 + 2);
  char *misaligned = reinterpret_cast<char *>(storage.data()) + 4;
  std::memcpy(misaligned, f.container.bytes.data(), f.container.bytes.size());
  tlm_session *s = nullptr;
  char message[256] = {};
  EXPECT_EQ(tlm_session_open(&f.model, misaligned, f.container.bytes.size(),
                             nullptr, &s, message, sizeof message),
            TLM_ERR_INVALID_ARGUMENT);
  EXPECT_NE(std::string(message).find("not 8-byte aligned"), std::string::npos)
      << message;
}

} // namespace

TEST(Runtime, ChatFormatFromTheContainer) {
  // A template in Gemma's manner (the system prompt folded into the first
  // user turn, user content trimmed), rendered by the compiler into the
  // container; the runtime assembles conversations from it alone.
  TokenizerData tok = makeRandomModel(smallConfig(), 1).tokenizer;
  tok.addedTokens = {2}; // "</s>" ends a turn
  tok.chatTemplate =
      "{{ bos_token }}{% if messages[0].role == 'system' %}"
      "{% set first = messages[0].content + '\\n\\n' %}"
      "{% set rest = messages[1:] %}{% else %}{% set first = '' %}"
      "{% set rest = messages %}{% endif %}"
      "{% for m in rest %}<{{ m.role }}>{{ first if loop.first }}"
      "{{ m.content | trim if m.role == 'user' else m.content }}</s>"
      "{% endfor %}{% if add_generation_prompt %}<assistant>{% endif %}";
  tok.specialTokens = {{"bos_token", "<s>"}};
  attachChatFormat(tok);
  ASSERT_TRUE(tok.chat.has_value()) << tok.chatUnsupported;
  Fixture f = makeFixture(tok);
  tlm_session *s = open(f);
  ASSERT_NE(s, nullptr);
  EXPECT_EQ(tlm_chat_end_token(s), 2);
  tlm_message conversation[] = {{TLM_ROLE_SYSTEM, "Be brief."},
                                {TLM_ROLE_USER, "  Hi \n"},
                                {TLM_ROLE_ASSISTANT, "Hello."},
                                {TLM_ROLE_USER, "Bye"}};
  char text[256];
  size_t length = 0;
  ASSERT_EQ(tlm_chat_format(s, conversation, 4, 0, text, sizeof text, &length),
            TLM_OK)
      << tlm_session_error(s);
  const std::string whole = "<s><user>Be brief.\n\nHi</s><assistant>Hello.</s>"
                            "<user>Bye</s><assistant>";
  EXPECT_EQ(std::string(text, length), whole);
  // What the last turn adds: the rest of the same text.
  ASSERT_EQ(tlm_chat_format(s, conversation, 4, 3, text, sizeof text, &length),
            TLM_OK);
  EXPECT_EQ(std::string(text, length), "</s><user>Bye</s><assistant>");
  // Too small a buffer: the size needed, and an error.
  EXPECT_EQ(tlm_chat_format(s, conversation, 4, 0, text, 8, &length),
            TLM_ERR_INVALID_ARGUMENT);
  EXPECT_EQ(length, whole.size());
  // Out of order, or ending with the assistant.
  tlm_message twoUsers[] = {{TLM_ROLE_USER, "a"}, {TLM_ROLE_USER, "b"}};
  EXPECT_EQ(tlm_chat_format(s, twoUsers, 2, 0, text, sizeof text, &length),
            TLM_ERR_INVALID_ARGUMENT);
  EXPECT_NE(std::string(tlm_session_error(s)).find("message 1 is out of order"),
            std::string::npos);
  EXPECT_EQ(tlm_chat_format(s, conversation, 3, 0, text, sizeof text, &length),
            TLM_ERR_INVALID_ARGUMENT);
  tlm_session_close(s);

  // A model without a template has no chat.
  Fixture plain = makeFixture(makeRandomModel(smallConfig(), 1).tokenizer);
  tlm_session *p = open(plain);
  ASSERT_NE(p, nullptr);
  EXPECT_EQ(tlm_chat_end_token(p), -1);
  EXPECT_EQ(tlm_chat_format(p, conversation, 4, 0, text, sizeof text, &length),
            TLM_ERR_INVALID_ARGUMENT);
  tlm_session_close(p);
}

// Greedy sampling's argmax against the plain loop it replaced (first index
// of the largest, NaNs skipped): ties across lanes and within one, the
// maximum in the tail past the last full run of lanes, lengths around the
// lane count, NaNs and infinities.
TEST(Sampler, ArgmaxIsTheFirstLargest) {
  auto plain = [](const std::vector<float> &v) {
    int32_t best = -1;
    for (int32_t i = 0; i < int32_t(v.size()); ++i)
      if (v[i] > -INFINITY && (best < 0 || v[i] > v[best]))
        best = i;
    return best < 0 ? 0 : best;
  };
  uint32_t state = 12345;
  auto next = [&] {
    state = state * 1664525u + 1013904223u;
    return state >> 8;
  };
  for (int32_t n : {1, 2, 15, 16, 17, 31, 32, 33, 100, 49152}) {
    for (int trial = 0; trial < 20; ++trial) {
      std::vector<float> v(n);
      // Few distinct values: many ties.
      for (float &x : v)
        x = float(next() % 7) - 3.0f;
      if (trial % 4 == 1)
        v[next() % n] = NAN;
      if (trial % 4 == 2)
        v[n - 1] = 100.0f; // in the tail
      if (trial % 4 == 3)
        for (float &x : v)
          x = -INFINITY;
      EXPECT_EQ(tlmrt::argmaxFirst(v.data(), n), plain(v))
          << "n=" << n << " trial=" << trial;
    }
  }
}
