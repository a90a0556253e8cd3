//===- tlmc-llamacpp.cpp - llama.cpp on the same file, as a reference -*- C++ -*-===//
//
// The independent reference tlmc is checked and measured against: llama.cpp
// (the npm build pinned by utils/setup-peer.sh) driven through its own
// llama.h. Three jobs; the first two mirror what the compiled model's
// generator does with the same flags (examples/generate):
//
//   tlmc-llamacpp MODEL.gguf logits --prompt-tokens 1,2,3 [--greedy N]
//       [--dump-logits FILE] [--threads T]
//     evaluates the tokens as one batch with logits at every position,
//     writes them (f32, position-major) to FILE, then continues greedily for
//     N tokens and prints "generated_tokens: ...". The KV cache is f32 here
//     (as tlmc's), so that only the products' arithmetic differs.
//
//   tlmc-llamacpp MODEL.gguf bench --pp P --tg G [--threads T] [--reps R]
//       [--context C] [--depth D]
//     as llama-bench measures: a context of C (default D + P + G + prompt)
//     tokens, a short warm-up, then R timed runs of a P-token prefill and of G
//     decode steps after a 4-token prompt, or both after D tokens of context
//     (llama-bench's -d); prints the medians as
//     "bench pp_tok_s=... tg_tok_s=... ttft_ms=...".
//
//   tlmc-llamacpp MODEL.gguf quantize --out OUT.gguf --type q8_0|q4_0
//     writes MODEL's weights quantized by llama.cpp's own quantizer (tensors
//     whose rows are not whole blocks keep a type llama.cpp falls back to):
//     real trained weights in GGUF block formats, e.g. stories260K in Q8_0.
//
// The CPU backend is the best of the npm package's variants for the host;
// TLMC_LLAMACPP_BINS in the environment names another directory (e.g. one
// holding only libggml-cpu-haswell.so beside the package's other
// libraries: llama.cpp as an AVX2-only CPU runs it).
//
// Traps this avoids (each cost llama.cpp speed when missed): the CPU backend
// is loaded from the npm package's own directory; a ggml threadpool is
// attached as llama-bench does (small models lose ~40% without it); the
// context is sized as llama-bench sizes it (decode cost grows with the
// allocated KV size); the memory is cleared between runs.
//
//===----------------------------------------------------------------------===//

#include "ggml-backend.h"
#include "ggml-cpu.h"
#include "llama.h"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <random>
#include <string>
#include <vector>

namespace {

[[noreturn]] void fail(const std::string &message) {
  std::fprintf(stderr, "tlmc-llamacpp: %s\n", message.c_str());
  std::exit(1);
}

struct Options {
  std::string model, mode, dumpLogits, out, type;
  std::vector<llama_token> promptTokens;
  int greedy = 0, threads = 1, pp = 128, tg = 128, reps = 5, context = 0;
  int depth = 0; // bench: tokens of context before each timed run
};

std::vector<llama_token> parseTokens(const char *list) {
  std::vector<llama_token> tokens;
  for (const char *p = list; *p;) {
    char *end;
    long v = std::strtol(p, &end, 10);
    if (end == p)
      fail(std::string("--prompt-tokens: expected comma-separated ids, got '") +
           list + "'");
    tokens.push_back(llama_token(v));
    p = *end == ',' ? end + 1 : end;
  }
  return tokens;
}

Options parseOptions(int argc, char **argv) {
  if (argc < 3)
    fail("usage: tlmc-llamacpp MODEL.gguf logits|bench [options]");
  Options o;
  o.model = argv[1];
  o.mode = argv[2];
  for (int i = 3; i < argc; ++i) {
    std::string a = argv[i];
    if (i + 1 >= argc)
      fail(a + ": needs a value");
    const char *v = argv[++i];
    auto number = [&] {
      char *end;
      long n = std::strtol(v, &end, 10);
      if (*end || n < 0)
        fail(a + ": '" + v + "' is not a non-negative number");
      return int(n);
    };
    if (a == "--prompt-tokens")
      o.promptTokens = parseTokens(v);
    else if (a == "--dump-logits")
      o.dumpLogits = v;
    else if (a == "--greedy")
      o.greedy = number();
    else if (a == "--threads")
      o.threads = std::max(1, number());
    else if (a == "--pp")
      o.pp = number();
    else if (a == "--tg")
      o.tg = number();
    else if (a == "--reps")
      o.reps = std::max(1, number());
    else if (a == "--context")
      o.context = number();
    else if (a == "--depth")
      o.depth = number();
    else if (a == "--out")
      o.out = v;
    else if (a == "--type")
      o.type = v;
    else
      fail("unknown option " + a);
  }
  if (o.mode != "logits" && o.mode != "bench" && o.mode != "quantize")
    fail("mode must be 'logits', 'bench' or 'quantize', not '" + o.mode + "'");
  if (o.mode == "quantize" &&
      (o.out.empty() || (o.type != "q8_0" && o.type != "q4_0")))
    fail("quantize needs --out FILE and --type q8_0 or q4_0");
  return o;
}

/// llama.cpp's log without its chatter: errors only (why a file is refused).
void quiet(ggml_log_level level, const char *text, void *) {
  if (level == GGML_LOG_LEVEL_ERROR)
    std::fputs(text, stderr);
}

/// Where the CPU backend's variants are loaded from.
const char *backendDirectory() {
  const char *chosen = std::getenv("TLMC_LLAMACPP_BINS");
  return chosen && *chosen ? chosen : TLMC_LLAMACPP_BINS;
}

/// The loaded model with a context of `nCtx` tokens and a threadpool.
struct Peer {
  llama_model *model = nullptr;
  llama_context *ctx = nullptr;
  ggml_threadpool *pool = nullptr;
  void (*freePool)(ggml_threadpool *) = nullptr;
  int vocab = 0;

