//===- tlmc.cpp - the tlmc command-line driver ------------------------*- C++ -*-===//
//
//   tlmc inspect MODEL            summarize a model file
//   tlmc import MODEL -o OUT      write the model as tlm IR
//   tlmc compile MODEL -o OUT     native code: OUT.o, OUT.h, OUT.tlmw
//
//===----------------------------------------------------------------------===//

#include "codegen/Target/TargetOptions.h"
#include "compiler/driver/Tokenize.h"
#include "llvm/Support/MemoryBuffer.h"
#include "compiler/driver/Compile.h"
#include "compiler/driver/Progress.h"
#include "tlmc_version.h"
#include "llvm/Config/llvm-config.h"
#include "compiler/import/Import.h"
#include "compiler/import/common/ModuleBuilder.h"
#include "compiler/import/common/Summary.h"
#include "dialects/tlm/IR/TLMDialect.h"

#include "mlir/Bytecode/BytecodeWriter.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/IR/MLIRContext.h"
#include "mlir/IR/Verifier.h"
#include "llvm/Support/CommandLine.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/InitLLVM.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/ToolOutputFile.h"
#include "llvm/Support/WithColor.h"

using namespace llvm;
using namespace tlmc;

// tlmc's own options, grouped for --help; LLVM's stay under --help-hidden.
static cl::OptionCategory inputCategory("Input");
static cl::OptionCategory outputCategory("Output");
static cl::OptionCategory targetCategory("Target and memory");
static cl::OptionCategory compressionCategory("Compression");
static cl::OptionCategory evaluationCategory("Evaluation and diagnostics");

static cl::SubCommand inspectCommand("inspect", "Summarize a model file");
static cl::SubCommand importCommand("import", "Write a model as tlm IR");
static cl::SubCommand targetsCommand(
    "targets", "List the target CPUs tlmc compiles for and what each gives");
static cl::SubCommand compileCommand("compile",
                                     "Compile a model to native code");
static cl::SubCommand tokenizeCommand(
    "tokenize", "Print the token ids (or pieces) a tokenizer gives a text, "
                "as the device's runtime computes them");

static cl::opt<std::string> tokenizeText(cl::Positional, cl::desc("[TEXT]"),
                                         cl::sub(tokenizeCommand),
                                         cl::cat(inputCategory));
static cl::opt<std::string> tokenizeWith(
    "tokenizer", cl::Required,
    cl::desc("A tokenizer.json, a GGUF or a llama2.c tok*.bin"),
    cl::sub(tokenizeCommand), cl::cat(inputCategory));
static cl::opt<bool> tokenizePieces(
    "pieces", cl::desc("One ID<TAB>PIECE line per token instead of the ids"),
    cl::sub(tokenizeCommand), cl::cat(outputCategory));
static cl::opt<bool> tokenizeIds("ids",
                                 cl::desc("The ids on one line (the default)"),
                                 cl::sub(tokenizeCommand),
                                 cl::cat(outputCategory));
static cl::opt<bool> tokenizeDecode(
    "decode",
    cl::desc("Print the text the ids decode to, as the device decodes them "
             "(to check that the round trip gives the text back)"),
    cl::sub(tokenizeCommand), cl::cat(outputCategory));
static cl::opt<bool> tokenizeChat(
    "chat",
    cl::desc("The input is a conversation, a JSON array of {\"role\": "
             "system|user|assistant, \"content\": TEXT}: tokenize it in the "
             "model's chat format (from its chat template), as the device's "
             "tlm_chat_format assembles it, through the reply's opening"),
    cl::sub(tokenizeCommand), cl::cat(inputCategory));
static cl::opt<bool> tokenizeNoBos(
    "no-bos", cl::desc("No BOS first (SentencePiece-style vocabularies)"),
    cl::sub(tokenizeCommand), cl::cat(outputCategory));

static cl::opt<std::string> modelPath(cl::Positional, cl::desc("MODEL"),
                                      cl::Required,
                                      cl::sub(inspectCommand),
                                      cl::sub(importCommand),
                                      cl::sub(compileCommand), cl::cat(inputCategory));
static cl::opt<std::string> outputPath("o", cl::desc("Output file"),
                                       cl::value_desc("file"), cl::init("-"),
                                       cl::sub(importCommand),
                                       cl::sub(compileCommand), cl::cat(outputCategory));
