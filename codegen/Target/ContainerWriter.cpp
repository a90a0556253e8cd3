//===- ContainerWriter.cpp - write the .tlmw weights container -------*- C++ -*-===//

#include "codegen/Target/ContainerWriter.h"
#include "codegen/Target/TokenizerTables.h"
#include "codegen/Target/SparseBlocks.h"
#include "codegen/Target/FloatPanels.h"
#include "codegen/Target/GGMLPanels.h"
#include "codegen/Target/SplitNibbles.h"
#include "dialects/tlm/IR/WeightStore.h"

#include "runtime/include/tlm/container.h"
#include "runtime/include/tlm/tlm.h"
#include "runtime/schema/tlmw_generated.h"

#include "llvm/ADT/StringMap.h"
#include "llvm/Support/MathExtras.h"
#include "llvm/Support/xxhash.h"
#include "llvm/ADT/DenseMap.h"

#include <algorithm>
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

namespace {

/// Bytes of panels packed and written at a time: Gemma-3's tied Q8_0
/// embedding is one 178 MB weight, which packed whole took the compiler's
/// peak memory to 1.55x the model file (the bound is 1.5x).
constexpr int64_t kPanelPieceBytes = 8 << 20;

/// Where a slot's bytes go as they are produced: `emit(slot, piece)` is
/// called with the slot's bytes in order, whole or in consecutive pieces.
using EmitFn = llvm::function_ref<void(const WeightSlot &, ArrayRef<char>)>;

/// Produces each slot's bytes in turn, holding at most one repacked or
/// decoded weight at a time (and of a panel layout, a piece of it): a
/// 1B-parameter model is never copied whole.
class SlotSource {
public:
  explicit SlotSource(const WeightLayout &layout) : layout(layout) {}

