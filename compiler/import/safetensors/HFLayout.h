//===- HFLayout.h - Hugging Face names and q/k row order ---------*- C++ -*-===//
//
// Shared by the safetensors importer and the model writer, so that the two
// directions of the mapping cannot drift apart.
//
//===----------------------------------------------------------------------===//

#ifndef TLMC_COMPILER_IMPORT_SAFETENSORS_HFLAYOUT_H
#define TLMC_COMPILER_IMPORT_SAFETENSORS_HFLAYOUT_H

#include "llvm/ADT/ArrayRef.h"
#include "llvm/ADT/StringRef.h"

#include <string>
#include <vector>

namespace tlmc {

class Family;

/// The Hugging Face name of a canonical tensor of `family` (`blk.3.attn_q`
/// -> `model.layers.3.self_attn.q_proj.weight`, `blk.3.attn_q.bias` ->
/// `...q_proj.bias`); a name the family does not map is returned as is.
std::string getHFTensorName(const Family &family, llvm::StringRef canonical);

/// The `rows` x `cols` matrix in `bytes` (elements of equal size) as
/// `cols` x `rows`: HF's Conv1D weights (in x out) as linear ones.
std::vector<char> transposeMatrix(llvm::ArrayRef<char> bytes, int64_t rows,
                                  int64_t cols);

/// Reorders the rows of a q or k projection (`rows` rows, `heads` heads).
/// HF stores each head's rows so that RoPE rotates halves (row i with row
/// i + head_dim/2); llama2.c and GGUF store them so that it rotates adjacent
/// pairs. Within a head, adjacent row 2j+i is rotate-half row
/// i*(head_dim/2)+j. `toRotateHalf` picks the direction.
std::vector<char> permuteQKRows(llvm::ArrayRef<char> bytes, int64_t rows,
                                int64_t heads, bool toRotateHalf);

} // namespace tlmc

#endif // TLMC_COMPILER_IMPORT_SAFETENSORS_HFLAYOUT_H
