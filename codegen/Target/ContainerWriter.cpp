//===- ContainerWriter.cpp - write the .tlmw weights container -------*- C++ -*-===//

#include "codegen/Target/ContainerWriter.h"
#include "codegen/Target/SparseBlocks.h"
#include "codegen/Target/SplitNibbles.h"
#include "dialects/tlm/IR/WeightStore.h"

#include "runtime/include/tlm/container.h"
#include "runtime/include/tlm/tlm.h"
#include "runtime/schema/tlmw_generated.h"

#include "llvm/ADT/StringMap.h"
#include "llvm/Support/MathExtras.h"
#include "llvm/Support/xxhash.h"

#include <cstring>
#include <numeric>

using namespace mlir;
using namespace tlmc;
namespace fbc = ::tlmw;

static fbc::DType getDType(Type element) {
  if (element.isInteger(8))
    return fbc::DType::I8;
  if (element.isInteger(16))
    return fbc::DType::I16;
  if (element.isInteger(32))
    return fbc::DType::I32;
  if (element.isF16())
    return fbc::DType::F16;
  if (element.isBF16())
    return fbc::DType::BF16;
  return fbc::DType::F32;
}

/// Writes the bytes of a slot codegen derives from a compressed weight into
/// `region`. A sparse weight's values and indices come from one packing,
/// written with the values slot.
static LogicalResult fillRepackedSlot(const WeightLayout &layout,
                                      const WeightSlot &slot,
                                      std::vector<char> &region) {
  int64_t count = slot.storedType.getNumElements();
  char *dst = region.data() + slot.offset;
  switch (slot.repack) {
  case WeightSlot::Repack::SparseBlockValues: {
    auto weight = cast<compress::SparseWeightOp>(slot.repackedFrom);
    const WeightSlot *indices =
        layout.lookup(getBlockIndicesSlot(weight.getSymName()));
    if (!indices)
      return failure();
    // Slots are 64-byte aligned: the float view is aligned.
    return packSparseBlocks(
        weight, MutableArrayRef<float>(reinterpret_cast<float *>(dst), count),
        MutableArrayRef<uint8_t>(
            reinterpret_cast<uint8_t *>(region.data() + indices->offset),
            count));
  }
  case WeightSlot::Repack::SparseBlockIndices:
    return success(); // written with the values
  case WeightSlot::Repack::SplitNibbles:
    return packSplitNibbles(
        cast<compress::QuantizedWeightOp>(slot.repackedFrom),
        MutableArrayRef<uint8_t>(reinterpret_cast<uint8_t *>(dst), count));
  case WeightSlot::Repack::None:
    break;
  }
  return failure();
}

/// Copies every slot's bytes into the weights region.
static LogicalResult fillWeights(const WeightLayout &layout,
                                 std::vector<char> &region) {
  region.assign(layout.totalBytes, 0);
  for (const WeightSlot &slot : layout.slots) {
    char *dst = region.data() + slot.offset;
    if (slot.repack != WeightSlot::Repack::None) {
      if (failed(fillRepackedSlot(layout, slot, region)))
        return failure();
      continue;
    }
    if (slot.blob) {
      auto resource = dyn_cast<DenseResourceElementsAttr>(slot.blob);
      AsmResourceBlob *blob =
          resource ? resource.getRawHandle().getBlob() : nullptr;
      if (!blob || int64_t(blob->getData().size()) != slot.bytes)
        return failure();
      std::memcpy(dst, blob->getData().data(), slot.bytes);
      continue;
    }
    tlm::WeightOp weight = slot.weight;
    if (weight.getEncoding()) {
      FailureOr<std::vector<float>> values = tlm::decodeWeightToF32(weight);
      if (failed(values))
        return failure();
      std::memcpy(dst, values->data(), values->size() * sizeof(float));
      continue;
    }
    FailureOr<ArrayRef<char>> bytes = tlm::getWeightBytes(weight);
    if (failed(bytes))
      return failure();
    std::memcpy(dst, bytes->data(), bytes->size());
  }
  return success();
}

static flatbuffers::Offset<fbc::Tokenizer>
buildTokenizer(flatbuffers::FlatBufferBuilder &fb, const TokenizerData &tok,
               tlm::ModelConfigAttr config) {
  std::vector<uint8_t> bytes;
  std::vector<uint32_t> offsets{0};
  for (const std::string &t : tok.tokens) {
    bytes.insert(bytes.end(), t.begin(), t.end());
    offsets.push_back(bytes.size());
  }
  std::vector<uint32_t> sorted(tok.tokens.size());
  std::iota(sorted.begin(), sorted.end(), 0);
  llvm::sort(sorted, [&](uint32_t a, uint32_t b) {
    return tok.tokens[a] != tok.tokens[b] ? tok.tokens[a] < tok.tokens[b]
                                          : a < b;
  });
  std::vector<uint32_t> mergePairs;
  if (tok.kind == TokenizerData::Kind::GPT2) {
    llvm::StringMap<uint32_t> ids;
    for (uint32_t i = 0; i < tok.tokens.size(); ++i)
      ids.try_emplace(tok.tokens[i], i);
    for (const std::string &merge : tok.merges) {
      auto [left, right] = llvm::StringRef(merge).split(' ');
      auto l = ids.find(left), r = ids.find(right);
      if (l == ids.end() || r == ids.end() ||
          !ids.count((left + right).str()))
        continue; // a merge whose parts or result are not tokens never fires
      mergePairs.push_back(l->second);
      mergePairs.push_back(r->second);
    }
  }
  auto kind = tok.kind == TokenizerData::Kind::SentencePiece
                  ? fbc::TokenizerKind::SentencePiece
              : tok.kind == TokenizerData::Kind::GPT2 ? fbc::TokenizerKind::GPT2
                                                      : fbc::TokenizerKind::None;
  return fbc::CreateTokenizer(
      fb, kind, fb.CreateVector(bytes), fb.CreateVector(offsets),
      fb.CreateVector(tok.scores), fb.CreateVector(tok.types),
      fb.CreateVector(sorted), fb.CreateVector(mergePairs), config.getBos(),
      config.getEos());
}

