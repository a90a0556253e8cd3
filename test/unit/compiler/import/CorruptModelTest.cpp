//===- CorruptModelTest.cpp - hostile model files get a clean error -*- C++ -*-===//
//
// Every importer reads untrusted files. Each case here breaks a valid file
// (written by the project's writers) in one way and checks that the import
// fails with a one-line message that names the file and what was wrong:
// no crash, no huge allocation, no silent success. Truncation runs at every
// offset of the headers and at a stride through the data; bit flips hit
// every header byte.
//
//===----------------------------------------------------------------------===//

#include "test/unit/TestSupport.h"
#include "utils/modelgen/ModelWriter.h"

#include <gtest/gtest.h>

#include <cstring>

using namespace tlmc;
using namespace tlmc::test;

namespace {

/// Imports `path` and returns the error text ("" on success).
std::string importError(const std::string &path,
                        const ImportOptions &options = {}) {
  auto model = importModel(path, options);
  if (model)
    return "";
  return llvm::toString(model.takeError());
}

/// Fails unless importing `path` fails with a one-line message that starts
/// with a file name and contains `fragment`.
void expectCleanError(const std::string &path, llvm::StringRef fragment,
                      llvm::StringRef fileInMessage = "") {
  std::string message = importError(path);
  ASSERT_FALSE(message.empty()) << path << " imported without error";
  EXPECT_EQ(message.find('\n'), std::string::npos) << message;
  llvm::StringRef file = fileInMessage.empty() ? path : fileInMessage;
  EXPECT_TRUE(llvm::StringRef(message).starts_with(file)) << message;
  EXPECT_NE(message.find(fragment.str()), std::string::npos)
      << "expected '" << fragment.str() << "' in: " << message;
}

/// Offset just past the last occurrence of `needle` in `bytes`.
size_t findLast(const std::vector<char> &bytes, llvm::StringRef needle) {
  llvm::StringRef hay(bytes.data(), bytes.size());
  size_t at = hay.rfind(needle);
  EXPECT_NE(at, llvm::StringRef::npos) << needle.str();
  return at + needle.size();
}

template <typename T> void poke(std::vector<char> &bytes, size_t at, T value) {
  ASSERT_LE(at + sizeof(T), bytes.size());
  std::memcpy(bytes.data() + at, &value, sizeof(T));
}

class CorruptModel : public ::testing::Test {
protected:
  void SetUp() override {
    model = makeRandomModel(smallConfig(), 42);
    ASSERT_FALSE(bool(writeGGUF(model, dir.path("ok.gguf"))));
    ASSERT_FALSE(bool(writeLlama2c(model, dir.path("ok.bin"),
                                   dir.path("tok300.bin"))));
    ASSERT_FALSE(bool(writeSafetensors(model, dir.path("hf"))));
    ASSERT_EQ(importError(dir.path("ok.gguf")), "");
    ASSERT_EQ(importError(dir.path("ok.bin")), "");
    ASSERT_EQ(importError(dir.path("hf")), "");
  }

  /// `model` with a Qwen2-style q bias in layer 0, which a llama graph does
  /// not read.
  ImportedModel withQBias() const {
    ImportedModel variant = model;
    ImportedTensor bias = variant.tensors.front();
    bias.name = "blk.0.attn_q.bias";
    bias.shape = {model.config.dim};
    bias.format = mlir::tlm::StorageFormat::F32;
    bias.bytes = bias.bytes.take_front(model.config.dim * 4);
    variant.tensors.push_back(bias);
    return variant;
  }

  /// Writes `bytes` as `name` (keeping the extension that selects the
  /// importer) and returns the path.
  std::string save(const std::string &name, const std::vector<char> &bytes) {
    std::string path = dir.path(name);
    writeFile(path, bytes);
    return path;
  }

  /// Cuts `original` at every offset below `dense` and every `stride`-th
  /// offset beyond, expecting a clean error for each.
  void truncateEverywhere(const std::vector<char> &original,
                          const std::string &name, size_t dense,
                          size_t stride) {
    for (size_t cut = 0; cut < original.size();
         cut += cut < dense ? 1 : stride) {
      std::string path =
          save(name, std::vector<char>(original.begin(), original.begin() + cut));
      std::string message = importError(path);
      ASSERT_FALSE(message.empty()) << name << " cut at " << cut << " imported";
      ASSERT_EQ(message.find('\n'), std::string::npos) << message;
      ASSERT_TRUE(llvm::StringRef(message).starts_with(dir.path("")))
          << message;
    }
  }

