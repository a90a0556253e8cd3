//===- Sampler.cpp - greedy, temperature, top-k and top-p sampling --*- C++ -*-===//
//
// Seeded and reproducible: llama2.c's xorshift generator, so a run with a
// given seed draws the same numbers as llama2.c's `run -s SEED`.
//
//===----------------------------------------------------------------------===//

#include "runtime/src/Session.h"

#include <cmath>
#include <cstdlib>

using namespace tlmrt;

static uint32_t nextRandom(uint64_t *state) {
  *state ^= *state >> 12;
  *state ^= *state << 25;
  *state ^= *state >> 27;
  return uint32_t((*state * 0x2545F4914F6CDD1Dull) >> 32);
}

static float nextUniform(uint64_t *state) {
  return float(nextRandom(state) >> 8) / 16777216.0f;
}

extern "C" void tlm_sampler_init(tlm_sampler *sampler, float temperature,
                                 float topP, int topK, uint64_t seed) {
  if (!sampler)
    return;
  sampler->temperature = temperature;
  sampler->top_p = topP;
  sampler->top_k = topK;
  sampler->state = seed ? seed : 0x9E3779B97F4A7C15ull;
}

/// Greedy decoding runs it on every token over the whole vocabulary
/// (SmolLM2: 49152 logits), where a branch per logit took ~5% of a decode
/// step on one thread. Instead kLanes running maxima, each keeping its
/// first index: branch-free selects the compiler turns into vector
/// compares and blends; the lanes then reduce to the first index of the
/// maximum, the same one the plain loop finds.
int32_t tlmrt::argmaxFirst(const float *p, int32_t n) {
  constexpr int32_t kLanes = 16;
  float best[kLanes];
  int32_t at[kLanes];
  for (int32_t j = 0; j < kLanes; ++j) {
    best[j] = -INFINITY;
    at[j] = n;
  }
  int32_t i = 0;
  for (; i + kLanes <= n; i += kLanes)
    for (int32_t j = 0; j < kLanes; ++j) {
      bool larger = p[i + j] > best[j];
      best[j] = larger ? p[i + j] : best[j];
      at[j] = larger ? i + j : at[j];
    }
  for (int32_t j = 0; i + j < n; ++j)
    if (p[i + j] > best[j]) {
      best[j] = p[i + j];
      at[j] = i + j;
    }
  int32_t first = 0;
  for (int32_t j = 1; j < kLanes; ++j)
    if (best[j] > best[first] ||
        (best[j] == best[first] && at[j] < at[first]))
      first = j;
  // Every value NaN or -inf: the plain loop's answer, the first.
  return at[first] < n ? at[first] : 0;
}

/// Sorts `ids` by descending `probs` (heap sort: no allocation, no libc++).
static void sortByProbability(int32_t *ids, int32_t n, const float *probs) {
  auto less = [&](int32_t a, int32_t b) { return probs[a] > probs[b]; };
  auto siftDown = [&](int32_t root, int32_t end) {
    while (2 * root + 1 < end) {
      int32_t child = 2 * root + 1;
      if (child + 1 < end && less(ids[child], ids[child + 1]))
        ++child;
      if (!less(ids[root], ids[child]))
        return;
      int32_t tmp = ids[root];
      ids[root] = ids[child];
      ids[child] = tmp;
      root = child;
    }
  };
  for (int32_t i = n / 2 - 1; i >= 0; --i)
    siftDown(i, n);
  for (int32_t end = n - 1; end > 0; --end) {
    int32_t tmp = ids[0];
    ids[0] = ids[end];
    ids[end] = tmp;
    siftDown(0, end);
  }
}

extern "C" int32_t tlm_sample(tlm_session *s, tlm_sampler *sampler) {
  if (!s || !sampler)
    return -1;
  const float *logits = tlm_logits(s);
  if (!logits) {
    tlmrt::fail(s->error, sizeof s->error, TLM_ERR_INVALID_ARGUMENT,
                "no logits to sample: evaluate a token first");
    return -1;
  }
  // NaN fails every comparison: the negations catch it.
  if (!(sampler->temperature >= 0.0f) ||
      !(sampler->top_p > 0.0f && sampler->top_p <= 1.0f) ||
      sampler->top_k < 0) {
    tlmrt::fail(s->error, sizeof s->error, TLM_ERR_INVALID_ARGUMENT,
                "sampler needs temperature >= 0, top_p in (0, 1] and "
                "top_k >= 0; got %g, %g, %d",
                double(sampler->temperature), double(sampler->top_p),
                sampler->top_k);
    return -1;
  }
  int32_t n = s->config.vocab;
  if (sampler->temperature <= 0.0f)
    return argmaxFirst(logits, n);
  // Softmax of logits / temperature.
  float *p = s->probScratch;
  float max = logits[0];
  for (int32_t i = 1; i < n; ++i)
    max = logits[i] > max ? logits[i] : max;
  float sum = 0;
  for (int32_t i = 0; i < n; ++i) {
    p[i] = std::exp((logits[i] - max) / sampler->temperature);
    sum += p[i];
  }
  for (int32_t i = 0; i < n; ++i)
    p[i] /= sum;
  float coin = nextUniform(&sampler->state);
  bool truncate = (sampler->top_k > 0 && sampler->top_k < n) ||
                  (sampler->top_p > 0.0f && sampler->top_p < 1.0f);
  if (!truncate) {
    float cdf = 0;
    for (int32_t i = 0; i < n; ++i) {
      cdf += p[i];
      if (coin < cdf)
        return i;
    }
    return n - 1;
  }
  // Candidates by descending probability, cut at top-k and at top-p mass.
  int32_t *ids = s->indexScratch;
  for (int32_t i = 0; i < n; ++i)
    ids[i] = i;
  sortByProbability(ids, n, p);
  int32_t keep = sampler->top_k > 0 && sampler->top_k < n ? sampler->top_k : n;
  float mass = 0;
  int32_t last = keep - 1;
  for (int32_t i = 0; i < keep; ++i) {
    mass += p[ids[i]];
    if (sampler->top_p > 0.0f && sampler->top_p < 1.0f &&
        mass > sampler->top_p) {
      last = i;
      break;
    }
  }
  float total = 0;
  for (int32_t i = 0; i <= last; ++i)
    total += p[ids[i]];
  float r = coin * total, cdf = 0;
  for (int32_t i = 0; i <= last; ++i) {
    cdf += p[ids[i]];
    if (r < cdf)
      return ids[i];
  }
  return ids[last];
}
