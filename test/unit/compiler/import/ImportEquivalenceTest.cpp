//===- ImportEquivalenceTest.cpp - one model, every format ----------*- C++ -*-===//
//
// A generated model written by the project's writers in every format and
// dtype must come back as the same graph and the same values. Runs without
// ../shared.
//
//===----------------------------------------------------------------------===//

#include "test/support/StandInModel.h"
#include "test/unit/TestSupport.h"
#include "utils/modelgen/ModelWriter.h"

#include <gtest/gtest.h>

#include "llvm/Support/FileSystem.h"

#include <cmath>

using namespace tlmc;
using namespace tlmc::test;
using mlir::tlm::StorageFormat;

namespace {

ImportedModel importOrFail(const std::string &path,
                           const ImportOptions &options = {}) {
  auto model = importModel(path, options);
  EXPECT_TRUE(bool(model)) << llvm::toString(model.takeError());
  return model ? std::move(*model) : ImportedModel();
}

void expectSameWeights(const ImportedModel &a, const ImportedModel &b) {
  auto wa = decodeAll(a), wb = decodeAll(b);
  ASSERT_EQ(wa.size(), wb.size());
  for (size_t i = 0; i < wa.size(); ++i) {
    EXPECT_EQ(wa[i].first, wb[i].first);
    EXPECT_EQ(wa[i].second, wb[i].second) << wa[i].first;
  }
}

TEST(ImportEquivalence, F32EveryFormat) {
  TempDir dir;
  ImportedModel original = makeRandomModel(smallConfig(), 7);
  ASSERT_FALSE(bool(writeGGUF(original, dir.path("m.gguf"))));
  ASSERT_FALSE(bool(writeLlama2c(original, dir.path("m.bin"),
                                 dir.path("tok300.bin"))));
  ASSERT_FALSE(bool(writeSafetensors(original, dir.path("hf"))));
  ASSERT_FALSE(bool(writeSafetensors(original, dir.path("sharded"), 3)));

  ImportedModel gguf = importOrFail(dir.path("m.gguf"));
  ImportedModel bin = importOrFail(dir.path("m.bin"));
  ImportedModel hf = importOrFail(dir.path("hf"));
  ImportedModel sharded = importOrFail(dir.path("sharded"));
  EXPECT_EQ(bin.tokenizer.tokens, original.tokenizer.tokens);
  EXPECT_EQ(gguf.tokenizer.tokens, original.tokenizer.tokens);
  EXPECT_EQ(gguf.tokenizer.scores, original.tokenizer.scores);

  std::string graph = printGraph(gguf);
  for (const ImportedModel *m : {&bin, &hf, &sharded}) {
    EXPECT_EQ(printGraph(*m), graph) << m->path;
    expectSameWeights(*m, gguf);
  }
  expectSameWeights(original, gguf);
}

TEST(ImportEquivalence, HalfPrecisionGGUFAndHF) {
  for (StorageFormat format : {StorageFormat::F16, StorageFormat::BF16}) {
    TempDir dir;
    ImportedModel original = makeRandomModel(smallConfig(), 11, format);
    ASSERT_FALSE(bool(writeGGUF(original, dir.path("m.gguf"))));
    ASSERT_FALSE(bool(writeSafetensors(original, dir.path("hf"))));
    ImportedModel gguf = importOrFail(dir.path("m.gguf"));
    ImportedModel hf = importOrFail(dir.path("hf"));
    EXPECT_EQ(gguf.findTensor("blk.0.attn_q")->format, format);
    EXPECT_EQ(printGraph(hf), printGraph(gguf));
    expectSameWeights(hf, gguf);
  }
}

TEST(ImportEquivalence, EveryFamilyFromGGUFAndHF) {
  // Each family's variant of the block, small: the HF checkpoint (q/k rows
  // in rotate-half order, biases, per-head norms, Llama-3 rope_scaling)
  // must give the graph and weights the GGUF file (llama.cpp's layout,
  // rope_freqs) gives, and both the generated model's.
  ModelConfig llama3 = smallConfig();
  llama3.ropeTheta = 500000;
  llama3.llama3RopeScaling = Llama3RopeScaling{32.0f, 1.0f, 4.0f, 64};
  llama3.ropeFreqFactors =
      llama3.llama3RopeScaling->getFreqFactors(llama3.ropeTheta, llama3.headDim);
  ModelConfig qwen2 = smallConfig();
  qwen2.arch = "qwen2";
  qwen2.ropeStyle = mlir::tlm::RopeStyle::RotateHalf;
  ModelConfig qwen3 = qwen2;
  qwen3.arch = "qwen3";
  qwen3.headDim *= 2; // wider heads than the stream, as Qwen3-0.6B's
  ModelConfig phi3 = qwen2;
  phi3.arch = "phi3"; // stored fused: attn_qkv, ffn_up = gate and up
  phi3.slidingWindow = phi3.context;
  ModelConfig gemma3 = qwen2;
  gemma3.arch = "gemma3"; // HF norms hold w, GGUF w + 1; local/global layers
  gemma3.slidingWindow = 4;
  gemma3.slidingWindowPattern = 2;
  gemma3.ropeThetaLocal = 10000;
  gemma3.queryPreAttnScalar = float(gemma3.headDim);
  ModelConfig gemma2 = gemma3;
  gemma2.arch = "gemma2"; // no q/k norms; soft-capped scores and logits
  gemma2.ropeThetaLocal = gemma2.ropeTheta;
  gemma2.attnLogitSoftcap = 50;
  gemma2.finalLogitSoftcap = 30;
  ModelConfig gpt2 = qwen2;
  gpt2.arch = "gpt2"; // Conv1D weights transposed in HF, attn_qkv(.bias) fused
  gpt2.positions = gpt2.context;
  for (const ModelConfig &config :
       {llama3, qwen2, qwen3, phi3, gemma2, gemma3, gpt2}) {
    SCOPED_TRACE(config.arch);
    TempDir dir;
    ImportedModel original = makeRandomModel(config, 5);
    ASSERT_FALSE(bool(writeGGUF(original, dir.path("m.gguf"))));
    ASSERT_FALSE(bool(writeSafetensors(original, dir.path("hf"))));
    ImportedModel gguf = importOrFail(dir.path("m.gguf"));
    ImportedModel hf = importOrFail(dir.path("hf"));
    EXPECT_EQ(gguf.config.arch, config.arch);
    EXPECT_EQ(gguf.config.ropeFreqFactors, config.ropeFreqFactors);
    EXPECT_EQ(printGraph(hf), printGraph(gguf));
    expectSameWeights(hf, gguf);
    expectSameWeights(original, gguf);
  }
  // The factors are Llama-3's: 1 for wavelengths under 64 / 4 positions,
  // the factor for those over 64 (here the 4 pairs of head_dim 8).
  std::vector<float> factors = llama3.ropeFreqFactors;
  ASSERT_EQ(factors.size(), 4u);
  EXPECT_EQ(factors.front(), 1.0f);
  EXPECT_EQ(factors.back(), 32.0f);
  EXPECT_TRUE(llvm::is_sorted(factors));
}

TEST(ImportEquivalence, BlockQuantizedStayInBlocks) {
  for (StorageFormat format : {StorageFormat::Q8_0, StorageFormat::Q4_0}) {
    TempDir dir;
    ImportedModel reference = makeRandomModel(smallConfig(), 5);
    ImportedModel quantized = makeRandomModel(smallConfig(), 5, format);
    ASSERT_FALSE(bool(writeGGUF(quantized, dir.path("m.gguf"))));
    ImportedModel gguf = importOrFail(dir.path("m.gguf"));
    const ImportedTensor *q = gguf.findTensor("blk.1.attn_q");
    ASSERT_NE(q, nullptr);
    EXPECT_EQ(q->format, format);
    std::string graph = printGraph(gguf);
    EXPECT_NE(graph.find(format == StorageFormat::Q8_0 ? "encoding(q8_0)"
                                                       : "encoding(q4_0)"),
              std::string::npos);
    // The ffn_down rows (48 values) are not whole blocks: they stay f32.
    EXPECT_EQ(gguf.findTensor("blk.0.ffn_down")->format, StorageFormat::F32);

    // Decoded blocks approximate the f32 weights within the format's step.
    auto exact = decodeAll(reference), approx = decodeAll(gguf);
    double tolerance = format == StorageFormat::Q8_0 ? 1.0 / 127 : 1.0 / 7;
    for (size_t i = 0; i < exact.size(); ++i) {
      double amax = 0, maxErr = 0;
      for (size_t j = 0; j < exact[i].second.size(); ++j) {
        amax = std::max(amax, double(std::fabs(exact[i].second[j])));
        maxErr = std::max(maxErr, double(std::fabs(exact[i].second[j] -
                                                   approx[i].second[j])));
      }
      EXPECT_LE(maxErr, tolerance * amax) << exact[i].first;
    }

    ImportOptions dequantize;
    dequantize.dequantize = true;
    ImportedModel f32 = importOrFail(dir.path("m.gguf"), dequantize);
    EXPECT_EQ(f32.findTensor("blk.1.attn_q")->format, StorageFormat::F32);
    expectSameWeights(f32, gguf);
  }
}

TEST(ImportEquivalence, TiedClassifierCopyIsDeduplicated) {
  TempDir dir;
  ModelConfig config = smallConfig();
  config.tiedEmbeddings = true;
  ImportedModel tied = makeRandomModel(config, 3);
  // Write it untied, with the classifier a copy of the embeddings, as
  // llama.cpp's llama2.c converter does.
  ImportedModel untied = tied;
  untied.config.tiedEmbeddings = false;
  ImportedTensor copy = *tied.findTensor("token_embd");
  copy.name = "output";
  untied.tensors.push_back(copy);
  ASSERT_FALSE(bool(writeGGUF(untied, dir.path("m.gguf"))));
  ImportedModel imported = importOrFail(dir.path("m.gguf"));
  EXPECT_TRUE(imported.config.tiedEmbeddings);
  EXPECT_EQ(imported.findTensor("output"), nullptr);
}

TEST(ImportEquivalence, TokenizerJsonSentencePiece) {
  TempDir dir;
  ImportedModel original = makeRandomModel(smallConfig(), 2);
  ASSERT_FALSE(bool(writeSafetensors(original, dir.path("hf"))));
  ImportedModel hf = importOrFail(dir.path("hf"));
  const TokenizerData &tok = hf.tokenizer;
  EXPECT_EQ(tok.kind, TokenizerData::Kind::SentencePiece);
  EXPECT_EQ(tok.tokens, original.tokenizer.tokens);
  // Merge results keep their order of priority (score = -rank).
  std::vector<size_t> merged;
  for (size_t i = 0; i < tok.scores.size(); ++i)
    if (tok.scores[i] > -1e9f)
      merged.push_back(i);
  ASSERT_GE(merged.size(), 10u); // the generated vocabulary's letter pairs
  for (size_t a : merged)
    for (size_t b : {merged.front(), merged.back()})
      if (original.tokenizer.scores[a] > original.tokenizer.scores[b])
        EXPECT_GT(tok.scores[a], tok.scores[b]) << a << " " << b;
}

TEST(ImportEquivalence, ByteLevelTokenizerFromGGUFAndJson) {
  TempDir dir;
  ImportedModel original = makeRandomModel(smallConfig(), 4);
  original.tokenizer = makeByteLevelTokenizer(); // 300 tokens, as the model
  const TokenizerData &tok = original.tokenizer;
  ASSERT_FALSE(bool(writeGGUF(original, dir.path("m.gguf"))));
  ASSERT_FALSE(bool(writeSafetensors(original, dir.path("hf"))));
  ImportedModel gguf = importOrFail(dir.path("m.gguf"));
  ImportedModel hf = importOrFail(dir.path("hf"));
  for (const TokenizerData *t : {&gguf.tokenizer, &hf.tokenizer}) {
    EXPECT_EQ(t->kind, TokenizerData::Kind::GPT2);
    EXPECT_EQ(t->tokens, tok.tokens);
    EXPECT_EQ(t->merges, tok.merges);
  }
  // --tokenizer may name a GGUF or a tokenizer.json for another model.
  ImportOptions fromGGUF;
  fromGGUF.tokenizerPath = dir.path("m.gguf");
  ImportedModel bin = makeRandomModel(smallConfig(), 4);
  ASSERT_FALSE(bool(writeLlama2c(bin, dir.path("m.bin"), "")));
  EXPECT_EQ(importOrFail(dir.path("m.bin"), fromGGUF).tokenizer.merges,
            tok.merges);
  ImportOptions fromJson;
  fromJson.tokenizerPath = dir.path("hf/tokenizer.json");
  EXPECT_EQ(importOrFail(dir.path("m.bin"), fromJson).tokenizer.tokens,
            tok.tokens);

  // A byte-level vocabulary must spell every byte (the runtime starts from
  // one symbol per byte): one without is refused at import, not at run.
  ImportedModel spelledBadly = makeRandomModel(smallConfig(), 4);
  spelledBadly.tokenizer.kind = TokenizerData::Kind::GPT2;
  spelledBadly.tokenizer.merges = {"h e"};
  ASSERT_FALSE(bool(writeGGUF(spelledBadly, dir.path("bad.gguf"))));
  auto refused = importModel(dir.path("bad.gguf"), ImportOptions());
  ASSERT_FALSE(bool(refused));
  EXPECT_NE(llvm::toString(refused.takeError())
                .find("byte-level vocabulary has no token for byte 0x00"),
            std::string::npos);
}

TEST(ImportEquivalence, TokenizerBesideTheModel) {
  TempDir dir;
  ImportedModel original = makeRandomModel(smallConfig(), 4);
  ASSERT_FALSE(bool(writeLlama2c(original, dir.path("m.bin"), "")));
  // None beside it: the model imports without one (compile refuses later).
  EXPECT_EQ(importOrFail(dir.path("m.bin")).tokenizer.kind,
            TokenizerData::Kind::None);
  ASSERT_FALSE(bool(writeSafetensors(original, dir.path("hf"))));
  llvm::sys::fs::copy_file(dir.path("hf/tokenizer.json"),
                           dir.path("tokenizer.json"));
  ImportedModel withJson = importOrFail(dir.path("m.bin"));
  EXPECT_EQ(withJson.tokenizer.tokens, original.tokenizer.tokens);
  EXPECT_NE(withJson.tokenizer.source.find("tokenizer.json"),
            std::string::npos);
  // A tokenizer of the wrong size is an error naming it.
  ModelConfig bigger = smallConfig();
  bigger.vocab = 400;
  ASSERT_FALSE(bool(writeSafetensors(makeRandomModel(bigger, 1),
                                     dir.path("big"))));
  ImportOptions wrong;
  wrong.tokenizerPath = dir.path("big/tokenizer.json");
  auto failed = importModel(dir.path("m.bin"), wrong);
  ASSERT_FALSE(bool(failed));
  std::string message = llvm::toString(failed.takeError());
  EXPECT_NE(message.find("big/tokenizer.json"), std::string::npos) << message;
}

} // namespace
