//===- ModelWriter.cpp - write models in GGUF, llama2.c and HF formats -*- C++ -*-===//

#include "utils/modelgen/ModelWriter.h"
#include "compiler/import/family/Family.h"
#include "compiler/import/safetensors/HFLayout.h"

#include "llvm/ADT/StringExtras.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/FormatVariadic.h"
#include "llvm/Support/JSON.h"
#include "llvm/Support/MathExtras.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/raw_ostream.h"

#include <set>
#include <cmath>
#include <cstring>
#include <random>

using namespace tlmc;
using mlir::tlm::StorageFormat;

//===----------------------------------------------------------------------===//
// Encoding f32 values into the storage formats
//===----------------------------------------------------------------------===//

static uint16_t floatToHalf(float f) {
  uint32_t x;
  std::memcpy(&x, &f, 4);
  uint32_t sign = (x >> 16) & 0x8000;
  int32_t exp = int32_t((x >> 23) & 0xff) - 127 + 15;
  uint32_t mant = x & 0x7fffff;
  if (((x >> 23) & 0xff) == 0xff)
    return uint16_t(sign | 0x7c00 | (mant ? 0x200 : 0));
  if (exp >= 31)
    return uint16_t(sign | 0x7c00);
  if (exp <= 0) {
    if (exp < -10)
      return uint16_t(sign);
    mant |= 0x800000;
    uint32_t shift = uint32_t(14 - exp);
    uint32_t half = mant >> shift;
    uint32_t rest = mant & ((1u << shift) - 1);
    uint32_t mid = 1u << (shift - 1);
    if (rest > mid || (rest == mid && (half & 1)))
      ++half;
    return uint16_t(sign | half);
  }
  uint32_t half = sign | uint32_t(exp) << 10 | (mant >> 13);
  uint32_t rest = mant & 0x1fff;
  if (rest > 0x1000 || (rest == 0x1000 && (half & 1)))
    ++half; // carries into the exponent correctly
  return uint16_t(half);
}

static uint16_t floatToBfloat16(float f) {
  uint32_t x;
  std::memcpy(&x, &f, 4);
  uint32_t rounding = 0x7fff + ((x >> 16) & 1);
  return uint16_t((x + rounding) >> 16);
}

/// Encodes `values` in `format` the way GGML/HF writers do.
static std::vector<char> encode(llvm::ArrayRef<float> values,
                                StorageFormat format) {
  std::vector<char> out(
      *mlir::tlm::getStorageBytes(format, int64_t(values.size())));
  char *p = out.data();
  auto put16 = [&](size_t at, uint16_t v) { std::memcpy(p + at, &v, 2); };
  switch (format) {
  case StorageFormat::F32:
    std::memcpy(p, values.data(), out.size());
    break;
  case StorageFormat::F16:
    for (size_t i = 0; i < values.size(); ++i)
      put16(2 * i, floatToHalf(values[i]));
    break;
  case StorageFormat::BF16:
    for (size_t i = 0; i < values.size(); ++i)
      put16(2 * i, floatToBfloat16(values[i]));
    break;
  case StorageFormat::Q8_0:
    for (size_t b = 0; b < values.size() / 32; ++b) {
      float amax = 0;
      for (int j = 0; j < 32; ++j)
        amax = std::max(amax, std::fabs(values[b * 32 + j]));
      float d = amax / 127.0f;
      float id = d ? 1.0f / d : 0.0f;
      put16(b * 34, floatToHalf(d));
      for (int j = 0; j < 32; ++j)
        p[b * 34 + 2 + j] = char(int8_t(std::lround(values[b * 32 + j] * id)));
    }
    break;
  case StorageFormat::Q4_0:
    for (size_t b = 0; b < values.size() / 32; ++b) {
      // As ggml's quantize_row_q4_0: the value of largest magnitude maps
      // to -8, so its sign is kept exactly.
      float max = 0, amax = 0;
      for (int j = 0; j < 32; ++j) {
        float v = values[b * 32 + j];
        if (std::fabs(v) > amax) {
          amax = std::fabs(v);
          max = v;
        }
      }
      float d = max / -8.0f;
      float id = d ? 1.0f / d : 0.0f;
      put16(b * 18, floatToHalf(d));
      for (int j = 0; j < 16; ++j) {
        auto q = [&](float v) {
          return uint8_t(std::min(15, int(v * id + 8.5f)));
        };
        p[b * 18 + 2 + j] = char(q(values[b * 32 + j]) |
                                 (q(values[b * 32 + 16 + j]) << 4));
      }
    }
    break;
  }
  return out;
}

