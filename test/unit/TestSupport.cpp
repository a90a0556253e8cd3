//===- TestSupport.cpp - helpers shared by the unit tests -----------*- C++ -*-===//

#include "test/unit/TestSupport.h"
#include "compiler/import/common/ModuleBuilder.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/IR/MLIRContext.h"
#include "mlir/IR/OperationSupport.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/raw_ostream.h"

#include <gtest/gtest.h>

using namespace tlmc;
using namespace tlmc::test;

std::string test::findShared(llvm::StringRef relative) {
  llvm::SmallString<256> p(TLMC_SHARED_DIR);
  llvm::sys::path::append(p, relative);
  return llvm::sys::fs::exists(p) ? std::string(p) : std::string();
}

TempDir::TempDir() {
  std::error_code ec = llvm::sys::fs::createUniqueDirectory("tlmc-test", root);
  EXPECT_FALSE(ec) << ec.message();
}

TempDir::~TempDir() { llvm::sys::fs::remove_directories(root); }

std::string TempDir::path(llvm::StringRef name) const {
  llvm::SmallString<256> p(root);
  llvm::sys::path::append(p, name);
  return std::string(p);
}

ModelConfig test::smallConfig() {
  ModelConfig c;
  c.vocab = 300;
  c.dim = 32;
  c.ffnDim = 48;
  c.layers = 2;
  c.heads = 4;
  c.kvHeads = 2;
  c.headDim = 8;
  c.context = 64;
  c.tiedEmbeddings = false;
  return c;
}

std::vector<char> test::readFile(const std::string &path) {
  auto buffer = llvm::MemoryBuffer::getFile(path, false, false);
  EXPECT_TRUE(bool(buffer)) << path;
  if (!buffer)
    return {};
  return std::vector<char>((*buffer)->getBufferStart(),
                           (*buffer)->getBufferEnd());
}

void test::writeFile(const std::string &path, llvm::ArrayRef<char> bytes) {
  std::error_code ec;
  llvm::raw_fd_ostream os(path, ec);
  ASSERT_FALSE(ec) << path;
  os.write(bytes.data(), bytes.size());
}

std::string test::printGraph(const ImportedModel &model) {
  mlir::MLIRContext context;
  context.loadDialect<mlir::tlm::TLMDialect, mlir::func::FuncDialect,
                      mlir::memref::MemRefDialect>();
  auto module = buildModule(context, model);
  std::string text;
  llvm::raw_string_ostream os(text);
  mlir::OpPrintingFlags flags;
  flags.elideLargeResourceString(0);
  module->print(os, flags);
  return text;
}

std::vector<std::pair<std::string, std::vector<float>>>
test::decodeAll(const ImportedModel &model) {
  std::vector<std::pair<std::string, std::vector<float>>> out;
  for (auto &[name, shape] : getExpectedTensors(model.config)) {
    const ImportedTensor *t = model.findTensor(name);
    EXPECT_NE(t, nullptr) << name;
    if (!t)
      continue;
    std::vector<float> values(t->getNumElements());
    mlir::tlm::decodeToF32(t->format, t->bytes, values.size(), values.data());
    out.push_back({name, std::move(values)});
  }
  return out;
}
