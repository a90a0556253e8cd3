//===- ByteLevelSymbols.h - GPT-2's spelling of bytes -------------*- C++ -*-===//
//
// Byte-level BPE vocabularies (GPT-2, SmolLM2, Llama-3, Qwen) spell every
// byte as one printable code point, GPT-2's bytes_to_unicode: printable
// Latin-1 bytes as themselves, the other 68 as U+0100 upwards in byte order.
// Shared by the runtime's tokenizer and the compiler's check that a
// byte-level vocabulary has all 256 of them (header-only, no dependencies).
//
//===----------------------------------------------------------------------===//

#ifndef TLMC_RUNTIME_SRC_BYTELEVELSYMBOLS_H
#define TLMC_RUNTIME_SRC_BYTELEVELSYMBOLS_H

#include <cstdint>

namespace tlmrt {

/// Whether byte (or code point below 256) `b` stands for itself.
inline bool isSelfSpelledByte(uint32_t b) {
  return (b >= 33 && b <= 126) || (b >= 161 && b <= 172) ||
         (b >= 174 && b <= 255);
}

/// The code point that spells byte `b`.
inline uint32_t byteToCodePoint(unsigned b) {
  if (isSelfSpelledByte(b))
    return b;
  uint32_t shifted = 0;
  for (unsigned x = 0; x < b; ++x)
    shifted += !isSelfSpelledByte(x);
  return 256 + shifted;
}

/// The byte code point `cp` spells, or -1 if it spells none.
inline int codePointToByte(uint32_t cp) {
  if (cp < 256)
    return isSelfSpelledByte(cp) ? int(cp) : -1;
  for (unsigned b = 0; b < 256; ++b)
    if (!isSelfSpelledByte(b) && byteToCodePoint(b) == cp)
      return int(b);
  return -1;
}

/// `cp` (below U+0800, as every byte symbol is) in UTF-8; returns the
/// length (1 or 2).
inline unsigned encodeByteSymbol(uint32_t cp, char out[2]) {
  if (cp < 0x80) {
    out[0] = char(cp);
    return 1;
  }
  out[0] = char(0xC0 | (cp >> 6));
  out[1] = char(0x80 | (cp & 0x3F));
  return 2;
}

} // namespace tlmrt

#endif // TLMC_RUNTIME_SRC_BYTELEVELSYMBOLS_H