//===----------------------------------------------------------------------===//
// Random models
//===----------------------------------------------------------------------===//

/// A SentencePiece-like vocabulary: <unk>, <s>, </s>, 256 byte tokens, then
/// printable characters and letter pairs with falling scores.
static TokenizerData makeTokenizer(int64_t vocab) {
  TokenizerData tok;
  tok.kind = TokenizerData::Kind::SentencePiece;
  tok.source = "generated";
  auto add = [&](std::string s, float score, int32_t type) {
    if (int64_t(tok.tokens.size()) < vocab) {
      tok.tokens.push_back(std::move(s));
      tok.scores.push_back(score);
      tok.types.push_back(type);
    }
  };
  add("<unk>", 0, 2);
  add("\n<s>\n", 0, 3);
  add("\n</s>\n", 0, 3);
  for (int b = 0; b < 256; ++b)
    add(llvm::formatv("<0x{0:X-2}>", b).str(), 0, 6);
  const std::string letters = " etaoinshrdlucmfwypvbgkjqxz";
  float score = -1;
  for (char c : letters)
    add(std::string(1, c), score--, 1);
  for (char a : letters)
    for (char b : letters)
      if (a != ' ' || b != ' ')
        add(std::string(1, a) + b, score--, 1);
  for (int64_t i = tok.tokens.size(); i < vocab; ++i)
    add("tok" + std::to_string(i), score--, 1);
  return tok;
}

ImportedModel tlmc::makeRandomModel(const ModelConfig &config, uint64_t seed,
                                    StorageFormat format) {
  ImportedModel model;
  model.path = "generated";
  model.format = "generated";
  model.config = config;
  model.tokenizer = makeTokenizer(config.vocab);
  std::mt19937_64 rng(seed);
  for (auto &[name, shape] : getExpectedTensors(config)) {
    ImportedTensor t;
    t.name = name;
    t.shape = shape;
    int64_t n = t.getNumElements();
    std::vector<float> values(n);
    bool isVector = shape.size() == 1;
    bool isBias = llvm::StringRef(name).ends_with(".bias");
    // Norm scales near 1, biases near 0; matrices ~ N(0, 1/sqrt(fan_in)).
    std::normal_distribution<float> dist(
        isVector && !isBias ? 1.0f : 0.0f,
        isBias     ? 0.2f
        : isVector ? 0.1f
                   : 1.0f / std::sqrt(float(shape.back())));
    for (float &v : values)
      v = dist(rng);
    // Norms stay f32 as in real GGUF files; block formats need whole rows.
    StorageFormat f = isVector || (shape.back() % 32 != 0 &&
                                 (format == StorageFormat::Q8_0 ||
                                  format == StorageFormat::Q4_0))
                          ? StorageFormat::F32
                          : format;
    auto bytes = std::make_shared<std::vector<char>>(encode(values, f));
    t.format = f;
    t.bytes = llvm::ArrayRef<char>(bytes->data(), bytes->size());
    t.owner = bytes;
    model.tensors.push_back(std::move(t));
  }
  return model;
}