static cl::opt<bool> emitBytecode("emit-bytecode",
                                  cl::desc("Write MLIR bytecode (weights stay "
                                           "binary) instead of text"),
                                  cl::sub(importCommand), cl::cat(outputCategory));
static cl::opt<bool> listTensors("tensors", cl::desc("List every tensor"),
                                 cl::sub(inspectCommand), cl::cat(outputCategory));
static cl::opt<std::string>
    tokenizerPath("tokenizer",
                  cl::desc("The tokenizer: a llama2.c tok*.bin, a Hugging Face "
                           "tokenizer.json or a GGUF (default: the model's own, "
                           "else tok<vocab>.bin, tokenizer.bin or tokenizer.json "
                           "beside it)"),
                  cl::sub(inspectCommand), cl::sub(importCommand),
                  cl::sub(compileCommand), cl::cat(inputCategory));
static cl::opt<int64_t>
    contextOverride("context",
                    cl::desc("KV-cache capacity in tokens (default: the "
                             "model's context length)"),
                    cl::init(0), cl::sub(inspectCommand),
                    cl::sub(importCommand), cl::sub(compileCommand), cl::cat(targetCategory));
static cl::opt<bool> beyondTrainedContext(
    "context-beyond-training",
    cl::desc("Allow --context beyond the model's trained context"),
    cl::sub(inspectCommand), cl::sub(importCommand), cl::sub(compileCommand),
    cl::cat(targetCategory));
static cl::opt<bool> dequantize("dequantize",
                                cl::desc("Decode F16/BF16/Q8_0/Q4_0 tensors "
                                         "to F32"),
                                cl::sub(inspectCommand),
                                cl::sub(importCommand),
                                cl::sub(compileCommand), cl::cat(inputCategory));
static cl::opt<bool>
    keepRotateHalf("keep-rotate-half",
                   cl::desc("Keep Hugging Face q/k rows in rotate-half order "
                            "(RoPE style rotate_half) instead of undoing it"),
                   cl::sub(inspectCommand), cl::sub(importCommand),
                  cl::sub(compileCommand), cl::cat(inputCategory));
// 32 by measurement (SmolLM2-135M Q8_0, pp128, median of 7 interleaved
// runs): 1.11x the prefill rate of 16 on 1 thread, 1.23x on 2; 64 was no
// faster on 2 threads and leaves up to 63 prompt tokens to decode steps.
static cl::opt<int64_t> prefillChunk("prefill-chunk",
                                     cl::desc("Tokens per prefill call "
                                              "(default 32; a prompt's last "
                                              "partial chunk runs as decode "
                                              "steps)"),
                                     cl::init(32), cl::sub(importCommand),
                                     cl::sub(compileCommand), cl::cat(targetCategory));
// 128 by measurement (SmolLM2-135M, pp128, medians of 5 interleaved runs
// against 32-token chunks alone): Q8_0 1.19x (2 threads 1.12x), F16 1.17x. A
// prefill chunk streams every weight from memory once, so a wider one reads
// them fewer times per token, and it runs the classifier once instead of
// once per 32 tokens; prompts shorter than it keep the 32-token chunks.
static cl::opt<int64_t> prefillWideChunk(
    "prefill-wide-chunk",
    cl::desc("Tokens per call of @prefill_wide, which long prompts use "
             "before the --prefill-chunk calls (default 128; 0 for none; "
             "only when wider than --prefill-chunk and within the context)"),
    cl::init(128), cl::sub(importCommand), cl::sub(compileCommand),
    cl::cat(targetCategory));
static cl::opt<std::string> targetTriple(
    "target", cl::desc("Target triple (default: the host)"),
    cl::sub(compileCommand), cl::cat(targetCategory));
static cl::opt<std::string>
    targetCPU("mcpu", cl::desc("Target CPU (default: native, the host's)"),
              cl::init("native"), cl::sub(compileCommand), cl::cat(targetCategory));
static cl::opt<std::string> targetFeatures(
    "mattr",
    cl::desc("CPU features to add or remove, as llc takes them (e.g. +v for "
             "RISC-V vectors on generic-rv64)"),
    cl::sub(compileCommand), cl::cat(targetCategory));
