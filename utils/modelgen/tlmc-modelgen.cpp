//===- tlmc-modelgen.cpp - models of real shapes with random weights -*- C++ -*-===//
//
//   tlmc-modelgen --shape smollm2-135m --dtype f16 --format gguf -o m.gguf
//
// Speed does not depend on weight values, so benchmarks and tests use
// seeded random weights in the exact shapes of real models.
//
//===----------------------------------------------------------------------===//

#include "compiler/import/family/Family.h"
#include "utils/modelgen/ModelWriter.h"

#include "llvm/Support/CommandLine.h"
#include "llvm/Support/InitLLVM.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/WithColor.h"

using namespace llvm;
using namespace tlmc;

static cl::opt<std::string> shape("shape", cl::desc("Model shape"),
                                  cl::init("stories260K"));
static cl::opt<std::string> dtype("dtype",
                                  cl::desc("f32, f16, bf16, q8_0 or q4_0"),
                                  cl::init("f32"));
static cl::opt<std::string> fileFormat("format",
                                   cl::desc("gguf, llama2c or hf"),
                                   cl::init("gguf"));
static cl::opt<uint64_t> seed("seed", cl::desc("Random seed"), cl::init(1));
static cl::opt<int> layers(
    "layers",
    cl::desc("Keep only the first N layers of the shape (0: all); every "
             "layer has the same shape, so a few test what all do"),
    cl::init(0));
static cl::opt<std::string> arch(
    "arch",
    cl::desc("Another family's block on the shape (qwen2, qwen3, phi3, ...): "
             "small models of every family for tests"),
    cl::init(""));
static cl::opt<int> vocab(
    "vocab", cl::desc("Another vocabulary size (0: the shape's): a small "
                      "model to pair with a real tokenizer (tlmc compile "
                      "--tokenizer)"),
    cl::init(0));
static cl::opt<int> slidingWindow(
    "sliding-window",
    cl::desc("Another sliding window (0: the shape's), e.g. shorter than a "
             "test's sequence so that it masks"),
    cl::init(0));
static cl::opt<int> shards("shards", cl::desc("HF safetensors shards"),
                           cl::init(1));
static cl::opt<std::string> output("o", cl::desc("Output file (or folder for "
                                                 "hf)"),
                                   cl::Required);

int main(int argc, char **argv) {
  InitLLVM init(argc, argv);
  cl::ParseCommandLineOptions(argc, argv, "tlmc model generator\n");
  auto fail = [](const Twine &msg) {
    WithColor::error(errs(), "tlmc-modelgen") << msg << "\n";
    return 1;
  };
  Expected<ModelConfig> config = getNamedShape(shape);
  if (!config)
    return fail(toString(config.takeError()));
  if (layers < 0)
    return fail("--layers must not be negative");
  if (layers > 0)
    config->layers = std::min<int64_t>(config->layers, layers);
  if (vocab < 0 || vocab > (1 << 24))
    return fail("--vocab must be in [0, 2^24]");
  if (vocab > 0)
    config->vocab = vocab;
  if (slidingWindow < 0)
    return fail("--sliding-window must not be negative");
  if (slidingWindow > 0)
    config->slidingWindow = slidingWindow;
  if (!arch.empty()) {
    const Family *family = lookupFamily(arch);
    if (!family)
      return fail("--arch '" + arch + "': expected one of " + getFamilyNames());
    config->arch = arch;
    // The family's own layer pattern, RoPE bases and soft-caps, not the
    // shape's.
    config->slidingWindowPattern = 0;
    config->ropeThetaLocal = 0;
    std::tie(config->attnLogitSoftcap, config->finalLogitSoftcap) =
        family->getGGUFSoftcapDefaults();
    family->completeGGUFConfig(*config);
    config->ropeStyle = family->getGGUFRopeStyle();
  }
  std::optional<mlir::tlm::StorageFormat> storage =
      StringSwitch<std::optional<mlir::tlm::StorageFormat>>(dtype)
          .Case("f32", mlir::tlm::StorageFormat::F32)
          .Case("f16", mlir::tlm::StorageFormat::F16)
          .Case("bf16", mlir::tlm::StorageFormat::BF16)
          .Case("q8_0", mlir::tlm::StorageFormat::Q8_0)
          .Case("q4_0", mlir::tlm::StorageFormat::Q4_0)
          .Default(std::nullopt);
  if (!storage)
    return fail("--dtype '" + dtype + "': expected f32, f16, bf16, q8_0, q4_0");
  ImportedModel model = makeRandomModel(*config, seed, *storage);
  Error err = Error::success();
  if (fileFormat == "gguf")
    err = writeGGUF(model, output);
  else if (fileFormat == "llama2c")
    err = writeLlama2c(model, output,
                       (sys::path::parent_path(output) + (sys::path::parent_path(output).empty() ? "" : "/") + "tok" + Twine(config->vocab) + ".bin").str());
  else if (fileFormat == "hf")
    err = writeSafetensors(model, output, shards);
  else
    return fail("--format '" + fileFormat + "': expected gguf, llama2c or hf");
  if (err)
    return fail(toString(std::move(err)));
  return 0;
}