  /// Calls `emit` with the bytes of `slot`, and of the slots written along
  /// with it (a sparse weight's indices come with its values).
  LogicalResult produce(const WeightSlot &slot, EmitFn emit) {
    switch (slot.repack) {
    case WeightSlot::Repack::SparseBlockValues: {
      auto weight = cast<compress::SparseWeightOp>(slot.repackedFrom);
      const WeightSlot *indices =
          layout.lookup(getBlockIndicesSlot(weight.getSymName()));
      if (!indices)
        return failure();
      int64_t count = slot.storedType.getNumElements();
      std::vector<float> values(count);
      std::vector<uint8_t> index(count);
      if (failed(packSparseBlocks(weight, values, index)))
        return failure();
      emit(slot, asChars(values));
      emit(*indices, asChars(index));
      return success();
    }
    case WeightSlot::Repack::SparseBlockIndices:
      return success(); // produced with the values
    case WeightSlot::Repack::SplitNibbles: {
      std::vector<uint8_t> packed(slot.storedType.getNumElements());
      if (failed(packSplitNibbles(
              cast<compress::QuantizedWeightOp>(slot.repackedFrom), packed)))
        return failure();
      emit(slot, asChars(packed));
      return success();
    }
    case WeightSlot::Repack::GGMLPanels: {
      auto weight = cast<compress::QuantizedWeightOp>(slot.repackedFrom);
      auto resource = dyn_cast<DenseResourceElementsAttr>(weight.getValues());
      AsmResourceBlob *blob =
          resource ? resource.getRawHandle().getBlob() : nullptr;
      if (!blob)
        return failure();
      const int64_t columns = weight.getColumns();
      const int bits = int(weight.getBits());
      return producePanels(
          slot, blob->getData(), weight.getRows(), kPanelRows,
          [&](ArrayRef<char> rows, int64_t count, MutableArrayRef<char> out) {
            return packGGMLPanels(
                ArrayRef<uint8_t>(
                    reinterpret_cast<const uint8_t *>(rows.data()),
                    rows.size()),
                count, columns, bits,
                MutableArrayRef<uint8_t>(
                    reinterpret_cast<uint8_t *>(out.data()), out.size()));
          },
          emit);
    }
    case WeightSlot::Repack::FloatPanels: {
      auto weight = cast<tlm::WeightOp>(slot.repackedFrom);
      FailureOr<ArrayRef<char>> bytes = tlm::getWeightBytes(weight);
      if (failed(bytes))
        return failure();
      RankedTensorType type = weight.getTensorType();
      const int64_t elementBytes = type.getElementTypeBitWidth() / 8;
      const int64_t columns = type.getDimSize(1);
      return producePanels(
          slot, *bytes, type.getDimSize(0), kFloatPanelRows,
          [&](ArrayRef<char> rows, int64_t count, MutableArrayRef<char> out) {
            return packFloatPanels(rows, elementBytes, count, columns, out);
          },
          emit);
    }
    case WeightSlot::Repack::None:
      break;
    }
    if (slot.blob) {
      auto resource = dyn_cast<DenseResourceElementsAttr>(slot.blob);
      AsmResourceBlob *blob =
          resource ? resource.getRawHandle().getBlob() : nullptr;
      if (!blob || int64_t(blob->getData().size()) != slot.bytes)
        return failure();
      emit(slot, blob->getData());
      // GGUF blocks are the model file's own pages: give them back.
      tlm::releaseWeightPages(blob->getData());
      return success();
    }
    tlm::WeightOp weight = slot.weight;
    if (weight.getEncoding()) {
      FailureOr<std::vector<float>> values = tlm::decodeWeightToF32(weight);
      if (failed(values))
        return failure();
      emit(slot, asChars(*values));
      return success();
    }
    FailureOr<ArrayRef<char>> bytes = tlm::getWeightBytes(weight);
    if (failed(bytes))
      return failure();
    emit(slot, *bytes);
    // Read once, written once: the model file's pages need not stay.
    tlm::releaseWeightPages(*bytes);
    return success();
  }

private:
  /// Emits `slot`, a weight of `rows` rows stored in `source` and laid out
  /// in panels of `panelRows` rows, packed by `pack(rows' bytes, row count,
  /// out)` a piece of whole panels at a time (the last panel of a float
  /// weight padded to whole panels, FloatPanels.h); each piece's rows of
  /// the model file are given back once packed (read once, written once).
  static LogicalResult producePanels(
      const WeightSlot &slot, ArrayRef<char> source, int64_t rows,
      int64_t panelRows,
      llvm::function_ref<LogicalResult(ArrayRef<char>, int64_t,
                                       MutableArrayRef<char>)>
          pack,
      EmitFn emit) {
    auto wholePanels = [&](int64_t count) {
      return (count + panelRows - 1) / panelRows * panelRows;
    };
    if (rows <= 0 || source.size() % rows)
      return failure();
    const int64_t rowBytes = int64_t(source.size()) / rows;
    if (wholePanels(rows) * rowBytes != slot.bytes)
      return failure();
    const int64_t pieceRows =
        std::max<int64_t>(1, kPanelPieceBytes / (rowBytes * panelRows)) *
        panelRows;
    std::vector<char> packed(std::min(wholePanels(rows), pieceRows) *
                             rowBytes);
    for (int64_t first = 0; first < rows; first += pieceRows) {
      const int64_t count = std::min(pieceRows, rows - first);
      ArrayRef<char> piece = source.slice(first * rowBytes, count * rowBytes);
      MutableArrayRef<char> out(packed.data(), wholePanels(count) * rowBytes);
      if (failed(pack(piece, count, out)))
        return failure();
      emit(slot, out);
      tlm::releaseWeightPages(piece);
    }
    return success();
  }

  template <typename T> static ArrayRef<char> asChars(const std::vector<T> &v) {
    return ArrayRef<char>(reinterpret_cast<const char *>(v.data()),
                          v.size() * sizeof(T));
  }
  const WeightLayout &layout;
};

} // namespace