llvm::Expected<ModelConfig> tlmc::getNamedShape(llvm::StringRef name) {
  ModelConfig c;
  auto set = [&](int64_t vocab, int64_t dim, int64_t ffn, int64_t layers,
                 int64_t heads, int64_t kvHeads, int64_t context, float theta,
                 bool tied) {
    c.vocab = vocab;
    c.dim = dim;
    c.ffnDim = ffn;
    c.layers = layers;
    c.heads = heads;
    c.kvHeads = kvHeads;
    c.headDim = dim / heads;
    c.context = context;
    c.ropeTheta = theta;
    c.tiedEmbeddings = tied;
  };
  if (name == "tiny") // a few tens of KiB: seeds for the fuzz targets
    set(300, 32, 32, 1, 2, 1, 16, 10000, true);
  else if (name == "stories260K")
    set(512, 64, 172, 5, 8, 4, 512, 10000, true);
  else if (name == "stories15M")
    set(32000, 288, 768, 6, 6, 6, 256, 10000, true);
  else if (name == "smollm2-135m")
    set(49152, 576, 1536, 30, 9, 3, 2048, 100000, true);
  else if (name == "tinyllama-1.1b")
    set(32000, 2048, 5632, 22, 32, 4, 2048, 10000, false);
  else if (name == "llama3.2-1b") {
    set(128256, 2048, 8192, 16, 32, 8, 131072, 500000, true);
    c.llama3RopeScaling = Llama3RopeScaling{32.0f, 1.0f, 4.0f, 8192};
    c.ropeFreqFactors =
        c.llama3RopeScaling->getFreqFactors(c.ropeTheta, c.headDim);
  } else if (name == "qwen2.5-0.5b") {
    set(151936, 896, 4864, 24, 14, 2, 32768, 1000000, true);
    c.arch = "qwen2";
    c.normEps = 1e-6f;
  } else if (name == "phi3-mini") {
    set(32064, 3072, 8192, 32, 32, 32, 4096, 10000, false);
    c.arch = "phi3";
    c.slidingWindow = 2047;
    c.bos = 1;
    c.eos = 32000;
  } else if (name == "qwen3-0.6b") {
    set(151936, 1024, 3072, 28, 16, 8, 40960, 1000000, true);
    c.arch = "qwen3";
    c.headDim = 128;
    c.normEps = 1e-6f;
  } else if (name == "gemma3-270m") {
    set(262144, 640, 2048, 18, 4, 1, 32768, 1000000, true);
    c.arch = "gemma3";
    c.headDim = 256;
    c.normEps = 1e-6f;
    c.slidingWindow = 512;
    c.slidingWindowPattern = 6;
    c.ropeThetaLocal = 10000;
    c.queryPreAttnScalar = 256;
    c.bos = 2;
    c.eos = 1;
  } else if (name == "gemma2-2b") {
    set(256000, 2304, 9216, 26, 8, 4, 8192, 10000, true);
    c.arch = "gemma2";
    c.headDim = 256;
    c.normEps = 1e-6f;
    c.slidingWindow = 4096;
    c.slidingWindowPattern = 2;
    c.ropeThetaLocal = 10000;
    c.queryPreAttnScalar = 256;
    c.attnLogitSoftcap = 50;
    c.finalLogitSoftcap = 30;
    c.bos = 2;
    c.eos = 1;
  } else if (name == "gpt2-124m") {
    set(50257, 768, 3072, 12, 12, 12, 1024, 10000, true);
    c.arch = "gpt2";
    c.positions = 1024;
    c.bos = 50256;
    c.eos = 50256;
  } else {
    return llvm::createStringError(
        llvm::inconvertibleErrorCode(),
        "unknown shape '" + name +
            "' (expected tiny, stories260K, stories15M, smollm2-135m, "
            "tinyllama-1.1b, llama3.2-1b, qwen2.5-0.5b, qwen3-0.6b, "
            "phi3-mini, gemma2-2b, gemma3-270m or gpt2-124m)");
  }
  if (const Family *family = lookupFamily(c.arch))
    c.ropeStyle = family->getGGUFRopeStyle();
  return c;
}

//===----------------------------------------------------------------------===//
// Writers
//===----------------------------------------------------------------------===//

static llvm::Error writeFile(llvm::StringRef path,
                             llvm::function_ref<void(llvm::raw_ostream &)> fn) {
  std::error_code ec;
  llvm::raw_fd_ostream os(path, ec, llvm::sys::fs::OF_None);
  if (ec)
    return llvm::createStringError(ec, "%s: %s", path.str().c_str(),
                                   ec.message().c_str());
  fn(os);
  os.close();
  if (os.has_error())
    return llvm::createStringError(os.error(), "%s: write failed",
                                   path.str().c_str());
  return llvm::Error::success();
}

template <typename T> static void put(llvm::raw_ostream &os, T v) {
  os.write(reinterpret_cast<const char *>(&v), sizeof(T));
}