static cl::opt<bool> embedWeights(
    "embed-weights",
    cl::desc("Put the weights container into the object's read-only data"),
    cl::sub(compileCommand), cl::cat(outputCategory));
static cl::opt<std::string> quantize(
    "quantize",
    cl::desc("Quantize linear weights: int8 (per output channel) or "
             "int4:g32|g64|g128[:asym] (per group)"),
    cl::sub(compileCommand), cl::cat(compressionCategory));
static cl::opt<std::string>
    pruneSpec("prune",
              cl::desc("Prune before quantizing, a comma-separated list of: "
                       "kv:N (N KV heads per layer, with their query heads), "
                       "heads:N (N query heads per layer), ffn:R (R of every "
                       "FFN block's channels), and one of unstructured:S "
                       "(magnitude, fraction S of each matrix) or N:M (e.g. "
                       "2:4)"),
              cl::sub(compileCommand), cl::cat(compressionCategory));
static cl::opt<std::string> lowrankSpec(
    "lowrank",
    cl::desc("Factor linear weights by truncated SVD where it saves bytes: "
             "energy:E (keep E of the squared singular values) or ratio:R "
             "(keep at most R of the parameters)"),
    cl::sub(compileCommand), cl::cat(compressionCategory));
static cl::opt<std::string> calibrateText(
    "calibrate",
    cl::desc("Quantize with GPTQ, calibrated on the activations of this text"),
    cl::value_desc("FILE"), cl::sub(compileCommand), cl::cat(compressionCategory));
static cl::list<std::string>
    keepFloat("keep", cl::desc("Leave weights whose names match REGEX in float"),
              cl::value_desc("REGEX"), cl::sub(compileCommand), cl::cat(compressionCategory));
static cl::list<std::string> quantizeOverride(
    "quantize-override",
    cl::desc("REGEX=SCHEME: another scheme for matching weights (int8, "
             "int4:gN[:asym], float)"),
    cl::sub(compileCommand), cl::cat(compressionCategory));
static cl::opt<std::string>
    reportPath("report", cl::desc("Write the compression report as JSON"),
               cl::value_desc("FILE.json"), cl::sub(compileCommand), cl::cat(evaluationCategory));
static cl::opt<std::string> reportPlotPath(
    "report-plot",
    cl::desc("Draw the compression report per layer (bytes before and "
             "after, largest relative error) as SVG"),
    cl::value_desc("FILE.svg"), cl::sub(compileCommand),
    cl::cat(evaluationCategory));
static cl::opt<std::string> evalText(
    "eval-text",
    cl::desc("Measure the compressed model against the original on this "
             "text: perplexity, KL divergence, top-1 agreement"),
    cl::value_desc("FILE"), cl::sub(compileCommand), cl::cat(evaluationCategory));
static cl::opt<bool>
    linkExe("exe",
            cl::desc("Also link OUT as a ready executable (the generator)"),
            cl::sub(compileCommand), cl::cat(outputCategory));

static cl::opt<std::string> kvCache(
    "kv-cache",
    cl::desc("The KV cache's element type: f32 (default; exact) or f16 "
             "(half the bytes; keys and values rounded when stored)"),
    cl::value_desc("f32|f16"), cl::init("f32"), cl::sub(compileCommand),
    cl::sub(importCommand), cl::cat(targetCategory));

static cl::opt<bool> int8Activations(
    "int8-activations",
    cl::desc("Products on GGUF Q8_0/Q4_0 weights quantize their inputs to "
             "int8 (per 32 values, as llama.cpp does) and use integer dot "
             "products where the target has them (default true; =false "
             "keeps f32 inputs)"),
    cl::init(true), cl::sub(compileCommand), cl::cat(targetCategory));

static cl::opt<bool>
    timing("v",
           cl::desc("Print where the compile's time went: each stage "
                    "(import, compression, lowering, container, LLVM, link) "
                    "and each MLIR pass"),
           cl::sub(compileCommand), cl::cat(evaluationCategory));

static int fail(const Twine &message) {
  WithColor::error(errs(), "tlmc") << message << "\n";
  return 1;
}

static Expected<ImportedModel> loadModel() {
  ImportOptions options;
  options.tokenizerPath = tokenizerPath;
  options.contextOverride = contextOverride;
  options.allowBeyondTrainedContext = beyondTrainedContext;
  options.dequantize = dequantize;
  options.keepRotateHalf = keepRotateHalf;
  return importModel(modelPath, options);
}

