//===- Family.h - what differs between model families ------------*- C++ -*-===//
//
// A family (llama, qwen2, qwen3, ...) is everything architecture-specific
// that the importers, the checks and the graph builder need: the tensors a
// layer has, their Hugging Face names, how the family's GGUF files order q/k
// rows for RoPE, and the ops of one block. Each family lives in one file and
// registers itself in Families.cpp; no other code names a family, so adding
// one touches no importer and no builder.
//
//===----------------------------------------------------------------------===//

#ifndef TLMC_COMPILER_IMPORT_FAMILY_FAMILY_H
#define TLMC_COMPILER_IMPORT_FAMILY_FAMILY_H

#include "compiler/import/common/ImportedModel.h"

#include "mlir/IR/Value.h"
#include "llvm/ADT/StringRef.h"
#include "llvm/Support/Error.h"
#include "llvm/Support/JSON.h"

#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace tlmc {

class GraphEmitter;

/// Canonical tensor names with their shapes, in the order the graph uses them.
using TensorList = std::vector<std::pair<std::string, std::vector<int64_t>>>;

/// A tensor files store as the row-wise concatenation of graph tensors
/// (Phi-3's `attn_qkv` = attn_q, attn_k, attn_v). Importers split it
/// (ModelChecks.cpp: splitFusedTensors); writers join it.
struct FusedTensor {
  llvm::StringRef fused;
  std::vector<llvm::StringRef> parts;
};

class Family {
public:
  virtual ~Family() = default;

  /// GGUF `general.architecture`, also the prefix of its metadata keys.
  virtual llvm::StringRef getName() const = 0;
  /// Hugging Face `model_type` and `architectures[0]` in config.json.
  virtual llvm::StringRef getHFModelType() const = 0;
  virtual llvm::StringRef getHFArchitecture() const = 0;
  /// How the family's GGUF files order each head's q/k rows (llama.cpp's
  /// converter permutes LLaMA's to adjacent pairs and leaves the others in
  /// Hugging Face's rotate-half order).
  virtual mlir::tlm::RopeStyle getGGUFRopeStyle() const = 0;

  /// Appends the tensors of one layer the graph reads, named as suffixes of
  /// `blk.N.` (`attn_q`, `attn_q.bias`).
  virtual void addLayerTensors(const ModelConfig &config,
                               TensorList &out) const = 0;
  /// The layer tensors files store fused (none by default).
  virtual std::vector<FusedTensor> getFusedTensors() const { return {}; }
  /// The Hugging Face name of a layer tensor's kind, without `.weight` or
  /// `.bias` (`attn_q` -> `self_attn.q_proj`); nullopt when it has none.
  virtual std::optional<llvm::StringRef>
  getHFLayerName(llvm::StringRef kind) const = 0;
  /// Hugging Face names outside the layers (`token_embd` ->
  /// `model.embed_tokens.weight` by default), and the prefix of a layer's
  /// (`model.layers.`).
  virtual std::optional<std::string>
  getHFGlobalName(llvm::StringRef canonical) const;
  virtual llvm::StringRef getHFLayerPrefix() const { return "model.layers."; }
  /// A prefix some of the family's checkpoints put before every name
  /// (GPT-2's `transformer.`), dropped before names are matched.
  virtual llvm::StringRef getHFOptionalPrefix() const { return ""; }
  /// Whether HF stores the layer tensor `kind` transposed (in x out:
  /// GPT-2's Conv1D); the importer transposes it, the writer back.
  virtual bool isHFTransposed(llvm::StringRef kind) const { return false; }
  /// Whether an HF tensor is a buffer, not a weight (GPT-2's causal-mask
  /// `attn.bias`): skipped rather than refused as unread math.
  virtual bool isHFBuffer(llvm::StringRef name) const { return false; }
  /// Renames the family's config.json fields to the common ones the
  /// importer reads (GPT-2's n_embd -> hidden_size, ...); `writeHFConfig`
  /// writes the family's own.
  virtual void normalizeHFConfig(llvm::json::Object &json) const {}
  /// Reads what config.json says beyond the common fields into `config`,
  /// and refuses what this family's graph would ignore (biases it does not
  /// have, sliding windows it does not apply, ...). `path` is for messages.
  virtual llvm::Error readHFConfig(const llvm::json::Object &json,
                                   llvm::StringRef path,
                                   ModelConfig &config) const = 0;
  /// The inverse, for writers: the family's fields of config.json over the
  /// common ones already in `json`.
  virtual void writeHFConfig(const ModelConfig &config,
                             llvm::json::Object &json) const {}
  /// Fills what the family's GGUF files leave implicit (llama.cpp's
  /// per-architecture defaults) after the common keys were read.
  virtual void completeGGUFConfig(ModelConfig &config) const {}