static flatbuffers::Offset<fbc::Tokenizer>
buildTokenizer(flatbuffers::FlatBufferBuilder &fb, const TokenizerData &tok,
               tlm::ModelConfigAttr config) {
  TokenizerTables tables(tok);
  auto kind = tok.kind == TokenizerData::Kind::SentencePiece
                  ? fbc::TokenizerKind::SentencePiece
              : tok.kind == TokenizerData::Kind::GPT2 ? fbc::TokenizerKind::GPT2
                                                      : fbc::TokenizerKind::None;
  return fbc::CreateTokenizer(
      fb, kind, fb.CreateVector(tables.bytes), fb.CreateVector(tables.offsets),
      fb.CreateVector(tok.scores), fb.CreateVector(tok.types),
      fb.CreateVector(tables.sortedIds), fb.CreateVector(tables.mergePairs),
      config.getBos(), config.getEos(),
      static_cast<fbc::PreTokenizer>(tok.preTokenizer), tok.ignoreMerges,
      tok.addPrefixSpace, fb.CreateVector(tables.addedIds), tok.normalizeNFC);
}

static flatbuffers::Offset<fbc::ChatFormat>
buildChatFormat(flatbuffers::FlatBufferBuilder &fb, const TokenizerData &tok) {
  if (!tok.chat)
    return 0;
  const ChatFormat &c = *tok.chat;
  return fbc::CreateChatFormat(
      fb, fb.CreateString(c.startSystem), fb.CreateString(c.startUser),
      fb.CreateString(c.systemUser), fb.CreateString(c.userAssistant),
      fb.CreateString(c.assistantUser), fb.CreateString(c.generation),
      c.trimSystem, c.trimUser, c.trimAssistant, c.hasSystem, c.endOfTurn);
}

/// The configuration, tokenizer, tensor table and plan as a FlatBuffer.
/// Every scalar is stored even when it equals its default, so the buffer's
/// size does not depend on the fingerprint written into it.
static void buildModelTable(flatbuffers::FlatBufferBuilder &fb,
                            tlm::ModelConfigAttr config,
                            const TokenizerData &tokenizer,
                            const WeightLayout &layout,
                            const ContainerPlan &plan, uint64_t fingerprint) {
  fb.ForceDefaults(true);
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
  auto producer = fb.CreateString(plan.producer);
  auto chat = buildChatFormat(fb, tokenizer);
  fbc::ModelBuilder model(fb);
  model.add_abi_version(TLM_ABI_VERSION);
  model.add_fingerprint(fingerprint);
  model.add_prefill_chunk(plan.prefillChunk);
  model.add_config(cfg);
  model.add_tokenizer(tok);
  model.add_tensors(tensorVector);
  model.add_plan(memory);
  model.add_weights_bytes(layout.totalBytes);
  model.add_producer(producer);
  if (!chat.IsNull())
    model.add_chat(chat);
  fb.Finish(model.Finish(), fbc::ModelIdentifier());
}

