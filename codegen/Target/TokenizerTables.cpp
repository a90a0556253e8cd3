//===- TokenizerTables.cpp - the tables the runtime tokenizer reads -------===//

#include "codegen/Target/TokenizerTables.h"

#include "llvm/ADT/STLExtras.h"
#include "llvm/ADT/StringMap.h"
#include "llvm/ADT/Twine.h"

#include <algorithm>
#include <numeric>

using namespace tlmc;

TokenizerTables::TokenizerTables(const TokenizerData &tok) {
  offsets.push_back(0);
  for (const std::string &t : tok.tokens) {
    bytes.insert(bytes.end(), t.begin(), t.end());
    offsets.push_back(bytes.size());
    maxTokenBytes = std::max<uint32_t>(maxTokenBytes, t.size());
  }
  sortedIds.resize(tok.tokens.size());
  std::iota(sortedIds.begin(), sortedIds.end(), 0);
  llvm::sort(sortedIds, [&](uint32_t a, uint32_t b) {
    return tok.tokens[a] != tok.tokens[b] ? tok.tokens[a] < tok.tokens[b]
                                          : a < b;
  });
  for (int32_t id : tok.addedTokens)
    if (id >= 0 && size_t(id) < tok.tokens.size() && !tok.tokens[id].empty())
      addedIds.push_back(uint32_t(id));
  llvm::sort(addedIds, [&](uint32_t a, uint32_t b) {
    return tok.tokens[a] != tok.tokens[b] ? tok.tokens[a] < tok.tokens[b]
                                          : a < b;
  });
  // Two added tokens of one text: the lower id is the one matched.
  addedIds.erase(std::unique(addedIds.begin(), addedIds.end(),
                             [&](uint32_t a, uint32_t b) {
                               return tok.tokens[a] == tok.tokens[b];
                             }),
                 addedIds.end());
  if (tok.kind != TokenizerData::Kind::GPT2)
    return;
  llvm::StringMap<uint32_t> ids;
  for (uint32_t i = 0; i < tok.tokens.size(); ++i)
    ids.try_emplace(tok.tokens[i], i);
  for (const std::string &merge : tok.merges) {
    auto [left, right] = llvm::StringRef(merge).split(' ');
    auto l = ids.find(left), r = ids.find(right);
    if (l == ids.end() || r == ids.end() || !ids.count((llvm::Twine(left) + right).str()))
      continue;
    mergePairs.push_back(l->second);
    mergePairs.push_back(r->second);
  }
}
