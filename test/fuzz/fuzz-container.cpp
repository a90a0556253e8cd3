//===- fuzz-container.cpp - the runtime's container verifier --------*- C++ -*-===//
//
// The input is a `.tlmw` container as a device would load it. The
// "compiled model" is the stand-in (vocab 300, context 32) with the
// fingerprint the input's header claims: whoever hands a device a hostile
// container can copy a real fingerprint, so only the verifier stands
// between the input and the compiled code. An accepted container must
// survive tokenizing, evaluating to the end of its context and sampling.
//
//===----------------------------------------------------------------------===//

#include "runtime/include/tlm/container.h"
#include "runtime/include/tlm/tlm.h"
#include "test/fuzz/FuzzSupport.h"
#include "test/support/StandInModel.h"

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <vector>

using namespace tlmc;

/// The stand-in with one of the runtime's two tokenizer kinds.
static test::StandIn makeStandIn(bool byteLevel) {
  test::StandInModel model;
  auto s = model.withTokenizer(byteLevel ? test::makeByteLevelTokenizer()
                                         : model.getGeneratedTokenizer());
  if (!s)
    fuzz::fail(llvm::toString(s.takeError()));
  return std::move(*s);
}

/// With TLMC_FUZZ_WRITE_SEEDS=DIR, writes the stand-in's containers (the
/// seeds test/fuzz/make-seeds.py keeps) to DIR.
extern "C" int LLVMFuzzerInitialize(int *, char ***) {
  const char *dir = std::getenv("TLMC_FUZZ_WRITE_SEEDS");
  if (!dir)
    return 0;
  for (bool byteLevel : {false, true}) {
    std::string path = std::string(dir) +
                       (byteLevel ? "/byte-level.tlmw" : "/sentencepiece.tlmw");
    const std::vector<char> &bytes = makeStandIn(byteLevel).container.bytes;
    FILE *f = std::fopen(path.c_str(), "wb");
    if (!f || std::fwrite(bytes.data(), 1, bytes.size(), f) != bytes.size())
      fuzz::fail("cannot write " + path);
    std::fclose(f);
  }
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  static const test::StandIn standIn = makeStandIn(/*byteLevel=*/false);
  tlm_model model = standIn.model;
  tlm_container_header header;
  if (size >= sizeof header) {
    std::memcpy(&header, data, sizeof header);
    model.fingerprint = header.fingerprint;
  }
  // Aligned as a mapping or malloc gives it (libFuzzer's copy need not be),
  // and exactly `size` bytes long, so that ASan sees any read past the end.
  std::unique_ptr<uint8_t[]> aligned(new uint8_t[size ? size : 1]);
  if (size)
    std::memcpy(aligned.get(), data, size);
  tlm_session *session = nullptr;
  char error[256] = {};
  if (tlm_session_open(&model, size ? aligned.get() : nullptr, size, nullptr,
                       &session, error, sizeof error) != TLM_OK) {
    if (!std::strlen(error) || std::strchr(error, '\n'))
      fuzz::fail(llvm::Twine("a refusal without a one-line message: '") +
                 error + "'");
    return 0;
  }
  fuzz::tokenizeAndDecode(session, "Once upon a time, na\xC3\xAFve \xFF!",
                          /*exactRoundTrip=*/false);
  const tlm_config *config = tlm_session_config(session);
  std::vector<int32_t> tokens(size_t(config->context), 1);
  if (tlm_eval(session, tokens.data(), tokens.size(), nullptr) != TLM_OK)
    fuzz::fail(llvm::Twine("evaluating the whole context failed: ") +
               tlm_session_error(session));
  tlm_sampler sampler;
  tlm_sampler_init(&sampler, 0.8f, 0.9f, 40, 7);
  if (tlm_sample(session, &sampler) < 0)
    fuzz::fail("sampling failed");
  tlm_session_close(session);
  return 0;
}