static int runImport(const ImportedModel &model) {
  if (prefillChunk <= 0)
    return fail("--prefill-chunk must be positive");
  if (prefillWideChunk < 0)
    return fail("--prefill-wide-chunk must be 0 or positive");
  mlir::MLIRContext context;
  context.loadDialect<mlir::tlm::TLMDialect, mlir::func::FuncDialect,
                      mlir::memref::MemRefDialect>();
  GraphOptions graph;
  graph.prefillChunk = prefillChunk;
  graph.prefillWideChunk = prefillWideChunk;
  if (kvCache != "f32" && kvCache != "f16")
    return fail("--kv-cache must be f32 or f16, not '" + kvCache + "'");
  graph.kvCacheF16 = kvCache == "f16";
  mlir::OwningOpRef<mlir::ModuleOp> module = buildModule(context, model, graph);
  if (failed(mlir::verify(*module)))
    return fail("internal error: the imported module does not verify");
  std::error_code ec;
  ToolOutputFile out(outputPath, ec, sys::fs::OF_None);
  if (ec)
    return fail(outputPath + ": " + ec.message());
  if (emitBytecode) {
    if (failed(mlir::writeBytecodeToFile(*module, out.os())))
      return fail(outputPath + ": cannot write bytecode");
  } else {
    module->print(out.os());
    out.os() << "\n";
  }
  out.keep();
  return 0;
}

/// OUT as `tlmc compile -o` means it: `story.o` (or .h, .tlmw) names the
/// outputs' common stem, an existing directory gets the model's stem in
/// it; the directory must exist before any work is done.
static Expected<std::string> resolveOutput(StringRef output, StringRef model) {
  std::string out = output.str();
  if (sys::fs::is_directory(out)) {
    SmallString<256> inside(out);
    sys::path::append(inside, sys::path::stem(sys::path::filename(
                                  sys::path::remove_leading_dotslash(model))));
    out = inside.str().str();
  } else {
    for (StringRef ext : {".o", ".h", ".tlmw"})
      if (StringRef(out).ends_with(ext) && out.size() > ext.size()) {
        out.resize(out.size() - ext.size());
        break;
      }
  }
  StringRef dir = sys::path::parent_path(out);
  if (!dir.empty() && !sys::fs::is_directory(dir))
    return createStringError(inconvertibleErrorCode(),
                             "-o " + output + ": directory '" + dir +
                                 "' does not exist");
  return out;
}

static int runCompile(const ImportedModel &model, const char *argv0,
                      CompileProgress &progress) {
  if (outputPath == "-")
    return fail("compile needs -o OUT (writes OUT.o, OUT.h, OUT.tlmw)");
  Expected<std::string> output = resolveOutput(outputPath, modelPath);
  if (!output)
    return fail(toString(output.takeError()));
  CompileOptions options;
  options.progress = &progress;
  if (kvCache != "f32" && kvCache != "f16")
    return fail("--kv-cache must be f32 or f16, not '" + kvCache + "'");
  options.kvCacheF16 = kvCache == "f16";
  options.int8Activations = int8Activations;
  options.timing = timing;
  options.output = *output;
  options.target.triple = targetTriple;
  options.target.cpu = targetCPU;
  options.target.features = targetFeatures;
  options.prefillChunk = prefillChunk;
  options.prefillWideChunk = prefillWideChunk;
  options.embedWeights = embedWeights;
  options.exe = linkExe;
  options.compression.quantize = quantize;
  options.compression.prune = pruneSpec;
  options.compression.lowrank = lowrankSpec;
  options.compression.calibrate = calibrateText;
  if (!calibrateText.empty() && quantize.empty())
    return fail("--calibrate calibrates quantization: give --quantize too");
  options.compression.keep.assign(keepFloat.begin(), keepFloat.end());
  options.compression.overrides.assign(quantizeOverride.begin(),
                                       quantizeOverride.end());
  options.reportPath = reportPath;
  options.reportPlotPath = reportPlotPath;
  options.evalText = evalText;
  if (!evalText.empty() && !options.compression.any())
    return fail("--eval-text measures a compression: give --quantize, "
                "--prune or --lowrank too");
  options.toolDir = sys::path::parent_path(
                        sys::fs::getMainExecutable(argv0, (void *)&fail))
                        .str();
  if (Error err = compileModel(model, options)) {
    progress.finish();
    return fail(toString(std::move(err)));
  }
  progress.finish();
  if (options.timing)
    progress.printTimes(errs());
  return 0;
}