namespace {
/// Streams GGUF key/value metadata.
struct GGUFWriter {
  llvm::raw_ostream &os;
  uint64_t count = 0;
  void str(llvm::StringRef s) {
    put<uint64_t>(os, s.size());
    os << s;
  }
  void kvString(llvm::StringRef k, llvm::StringRef v) {
    str(k);
    put<uint32_t>(os, 8);
    str(v);
  }
  void kvU32(llvm::StringRef k, uint32_t v) {
    str(k);
    put<uint32_t>(os, 4);
    put<uint32_t>(os, v);
  }
  void kvF32(llvm::StringRef k, float v) {
    str(k);
    put<uint32_t>(os, 6);
    put<float>(os, v);
  }
  void kvStrings(llvm::StringRef k, llvm::ArrayRef<std::string> v) {
    str(k);
    put<uint32_t>(os, 9);
    put<uint32_t>(os, 8);
    put<uint64_t>(os, v.size());
    for (const std::string &s : v)
      str(s);
  }
  template <typename T>
  void kvArray(llvm::StringRef k, uint32_t type, llvm::ArrayRef<T> v) {
    str(k);
    put<uint32_t>(os, 9);
    put<uint32_t>(os, type);
    put<uint64_t>(os, v.size());
    for (T x : v)
      put<T>(os, x);
  }
};
} // namespace

static uint32_t getGgmlType(StorageFormat f) {
  switch (f) {
  case StorageFormat::F32: return 0;
  case StorageFormat::F16: return 1;
  case StorageFormat::Q4_0: return 2;
  case StorageFormat::Q8_0: return 8;
  case StorageFormat::BF16: return 30;
  }
  llvm_unreachable("unknown format");
}

/// GGUF stores SentencePiece spaces as U+2581.
static std::string toSentencePieceSpaces(llvm::StringRef s) {
  std::string out;
  for (char c : s)
    out += c == ' ' ? std::string("\xE2\x96\x81") : std::string(1, c);
  return out;
}

/// The tensors of `model`: those the graph uses in canonical order, then
/// any others in the model's order (a file of another variant, as tests
/// write to check that the importer refuses it).
static std::vector<const ImportedTensor *> orderedTensors(
    const ImportedModel &model) {
  std::vector<const ImportedTensor *> out;
  std::set<std::string> expected;
  for (auto &[name, shape] : getStoredTensors(model.config)) {
    out.push_back(model.findTensor(name));
    expected.insert(name);
  }
  for (const ImportedTensor &t : model.tensors)
    if (!expected.count(t.name))
      out.push_back(&t);
  return out;
}

