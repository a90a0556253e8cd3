//===- WeightStore.h - weight bytes behind tlm.weight -------------*- C++ -*-===//
//
// The weights of a model live in `dense_resource` blobs owned by the MLIR
// context's resource manager: the importer hands over bytes (mapped from the
// model file where possible, never copied when they can be used as they are)
// and passes and the code generator read them back by weight. This file is
// that store's interface, plus the decoding of every storage format to f32.
//
//===----------------------------------------------------------------------===//

#ifndef TLMC_DIALECTS_TLM_IR_WEIGHTSTORE_H
#define TLMC_DIALECTS_TLM_IR_WEIGHTSTORE_H

#include "dialects/tlm/IR/TLMOps.h"

#include "mlir/IR/BuiltinAttributes.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/DialectResourceBlobManager.h"
#include "llvm/ADT/ArrayRef.h"

#include <memory>
#include <optional>
#include <vector>

namespace mlir::tlm {

/// Values per block of the GGML block formats (Q8_0, Q4_0).
constexpr int64_t kGgmlBlockValues = 32;

/// Storage format of a tensor's bytes, as model files know them.
enum class StorageFormat { F32, F16, BF16, Q8_0, Q4_0 };

/// Wraps `bytes` as a `dense_resource` blob of type `storageType` named
/// `name`. `keepAlive` owns the memory `bytes` points into (a mapped file, a
/// vector); the blob holds it until the context drops the resource, so no
/// copy is made.
DenseResourceElementsAttr makeWeightBlob(ShapedType storageType,
                                         StringRef name,
                                         ArrayRef<char> bytes,
                                         std::shared_ptr<const void> keepAlive);

/// The stored bytes of `weight`, or failure (with a diagnostic on the op) if
/// it has no value or its value is not a resource blob.
FailureOr<ArrayRef<char>> getWeightBytes(WeightOp weight);

/// Decodes `weight` to row-major f32 values, whatever its storage.
FailureOr<std::vector<float>> decodeWeightToF32(WeightOp weight);

/// Tells the kernel the compiler is done reading `bytes` for now: their
/// pages are reclaimed (MADV_PAGEOUT), which for weights mapped from the
/// model file drops them from the compiler's resident memory; a later read
/// faults them back in from the file. Never loses data (heap pages would be
/// swapped, or kept where there is no swap). A hint: does nothing where the
/// kernel does not support it.
void releaseWeightPages(ArrayRef<char> bytes);

/// Frees the bytes behind every dense_resource attribute of the module's
/// top-level ops (weights, quantized and sparse weights): once the
/// container is written the compiler needs their types, never their bytes,
/// and a re-laid-out 1B model is as large as the file. Reading a weight
/// afterwards is an error ("never loaded"), not a crash.
void dropWeightBytes(ModuleOp module);

/// The format `weight`'s bytes are stored in.
StorageFormat getStorageFormat(WeightOp weight);

/// Decodes `bytes` in `format` holding `numElements` values to f32 into
/// `out`. The caller has checked the sizes (see getStorageBytes).
void decodeToF32(StorageFormat format, ArrayRef<char> bytes,
                 int64_t numElements, float *out);

/// Bytes `numElements` values take in `format`, or nullopt when the count
/// is not a whole number of blocks.
std::optional<int64_t> getStorageBytes(StorageFormat format,
                                       int64_t numElements);

/// IEEE half and bfloat16 bit patterns to float.
float halfToFloat(uint16_t bits);
float bfloat16ToFloat(uint16_t bits);

} // namespace mlir::tlm

#endif // TLMC_DIALECTS_TLM_IR_WEIGHTSTORE_H
