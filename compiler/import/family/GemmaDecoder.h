//===- GemmaDecoder.h - the Gemma-2/3 block -------------------------*- C++ -*-===//
//
// Gemma-2 and Gemma-3 share a block (GemmaDecoder.cpp: norms before and
// after attention and FFN, GeGLU, scaled embeddings, local and global
// layers); they differ in what the switches below say. Each family file is
// one instance of this class.
//
//===----------------------------------------------------------------------===//

#ifndef TLMC_COMPILER_IMPORT_FAMILY_GEMMADECODER_H
#define TLMC_COMPILER_IMPORT_FAMILY_GEMMADECODER_H

#include "compiler/import/family/Family.h"

namespace tlmc {

/// RoPE base of Gemma-3's local layers where a file leaves it out.
constexpr float kRopeThetaLocal = 10000.0f;

struct GemmaDecoderTraits {
  llvm::StringRef name, hfModelType, hfArchitecture;
  /// Per-head RMSNorm on queries and keys before RoPE (Gemma-3).
  bool qkNorm;
  /// Every this-many-th layer is global (Gemma-2: 2, Gemma-3: 6).
  int64_t slidingWindowPattern;
  /// Local layers have their own RoPE base (Gemma-3's rope_local_base_freq).
  bool localRopeBase;
  /// Soft-caps where a GGUF file leaves them out (llama.cpp's defaults).
  float ggufAttnSoftcap, ggufFinalSoftcap;
  /// Layer count of the 27B model, whose query_pre_attn_scalar GGUF implies
  /// as hidden_size / heads rather than head_dim.
  int64_t largestLayers;
};

class GemmaDecoderFamily : public Family {
public:
  explicit GemmaDecoderFamily(GemmaDecoderTraits traits) : traits(traits) {}

  llvm::StringRef getName() const override { return traits.name; }
  llvm::StringRef getHFModelType() const override {
    return traits.hfModelType;
  }
  llvm::StringRef getHFArchitecture() const override {
    return traits.hfArchitecture;
  }
  mlir::tlm::RopeStyle getGGUFRopeStyle() const override {
    return mlir::tlm::RopeStyle::RotateHalf;
  }
  bool appliesSlidingWindow() const override { return true; }
  bool appliesLogitSoftcapping() const override { return true; }
  std::pair<float, float> getGGUFSoftcapDefaults() const override {
    return {traits.ggufAttnSoftcap, traits.ggufFinalSoftcap};
  }
  bool hfNormsOffsetByOne() const override { return true; }

  void addLayerTensors(const ModelConfig &config,
                       TensorList &out) const override;
  std::optional<llvm::StringRef>
  getHFLayerName(llvm::StringRef kind) const override;
  llvm::Error readHFConfig(const llvm::json::Object &json,
                           llvm::StringRef path,
                           ModelConfig &config) const override;
  void writeHFConfig(const ModelConfig &config,
                     llvm::json::Object &json) const override;
  void completeGGUFConfig(ModelConfig &config) const override;

  mlir::Value emitInput(GraphEmitter &emitter, mlir::Value x) const override;
  mlir::Value emitLogits(GraphEmitter &emitter, mlir::Value x) const override;
  mlir::Value emitBlock(GraphEmitter &emitter, mlir::Value x,
                        int64_t layer) const override;

private:
  GemmaDecoderTraits traits;
};

} // namespace tlmc

#endif // TLMC_COMPILER_IMPORT_FAMILY_GEMMADECODER_H