llvm::Error tlmc::writeGGUF(const ImportedModel &graphModel,
                            llvm::StringRef path) {
  // As files store it: fused tensors joined (Phi-3's attn_qkv).
  ImportedModel model = joinFusedTensors(graphModel);
  const ModelConfig &c = model.config;
  std::vector<const ImportedTensor *> tensors = orderedTensors(model);
  // Llama-3's RoPE factors: a tensor in GGUF, as llama.cpp's converter
  // writes them (the importer moves them back into the config).
  ImportedTensor ropeFreqs;
  if (!c.ropeFreqFactors.empty()) {
    ropeFreqs.name = "rope_freqs";
    ropeFreqs.shape = {int64_t(c.ropeFreqFactors.size())};
    ropeFreqs.bytes = llvm::ArrayRef<char>(
        reinterpret_cast<const char *>(c.ropeFreqFactors.data()),
        c.ropeFreqFactors.size() * sizeof(float));
    tensors.push_back(&ropeFreqs);
  }
  return writeFile(path, [&](llvm::raw_ostream &os) {
    std::string meta;
    llvm::raw_string_ostream ms(meta);
    GGUFWriter w{ms};
    uint64_t kvs = 0;
    auto count = [&](auto &&fn) {
      fn();
      ++kvs;
    };
    std::string p = c.arch + ".";
    count([&] { w.kvString("general.architecture", c.arch); });
    count([&] { w.kvU32("general.alignment", 32); });
    count([&] { w.kvU32(p + "context_length", c.context); });
    count([&] { w.kvU32(p + "embedding_length", c.dim); });
    count([&] { w.kvU32(p + "feed_forward_length", c.ffnDim); });
    count([&] { w.kvU32(p + "block_count", c.layers); });
    count([&] { w.kvU32(p + "attention.head_count", c.heads); });
    count([&] { w.kvU32(p + "attention.head_count_kv", c.kvHeads); });
    if (c.heads * c.headDim != c.dim) {
      count([&] { w.kvU32(p + "attention.key_length", c.headDim); });
      count([&] { w.kvU32(p + "attention.value_length", c.headDim); });
    }
    count([&] { w.kvU32(p + "rope.dimension_count", c.headDim); });
    if (c.slidingWindow > 0)
      count([&] { w.kvU32(p + "attention.sliding_window", c.slidingWindow); });
    if (c.slidingWindowPattern > 0)
      count([&] {
        w.kvU32(p + "attention.sliding_window_pattern", c.slidingWindowPattern);
      });
    if (c.ropeThetaLocal > 0)
      count([&] { w.kvF32(p + "rope.freq_base_swa", c.ropeThetaLocal); });
    if (c.attnLogitSoftcap > 0)
      count([&] { w.kvF32(p + "attn_logit_softcapping", c.attnLogitSoftcap); });
    if (c.finalLogitSoftcap > 0)
      count([&] {
        w.kvF32(p + "final_logit_softcapping", c.finalLogitSoftcap);
      });
    count([&] { w.kvF32(p + "rope.freq_base", c.ropeTheta); });
    const Family *family = lookupFamily(c.arch);
    count([&] {
      w.kvF32(p + (family && family->usesLayerNorm()
                       ? "attention.layer_norm_epsilon"
                       : "attention.layer_norm_rms_epsilon"),
              c.normEps);
    });
    const TokenizerData &tok = model.tokenizer;
    if (tok.kind != TokenizerData::Kind::None) {
      bool sp = tok.kind == TokenizerData::Kind::SentencePiece;
      count([&] { w.kvString("tokenizer.ggml.model", sp ? "llama" : "gpt2"); });
      std::vector<std::string> tokens;
      for (const std::string &t : tok.tokens)
        tokens.push_back(sp ? toSentencePieceSpaces(t) : t);
      count([&] { w.kvStrings("tokenizer.ggml.tokens", tokens); });
      if (!tok.scores.empty())
        count([&] {
          w.kvArray<float>("tokenizer.ggml.scores", 6, tok.scores);
        });
      if (!tok.types.empty())
        count([&] {
          w.kvArray<int32_t>("tokenizer.ggml.token_type", 5, tok.types);
        });
      if (!tok.merges.empty())
        count([&] { w.kvStrings("tokenizer.ggml.merges", tok.merges); });
      count([&] { w.kvU32("tokenizer.ggml.bos_token_id", c.bos); });
      count([&] { w.kvU32("tokenizer.ggml.eos_token_id", c.eos); });
    }

    put<uint32_t>(os, 0x46554747);
    put<uint32_t>(os, 3);
    put<uint64_t>(os, tensors.size());
    put<uint64_t>(os, kvs);
    os << meta;
    GGUFWriter out{os};
    uint64_t offset = 0, headerBytes = 24 + meta.size();
    for (const ImportedTensor *t : tensors) {
      // Canonical names drop GGUF's `.weight`; biases keep their `.bias`.
      std::string name = llvm::StringRef(t->name).ends_with(".bias")
                             ? t->name
                             : t->name + ".weight";
      out.str(name);
      put<uint32_t>(os, t->shape.size());
      for (auto it = t->shape.rbegin(); it != t->shape.rend(); ++it)
        put<uint64_t>(os, *it);
      put<uint32_t>(os, getGgmlType(t->format));
      put<uint64_t>(os, offset);
      headerBytes += 8 + name.size() + 4 + 8 * t->shape.size() + 4 + 8;
      offset = llvm::alignTo(offset + t->bytes.size(), 32);
    }
    os.write_zeros(llvm::alignTo(headerBytes, 32) - headerBytes);
    // Padding goes between tensors only: the file ends with the last one's
    // data, so a file cut anywhere is missing data.
    for (size_t i = 0; i < tensors.size(); ++i) {
      const ImportedTensor *t = tensors[i];
      os.write(t->bytes.data(), t->bytes.size());
      if (i + 1 < tensors.size())
        os.write_zeros(llvm::alignTo(t->bytes.size(), 32) - t->bytes.size());
    }
  });
}

