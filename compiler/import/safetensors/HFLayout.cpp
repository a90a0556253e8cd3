//===- HFLayout.cpp - Hugging Face names and q/k row order -----------*- C++ -*-===//

#include "compiler/import/safetensors/HFLayout.h"
#include "compiler/import/family/Family.h"

#include <cstring>

using namespace tlmc;

std::string tlmc::getHFTensorName(const Family &family,
                                  llvm::StringRef canonical) {
  if (std::optional<std::string> global = family.getHFGlobalName(canonical))
    return *global;
  llvm::StringRef rest = canonical;
  if (!rest.consume_front("blk."))
    return canonical.str();
  auto [layer, kind] = rest.split('.');
  const char *suffix = kind.consume_back(".bias") ? ".bias" : ".weight";
  if (std::optional<llvm::StringRef> theirs = family.getHFLayerName(kind))
    return (family.getHFLayerPrefix() + layer + "." + *theirs + suffix).str();
  return canonical.str();
}

std::optional<std::string>
Family::getHFGlobalName(llvm::StringRef canonical) const {
  if (canonical == "token_embd")
    return std::string("model.embed_tokens.weight");
  if (canonical == "output_norm")
    return std::string("model.norm.weight");
  if (canonical == "output")
    return std::string("lm_head.weight");
  return std::nullopt;
}

std::vector<char> tlmc::transposeMatrix(llvm::ArrayRef<char> bytes,
                                        int64_t rows, int64_t cols) {
  size_t element = bytes.size() / size_t(rows * cols);
  std::vector<char> out(bytes.size());
  for (int64_t r = 0; r < rows; ++r)
    for (int64_t c = 0; c < cols; ++c)
      std::memcpy(out.data() + (c * rows + r) * element,
                  bytes.data() + (r * cols + c) * element, element);
  return out;
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
