//===- StandInModel.cpp - drive the runtime without compiled code ---*- C++ -*-===//

#include "test/support/StandInModel.h"
#include "codegen/Pipeline.h"
#include "compiler/import/common/ModuleBuilder.h"
#include "runtime/src/ByteLevelSymbols.h"
#include "utils/modelgen/ModelWriter.h"

#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/MLIRContext.h"
#include "mlir/IR/OwningOpRef.h"

using namespace tlmc;
using namespace tlmc::test;

namespace {

void standInEntry(const uint8_t *, uint8_t *, const int32_t *, int64_t,
                  float *logits, void *) {
  for (int i = 0; i < kStandInVocab; ++i)
    logits[i] = float(i % 7) + (i == kStandInTopToken ? 10.0f : 0.0f);
}

ModelConfig standInConfig() {
  ModelConfig c;
  // Small, so that a container is a few tens of KiB (fuzz inputs).
  c.vocab = kStandInVocab;
  c.dim = 16;
  c.ffnDim = 16;
  c.layers = 1;
  c.heads = 2;
  c.kvHeads = 1;
  c.headDim = 8;
  c.context = 32;
  c.tiedEmbeddings = true;
  return c;
}

} // namespace

struct StandInModel::Impl {
  ImportedModel imported;
  mlir::MLIRContext context;
  mlir::OwningOpRef<mlir::ModuleOp> module;
  WeightLayout layout;

  static mlir::DialectRegistry makeRegistry() {
    mlir::DialectRegistry registry;
    registerCodegenDialects(registry);
    return registry;
  }
  explicit Impl(uint64_t seed)
      : imported(makeRandomModel(standInConfig(), seed)),
        context(makeRegistry()) {
    context.loadAllAvailableDialects();
    module = buildModule(context, imported);
    layout = computeWeightLayout(*module);
  }
};

StandInModel::StandInModel(uint64_t seed)
    : impl(std::make_unique<Impl>(seed)) {}

StandInModel::~StandInModel() = default;

const TokenizerData &StandInModel::getGeneratedTokenizer() const {
  return impl->imported.tokenizer;
}

llvm::Expected<StandIn>
StandInModel::withTokenizer(const TokenizerData &tokenizer) const {
  ContainerPlan plan;
  plan.arenaBytes = 4096;
  plan.kvCacheBytes = 1024;
  plan.prefillChunk = 1; // the stand-in writes one row
  auto container = buildContainer(*impl->module, impl->layout, tokenizer, plan);
  if (!container)
    return container.takeError();
  StandIn s;
  s.container = std::move(*container);
  s.model.abi_version = TLM_ABI_VERSION;
  s.model.prefill_chunk = plan.prefillChunk;
  s.model.fingerprint = s.container.fingerprint;
  s.model.arena_bytes = plan.arenaBytes;
  s.model.weights_bytes = impl->layout.totalBytes;
  s.model.decode = standInEntry;
  s.model.prefill = standInEntry;
  s.model.prefill_last = standInEntry;
  s.model.vocab = kStandInVocab;
  s.model.context = int32_t(impl->imported.config.context);
  return s;
}

TokenizerData test::makeByteLevelTokenizer() {
  TokenizerData t;
  t.kind = TokenizerData::Kind::GPT2;
  for (unsigned b = 0; b < 256; ++b) {
    char symbol[2];
    unsigned length = tlmrt::encodeByteSymbol(tlmrt::byteToCodePoint(b), symbol);
    t.tokens.push_back(std::string(symbol, length));
  }
  for (const char *tok : {"\xC4\xA0t", "he", "\xC4\xA0the", "ll", "hell",
                          "hello"})
    t.tokens.push_back(tok);
  t.merges = {"\xC4\xA0 t", "h e", "\xC4\xA0t he", "l l", "he ll", "hell o"};
  while (t.tokens.size() < size_t(kStandInVocab))
    t.tokens.push_back("<pad" + std::to_string(t.tokens.size()) + ">");
  return t;
}
