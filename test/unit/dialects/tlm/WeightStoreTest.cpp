//===- WeightStoreTest.cpp - decoding of weight storage formats -----*- C++ -*-===//

#include "dialects/tlm/IR/WeightStore.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <limits>

using namespace mlir::tlm;

namespace {

TEST(WeightStore, HalfToFloat) {
  EXPECT_EQ(halfToFloat(0x3c00), 1.0f);
  EXPECT_EQ(halfToFloat(0xc000), -2.0f);
  EXPECT_EQ(halfToFloat(0x7bff), 65504.0f);
  EXPECT_EQ(halfToFloat(0x3555), 0.333251953125f);
  EXPECT_EQ(halfToFloat(0x0001), std::ldexp(1.0f, -24)); // smallest subnormal
  EXPECT_EQ(halfToFloat(0x03ff), std::ldexp(1023.0f, -24));
  EXPECT_EQ(halfToFloat(0x0400), std::ldexp(1.0f, -14)); // smallest normal
  EXPECT_TRUE(std::signbit(halfToFloat(0x8000)));
  EXPECT_EQ(halfToFloat(0x7c00), std::numeric_limits<float>::infinity());
  EXPECT_TRUE(std::isnan(halfToFloat(0x7e00)));
}

TEST(WeightStore, BFloat16ToFloat) {
  EXPECT_EQ(bfloat16ToFloat(0x3f80), 1.0f);
  EXPECT_EQ(bfloat16ToFloat(0xc0a0), -5.0f);
  EXPECT_EQ(bfloat16ToFloat(0x3e80), 0.25f);
}

TEST(WeightStore, Q8_0Block) {
  std::vector<char> block(34);
  uint16_t half = 0x3800; // 0.5
  std::memcpy(block.data(), &half, 2);
  for (int j = 0; j < 32; ++j)
    block[2 + j] = char(int8_t(j - 16));
  std::vector<float> out(32);
  decodeToF32(StorageFormat::Q8_0, block, 32, out.data());
  for (int j = 0; j < 32; ++j)
    EXPECT_EQ(out[j], 0.5f * (j - 16));
}

TEST(WeightStore, Q4_0Block) {
  std::vector<char> block(18);
  uint16_t half = 0x4000; // 2.0
  std::memcpy(block.data(), &half, 2);
  for (int j = 0; j < 16; ++j)
    block[2 + j] = char(uint8_t(j | ((15 - j) << 4)));
  std::vector<float> out(32);
  decodeToF32(StorageFormat::Q4_0, block, 32, out.data());
  for (int j = 0; j < 16; ++j) {
    EXPECT_EQ(out[j], 2.0f * (j - 8)) << j;          // low nibbles first
    EXPECT_EQ(out[16 + j], 2.0f * (7 - j)) << j;     // then high nibbles
  }
}

TEST(WeightStore, StorageBytes) {
  EXPECT_EQ(getStorageBytes(StorageFormat::F32, 10), 40);
  EXPECT_EQ(getStorageBytes(StorageFormat::BF16, 10), 20);
  EXPECT_EQ(getStorageBytes(StorageFormat::Q8_0, 64), 68);
  EXPECT_EQ(getStorageBytes(StorageFormat::Q4_0, 64), 36);
  EXPECT_FALSE(getStorageBytes(StorageFormat::Q4_0, 40).has_value());
}

} // namespace