  /// `exactCache`: keep keys and values in f32 (llama.cpp's default is
  /// f16, which alone moves logits by ~0.4% of their spread on a 30-layer
  /// model and would hide real differences from a logits comparison).
  Peer(const Options &o, int nCtx, int nBatch, bool exactCache = false) {
    llama_log_set(quiet, nullptr);
    ggml_backend_load_all_from_path(backendDirectory());
    ggml_backend_dev_t cpu = ggml_backend_dev_by_type(GGML_BACKEND_DEVICE_TYPE_CPU);
    if (!cpu)
      fail(std::string("no CPU backend in ") + backendDirectory());
    ggml_backend_reg_t reg = ggml_backend_dev_backend_reg(cpu);
    auto newPool = reinterpret_cast<ggml_threadpool *(*)(ggml_threadpool_params *)>(
        ggml_backend_reg_get_proc_address(reg, "ggml_threadpool_new"));
    freePool = reinterpret_cast<void (*)(ggml_threadpool *)>(
        ggml_backend_reg_get_proc_address(reg, "ggml_threadpool_free"));
    if (!newPool || !freePool)
      fail("the CPU backend has no threadpool entry points");
    llama_backend_init();
    llama_model_params mp = llama_model_default_params();
    model = llama_model_load_from_file(o.model.c_str(), mp);
    if (!model)
      fail(o.model + ": llama.cpp cannot load it");
    llama_context_params cp = llama_context_default_params();
    cp.n_ctx = uint32_t(nCtx);
    cp.n_batch = uint32_t(std::max(nBatch, 1));
    cp.n_ubatch = std::min<uint32_t>(cp.n_batch, 512);
    cp.n_threads = cp.n_threads_batch = o.threads;
    if (exactCache)
      cp.type_k = cp.type_v = GGML_TYPE_F32, cp.flash_attn_type = LLAMA_FLASH_ATTN_TYPE_DISABLED;
    ctx = llama_init_from_model(model, cp);
    if (!ctx)
      fail(o.model + ": llama.cpp cannot create a context");
    ggml_threadpool_params tpp = ggml_threadpool_params_default(o.threads);
    pool = newPool(&tpp);
    if (!pool)
      fail("cannot create a threadpool");
    llama_attach_threadpool(ctx, pool, nullptr);
    llama_set_n_threads(ctx, o.threads, o.threads);
    vocab = llama_vocab_n_tokens(llama_model_get_vocab(model));
  }
  ~Peer() {
    llama_free(ctx);
    freePool(pool);
    llama_model_free(model);
  }

  void clear() { llama_memory_clear(llama_get_memory(ctx), false); }

