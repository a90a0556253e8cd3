//===- Families.cpp - the registered model families ------------------*- C++ -*-===//

#include "compiler/import/family/Family.h"

#include "llvm/ADT/STLExtras.h"
#include "llvm/ADT/StringExtras.h"

using namespace tlmc;

static llvm::ArrayRef<const Family *> getFamilies() {
  static const Family *const families[] = {
      &getLlamaFamily(), &getQwen2Family(), &getQwen3Family(),
      &getPhi3Family(), &getGemma2Family(), &getGemma3Family(),
      &getGPT2Family()};
  return families;
}

const Family *tlmc::lookupFamily(llvm::StringRef name) {
  for (const Family *f : getFamilies())
    if (f->getName() == name)
      return f;
  return nullptr;
}

const Family *tlmc::lookupHFFamily(llvm::StringRef modelType) {
  for (const Family *f : getFamilies())
    if (f->getHFModelType() == modelType)
      return f;
  return nullptr;
}

std::string tlmc::getHFModelTypeNames() {
  return llvm::join(llvm::map_range(getFamilies(),
                                    [](const Family *f) {
                                      return f->getHFModelType().str();
                                    }),
                    ", ");
}

std::string tlmc::getFamilyNames() {
  return llvm::join(llvm::map_range(getFamilies(),
                                    [](const Family *f) {
                                      return f->getName().str();
                                    }),
                    ", ");
}
