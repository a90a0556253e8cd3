//===- WeightPackingTest.cpp - layouts codegen derives from compressed weights -*- C++ -*-===//
//
// The split-nibble int4 layout and the 32-feature sparse blocks, byte for
// byte, on weights parsed from IR (what the container writer packs).
//
//===----------------------------------------------------------------------===//

#include "codegen/Pipeline.h"
#include "codegen/Target/SparseBlocks.h"
#include "codegen/Target/SplitNibbles.h"

#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/MLIRContext.h"
#include "mlir/Parser/Parser.h"
#include "llvm/ADT/StringExtras.h"

#include <gtest/gtest.h>

#include <cstring>

using namespace mlir;
using namespace tlmc;

namespace {

/// A dense_resource hex string (alignment 4) holding `values`.
template <typename T> std::string hexBlob(const std::vector<T> &values) {
  std::string bytes(values.size() * sizeof(T), '\0');
  std::memcpy(bytes.data(), values.data(), bytes.size());
  return "\"0x04000000" + llvm::toHex(bytes) + "\"";
}

class WeightPacking : public ::testing::Test {
protected:
  WeightPacking() {
    DialectRegistry registry;
    registerCodegenDialects(registry);
    context.appendDialectRegistry(registry);
    context.loadAllAvailableDialects();
  }

  OwningOpRef<ModuleOp> parse(const std::string &text) {
    return parseSourceString<ModuleOp>(text, &context);
  }

  MLIRContext context;
};

/// Nibble k of a row in feature order is k % 16; a row of 40 features is a
/// chunk of 32 and a short chunk of 8.
TEST_F(WeightPacking, SplitNibbles) {
  // A symmetric int4 weight, one row of `columns` in groups of 32.
  auto parseInt4Row = [&](int columns, const std::vector<uint8_t> &packed) {
    int groups = (columns + 31) / 32;
    return parse("compress.quantized_weight @w : tensor<1x" +
                 std::to_string(columns) +
                 "xf32> {bits = 4 : i64, group_size = 32 : i64, symmetric = "
                 "true} values = dense_resource<v> : tensor<1x" +
                 std::to_string(packed.size()) +
                 "xi8> scales = dense_resource<s> : tensor<1x" +
                 std::to_string(groups) +
                 "xf32>\n{-#\n dialect_resources: { builtin: { v: " +
                 hexBlob(packed) + ", s: " +
                 hexBlob(std::vector<float>(groups, 1.0f)) + " } }\n#-}\n");
  };
  std::vector<uint8_t> packed(20);
  for (int k = 0; k < 40; ++k)
    packed[k / 2] |= uint8_t((k % 16) << (k % 2 ? 4 : 0));
  auto module = parseInt4Row(40, packed);
  ASSERT_TRUE(module);
  auto weight = *module->getOps<compress::QuantizedWeightOp>().begin();
  ASSERT_TRUE(hasSplitNibbleLayout(weight));
  std::vector<uint8_t> out(20);
  ASSERT_TRUE(succeeded(packSplitNibbles(weight, out)));
  for (int j = 0; j < 16; ++j) { // features j and 16 + j
    EXPECT_EQ(out[j] & 15, j % 16) << j;
    EXPECT_EQ(out[j] >> 4, (16 + j) % 16) << j;
  }
  for (int j = 0; j < 4; ++j) { // the short chunk: 32 + j and 36 + j
    EXPECT_EQ(out[16 + j] & 15, (32 + j) % 16) << j;
    EXPECT_EQ(out[16 + j] >> 4, (36 + j) % 16) << j;
  }
  // An odd width has no split layout (the pair of its last byte is missing).
  auto odd = parseInt4Row(33, std::vector<uint8_t>(17));
  ASSERT_TRUE(odd);
  EXPECT_FALSE(
      hasSplitNibbleLayout(*odd->getOps<compress::QuantizedWeightOp>().begin()));
}

/// Row 0 keeps features 1, 3, 33 and 39 (two blocks, the second short);
/// row 1 keeps 17 features of its first block, which do not fit.
TEST_F(WeightPacking, SparseBlocks) {
  auto parseCSR = [&](std::vector<float> values, std::vector<int16_t> columns,
                      std::vector<int32_t> offsets, int rows) {
    return parse("compress.sparse_weight @w : tensor<" + std::to_string(rows) +
                 "x40xf32> values = dense_resource<v> : tensor<" +
                 std::to_string(values.size()) +
                 "xf32> columns = dense_resource<c> : tensor<" +
                 std::to_string(columns.size()) +
                 "xi16> row_offsets = dense_resource<o> : tensor<" +
                 std::to_string(offsets.size()) +
                 "xi32>\n{-#\n dialect_resources: { builtin: { v: " +
                 hexBlob(values) + ", c: " + hexBlob(columns) +
                 ", o: " + hexBlob(offsets) + " } }\n#-}\n");
  };
  auto fits = parseCSR({1, 2, 3, 4}, {1, 3, 33, 39}, {0, 4}, 1);
  ASSERT_TRUE(fits);
  auto weight = *fits->getOps<compress::SparseWeightOp>().begin();
  ASSERT_EQ(getSparseBlocksPerRow(weight), std::optional<int64_t>(2));
  std::vector<float> values(32, -1.0f);
  std::vector<uint8_t> indices(32, 99);
  ASSERT_TRUE(succeeded(packSparseBlocks(weight, values, indices)));
  EXPECT_EQ(values[0], 1.0f);
  EXPECT_EQ(indices[0], 1);
  EXPECT_EQ(values[1], 2.0f);
  EXPECT_EQ(indices[1], 3);
  EXPECT_EQ(values[16], 3.0f); // block 1: features 33 and 39 -> 1 and 7
  EXPECT_EQ(indices[16], 1);
  EXPECT_EQ(values[17], 4.0f);
  EXPECT_EQ(indices[17], 7);
  for (int i : {2, 15, 18, 31}) { // padding: value 0 at index 0
    EXPECT_EQ(values[i], 0.0f) << i;
    EXPECT_EQ(indices[i], 0) << i;
  }

  std::vector<float> many(17, 1.0f);
  std::vector<int16_t> columns(17);
  for (int i = 0; i < 17; ++i)
    columns[i] = int16_t(i);
  auto crowded = parseCSR(many, columns, {0, 0, 17}, 2);
  ASSERT_TRUE(crowded);
  EXPECT_EQ(getSparseBlocksPerRow(
                *crowded->getOps<compress::SparseWeightOp>().begin()),
            std::nullopt);
}

} // namespace