  /// Evaluates `tokens` as one batch; with `allLogits`, logits at every
  /// position, else at the last.
  void eval(const std::vector<llama_token> &tokens, bool allLogits) {
    llama_batch batch = llama_batch_init(int32_t(tokens.size()), 0, 1);
    llama_pos start = llama_memory_seq_pos_max(llama_get_memory(ctx), 0) + 1;
    for (size_t i = 0; i < tokens.size(); ++i) {
      batch.token[i] = tokens[i];
      batch.pos[i] = start + llama_pos(i);
      batch.n_seq_id[i] = 1;
      batch.seq_id[i][0] = 0;
      batch.logits[i] = allLogits || i + 1 == tokens.size();
    }
    batch.n_tokens = int32_t(tokens.size());
    if (llama_decode(ctx, batch) != 0)
      fail("llama_decode failed");
    llama_synchronize(ctx);
    llama_batch_free(batch);
  }
};

int argmax(const float *row, int n) {
  return int(std::max_element(row, row + n) - row);
}

int runLogits(const Options &o) {
  if (o.promptTokens.empty())
    fail("logits needs --prompt-tokens");
  int n = int(o.promptTokens.size());
  Peer peer(o, n + o.greedy + 1, n, /*exactCache=*/true);
  peer.eval(o.promptTokens, /*allLogits=*/true);
  if (!o.dumpLogits.empty()) {
    FILE *f = std::fopen(o.dumpLogits.c_str(), "wb");
    if (!f)
      fail(o.dumpLogits + ": cannot write");
    for (int i = 0; i < n; ++i)
      std::fwrite(llama_get_logits_ith(peer.ctx, i), sizeof(float),
                  size_t(peer.vocab), f);
    std::fclose(f);
  }
  std::printf("generated_tokens:");
  llama_token next = argmax(llama_get_logits_ith(peer.ctx, n - 1), peer.vocab);
  for (int i = 0; i < o.greedy; ++i) {
    std::printf(" %d", next);
    if (i + 1 == o.greedy)
      break;
    peer.eval({next}, false);
    next = argmax(llama_get_logits_ith(peer.ctx, -1), peer.vocab);
  }
  std::printf("\n");
  return 0;
}

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

int runBench(const Options &o) {
  constexpr int kPrompt = 4; // decode runs after a short prompt
  // With a depth, both runs start after that many tokens (llama-bench's
  // -d); decode otherwise after a short prompt.
  int tgPrefix = o.depth ? o.depth : kPrompt;
  int nCtx = o.context ? o.context : o.depth + o.pp + o.tg + kPrompt;
  if (nCtx < std::max(o.depth + o.pp, tgPrefix + o.tg))
    fail("--context is smaller than the runs need");
  Peer peer(o, nCtx, std::max({o.pp, tgPrefix, o.depth}));
  std::mt19937 rng(1234);
  auto randomTokens = [&](int n) {
    std::vector<llama_token> t(static_cast<size_t>(n));
    for (auto &x : t)
      x = llama_token(rng() % uint32_t(peer.vocab));
    return t;
  };
  using clock = std::chrono::steady_clock;
  auto seconds = [](clock::time_point a, clock::time_point b) {
    return std::chrono::duration<double>(b - a).count();
  };
  std::vector<double> ppSeconds, tgSeconds;
  // rep -1 is a short warm-up, as the compiled model's generator does.
  for (int rep = -1; rep < o.reps; ++rep) {
    int pp = rep < 0 ? std::min(o.pp, 32) : o.pp;
    int tg = rep < 0 ? std::min(o.tg, 8) : o.tg;
    if (pp > 0) {
      peer.clear();
      if (o.depth)
        peer.eval(randomTokens(o.depth), false);
      std::vector<llama_token> prompt = randomTokens(pp);
      auto t0 = clock::now();
      peer.eval(prompt, false);
      if (rep >= 0)
        ppSeconds.push_back(seconds(t0, clock::now()));
    }
    if (tg > 0) {
      peer.clear();
      peer.eval(randomTokens(tgPrefix), false);
      llama_token token = llama_token(rng() % uint32_t(peer.vocab));
      auto t0 = clock::now();
      for (int i = 0; i < tg; ++i) {
        peer.eval({token}, false);
        token = argmax(llama_get_logits_ith(peer.ctx, -1), peer.vocab);
      }
      if (rep >= 0)
        tgSeconds.push_back(seconds(t0, clock::now()));
    }
  }
  std::printf("bench pp=%d tg=%d threads=%d context=%d", o.pp, o.tg,
              o.threads, nCtx);
  if (o.depth)
    std::printf(" depth=%d", o.depth);
  if (!ppSeconds.empty())
    std::printf(" pp_tok_s=%.2f ttft_ms=%.3f", o.pp / median(ppSeconds),
                1e3 * median(ppSeconds));
  if (!tgSeconds.empty())
    std::printf(" tg_tok_s=%.2f", o.tg / median(tgSeconds));
  std::printf("\n");
  return 0;
}

int runQuantize(const Options &o) {
  llama_log_set(quiet, nullptr);
  ggml_backend_load_all_from_path(backendDirectory());
  llama_model_quantize_params params = llama_model_quantize_default_params();
  params.ftype = o.type == "q8_0" ? LLAMA_FTYPE_MOSTLY_Q8_0
                                  : LLAMA_FTYPE_MOSTLY_Q4_0;
  params.nthread = o.threads;
  if (llama_model_quantize(o.model.c_str(), o.out.c_str(), &params) != 0)
    fail(o.model + ": llama.cpp cannot quantize it to " + o.type);
  return 0;
}

} // namespace

int main(int argc, char **argv) {
  Options o = parseOptions(argc, argv);
  if (o.mode == "quantize")
    return runQuantize(o);
  return o.mode == "logits" ? runLogits(o) : runBench(o);
}
