//===- WeightStore.cpp - weight bytes behind tlm.weight ------------*- C++ -*-===//

#include "dialects/tlm/IR/WeightStore.h"

#include <sys/mman.h>
#include <unistd.h>

#include "mlir/IR/BuiltinDialect.h"
#include "mlir/IR/DialectResourceBlobManager.h"

#include <cstring>

using namespace mlir;
using namespace mlir::tlm;

std::optional<int64_t> mlir::tlm::getStorageBytes(StorageFormat format,
                                                  int64_t numElements) {
  switch (format) {
  case StorageFormat::F32:
    return numElements * 4;
  case StorageFormat::F16:
  case StorageFormat::BF16:
    return numElements * 2;
  case StorageFormat::Q8_0:
  case StorageFormat::Q4_0:
    if (numElements % kGgmlBlockValues != 0)
      return std::nullopt;
    // A block is an f16 scale and 32 int8 (Q8_0) or 32 nibbles (Q4_0).
    return numElements / kGgmlBlockValues *
           (format == StorageFormat::Q8_0 ? 2 + 32 : 2 + 16);
  }
  llvm_unreachable("unknown storage format");
}

float mlir::tlm::halfToFloat(uint16_t h) {
  uint32_t sign = uint32_t(h & 0x8000) << 16;
  uint32_t exp = (h >> 10) & 0x1f;
  uint32_t mant = h & 0x3ff;
  uint32_t bits;
  if (exp == 0x1f) {
    bits = sign | 0x7f800000u | (mant << 13); // inf / nan
  } else if (exp != 0) {
    bits = sign | ((exp + 112) << 23) | (mant << 13);
  } else if (mant == 0) {
    bits = sign; // signed zero
  } else {
    // Subnormal half: normalize into a float.
    int shift = 0;
    while (!(mant & 0x400)) {
      mant <<= 1;
      ++shift;
    }
    mant &= 0x3ff;
    bits = sign | uint32_t(113 - shift) << 23 | (mant << 13);
  }
  float f;
  std::memcpy(&f, &bits, 4);
  return f;
}

float mlir::tlm::bfloat16ToFloat(uint16_t b) {
  uint32_t bits = uint32_t(b) << 16;
  float f;
  std::memcpy(&f, &bits, 4);
  return f;
}

static uint16_t loadU16(const char *p) {
  uint16_t v;
  std::memcpy(&v, p, 2);
  return v;
}

void mlir::tlm::decodeToF32(StorageFormat format, ArrayRef<char> bytes,
                            int64_t numElements, float *out) {
  const char *p = bytes.data();
  switch (format) {
  case StorageFormat::F32:
    std::memcpy(out, p, numElements * 4);
    return;
  case StorageFormat::F16:
    for (int64_t i = 0; i < numElements; ++i)
      out[i] = halfToFloat(loadU16(p + 2 * i));
    return;
  case StorageFormat::BF16:
    for (int64_t i = 0; i < numElements; ++i)
      out[i] = bfloat16ToFloat(loadU16(p + 2 * i));
    return;
  case StorageFormat::Q8_0:
    for (int64_t b = 0; b < numElements / kGgmlBlockValues; ++b) {
      const char *block = p + b * 34;
      float scale = halfToFloat(loadU16(block));
      for (int j = 0; j < 32; ++j)
        out[b * 32 + j] = scale * float(int8_t(block[2 + j]));
    }
    return;
  case StorageFormat::Q4_0:
    for (int64_t b = 0; b < numElements / kGgmlBlockValues; ++b) {
      const char *block = p + b * 18;
      float scale = halfToFloat(loadU16(block));
      for (int j = 0; j < 16; ++j) {
        uint8_t q = uint8_t(block[2 + j]);
        out[b * 32 + j] = scale * float(int(q & 0xf) - 8);
        out[b * 32 + j + 16] = scale * float(int(q >> 4) - 8);
      }
    }
    return;
  }
}

DenseResourceElementsAttr
mlir::tlm::makeWeightBlob(ShapedType storageType, StringRef name,
                          ArrayRef<char> bytes,
                          std::shared_ptr<const void> keepAlive) {
  // The data is not copied: the deleter only releases `keepAlive`.
  AsmResourceBlob blob(
      bytes, /*dataAlignment=*/1,
      [keepAlive = std::move(keepAlive)](void *, size_t, size_t) {},
      /*dataIsMutable=*/false);
  return DenseResourceElementsAttr::get(storageType, name, std::move(blob));
}

FailureOr<ArrayRef<char>> mlir::tlm::getWeightBytes(WeightOp weight) {
  auto value = weight.getValueAttr();
  if (!value)
    return weight.emitError("weight '")
           << weight.getSymName() << "' has no value bound";
  auto resource = dyn_cast<DenseResourceElementsAttr>(value);
  if (!resource)
    return weight.emitError("weight '")
           << weight.getSymName() << "' must be a dense_resource blob";
  AsmResourceBlob *blob = resource.getRawHandle().getBlob();
  if (!blob)
    return weight.emitError("weight '")
           << weight.getSymName() << "' refers to a blob that was never loaded";
  return blob->getData();
}

StorageFormat mlir::tlm::getStorageFormat(WeightOp weight) {
  if (auto encoding = weight.getEncoding())
    return *encoding == WeightEncoding::Q8_0 ? StorageFormat::Q8_0
                                             : StorageFormat::Q4_0;
  Type element = weight.getTensorType().getElementType();
  if (element.isF16())
    return StorageFormat::F16;
  if (element.isBF16())
    return StorageFormat::BF16;
  return StorageFormat::F32;
}

FailureOr<std::vector<float>> mlir::tlm::decodeWeightToF32(WeightOp weight) {
  FailureOr<ArrayRef<char>> bytes = getWeightBytes(weight);
  if (failed(bytes))
    return failure();
  int64_t count = weight.getTensorType().getNumElements();
  // The op verifier guarantees the blob size matches the type.
  std::vector<float> values(count);
  decodeToF32(getStorageFormat(weight), *bytes, count, values.data());
  return values;
}

void mlir::tlm::releaseWeightPages(ArrayRef<char> bytes) {
#ifdef MADV_PAGEOUT
  // Only whole pages inside the range: a neighbour's bytes stay put.
  uintptr_t page = uintptr_t(sysconf(_SC_PAGESIZE));
  uintptr_t begin = (uintptr_t(bytes.data()) + page - 1) & ~(page - 1);
  uintptr_t end = (uintptr_t(bytes.data()) + bytes.size()) & ~(page - 1);
  if (end > begin)
    (void)madvise(reinterpret_cast<void *>(begin), end - begin, MADV_PAGEOUT);
#else
  (void)bytes;
#endif
}

void mlir::tlm::dropWeightBytes(ModuleOp module) {
  for (Operation &op : module.getBody()->getOperations())
    for (NamedAttribute attr : op.getAttrs())
      if (auto resource = dyn_cast<DenseResourceElementsAttr>(attr.getValue()))
        if (auto *entry = resource.getRawHandle().getResource())
          entry->setBlob(AsmResourceBlob()); // runs the old blob's deleter
}
