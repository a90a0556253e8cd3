//===- ImportedModel.h - what every importer produces ------------*- C++ -*-===//
//
// The three frontends (GGUF, llama2.c, Hugging Face safetensors) read very
// different files into this one description; from here on nothing knows which
// file a model came from. Tensors are named as GGUF names them (without the
// `.weight` suffix) and laid out as llama2.c/GGUF do: RoPE on adjacent pairs.
//
//===----------------------------------------------------------------------===//

#ifndef TLMC_COMPILER_IMPORT_COMMON_IMPORTEDMODEL_H
#define TLMC_COMPILER_IMPORT_COMMON_IMPORTEDMODEL_H

#include "codegen/Target/TokenizerData.h"
#include "dialects/tlm/IR/TLMDialect.h"
#include "dialects/tlm/IR/WeightStore.h"

#include "llvm/ADT/ArrayRef.h"

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace tlmc {

/// Llama-3's RoPE scaling as config.json states it (`rope_scaling` with
/// `rope_type` llama3); GGUF stores only the factors it yields.
struct Llama3RopeScaling {
  float factor = 8.0f;
  float lowFreqFactor = 1.0f;
  float highFreqFactor = 4.0f;
  int64_t originalContext = 8192;

  /// The factor dividing each of the head_dim / 2 RoPE frequencies, computed
  /// as llama.cpp's converter and transformers' llama3 rope do.
  std::vector<float> getFreqFactors(float theta, int64_t headDim) const;
};

/// Hyper-parameters of a decoder (mirrors #tlm.config); `arch` names the
/// family (family/Family.h) that knows the rest of the graph.
struct ModelConfig {
  std::string arch = "llama";
  int64_t vocab = 0;
  int64_t dim = 0;
  int64_t ffnDim = 0;
  int64_t layers = 0;
  int64_t heads = 0;
  int64_t kvHeads = 0;
  int64_t headDim = 0;
  int64_t context = 0;
  /// Rows of a learned position table (GPT-2's n_positions), which no
  /// context may exceed; 0: the family has none.
  int64_t positions = 0;
  float ropeTheta = 10000.0f;
  mlir::tlm::RopeStyle ropeStyle = mlir::tlm::RopeStyle::Adjacent;
  float normEps = 1e-5f;
  /// Per-pair RoPE frequency divisors (head_dim / 2), empty for none.
  std::vector<float> ropeFreqFactors;
  /// Where ropeFreqFactors came from, when config.json said (for writers).
  std::optional<Llama3RopeScaling> llama3RopeScaling;
  /// Attention sees at most this many positions back (0: all). Families
  /// that apply it (Family::appliesSlidingWindow) do on their local layers;
  /// for the others a context longer than it is refused.
  int64_t slidingWindow = 0;
  /// Every this-many-th layer attends globally, the others within the
  /// window (Gemma-3: 6, so layers 5, 11, ... are global); 0: all local.
  int64_t slidingWindowPattern = 0;
  /// RoPE base of the local layers (Gemma-3's rope_local_base_freq);
  /// 0: ropeTheta.
  float ropeThetaLocal = 0.0f;
  /// Attention scores are scaled by 1/sqrt of this instead of head_dim
  /// (Gemma's query_pre_attn_scalar); 0: head_dim.
  float queryPreAttnScalar = 0.0f;
  /// Scores and logits squashed into (-cap, cap) by cap * tanh(x / cap)
  /// (Gemma-2's soft-capping); 0: none.
  float attnLogitSoftcap = 0.0f;
  float finalLogitSoftcap = 0.0f;
  bool tiedEmbeddings = true;
  int64_t bos = 1;
  int64_t eos = 2;

  /// Whether layer `layer` attends within slidingWindow.
  bool isLocalLayer(int64_t layer) const {
    return slidingWindow > 0 &&
           (slidingWindowPattern <= 0 || (layer + 1) % slidingWindowPattern != 0);
  }
};

/// One tensor of the model: its bytes as the file stores them.
struct ImportedTensor {
  /// Canonical (GGUF-style) name, e.g. `blk.0.attn_q`.
  std::string name;
  /// Row-major shape, outermost dimension first.
  std::vector<int64_t> shape;
  mlir::tlm::StorageFormat format = mlir::tlm::StorageFormat::F32;
  /// Points into `owner` (the mapped file or a buffer made while importing).
  llvm::ArrayRef<char> bytes;
  std::shared_ptr<const void> owner;

  int64_t getNumElements() const;
};

/// A model as read from its file(s).
struct ImportedModel {
  /// The file the user named, for messages.
  std::string path;
  /// "gguf", "llama2c" or "safetensors".
  std::string format;
  ModelConfig config;
  TokenizerData tokenizer;
  std::vector<ImportedTensor> tensors;

  const ImportedTensor *findTensor(llvm::StringRef name) const;
  int64_t getParameterCount() const;
  int64_t getWeightBytes() const;
};

/// The canonical names and shapes a model with `config` must have, in the
/// order the graph uses them.
std::vector<std::pair<std::string, std::vector<int64_t>>>
getExpectedTensors(const ModelConfig &config);

/// The same as files store them: the family's fused tensors (Phi-3's
/// attn_qkv) in place of their parts.
std::vector<std::pair<std::string, std::vector<int64_t>>>
getStoredTensors(const ModelConfig &config);

/// Splits each fused tensor of `model` (as read from a file) into the graph
/// tensors it concatenates, by rows; refuses one of the wrong shape.
llvm::Error splitFusedTensors(ImportedModel &model);

/// The inverse, for writers: `model` with its family's fused tensors joined
/// (the parts must share a storage format).
ImportedModel joinFusedTensors(const ImportedModel &model);

} // namespace tlmc

#endif // TLMC_COMPILER_IMPORT_COMMON_IMPORTEDMODEL_H