  /// Whether the family's graph attends within config.slidingWindow on its
  /// local layers (Gemma-3); if not, a window shorter than the context is
  /// refused (checkModel).
  virtual bool appliesSlidingWindow() const { return false; }
  /// The tensors outside the layers the graph reads besides token_embd,
  /// output_norm and output: before the layers (GPT-2's position_embd) and
  /// with the final norm (its output_norm.bias).
  virtual void addInputTensors(const ModelConfig &config,
                               TensorList &out) const {}
  virtual void addOutputNormTensors(const ModelConfig &config,
                                    TensorList &out) const {
    out.push_back({"output_norm", {config.dim}});
  }
  /// What happens to the token embeddings before the first layer (Gemma
  /// scales them, GPT-2 adds learned positions); nothing by default.
  virtual mlir::Value emitInput(GraphEmitter &emitter, mlir::Value x) const {
    return x;
  }
  /// The final norm before the classifier (RMSNorm by default).
  virtual mlir::Value emitOutputNorm(GraphEmitter &emitter,
                                     mlir::Value x) const;
  /// What the logits become after the classifier (Gemma-2 soft-caps
  /// them); nothing by default.
  virtual mlir::Value emitLogits(GraphEmitter &emitter, mlir::Value x) const {
    return x;
  }
  /// Whether the graph applies config.attnLogitSoftcap and
  /// finalLogitSoftcap (refused otherwise), and their values where a GGUF
  /// file leaves them out (llama.cpp's per-architecture defaults).
  virtual bool appliesLogitSoftcapping() const { return false; }
  virtual std::pair<float, float> getGGUFSoftcapDefaults() const {
    return {0.0f, 0.0f};
  }
  /// Norms are LayerNorms, whose epsilon GGUF stores as
  /// `attention.layer_norm_epsilon` (not `..._rms_epsilon`).
  virtual bool usesLayerNorm() const { return false; }
  /// Whether Hugging Face stores the family's RMSNorm weights as w where
  /// the norm multiplies by 1 + w (Gemma), which GGUF stores as w + 1: the
  /// HF importer adds 1, the writer subtracts it.
  virtual bool hfNormsOffsetByOne() const { return false; }

  /// Emits layer `layer` on the residual stream `x`; returns the new stream.
  virtual mlir::Value emitBlock(GraphEmitter &emitter, mlir::Value x,
                                int64_t layer) const = 0;
};

/// The family whose GGUF architecture is `name`, or null.
const Family *lookupFamily(llvm::StringRef name);
/// The family whose Hugging Face model_type is `modelType`, or null.
const Family *lookupHFFamily(llvm::StringRef modelType);
/// "llama, qwen2, qwen3": the registered names, for messages.
std::string getFamilyNames();
/// "llama, qwen2, ..., gemma3_text": their Hugging Face model_types.
std::string getHFModelTypeNames();

/// The families, each defined in its own file.
const Family &getLlamaFamily();
const Family &getQwen2Family();
const Family &getQwen3Family();
const Family &getPhi3Family();
const Family &getGemma2Family();
const Family &getGemma3Family();
const Family &getGPT2Family();

} // namespace tlmc

#endif // TLMC_COMPILER_IMPORT_FAMILY_FAMILY_H
