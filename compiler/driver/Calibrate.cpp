//===- Calibrate.cpp - activation statistics for calibration-aware passes -*- C++ -*-===//

#include "compiler/driver/Calibrate.h"
#include "compiler/driver/RuntimeTokenizer.h"

#include "llvm/Support/MemoryBuffer.h"

#include <cmath>
#include <numeric>

using namespace tlmc;

static llvm::Error makeError(const llvm::Twine &message) {
  return llvm::createStringError(llvm::inconvertibleErrorCode(), message);
}

namespace {

/// The model's weights in f32, by canonical name.
struct Weights {
  llvm::StringMap<std::vector<float>> byName;
  const std::vector<float> &operator[](llvm::StringRef name) const {
    return byName.find(name)->second;
  }
};

/// out (rows x n) = in (rows x k) * W^T, W is n x k.
void matmul(const std::vector<float> &in, const std::vector<float> &w,
            int64_t rows, int64_t k, int64_t n, std::vector<float> &out) {
  out.assign(rows * n, 0.0f);
  for (int64_t t = 0; t < rows; ++t)
    for (int64_t o = 0; o < n; ++o) {
      float s = 0;
      for (int64_t i = 0; i < k; ++i)
        s += in[t * k + i] * w[o * k + i];
      out[t * n + o] = s;
    }
}

void rmsnorm(const std::vector<float> &x, const std::vector<float> &w,
             int64_t rows, int64_t d, float eps, std::vector<float> &out) {
  out.resize(rows * d);
  for (int64_t t = 0; t < rows; ++t) {
    float ss = 0;
    for (int64_t i = 0; i < d; ++i)
      ss += x[t * d + i] * x[t * d + i];
    float scale = 1.0f / std::sqrt(ss / float(d) + eps);
    for (int64_t i = 0; i < d; ++i)
      out[t * d + i] = w[i] * (scale * x[t * d + i]);
  }
}

void rope(std::vector<float> &x, int64_t rows, int64_t width,
          const ModelConfig &c) {
  int64_t hd = c.headDim;
  bool adjacent = c.ropeStyle == mlir::tlm::RopeStyle::Adjacent;
  for (int64_t t = 0; t < rows; ++t)
    for (int64_t h = 0; h < width / hd; ++h)
      for (int64_t p = 0; p < hd / 2; ++p) {
        float freq = 1.0f / std::pow(c.ropeTheta, float(2 * p) / float(hd));
        float angle = float(t) * freq, co = std::cos(angle), si = std::sin(angle);
        int64_t a = h * hd + (adjacent ? 2 * p : p);
        int64_t b = h * hd + (adjacent ? 2 * p + 1 : p + hd / 2);
        float x0 = x[t * width + a], x1 = x[t * width + b];
        x[t * width + a] = x0 * co - x1 * si;
        x[t * width + b] = x0 * si + x1 * co;
      }
}

/// Adds x x^T of every row of `x` (rows x k) to `h` (k x k).
void accumulate(std::vector<double> &h, const std::vector<float> &x,
                int64_t rows, int64_t k) {
  if (h.empty())
    h.assign(k * k, 0.0);
  for (int64_t t = 0; t < rows; ++t)
    for (int64_t i = 0; i < k; ++i) {
      double xi = x[t * k + i];
      if (xi == 0)
        continue;
      for (int64_t j = 0; j < k; ++j)
        h[i * k + j] += xi * x[t * k + j];
    }
}

} // namespace