llvm::Error tlmc::writeLlama2c(const ImportedModel &model, llvm::StringRef path,
                               llvm::StringRef tokenizerPath) {
  const ModelConfig &c = model.config;
  for (const ImportedTensor &t : model.tensors)
    if (t.format != StorageFormat::F32)
      return llvm::createStringError(llvm::inconvertibleErrorCode(),
                                     "llama2.c checkpoints hold only f32");
  if (c.arch != "llama" || !c.ropeFreqFactors.empty() ||
      c.heads * c.headDim != c.dim)
    return llvm::createStringError(llvm::inconvertibleErrorCode(),
                                   "llama2.c checkpoints hold only LLaMA-2 "
                                   "models");
  llvm::Error err = writeFile(path, [&](llvm::raw_ostream &os) {
    for (int64_t v : {c.dim, c.ffnDim, c.layers, c.heads, c.kvHeads,
                      c.tiedEmbeddings ? c.vocab : -c.vocab, c.context})
      put<int32_t>(os, int32_t(v));
    auto emit = [&](llvm::StringRef name) {
      const ImportedTensor *t = model.findTensor(name);
      os.write(t->bytes.data(), t->bytes.size());
    };
    auto emitLayers = [&](llvm::StringRef kind) {
      for (int64_t l = 0; l < c.layers; ++l)
        emit(("blk." + llvm::Twine(l) + "." + kind).str());
    };
    emit("token_embd");
    for (const char *kind : {"attn_norm", "attn_q", "attn_k", "attn_v",
                             "attn_output", "ffn_norm", "ffn_gate", "ffn_down",
                             "ffn_up"})
      emitLayers(kind);
    emit("output_norm");
    // freq_cis_real / freq_cis_imag, as llama2.c's legacy export writes them.
    for (int part = 0; part < 2; ++part)
      for (int64_t p = 0; p < c.context; ++p)
        for (int64_t i = 0; i < c.headDim / 2; ++i) {
          double freq = std::pow(double(c.ropeTheta), -2.0 * i / c.headDim);
          put<float>(os, float(part ? std::sin(p * freq) : std::cos(p * freq)));
        }
    if (!c.tiedEmbeddings)
      emit("output");
  });
  if (err || tokenizerPath.empty() ||
      model.tokenizer.kind == TokenizerData::Kind::None)
    return err;
  return writeFile(tokenizerPath, [&](llvm::raw_ostream &os) {
    size_t maxLength = 1;
    for (const std::string &t : model.tokenizer.tokens)
      maxLength = std::max(maxLength, t.size());
    put<int32_t>(os, int32_t(maxLength));
    for (size_t i = 0; i < model.tokenizer.tokens.size(); ++i) {
      put<float>(os, model.tokenizer.scores.empty() ? 0.0f
                                                     : model.tokenizer.scores[i]);
      put<int32_t>(os, int32_t(model.tokenizer.tokens[i].size()));
      os << model.tokenizer.tokens[i];
    }
  });
}