llvm::Expected<uint64_t> tlmc::writeContainer(ModuleOp module,
                                              const WeightLayout &layout,
                                              const TokenizerData &tokenizer,
                                              const ContainerPlan &plan,
                                              llvm::raw_pwrite_stream &os) {
  auto error = [](const llvm::Twine &message) {
    return llvm::createStringError(llvm::inconvertibleErrorCode(), message);
  };
  auto config = module->getAttrOfType<tlm::ModelConfigAttr>(
      tlm::TLMDialect::getConfigAttrName());
  if (!config)
    return error("module has no #tlm.config");

  // Where things go: the header, the FlatBuffer (its size known before the
  // fingerprint is), then the 64-aligned weights.
  flatbuffers::FlatBufferBuilder sizing(1 << 16);
  buildModelTable(sizing, config, tokenizer, layout, plan, 0);
  ContainerHeader header{}; // reserved fields zero: the bytes are reproducible
  std::memcpy(header.magic, kContainerMagic, sizeof(header.magic));
  header.version = 1;
  header.flatbuffer_offset = sizeof(ContainerHeader);
  header.flatbuffer_bytes = sizing.GetSize();
  header.weights_offset = llvm::alignTo(
      header.flatbuffer_offset + header.flatbuffer_bytes, WeightLayout::kAlignment);
  header.weights_bytes = layout.totalBytes;

  // The header and table as placeholders (rewritten once the fingerprint
  // is known), then the weights, one slot at a time in offset order, each
  // hashed as it is written; alignment gaps are zeros.
  uint64_t start = os.tell();
  std::vector<char> placeholder(header.weights_offset, 0);
  os.write(placeholder.data(), placeholder.size());
  // A slot's hash is that of its pieces' hashes, in order (a panel layout
  // comes in pieces, SlotSource::producePanels; most slots in one).
  std::vector<std::vector<uint64_t>> pieceHashes(layout.slots.size());
  std::vector<int64_t> written(layout.slots.size(), 0);
  llvm::DenseMap<const WeightSlot *, size_t> slotIndex;
  for (size_t i = 0; i < layout.slots.size(); ++i)
    slotIndex[&layout.slots[i]] = i;
  int64_t cursor = 0;
  static const char kZeros[WeightLayout::kAlignment] = {};
  SlotSource source(layout);
  for (const WeightSlot &slot : layout.slots) {
    bool outOfOrder = false;
    auto emit = [&](const WeightSlot &target, ArrayRef<char> piece) {
      const size_t index = slotIndex[&target];
      const int64_t at = target.offset + written[index];
      if (written[index] + int64_t(piece.size()) > target.bytes ||
          at < cursor || (written[index] && at != cursor) ||
          at - cursor > WeightLayout::kAlignment) {
        outOfOrder = true;
        return;
      }
      os.write(kZeros, at - cursor);
      os.write(piece.data(), piece.size());
      written[index] += int64_t(piece.size());
      cursor = at + int64_t(piece.size());
      pieceHashes[index].push_back(llvm::xxh3_64bits(llvm::ArrayRef<uint8_t>(
          reinterpret_cast<const uint8_t *>(piece.data()), piece.size())));
    };
    if (failed(source.produce(slot, emit)) || outOfOrder ||
        written[slotIndex[&slot]] != slot.bytes)
      return error("cannot write the bytes of weight '" + slot.name + "'");
  }
  os.write(kZeros, layout.totalBytes - cursor);
  std::vector<uint64_t> slotHashes(layout.slots.size());
  for (size_t i = 0; i < layout.slots.size(); ++i)
    slotHashes[i] = llvm::xxh3_64bits(llvm::ArrayRef<uint8_t>(
        reinterpret_cast<const uint8_t *>(pieceHashes[i].data()),
        pieceHashes[i].size() * sizeof(uint64_t)));

  // The fingerprint ties an object file to the container it was compiled
  // with: configuration, plan, layout and every weight byte (through each
  // slot's hash, in layout order).
  std::string identity;
  llvm::raw_string_ostream id(identity);
  id << config << plan.arenaBytes << ' ' << plan.kvCacheBytes << ' '
     << plan.prefillChunk;
  for (const WeightSlot &slot : layout.slots)
    id << slot.name << slot.offset << slot.storedType;
  uint64_t fingerprint =
      llvm::xxh3_64bits(llvm::ArrayRef<uint8_t>(
          reinterpret_cast<const uint8_t *>(identity.data()), identity.size())) ^
      llvm::xxh3_64bits(llvm::ArrayRef<uint8_t>(
          reinterpret_cast<const uint8_t *>(slotHashes.data()),
          slotHashes.size() * sizeof(uint64_t)));

  flatbuffers::FlatBufferBuilder fb(1 << 16);
  buildModelTable(fb, config, tokenizer, layout, plan, fingerprint);
  if (fb.GetSize() != header.flatbuffer_bytes)
    return error("internal error: the container table changed size");
  header.fingerprint = fingerprint;
  os.pwrite(reinterpret_cast<const char *>(&header), sizeof(header), start);
  os.pwrite(reinterpret_cast<const char *>(fb.GetBufferPointer()),
            fb.GetSize(), start + header.flatbuffer_offset);
  return fingerprint;
}

llvm::Expected<Container> tlmc::buildContainer(ModuleOp module,
                                               const WeightLayout &layout,
                                               const TokenizerData &tokenizer,
                                               const ContainerPlan &plan) {
  llvm::SmallVector<char, 0> bytes;
  llvm::raw_svector_ostream os(bytes);
  llvm::Expected<uint64_t> fingerprint =
      writeContainer(module, layout, tokenizer, plan, os);
  if (!fingerprint)
    return fingerprint.takeError();
  Container container;
  container.bytes.assign(bytes.begin(), bytes.end());
  container.fingerprint = *fingerprint;
  return container;
}
