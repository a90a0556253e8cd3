//===- HFLayout.cpp - Hugging Face names and q/k row order -----------*- C++ -*-===//

#include "compiler/import/safetensors/HFLayout.h"
#include "compiler/import/family/Family.h"

#include <cstring>

using namespace tlmc;

std::string tlmc::getHFTensorName(const Family &family,
                                  llvm::StringRef canonical) {
  if (canonical == "token_embd")
    return "model.embed_tokens.weight";
  if (canonical == "output_norm")
    return "model.norm.weight";
  if (canonical == "output")
    return "lm_head.weight";
  llvm::StringRef rest = canonical;
  if (!rest.consume_front("blk."))
    return canonical.str();
  auto [layer, kind] = rest.split('.');
  const char *suffix = kind.consume_back(".bias") ? ".bias" : ".weight";
  if (std::optional<llvm::StringRef> theirs = family.getHFLayerName(kind))
    return "model.layers." + layer.str() + "." + theirs->str() + suffix;
  return canonical.str();
}

std::vector<char> tlmc::permuteQKRows(llvm::ArrayRef<char> bytes, int64_t rows,
                                      int64_t heads, bool toRotateHalf) {
  int64_t headDim = rows / heads;
  size_t rowBytes = bytes.size() / rows;
  std::vector<char> out(bytes.size());
  for (int64_t h = 0; h < heads; ++h)
    for (int64_t j = 0; j < headDim / 2; ++j)
      for (int64_t i = 0; i < 2; ++i) {
        int64_t adjacent = h * headDim + 2 * j + i;
        int64_t rotateHalf = h * headDim + i * (headDim / 2) + j;
        int64_t to = toRotateHalf ? rotateHalf : adjacent;
        int64_t from = toRotateHalf ? adjacent : rotateHalf;
        std::memcpy(out.data() + to * rowBytes, bytes.data() + from * rowBytes,
                    rowBytes);
      }
  return out;
}