/// An HF tokenizer.json for `tok`: byte-level BPE as it is; SentencePiece
/// with byte fallback, its merges recovered from the vocabulary (each
/// multi-byte token from its first split into two tokens, best score first).
static llvm::json::Value makeTokenizerJson(const TokenizerData &tok) {
  bool sp = tok.kind == TokenizerData::Kind::SentencePiece;
  auto spell = [&](const std::string &t) {
    return sp ? toSentencePieceSpaces(t) : t;
  };
  llvm::json::Object vocab;
  llvm::StringMap<size_t> ids;
  for (size_t i = 0; i < tok.tokens.size(); ++i) {
    vocab[spell(tok.tokens[i])] = int64_t(i);
    ids.try_emplace(tok.tokens[i], i);
  }
  llvm::json::Array merges;
  if (!sp) {
    for (const std::string &m : tok.merges)
      merges.push_back(m);
  } else {
    std::vector<size_t> order;
    for (size_t i = 0; i < tok.tokens.size(); ++i)
      if (tok.tokens[i].size() >= 2 && (tok.types.empty() || tok.types[i] == 1))
        order.push_back(i);
    llvm::sort(order, [&](size_t a, size_t b) {
      return tok.scores[a] != tok.scores[b] ? tok.scores[a] > tok.scores[b]
                                            : a < b;
    });
    for (size_t i : order) {
      const std::string &t = tok.tokens[i];
      for (size_t cut = 1; cut < t.size(); ++cut)
        if (ids.count(t.substr(0, cut)) && ids.count(t.substr(cut))) {
          merges.push_back(spell(t.substr(0, cut)) + " " + spell(t.substr(cut)));
          break;
        }
    }
  }
  llvm::json::Object model{{"type", "BPE"},
                           {"vocab", std::move(vocab)},
                           {"merges", std::move(merges)},
                           {"byte_fallback", sp}};
  llvm::json::Object out{{"version", "1.0"}, {"model", std::move(model)}};
  // How the text reaches the model, as Llama-2's and GPT-2's files say.
  if (sp)
    out["normalizer"] = llvm::json::Object{
        {"type", "Sequence"},
        {"normalizers",
         llvm::json::Array{
             llvm::json::Object{{"type", "Prepend"}, {"prepend", "\xE2\x96\x81"}},
             llvm::json::Object{{"type", "Replace"},
                                {"pattern", llvm::json::Object{{"String", " "}}},
                                {"content", "\xE2\x96\x81"}}}}};
  else
    out["pre_tokenizer"] = llvm::json::Object{{"type", "ByteLevel"},
                                              {"add_prefix_space", false},
                                              {"use_regex", true}};
  return out;
}

