//===- UnicodeTest.cpp - the runtime's Unicode classes and NFC check -*- C++ -*-===//
//
// The expected answers are Python's unicodedata (is_normalized('NFC', s),
// category()), an implementation independent of the tables' generators'
// use of it: each case was checked there.
//
//===----------------------------------------------------------------------===//

#include "runtime/src/UnicodeClasses.h"

#include <gtest/gtest.h>

#include <string>

using namespace tlmrt;

namespace {

bool nfc(const std::string &s) {
  return isNFC(reinterpret_cast<const unsigned char *>(s.data()), s.size());
}

TEST(Unicode, NfcCheckDecidesExactly) {
  EXPECT_TRUE(nfc("Caf\u00e9 na\u00efve"));
  EXPECT_FALSE(nfc("Cafe\u0301"));        // e + acute composes
  EXPECT_TRUE(nfc("q\u0301"));            // q + acute does not
  EXPECT_FALSE(nfc("\u212b"));            // Angstrom sign: never in NFC
  EXPECT_FALSE(nfc("A\u030a"));           // A + ring composes to U+00C5
  // Marks: out of canonical order; blocked and unblocked composition.
  EXPECT_FALSE(nfc("a\u0301\u0316"));     // 230 before 220
  EXPECT_FALSE(nfc("a\u0316\u0301"));     // acute unblocked by 220: composes
  EXPECT_TRUE(nfc("\u00e1\u0316"));       // the NFC of both
  // Devanagari nukta: U+0958 is excluded from composition, U+0929 is not.
  EXPECT_FALSE(nfc("\u0958"));
  EXPECT_TRUE(nfc("\u0915\u093c"));
  EXPECT_FALSE(nfc("\u0928\u093c"));
  // Hangul by formula: L + V, LV + T compose; LVT does not take more.
  EXPECT_FALSE(nfc("\u1112\u1161"));
  EXPECT_FALSE(nfc("\ud558\u11ab"));
  EXPECT_TRUE(nfc("\ud55c"));
  // Invalid UTF-8 composes with nothing.
  EXPECT_TRUE(nfc("x\xff\xcc\x81"));
}

TEST(Unicode, ClassesAreUnicodeCategories) {
  auto cls = [](const std::string &s) {
    return decodeCodePoint(reinterpret_cast<const unsigned char *>(s.data()),
                           s.size())
        .cls;
  };
  EXPECT_EQ(cls("\u00e9"), CharClass::Letter);  // Ll
  EXPECT_EQ(cls("\u65e5"), CharClass::Letter);  // Lo (CJK)
  EXPECT_EQ(cls("\u0661"), CharClass::Number);  // Nd (Arabic-Indic one)
  EXPECT_EQ(cls("\u00bd"), CharClass::Number);  // No (one half)
  EXPECT_EQ(cls("\u2167"), CharClass::Number);  // Nl (Roman numeral eight)
  EXPECT_EQ(cls("\u3000"), CharClass::Space);   // ideographic space
  EXPECT_EQ(cls("\u0085"), CharClass::Space);   // next line: White_Space
  EXPECT_EQ(cls("\ufeff"), CharClass::Other);   // not White_Space
  EXPECT_EQ(cls("\u0301"), CharClass::Other);   // Mn: neither L nor N
  EXPECT_EQ(cls("\U0001F642"), CharClass::Other); // emoji (So)
  EXPECT_EQ(cls("\r"), CharClass::Newline);
  EXPECT_EQ(cls("\xc0\xaf"), CharClass::Other);  // overlong: invalid
  EXPECT_EQ(cls("\xed\xa0\x80"), CharClass::Other); // surrogate: invalid
}

} // namespace
