//===- SharedModelsTest.cpp - the real models in ../shared/models ----*- C++ -*-===//
//
// stories260K ships as GGUF, llama2.c .bin and HF safetensors holding the
// same weights; all three must import to the same graph and bit-identical
// f32 weights (the HF q/k permutation undone).
//
//===----------------------------------------------------------------------===//

#include "test/unit/TestSupport.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstring>

using namespace tlmc;
using namespace tlmc::test;

namespace {

#define REQUIRE_SHARED(var, rel)                                               \
  std::string var = findShared(rel);                                           \
  if (var.empty())                                                             \
    GTEST_SKIP() << "../shared/" rel " is absent";

ImportedModel importOrFail(const std::string &path,
                           const ImportOptions &options) {
  auto model = importModel(path, options);
  EXPECT_TRUE(bool(model)) << llvm::toString(model.takeError());
  return model ? std::move(*model) : ImportedModel();
}

TEST(SharedModels, Stories260KThreeFormatsImportIdentically) {
  REQUIRE_SHARED(gguf, "models/stories260K/stories260K.gguf");
  REQUIRE_SHARED(bin, "models/stories260K/stories260K.bin");
  REQUIRE_SHARED(hf, "models/stories260K/hf");
  // The GGUF's metadata says context 2048, the others 512 (the model was
  // trained at 512): compare at one capacity.
  ImportOptions options;
  options.contextOverride = 512;
  ImportedModel fromGGUF = importOrFail(gguf, options);
  ImportedModel fromBin = importOrFail(bin, options);
  ImportedModel fromHF = importOrFail(hf, options);

  std::string graph = printGraph(fromBin);
  EXPECT_NE(graph.find("tlm.attention"), std::string::npos);
  EXPECT_EQ(printGraph(fromGGUF), graph);
  EXPECT_EQ(printGraph(fromHF), graph);

  auto reference = decodeAll(fromBin);
  ASSERT_EQ(reference.size(), 47u); // embeddings + 5 x 9 + final norm
  for (const ImportedModel *other : {&fromGGUF, &fromHF}) {
    auto weights = decodeAll(*other);
    ASSERT_EQ(weights.size(), reference.size()) << other->format;
    for (size_t i = 0; i < weights.size(); ++i) {
      ASSERT_EQ(weights[i].first, reference[i].first);
      ASSERT_EQ(weights[i].second.size(), reference[i].second.size());
      EXPECT_EQ(0, std::memcmp(weights[i].second.data(),
                               reference[i].second.data(),
                               4 * weights[i].second.size()))
          << other->format << " " << weights[i].first << " differs";
    }
  }
}

TEST(SharedModels, Stories260KHFKeepsRotateHalfWhenAsked) {
  REQUIRE_SHARED(hf, "models/stories260K/hf");
  ImportOptions keep;
  keep.keepRotateHalf = true;
  ImportedModel rotateHalf = importOrFail(hf, keep);
  ImportedModel adjacent = importOrFail(hf, {});
  EXPECT_EQ(rotateHalf.config.ropeStyle, mlir::tlm::RopeStyle::RotateHalf);
  EXPECT_NE(printGraph(rotateHalf).find("rotate_half"), std::string::npos);
  const ImportedTensor *q = rotateHalf.findTensor("blk.0.attn_q");
  const ImportedTensor *qAdj = adjacent.findTensor("blk.0.attn_q");
  ASSERT_TRUE(q && qAdj);
  EXPECT_NE(q->bytes, qAdj->bytes);
  // v is never permuted.
  EXPECT_EQ(rotateHalf.findTensor("blk.0.attn_v")->bytes,
            adjacent.findTensor("blk.0.attn_v")->bytes);
}

TEST(SharedModels, Stories260KTokenizersAgree) {
  REQUIRE_SHARED(gguf, "models/stories260K/stories260K.gguf");
  REQUIRE_SHARED(bin, "models/stories260K/stories260K.bin");
  ImportedModel fromGGUF = importOrFail(gguf, {});
  ImportedModel fromBin = importOrFail(bin, {});
  const TokenizerData &a = fromGGUF.tokenizer, &b = fromBin.tokenizer;
  ASSERT_EQ(a.tokens.size(), 512u);
  ASSERT_EQ(b.tokens.size(), 512u);
  EXPECT_EQ(a.scores, b.scores);
  // BOS/EOS are spelled "<s>"/"</s>" in GGUF and "\n<s>\n" in tok512.bin;
  // every other token (U+2581 mapped to ' ') is the same string.
  for (size_t i = 3; i < 512; ++i)
    EXPECT_EQ(a.tokens[i], b.tokens[i]) << "token " << i;
  EXPECT_EQ(b.tokens[1], "\n<s>\n");
}

TEST(SharedModels, LlamaTinyRandomF16) {
  REQUIRE_SHARED(path, "models/llama-2-tiny-random/llama-2-tiny-random.gguf");
  ImportedModel model = importOrFail(path, {});
  EXPECT_EQ(model.config.vocab, 32000);
  EXPECT_EQ(model.config.dim, 8);
  EXPECT_FALSE(model.config.tiedEmbeddings);
  EXPECT_EQ(model.tokenizer.tokens.size(), 32000u);
  EXPECT_EQ(model.tokenizer.types.size(), 32000u);
  const ImportedTensor *output = model.findTensor("output");
  ASSERT_NE(output, nullptr);
  EXPECT_EQ(output->format, mlir::tlm::StorageFormat::F16);
  EXPECT_EQ(output->shape, (std::vector<int64_t>{32000, 8}));

  ImportOptions dequantize;
  dequantize.dequantize = true;
  ImportedModel f32 = importOrFail(path, dequantize);
  auto halves = decodeAll(model), floats = decodeAll(f32);
  ASSERT_EQ(halves.size(), floats.size());
  for (size_t i = 0; i < halves.size(); ++i) {
    EXPECT_EQ(halves[i].second, floats[i].second) << halves[i].first;
    for (float v : floats[i].second)
      ASSERT_TRUE(std::isfinite(v)) << halves[i].first;
  }
  for (const ImportedTensor &t : f32.tensors)
    EXPECT_EQ(t.format, mlir::tlm::StorageFormat::F32) << t.name;
}

} // namespace