int main(int argc, char **argv) {
  InitLLVM init(argc, argv);
  // --help shows tlmc's options, grouped; LLVM's backend flags (hundreds)
  // only under --help-hidden.
  const cl::OptionCategory *categories[] = {
      &inputCategory, &outputCategory, &targetCategory, &compressionCategory,
      &evaluationCategory};
  auto isOurs = [&](cl::Option *option) {
    return llvm::any_of(option->Categories, [&](cl::OptionCategory *c) {
      return llvm::is_contained(categories, c);
    });
  };
  for (cl::SubCommand *sub :
       {&cl::SubCommand::getTopLevel(), &inspectCommand, &importCommand,
        &compileCommand, &targetsCommand, &tokenizeCommand})
    for (auto &entry : cl::getRegisteredOptions(*sub)) {
      StringRef name = entry.first;
      cl::Option *option = entry.second;
      if (!isOurs(option) && !name.starts_with("help") && name != "version" &&
          option->getOptionHiddenFlag() == cl::NotHidden)
        option->setHiddenFlag(cl::Hidden);
    }
  cl::SetVersionPrinter([](raw_ostream &os) {
    os << "tlmc " TLMC_VERSION " (" TLMC_GIT_REVISION "), built with LLVM "
       << LLVM_VERSION_STRING << "\n";
  });
  cl::ParseCommandLineOptions(
      argc, argv,
      "tlmc: an ahead-of-time compiler for tiny language models\n\n"
      "  tlmc inspect model.gguf [--tensors]\n"
      "  tlmc compile model.gguf -o story --exe        # OUT.o, OUT.h, "
      "OUT.tlmw, OUT\n"
      "  tlmc compile model.gguf -o story --quantize=int4:g32 --report r.json\n"
      "  tlmc compile model.gguf -o story --target aarch64-linux-gnu --mcpu "
      "cortex-a76\n"
      "  tlmc import model.gguf -o model.mlir\n"
      "  tlmc tokenize --tokenizer tokenizer.json [--pieces] \"Hello\"\n");
  if (targetsCommand) {
    printTargets(outs());
    return 0;
  }
  if (tokenizeCommand) {
    if (int(tokenizePieces) + int(tokenizeIds) + int(tokenizeDecode) > 1)
      return fail("--ids, --pieces and --decode: choose one");
    std::string text = tokenizeText;
    if (!tokenizeText.getNumOccurrences()) {
      auto input = MemoryBuffer::getSTDIN();
      if (!input)
        return fail("cannot read the text from standard input");
      text = (*input)->getBuffer().str();
    }
    TokenOutput output = tokenizePieces   ? TokenOutput::Pieces
                         : tokenizeDecode ? TokenOutput::Text
                                          : TokenOutput::Ids;
    if (Error err =
            printTokens(tokenizeWith, text, output, !tokenizeNoBos,
                        tokenizeChat, outs()))
      return fail(toString(std::move(err)));
    return 0;
  }
  if (!inspectCommand && !importCommand && !compileCommand) {
    cl::PrintHelpMessage();
    return 1;
  }
  // Import, compression, lowering, container, LLVM, and the link or the
  // evaluation when asked for.
  CompileProgress progress(5 + (linkExe ? 1 : 0) + (!evalText.empty() ? 1 : 0));
  if (compileCommand)
    progress.stage("import");
  if (contextOverride.getNumOccurrences() && contextOverride <= 0) {
    progress.finish();
    return fail("--context must be at least 1 token, not " +
                Twine(contextOverride));
  }
  Expected<ImportedModel> model = loadModel();
  if (!model) {
    progress.finish();
    return fail(toString(model.takeError()));
  }
  if (inspectCommand) {
    printSummary(outs(), *model, listTensors);
    return 0;
  }
  if (compileCommand)
    return runCompile(*model, argv[0], progress);
  return runImport(*model);
}