llvm::Expected<Container> tlmc::buildContainer(ModuleOp module,
                                               const WeightLayout &layout,
                                               const TokenizerData &tokenizer,
                                               const ContainerPlan &plan) {
  auto config = module->getAttrOfType<tlm::ModelConfigAttr>(
      tlm::TLMDialect::getConfigAttrName());
  if (!config)
    return llvm::createStringError(llvm::inconvertibleErrorCode(),
                                   "module has no #tlm.config");
  std::vector<char> weights;
  if (failed(fillWeights(layout, weights)))
    return llvm::createStringError(llvm::inconvertibleErrorCode(),
                                   "cannot read the module's weights");

  // The fingerprint ties an object file to the container it was compiled
  // with: configuration, plan, layout and weights.
  std::string identity;
  llvm::raw_string_ostream os(identity);
  os << config << plan.arenaBytes << ' ' << plan.kvCacheBytes << ' '
     << plan.prefillChunk;
  for (const WeightSlot &slot : layout.slots)
    os << slot.name << slot.offset << slot.storedType;
  uint64_t fingerprint =
      llvm::xxh3_64bits(llvm::ArrayRef<uint8_t>(
          reinterpret_cast<const uint8_t *>(identity.data()), identity.size())) ^
      llvm::xxh3_64bits(llvm::ArrayRef<uint8_t>(
          reinterpret_cast<const uint8_t *>(weights.data()), weights.size()));

  flatbuffers::FlatBufferBuilder fb(1 << 16);
  auto cfg = fbc::CreateConfig(
      fb, fb.CreateString(config.getArch().str()), config.getVocab(),
      config.getDim(), config.getFfnDim(), config.getLayers(),
      config.getHeads(), config.getKvHeads(), config.getHeadDim(),
      config.getContextLength(), config.getRopeTheta().getValueAsDouble(),
      config.getRopeStyle() == tlm::RopeStyle::Adjacent
          ? fbc::RopeStyle::Adjacent
          : fbc::RopeStyle::RotateHalf,
      config.getNormEps().getValueAsDouble(), config.getTiedEmbeddings(),
      config.getBos(), config.getEos());
  auto tok = buildTokenizer(fb, tokenizer, config);
  std::vector<flatbuffers::Offset<fbc::Tensor>> tensors;
  for (const WeightSlot &slot : layout.slots) {
    std::vector<int64_t> shape(slot.storedType.getShape().begin(),
                               slot.storedType.getShape().end());
    tensors.push_back(fbc::CreateTensor(
        fb, fb.CreateString(slot.name),
        getDType(slot.storedType.getElementType()), fb.CreateVector(shape),
        slot.offset, slot.bytes));
  }
  auto memory = fbc::CreateMemoryPlan(fb, plan.arenaBytes, plan.kvCacheBytes,
                                      plan.arenaBytes - plan.kvCacheBytes);
  auto tensorVector = fb.CreateVector(tensors);

  fbc::ModelBuilder model(fb);
  model.add_abi_version(TLM_ABI_VERSION);
  model.add_fingerprint(fingerprint);
  model.add_prefill_chunk(plan.prefillChunk);
  model.add_config(cfg);
  model.add_tokenizer(tok);
  model.add_tensors(tensorVector);
  model.add_plan(memory);
  model.add_weights_bytes(weights.size());
  fb.Finish(model.Finish(), fbc::ModelIdentifier());

  // Fixed header, FlatBuffer, padding, weights.
  ContainerHeader header;
  std::memcpy(header.magic, kContainerMagic, sizeof(header.magic));
  header.version = 1;
  header.flatbuffer_offset = sizeof(ContainerHeader);
  header.flatbuffer_bytes = fb.GetSize();
  header.weights_offset = llvm::alignTo(
      header.flatbuffer_offset + header.flatbuffer_bytes, WeightLayout::kAlignment);
  header.weights_bytes = weights.size();
  header.fingerprint = fingerprint;

  Container container;
  container.fingerprint = fingerprint;
  container.bytes.assign(header.weights_offset + weights.size(), 0);
  std::memcpy(container.bytes.data(), &header, sizeof(header));
  std::memcpy(container.bytes.data() + header.flatbuffer_offset,
              fb.GetBufferPointer(), fb.GetSize());
  std::memcpy(container.bytes.data() + header.weights_offset, weights.data(),
              weights.size());
  return container;
}
