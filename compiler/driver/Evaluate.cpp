//===- Evaluate.cpp - measure a compressed model on native code -------*- C++ -*-===//

#include "compiler/driver/Evaluate.h"

#include "llvm/ADT/ScopeExit.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/Program.h"

#include <cmath>

using namespace tlmc;

static llvm::Error makeError(const llvm::Twine &message) {
  return llvm::createStringError(llvm::inconvertibleErrorCode(), message);
}

/// Runs `exe --perplexity text --dump-logits dump`; returns the perplexity.
static llvm::Expected<double> runPerplexity(llvm::StringRef exe,
                                            llvm::StringRef text,
                                            llvm::StringRef dump,
                                            llvm::StringRef stdoutPath) {
  llvm::SmallVector<llvm::StringRef> args = {exe, "--perplexity", text,
                                             "--dump-logits", dump};
  std::string stderrPath = (stdoutPath + ".err").str();
  std::optional<llvm::StringRef> redirects[] = {std::nullopt, stdoutPath,
                                                llvm::StringRef(stderrPath)};
  std::string message;
  int rc = llvm::sys::ExecuteAndWait(exe, args, std::nullopt, redirects, 0, 0,
                                     &message);
  if (rc != 0)
    return makeError("evaluating " + exe + " failed" +
                     (message.empty() ? "" : ": " + message));
  auto out = llvm::MemoryBuffer::getFile(stdoutPath);
  double ppl = 0;
  if (!out || !llvm::StringRef((*out)->getBuffer())
                   .trim()
                   .consume_front("perplexity ") ||
      llvm::StringRef((*out)->getBuffer()).trim().drop_front(11).getAsDouble(ppl))
    return makeError("evaluating " + exe + ": unexpected output");
  return ppl;
}

llvm::Expected<llvm::json::Object>
tlmc::evaluateCompression(const ImportedModel &model,
                          const CompileOptions &options) {
  if (!llvm::sys::fs::exists(options.evalText))
    return makeError("--eval-text " + options.evalText + ": no such file");
  llvm::SmallString<128> dir;
  if (std::error_code ec = llvm::sys::fs::createUniqueDirectory("tlmc-eval", dir))
    return makeError("cannot create a temporary folder: " + ec.message());
  llvm::scope_exit cleanup([&] { llvm::sys::fs::remove_directories(dir); });

  double ppl[2];
  std::string dumps[2];
  for (int compressed = 0; compressed < 2; ++compressed) {
    CompileOptions o = options;
    o.output = (dir + (compressed ? "/compressed" : "/original")).str();
    o.exe = true;
    o.embedWeights = false;
    o.target = TargetOptions(); // the host: these run here
    o.evalText.clear();
    o.reportPath.clear();
    o.verbose = false;
    if (!compressed)
      o.compression = CompressionOptions();
    if (auto err = compileModel(model, o))
      return std::move(err);
    dumps[compressed] = o.output + ".logits";
    auto p = runPerplexity(o.output, options.evalText, dumps[compressed],
                           o.output + ".out");
    if (!p)
      return p.takeError();
    ppl[compressed] = *p;
  }

  auto a = llvm::MemoryBuffer::getFile(dumps[0], false, false);
  auto b = llvm::MemoryBuffer::getFile(dumps[1], false, false);
  if (!a || !b || (*a)->getBufferSize() != (*b)->getBufferSize())
    return makeError("evaluation logits differ in size");
  size_t vocab = size_t(model.config.vocab);
  size_t rows = (*a)->getBufferSize() / (sizeof(float) * vocab);
  auto *pa = reinterpret_cast<const float *>((*a)->getBufferStart());
  auto *pb = reinterpret_cast<const float *>((*b)->getBufferStart());
  double kl = 0;
  size_t agree = 0;
  std::vector<double> p(vocab), q(vocab);
  for (size_t r = 0; r < rows; ++r) {
    const float *x = pa + r * vocab, *y = pb + r * vocab;
    auto softmax = [&](const float *l, std::vector<double> &out) {
      double max = l[0], sum = 0;
      size_t arg = 0;
      for (size_t i = 1; i < vocab; ++i)
        if (l[i] > max) {
          max = l[i];
          arg = i;
        }
      for (size_t i = 0; i < vocab; ++i)
        sum += out[i] = std::exp(double(l[i]) - max);
      for (double &v : out)
        v /= sum;
      return arg;
    };
    size_t ta = softmax(x, p), tb = softmax(y, q);
    agree += ta == tb;
    for (size_t i = 0; i < vocab; ++i)
      if (p[i] > 0)
        kl += p[i] * (std::log(p[i]) - std::log(std::max(q[i], 1e-300)));
  }
  if (!rows)
    return makeError("--eval-text " + options.evalText + ": nothing to score");
  return llvm::json::Object{
      {"text", options.evalText},
      {"tokens", int64_t(rows)},
      {"perplexity_original", ppl[0]},
      {"perplexity_compressed", ppl[1]},
      {"perplexity_change_percent", 100.0 * (ppl[1] / ppl[0] - 1.0)},
      {"mean_kl", kl / double(rows)},
      {"top1_agreement_percent", 100.0 * double(agree) / double(rows)}};
}