llvm::Error tlmc::writeSafetensors(const ImportedModel &graphModel,
                                   llvm::StringRef dir, int shards) {
  ImportedModel model = joinFusedTensors(graphModel);
  const ModelConfig &c = model.config;
  if (std::error_code ec = llvm::sys::fs::create_directories(dir))
    return llvm::createStringError(ec, "%s: cannot create", dir.str().c_str());
  auto inDir = [&](llvm::StringRef name) {
    llvm::SmallString<256> p(dir);
    llvm::sys::path::append(p, name);
    return std::string(p);
  };
  const Family *family = lookupFamily(c.arch);
  if (!family)
    return llvm::createStringError(llvm::inconvertibleErrorCode(),
                                   "unknown architecture '%s'",
                                   c.arch.c_str());
  llvm::json::Object config{
      {"architectures", llvm::json::Array{family->getHFArchitecture()}},
      {"model_type", family->getHFModelType()},
      {"head_dim", c.headDim},
      {"hidden_size", c.dim},
      {"intermediate_size", c.ffnDim},
      {"num_hidden_layers", c.layers},
      {"num_attention_heads", c.heads},
      {"num_key_value_heads", c.kvHeads},
      {"vocab_size", c.vocab},
      {"max_position_embeddings", c.context},
      {"rms_norm_eps", double(c.normEps)},
      {"rope_theta", double(c.ropeTheta)},
      {"hidden_act", "silu"},
      {"tie_word_embeddings", c.tiedEmbeddings},
      {"bos_token_id", c.bos},
      {"eos_token_id", c.eos}};
  if (c.slidingWindow > 0)
    config["sliding_window"] = c.slidingWindow;
  family->writeHFConfig(c, config);
  if (const std::optional<Llama3RopeScaling> &s = c.llama3RopeScaling)
    config["rope_scaling"] = llvm::json::Object{
        {"rope_type", "llama3"},
        {"factor", double(s->factor)},
        {"low_freq_factor", double(s->lowFreqFactor)},
        {"high_freq_factor", double(s->highFreqFactor)},
        {"original_max_position_embeddings", s->originalContext}};
  else if (!c.ropeFreqFactors.empty())
    return llvm::createStringError(llvm::inconvertibleErrorCode(),
                                   "RoPE factors without the llama3 "
                                   "parameters they came from cannot be "
                                   "written to config.json");
  if (auto err = writeFile(inDir("config.json"), [&](llvm::raw_ostream &os) {
        os << llvm::formatv("{0:2}", llvm::json::Value(std::move(config)));
      }))
    return err;

  if (model.tokenizer.kind != TokenizerData::Kind::None)
    if (auto err = writeFile(inDir("tokenizer.json"), [&](llvm::raw_ostream &os) {
          os << llvm::formatv("{0:2}", makeTokenizerJson(model.tokenizer));
        }))
      return err;

  std::vector<const ImportedTensor *> tensors = orderedTensors(model);
  shards = std::max(1, std::min<int>(shards, tensors.size()));
  llvm::json::Object weightMap;
  for (int s = 0; s < shards; ++s) {
    std::string file =
        shards == 1 ? "model.safetensors"
                    : llvm::formatv("model-{0:5}-of-{1:5}.safetensors", s + 1,
                                    shards)
                          .str();
    std::replace(file.begin(), file.end(), ' ', '0');
    llvm::json::Object header;
    std::vector<std::vector<char>> data;
    uint64_t offset = 0;
    for (size_t i = s; i < tensors.size(); i += shards) {
      const ImportedTensor *t = tensors[i];
      llvm::StringRef name(t->name);
      std::vector<char> bytes(t->bytes.begin(), t->bytes.end());
      // HF orders q/k rows (and their biases) for rotate-half RoPE.
      llvm::StringRef kind = name.rsplit(".attn_").second;
      bool isQ = kind == "q" || kind == "q.bias";
      bool isK = kind == "k" || kind == "k.bias";
      if ((isQ || isK) && c.ropeStyle == mlir::tlm::RopeStyle::Adjacent)
        bytes = permuteQKRows(t->bytes, t->shape[0], isQ ? c.heads : c.kvHeads,
                              /*toRotateHalf=*/true);
      // GPT-2's Conv1D weights are stored in x out.
      std::vector<int64_t> shape = t->shape;
      llvm::StringRef layerKind =
          name.starts_with("blk.") ? name.split('.').second.split('.').second
                                   : llvm::StringRef();
      if (shape.size() == 2 && family->isHFTransposed(layerKind)) {
        bytes = transposeMatrix(bytes, shape[0], shape[1]);
        std::swap(shape[0], shape[1]);
      }
      // Gemma's HF norms hold w where GGUF holds w + 1 (exact for the
      // f32 weights in [0.5, 2] the generator makes).
      if (family->hfNormsOffsetByOne() && name.ends_with("norm") &&
          t->format == StorageFormat::F32)
        for (size_t i = 0; i < bytes.size(); i += sizeof(float)) {
          float w;
          std::memcpy(&w, bytes.data() + i, sizeof w);
          w -= 1.0f;
          std::memcpy(bytes.data() + i, &w, sizeof w);
        }
      const char *dtype = t->format == StorageFormat::F16    ? "F16"
                          : t->format == StorageFormat::BF16 ? "BF16"
                                                             : "F32";
      header[getHFTensorName(*family, name)] = llvm::json::Object{
          {"dtype", dtype},
          {"shape", llvm::json::Array(shape)},
          {"data_offsets", llvm::json::Array{offset, offset + bytes.size()}}};
      weightMap[getHFTensorName(*family, name)] = file;
      offset += bytes.size();
      data.push_back(std::move(bytes));
    }
    std::string headerText =
        llvm::formatv("{0}", llvm::json::Value(std::move(header))).str();
    headerText.append((8 - headerText.size() % 8) % 8, ' ');
    if (auto err = writeFile(inDir(file), [&](llvm::raw_ostream &os) {
          put<uint64_t>(os, headerText.size());
          os << headerText;
          for (const std::vector<char> &d : data)
            os.write(d.data(), d.size());
        }))
      return err;
  }
  if (shards == 1)
    return llvm::Error::success();
  return writeFile(inDir("model.safetensors.index.json"),
                   [&](llvm::raw_ostream &os) {
                     os << llvm::formatv(
                         "{0:2}", llvm::json::Value(llvm::json::Object{
                                      {"metadata", llvm::json::Object{}},
                                      {"weight_map", std::move(weightMap)}}));
                   });
}