  /// Flips each bit of bytes [0, end): the import must never crash, and a
  /// failure must be a clean one-line message.
  void flipHeaderBits(const std::vector<char> &original,
                      const std::string &name, size_t end) {
    for (size_t at = 0; at < std::min(end, original.size()); ++at)
      for (int bit = 0; bit < 8; ++bit) {
        std::vector<char> bytes = original;
        bytes[at] ^= char(1 << bit);
        std::string message = importError(save(name, bytes));
        if (!message.empty()) {
          ASSERT_EQ(message.find('\n'), std::string::npos) << message;
          ASSERT_TRUE(llvm::StringRef(message).starts_with(dir.path("")))
              << message;
        }
      }
  }

  TempDir dir;
  ImportedModel model;
};

//===----------------------------------------------------------------------===//
// GGUF
//===----------------------------------------------------------------------===//

TEST_F(CorruptModel, GGUFTruncatedAnywhere) {
  std::vector<char> bytes = readFile(dir.path("ok.gguf"));
  truncateEverywhere(bytes, "cut.gguf", /*dense=*/12000, /*stride=*/331);
}

TEST_F(CorruptModel, GGUFBitFlipsInHeader) {
  std::vector<char> bytes = readFile(dir.path("ok.gguf"));
  // The fixed header and the first metadata entries (the tokenizer arrays
  // follow; flipping a bit inside a token string is legal).
  flipHeaderBits(bytes, "flip.gguf", 400);
  // And the tensor table at the end of the header.
  size_t table = findLast(bytes, "token_embd.weight") - 17 - 8;
  for (size_t at = table; at < table + 200; ++at)
    for (int bit = 0; bit < 8; ++bit) {
      std::vector<char> flipped = bytes;
      flipped[at] ^= char(1 << bit);
      std::string message = importError(save("flip2.gguf", flipped));
      if (!message.empty())
        ASSERT_EQ(message.find('\n'), std::string::npos) << message;
    }
}

TEST_F(CorruptModel, GGUFWrongMagic) {
  std::vector<char> bytes = readFile(dir.path("ok.gguf"));
  bytes[0] = 'X';
  expectCleanError(save("magic.gguf", bytes), "offset 0: bad magic");
}

TEST_F(CorruptModel, GGUFUnsupportedVersion) {
  std::vector<char> bytes = readFile(dir.path("ok.gguf"));
  poke<uint32_t>(bytes, 4, 1);
  expectCleanError(save("version.gguf", bytes),
                   "GGUF version 1 is not supported");
}

TEST_F(CorruptModel, GGUFAbsurdCounts) {
  std::vector<char> bytes = readFile(dir.path("ok.gguf"));
  poke<uint64_t>(bytes, 8, uint64_t(1) << 60);
  expectCleanError(save("tensors.gguf", bytes), "tensor count");
  bytes = readFile(dir.path("ok.gguf"));
  poke<uint64_t>(bytes, 16, ~uint64_t(0));
  expectCleanError(save("kvs.gguf", bytes), "metadata count");
}

TEST_F(CorruptModel, GGUFAbsurdStringAndArrayLengths) {
  std::vector<char> bytes = readFile(dir.path("ok.gguf"));
  poke<uint64_t>(bytes, 24, uint64_t(1) << 62); // first key's length
  expectCleanError(save("key.gguf", bytes), "exceeds");
  bytes = readFile(dir.path("ok.gguf"));
  // tokenizer.ggml.tokens: type 9 (array), element type 8, then the count.
  size_t at = findLast(bytes, "tokenizer.ggml.tokens") + 8;
  poke<uint64_t>(bytes, at, uint64_t(1) << 58);
  expectCleanError(save("array.gguf", bytes), "cannot fit");
}

TEST_F(CorruptModel, GGUFUnknownArchitecture) {
  std::vector<char> bytes = readFile(dir.path("ok.gguf"));
  size_t at = findLast(bytes, "general.architecture") + 4 + 8;
  std::memcpy(bytes.data() + at, "mamba", 5);
  expectCleanError(save("arch.gguf", bytes),
                   "architecture 'mamba' is not supported");
}

/// Offset of the fields after a tensor's name in the tensor table.
size_t tensorEntry(const std::vector<char> &bytes, llvm::StringRef name) {
  return findLast(bytes, name);
}

TEST_F(CorruptModel, GGUFUnknownTensorType) {
  std::vector<char> bytes = readFile(dir.path("ok.gguf"));
  size_t at = tensorEntry(bytes, "blk.0.attn_q.weight");
  poke<uint32_t>(bytes, at + 4 + 16, 99); // n_dims, 2 dims, then type
  expectCleanError(save("type.gguf", bytes),
                   "tensor 'blk.0.attn_q.weight': ggml type 99 is not supported");
}

TEST_F(CorruptModel, GGUFKQuantTensorNamed) {
  // A Q4_K tensor (ggml type 12), as in the Q4_K_M files most users
  // download: refused by name, with the way to a file the compiler reads.
  std::vector<char> bytes = readFile(dir.path("ok.gguf"));
  size_t at = tensorEntry(bytes, "blk.0.attn_q.weight");
  poke<uint32_t>(bytes, at + 4 + 16, 12);
  expectCleanError(save("q4_k.gguf", bytes),
                   "tensor 'blk.0.attn_q.weight': ggml type 12 (Q4_K) is not "
                   "supported (expected F32, F16, BF16, Q8_0 or Q4_0; "
                   "llama.cpp's llama-quantize --allow-requantize");
}

TEST_F(CorruptModel, GGUFAbsurdDimensions) {
  std::vector<char> bytes = readFile(dir.path("ok.gguf"));
  size_t at = tensorEntry(bytes, "blk.0.attn_q.weight");
  poke<uint32_t>(bytes, at, 9);
  expectCleanError(save("ndims.gguf", bytes), "9 dimensions (expected 1 to 4)");

  bytes = readFile(dir.path("ok.gguf"));
  poke<uint64_t>(bytes, at + 4, uint64_t(1) << 62);
  expectCleanError(save("dim.gguf", bytes), "out of range");

  bytes = readFile(dir.path("ok.gguf"));
  poke<uint64_t>(bytes, at + 4, uint64_t(1) << 40);
  poke<uint64_t>(bytes, at + 12, uint64_t(1) << 40);
  expectCleanError(save("overflow.gguf", bytes), "element count overflows");
}

TEST_F(CorruptModel, GGUFTensorDataPastEnd) {
  std::vector<char> bytes = readFile(dir.path("ok.gguf"));
  size_t at = tensorEntry(bytes, "output.weight");
  poke<uint64_t>(bytes, at + 4 + 16 + 4, uint64_t(1) << 50);
  expectCleanError(save("offset.gguf", bytes),
                   "tensor 'output.weight': data [");
}

TEST_F(CorruptModel, MissingTensor) {
  std::vector<char> bytes = readFile(dir.path("ok.gguf"));
  size_t at = tensorEntry(bytes, "blk.1.ffn_up.weight") - 3;
  std::memcpy(bytes.data() + at, "UP", 2); // rename to blk.1.ffn_UP.weight
  expectCleanError(save("missing.gguf", bytes),
                   "tensor 'blk.1.ffn_up' is missing: expected shape [48, 32]");
}

TEST_F(CorruptModel, InconsistentShape) {
  ImportedModel broken = makeRandomModel(smallConfig(), 1);
  for (ImportedTensor &t : broken.tensors)
    if (t.name == "blk.0.attn_k") {
      t.shape = {8, 32}; // should be [16, 32]
      t.bytes = t.bytes.take_front(8 * 32 * 4);
    }
  ASSERT_FALSE(bool(writeGGUF(broken, dir.path("shape.gguf"))));
  expectCleanError(dir.path("shape.gguf"),
                   "tensor 'blk.0.attn_k': expected shape [16, 32], got [8, 32]");
}

TEST_F(CorruptModel, InconsistentConfig) {
  ImportedModel broken = makeRandomModel(smallConfig(), 1);
  broken.config.kvHeads = 3; // does not divide 4 heads
  ASSERT_FALSE(bool(writeGGUF(broken, dir.path("kv.gguf"))));
  expectCleanError(dir.path("kv.gguf"), "kv_heads 3 does not divide heads 4");
}

//===----------------------------------------------------------------------===//
// llama2.c
//===----------------------------------------------------------------------===//

TEST_F(CorruptModel, Llama2cTruncatedAnywhere) {
  std::vector<char> bytes = readFile(dir.path("ok.bin"));
  // The tokenizer beside it is found as tok300.bin in the same folder.
  truncateEverywhere(bytes, "cut.bin", /*dense=*/256, /*stride=*/97);
}

TEST_F(CorruptModel, Llama2cHeaderBitFlips) {
  std::vector<char> bytes = readFile(dir.path("ok.bin"));
  flipHeaderBits(bytes, "flip.bin", 28);
}

TEST_F(CorruptModel, Llama2cBadHeaderFields) {
  std::vector<char> bytes = readFile(dir.path("ok.bin"));
  poke<int32_t>(bytes, 0, -64);
  expectCleanError(save("dim.bin", bytes), "offset 0: header field dim = -64");
  bytes = readFile(dir.path("ok.bin"));
  poke<int32_t>(bytes, 16, 3);
  expectCleanError(save("kv.bin", bytes), "n_kv_heads 3 does not divide");
  bytes = readFile(dir.path("ok.bin"));
  poke<int32_t>(bytes, 4, 0x7fffffff);
  expectCleanError(save("hidden.bin", bytes), "hidden_dim");
  bytes = readFile(dir.path("ok.bin"));
  poke<int32_t>(bytes, 20, 300); // claims a shared classifier: size differs
  expectCleanError(save("vocab.bin", bytes), "expected");
}

TEST_F(CorruptModel, Llama2cTokenizer) {
  std::vector<char> tok = readFile(dir.path("tok300.bin"));
  // Cut anywhere: the model import names the tokenizer file.
  for (size_t cut = 0; cut < tok.size(); cut += cut < 64 ? 1 : 13) {
    writeFile(dir.path("tok300.bin"),
              std::vector<char>(tok.begin(), tok.begin() + cut));
    expectCleanError(dir.path("ok.bin"), "", dir.path("tok300.bin"));
  }
  std::vector<char> bad = tok;
  poke<int32_t>(bad, 4 + 4, 1 << 30); // first token's length
  writeFile(dir.path("tok300.bin"), bad);
  expectCleanError(dir.path("ok.bin"), "token 0 length 1073741824",
                   dir.path("tok300.bin"));
}

//===----------------------------------------------------------------------===//
// Hugging Face
//===----------------------------------------------------------------------===//

TEST_F(CorruptModel, SafetensorsTruncatedAnywhere) {
  std::vector<char> bytes = readFile(dir.path("hf/model.safetensors"));
  for (size_t cut = 0; cut < bytes.size(); cut += cut < 6000 ? 7 : 331) {
    writeFile(dir.path("hf/model.safetensors"),
              std::vector<char>(bytes.begin(), bytes.begin() + cut));
    expectCleanError(dir.path("hf"), "", dir.path("hf/model.safetensors"));
  }
}

TEST_F(CorruptModel, SafetensorsHeaderBitFlips) {
  std::vector<char> bytes = readFile(dir.path("hf/model.safetensors"));
  for (size_t at = 0; at < 600; ++at)
    for (int bit = 0; bit < 8; bit += 3) {
      std::vector<char> flipped = bytes;
      flipped[at] ^= char(1 << bit);
      writeFile(dir.path("hf/model.safetensors"), flipped);
      std::string message = importError(dir.path("hf"));
      if (!message.empty())
        ASSERT_EQ(message.find('\n'), std::string::npos) << message;
    }
}

/// `original` (a safetensors file) with the first `from` in its header
/// replaced by `to`, the u64 header length kept in step.
std::vector<char> editSafetensorsHeader(const std::vector<char> &original,
                                        llvm::StringRef from,
                                        llvm::StringRef to) {
  std::string text(original.begin(), original.end());
  size_t at = text.find(from.str());
  EXPECT_NE(at, std::string::npos) << from.str();
  if (at == std::string::npos)
    return original;
  text.replace(at, from.size(), to.str());
  uint64_t length;
  std::memcpy(&length, text.data(), 8);
  length += to.size() - from.size();
  std::memcpy(text.data(), &length, 8);
  return std::vector<char>(text.begin(), text.end());
}

TEST_F(CorruptModel, SafetensorsBadEntries) {
  std::vector<char> original = readFile(dir.path("hf/model.safetensors"));
  auto edit = [&](llvm::StringRef from, llvm::StringRef to) {
    writeFile(dir.path("hf/model.safetensors"),
              editSafetensorsHeader(original, from, to));
  };
  edit("\"F32\"", "\"I64\"");
  expectCleanError(dir.path("hf"), "dtype 'I64' is not supported",
                   dir.path("hf/model.safetensors"));
  edit("{", "[");
  expectCleanError(dir.path("hf"), "malformed JSON header",
                   dir.path("hf/model.safetensors"));
  edit("\"shape\":[", "\"shape\":[99999999999999,");
  expectCleanError(dir.path("hf"), "shape: expected positive integers",
                   dir.path("hf/model.safetensors"));
  std::vector<char> huge = original;
  poke<uint64_t>(huge, 0, uint64_t(1) << 61);
  writeFile(dir.path("hf/model.safetensors"), huge);
  expectCleanError(dir.path("hf"), "header length",
                   dir.path("hf/model.safetensors"));
}

//===----------------------------------------------------------------------===//
// What the format specs say, enforced
//===----------------------------------------------------------------------===//

TEST_F(CorruptModel, GGUFTensorOffsetsAlignedAndDisjoint) {
  std::vector<char> bytes = readFile(dir.path("ok.gguf"));
  // An entry: n_dims, the dims, the type, the offset.
  auto offsetField = [&](llvm::StringRef name, int dims) {
    return tensorEntry(bytes, name) + 4 + 8 * dims + 4;
  };
  size_t field = offsetField("output.weight", 2);
  uint64_t offset;
  std::memcpy(&offset, bytes.data() + field, 8);
  poke<uint64_t>(bytes, field, offset + 4);
  expectCleanError(save("misaligned.gguf", bytes),
                   "tensor 'output.weight': data offset " +
                       std::to_string(offset + 4) +
                       " is not a multiple of general.alignment (32)");

  bytes = readFile(dir.path("ok.gguf"));
  std::memcpy(&offset, bytes.data() + offsetField("token_embd.weight", 2), 8);
  poke<uint64_t>(bytes, offsetField("blk.0.attn_q.weight", 2), offset);
  expectCleanError(save("overlap.gguf", bytes), "overlaps tensor");
}

TEST_F(CorruptModel, GGUFTensorsTheGraphWouldIgnore) {
  // A tensor the family's graph does not read changes the math of the file
  // it came from (here: Qwen2's q bias in a llama file): refused by name.
  ImportedModel variant = withQBias();
  ASSERT_FALSE(bool(writeGGUF(variant, dir.path("variant.gguf"))));
  expectCleanError(dir.path("variant.gguf"),
                   "tensor 'blk.0.attn_q.bias' is not part of the llama graph "
                   "tlmc builds; its math would be left out");

  // Llama-3's rope_freqs are read, and must have one f32 per RoPE pair.
  ImportedModel llama3 = model;
  ImportedTensor freqs = llama3.tensors.front();
  freqs.name = "rope_freqs";
  freqs.shape = {int64_t(freqs.bytes.size() / 4)};
  freqs.format = mlir::tlm::StorageFormat::F32;
  llama3.tensors.push_back(freqs);
  ASSERT_FALSE(bool(writeGGUF(llama3, dir.path("llama3.gguf"))));
  expectCleanError(dir.path("llama3.gguf"),
                   "tensor 'rope_freqs.weight': expected " +
                       std::to_string(model.config.headDim / 2) +
                       " f32 values (one per RoPE pair)");
}

TEST_F(CorruptModel, GGUFMetadataTypesAsTheSpecSays) {
  // Each key's value type field follows its name; for arrays the element
  // type follows that. Each retyping keeps the value's size.
  auto retype = [&](llvm::StringRef key, size_t field, uint32_t type) {
    std::vector<char> bytes = readFile(dir.path("ok.gguf"));
    poke<uint32_t>(bytes, findLast(bytes, key) + field, type);
    return save("retyped.gguf", bytes);
  };
  constexpr uint32_t u32 = 4, i32 = 5, f32 = 6;
  expectCleanError(retype("llama.block_count", 0, i32),
                   "metadata 'llama.block_count': expected an unsigned "
                   "integer, found i32");
  expectCleanError(retype("tokenizer.ggml.bos_token_id", 0, f32),
                   "expected an unsigned integer, found f32");
  expectCleanError(retype("llama.rope.freq_base", 0, u32),
                   "metadata 'llama.rope.freq_base': expected an f32, found "
                   "u32");
  expectCleanError(retype("tokenizer.ggml.scores", 4, i32),
                   "metadata 'tokenizer.ggml.scores': expected an array of "
                   "f32, found an array of i32");
  expectCleanError(retype("tokenizer.ggml.token_type", 4, u32),
                   "expected an array of i32, found an array of u32");
  expectCleanError(retype("general.alignment", 0, i32),
                   "general.alignment: expected an unsigned integer");
}

TEST_F(CorruptModel, SafetensorsDataIndexedWithoutHolesOrOverlaps) {
  std::string file = dir.path("hf/model.safetensors");
  std::vector<char> original = readFile(file);
  std::vector<char> longer = original;
  longer.resize(original.size() + 64, 0);
  writeFile(file, longer);
  expectCleanError(dir.path("hf"),
                   "64 bytes after the last tensor are not indexed", file);

  // Point one norm at another's bytes (equal sizes): an overlap and a hole.
  auto offsetsOf = [&](llvm::StringRef name) {
    std::string text(original.begin(), original.end());
    size_t at = text.find("\"data_offsets\":", text.find(name.str()));
    return text.substr(at, text.find(']', at) + 1 - at);
  };
  writeFile(file, editSafetensorsHeader(
                      original,
                      offsetsOf("model.layers.1.input_layernorm.weight"),
                      offsetsOf("model.layers.0.input_layernorm.weight")));
  expectCleanError(dir.path("hf"), "the spec forbids holes and overlaps",
                   file);

  // The same name twice: JSON parsers keep one of the two silently.
  writeFile(file, editSafetensorsHeader(original,
                                        "model.layers.1.input_layernorm",
                                        "model.layers.0.input_layernorm"));
  expectCleanError(dir.path("hf"),
                   "key 'model.layers.0.input_layernorm.weight' appears twice",
                   file);
}

TEST_F(CorruptModel, JsonNestingIsBounded) {
  // LLVM's parser recurses per level; a deep file must not reach it.
  std::string config = dir.path("hf/config.json");
  std::string deep = std::string(100000, '[') + std::string(100000, ']');
  writeFile(config, std::vector<char>(deep.begin(), deep.end()));
  expectCleanError(dir.path("hf"), "JSON nested deeper than 64 levels", config);
}

TEST_F(CorruptModel, FamilyVariantsTheGraphWouldIgnore) {
  // An HF tensor the family's graph does not read: a q bias in a llama
  // checkpoint.
  ImportedModel variant = withQBias();
  ASSERT_FALSE(bool(writeSafetensors(variant, dir.path("biased"))));
  expectCleanError(dir.path("biased"),
                   "tensor 'model.layers.0.self_attn.q_proj.bias' is not part "
                   "of the llama graph tlmc builds; its math would be left out");

  // Phi-3's sliding window: refused where it would mask positions (the
  // context is longer), accepted where it changes nothing.
  ModelConfig phi3 = smallConfig();
  phi3.arch = "phi3";
  phi3.ropeStyle = mlir::tlm::RopeStyle::RotateHalf;
  phi3.slidingWindow = 16;
  ASSERT_FALSE(bool(writeGGUF(makeRandomModel(phi3, 3), dir.path("phi3.gguf"))));
  expectCleanError(dir.path("phi3.gguf"),
                   "sliding-window attention over 16 positions is not "
                   "supported; compile with --context 16 or less, where the "
                   "window changes nothing (the context is 64)");
  ImportOptions shorter;
  shorter.contextOverride = 16;
  EXPECT_TRUE(bool(importModel(dir.path("phi3.gguf"), shorter)));
  // The same from HF, where the window is read from config.json.
  ASSERT_FALSE(bool(writeSafetensors(makeRandomModel(phi3, 3),
                                     dir.path("phi3-hf"))));
  expectCleanError(dir.path("phi3-hf"),
                   "sliding-window attention over 16 positions is not "
                   "supported",
                   dir.path("phi3-hf"));
  EXPECT_TRUE(bool(importModel(dir.path("phi3-hf"), shorter)));

  // Soft-capping (a GGUF key) in a family whose graph has none.
  ModelConfig capped = smallConfig();
  capped.arch = "qwen2";
  capped.ropeStyle = mlir::tlm::RopeStyle::RotateHalf;
  capped.finalLogitSoftcap = 30;
  ASSERT_FALSE(
      bool(writeGGUF(makeRandomModel(capped, 3), dir.path("capped.gguf"))));
  expectCleanError(dir.path("capped.gguf"),
                   "logit soft-capping is not supported for qwen2");
  // Gemma-3 layer kinds that are not the periodic pattern.
  ModelConfig gemma = capped;
  gemma.arch = "gemma3";
  gemma.finalLogitSoftcap = 0;
  gemma.slidingWindow = 8;
  gemma.slidingWindowPattern = 2;
  gemma.ropeThetaLocal = 10000;
  gemma.queryPreAttnScalar = float(gemma.headDim);
  ASSERT_FALSE(bool(writeSafetensors(makeRandomModel(gemma, 3),
                                     dir.path("gemma-hf"))));
  std::string config = dir.path("gemma-hf") + "/config.json";
  auto text = llvm::MemoryBuffer::getFile(config);
  ASSERT_TRUE(bool(text));
  std::string json = (*text)->getBuffer().str();
  json.insert(json.rfind('}'), ", \"layer_types\": [\"full_attention\", "
                               "\"full_attention\"]");
  writeFile(config, std::vector<char>(json.begin(), json.end()));
  expectCleanError(dir.path("gemma-hf"),
                   "field 'layer_types': layer 0 is 'full_attention', "
                   "expected 'sliding_attention'",
                   config);

  // A fused tensor of the wrong shape is refused by its name.
  ImportedModel phi3Model = makeRandomModel(phi3, 3);
  for (ImportedTensor &t : phi3Model.tensors)
    if (t.name == "blk.1.attn_v")
      t.shape[0] /= 2, t.bytes = t.bytes.take_front(t.bytes.size() / 2);
  ASSERT_FALSE(bool(writeGGUF(phi3Model, dir.path("phi3-bad.gguf"))));
  expectCleanError(dir.path("phi3-bad.gguf"),
                   "tensor 'blk.1.attn_qkv': expected shape [64, 32] (attn_q, "
                   "attn_k, attn_v fused), got [56, 32]");
}

TEST_F(CorruptModel, ConfigJson) {
  std::string config = dir.path("hf/config.json");
  std::vector<char> original = readFile(config);
  writeFile(config, llvm::ArrayRef<char>("{\"hidden_size\": 32,", 19));
  expectCleanError(dir.path("hf"), "malformed JSON", config);

  std::string text(original.begin(), original.end());
  std::string arch = text;
  arch.replace(arch.find("LlamaForCausalLM"), 16, "MambaForCausalLM");
  arch.replace(arch.find("\"llama\""), 7, "\"mamba\"");
  writeFile(config, std::vector<char>(arch.begin(), arch.end()));
  expectCleanError(dir.path("hf"),
                   "model_type 'mamba' is not supported (expected one of "
                   "llama, qwen2, qwen3, phi3, gemma2, gemma3_text, gpt2)",
                   config);

  std::string missing = text;
  missing.replace(missing.find("\"hidden_size\""), 13, "\"hidden_sizX\"");
  writeFile(config, std::vector<char>(missing.begin(), missing.end()));
  expectCleanError(dir.path("hf"), "field 'hidden_size' is missing", config);

  std::string wrongType = text;
  size_t at = wrongType.find("\"num_hidden_layers\": ") + 21;
  wrongType.insert(at, "\"");
  wrongType.insert(wrongType.find_first_of(",\n", at + 1), "\"");
  writeFile(config, std::vector<char>(wrongType.begin(), wrongType.end()));
  expectCleanError(dir.path("hf"), "'num_hidden_layers': expected an integer",
                   config);
}

TEST_F(CorruptModel, UnknownFormat) {
  expectCleanError(save("model.onnx", {'a', 'b'}), "unknown model format");
  expectCleanError(dir.path("absent.gguf"), "no such file");
}

} // namespace