llvm::Expected<HessianMap> tlmc::collectHessians(const ImportedModel &model,
                                                 llvm::StringRef textPath,
                                                 int64_t maxTokens) {
  // The reference pass below is the LLaMA-2 block; a family variant it does
  // not compute would calibrate GPTQ on the wrong activations.
  const ModelConfig &config = model.config;
  if (config.arch != "llama" || !config.ropeFreqFactors.empty())
    return makeError(
        "--calibrate runs a reference LLaMA-2 forward pass; this " +
        config.arch +
        (config.ropeFreqFactors.empty() ? " model"
                                        : " model with Llama-3 RoPE factors") +
        " is not supported by it (quantize without --calibrate)");
  if (model.tokenizer.kind != TokenizerData::Kind::SentencePiece)
    return makeError("--calibrate needs a SentencePiece tokenizer (byte-level "
                     "BPE models are not supported yet)");
  auto text = llvm::MemoryBuffer::getFile(textPath);
  if (!text)
    return makeError("--calibrate " + textPath + ": " +
                     text.getError().message());
  const ModelConfig &c = model.config;
  auto tokenizer = RuntimeTokenizer::create(model.tokenizer, int32_t(c.bos));
  if (!tokenizer)
    return tokenizer.takeError();
  Weights w;
  for (const ImportedTensor &t : model.tensors) {
    std::vector<float> values(t.getNumElements());
    mlir::tlm::decodeToF32(t.format, t.bytes, values.size(), values.data());
    w.byName[t.name] = std::move(values);
  }

  HessianMap hessians;
  int64_t used = 0;
  llvm::SmallVector<llvm::StringRef> paragraphs;
  (*text)->getBuffer().split(paragraphs, "\n\n", -1, false);
  int64_t d = c.dim, kv = c.kvHeads * c.headDim, f = c.ffnDim;
  for (llvm::StringRef paragraph : paragraphs) {
    std::string p = paragraph.trim().str();
    if (p.empty() || used >= maxTokens)
      continue;
    // What the device's tokenizer makes of it; beyond the context, what
    // fits.
    auto encoded = (*tokenizer)->encode(p, /*addBos=*/true);
    if (!encoded)
      return makeError("--calibrate " + textPath + ": " +
                       llvm::toString(encoded.takeError()));
    std::vector<int32_t> tokens = std::move(*encoded);
    int64_t n = std::min<int64_t>(tokens.size(), c.context);
    int64_t rows = std::min<int64_t>(n, maxTokens - used);
    used += rows;
    std::vector<float> x(rows * d), h, q, k, v, att(rows * d), o, g, u;
    for (int64_t t = 0; t < rows; ++t)
      std::copy_n(w["token_embd"].begin() + tokens[t] * d, d, x.begin() + t * d);
    for (int64_t l = 0; l < c.layers; ++l) {
      std::string b = "blk." + std::to_string(l) + ".";
      rmsnorm(x, w[b + "attn_norm"], rows, d, c.normEps, h);
      for (const char *name : {"attn_q", "attn_k", "attn_v"})
        accumulate(hessians[b + name], h, rows, d);
      matmul(h, w[b + "attn_q"], rows, d, d, q);
      matmul(h, w[b + "attn_k"], rows, d, kv, k);
      matmul(h, w[b + "attn_v"], rows, d, kv, v);
      rope(q, rows, d, c);
      rope(k, rows, kv, c);
      int64_t group = c.heads / c.kvHeads;
      std::vector<float> scores(rows);
      for (int64_t t = 0; t < rows; ++t)
        for (int64_t hh = 0; hh < c.heads; ++hh) {
          int64_t kh = hh / group;
          float max = -1e30f, sum = 0;
          for (int64_t s = 0; s <= t; ++s) {
            float dot = 0;
            for (int64_t i = 0; i < c.headDim; ++i)
              dot += q[t * d + hh * c.headDim + i] *
                     k[s * kv + kh * c.headDim + i];
            scores[s] = dot / std::sqrt(float(c.headDim));
            max = std::max(max, scores[s]);
          }
          for (int64_t s = 0; s <= t; ++s)
            sum += scores[s] = std::exp(scores[s] - max);
          for (int64_t i = 0; i < c.headDim; ++i) {
            float acc = 0;
            for (int64_t s = 0; s <= t; ++s)
              acc += scores[s] / sum * v[s * kv + kh * c.headDim + i];
            att[t * d + hh * c.headDim + i] = acc;
          }
        }
      accumulate(hessians[b + "attn_output"], att, rows, d);
      matmul(att, w[b + "attn_output"], rows, d, d, o);
      for (int64_t i = 0; i < rows * d; ++i)
        x[i] += o[i];
      rmsnorm(x, w[b + "ffn_norm"], rows, d, c.normEps, h);
      for (const char *name : {"ffn_gate", "ffn_up"})
        accumulate(hessians[b + name], h, rows, d);
      matmul(h, w[b + "ffn_gate"], rows, d, f, g);
      matmul(h, w[b + "ffn_up"], rows, d, f, u);
      for (int64_t i = 0; i < rows * f; ++i)
        g[i] = g[i] / (1.0f + std::exp(-g[i])) * u[i];
      accumulate(hessians[b + "ffn_down"], g, rows, f);
      matmul(g, w[b + "ffn_down"], rows, f, d, o);
      for (int64_t i = 0; i < rows * d; ++i)
        x[i] += o[i];
    }
    if (!c.tiedEmbeddings) {
      rmsnorm(x, w["output_norm"], rows, d, c.normEps, h);
      accumulate(hessians["output"], h, rows, d);
    }
  }
  if (!used)
    return makeError("--calibrate " + textPath + ": no text to calibrate on");
  return hessians;
}
