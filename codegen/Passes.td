//===- Passes.td - tlmc code generation passes -------------*- tablegen -*-===//

#ifndef TLMC_CODEGEN_PASSES_TD
#define TLMC_CODEGEN_PASSES_TD

include "mlir/Pass/PassBase.td"

def TLMShareLayers : Pass<"tlm-share-layers", "mlir::ModuleOp"> {
  let summary = "Outline each layer into a function shared by identical layers";
  let description = [{
    Runs first in the lowering, after every compression pass. An entry point
    as imported runs every layer inline, so LLVM would optimize one copy per
    layer and entry point. This pass splits each entry point's body into
    layer runs (the ops that read the weights `blk.N.*`, the attention of
    layer N, and the ops computed only from those), outlines each run into
    a private function, and gives runs that are identical up to the layer
    number in their weight names one function: the attention's cache layer
    becomes the function's last argument (`layer_index`), the callee keeps
    the weight names of its first layer (`tlmc.layer` on the function), and
    each call says whose weights it computes with (`tlmc.layer` on the call).
    convert-tlm-to-linalg passes each call its layer's weights. Entry
    points with the same number of tokens (prefill, prefill_last) share
    their layer functions too. Layer functions are marked `tlmc.no_inline` (object emission keeps LLVM from inlining them back).

    Before:
    ```mlir
    func.func @decode(%tokens: tensor<1xi32>, %pos: index, %kc: memref<2x8x32xf32>, %vc: memref<2x8x32xf32>) -> tensor<1x512xf32> {
      ...
      %w0 = tlm.weight_ref @blk.0.attn_q : tensor<64x64xf32>
      ...  // layer 0, then the same ops for layer 1 with @blk.1.*
    }
    ```
    After:
    ```mlir
    func.func private @layer0(%x: tensor<1x64xf32>, %pos: index, %kc: memref<2x8x32xf32>, %vc: memref<2x8x32xf32>, %layer: index) -> tensor<1x64xf32> attributes {tlmc.layer = 0 : i64, tlmc.no_inline} {
      %w0 = tlm.weight_ref @blk.0.attn_q : tensor<64x64xf32>
      ...
      %a = tlm.attention %q, %k, %v, %kc, %vc, %pos layer %layer {layer = 0 : i64, ...} : ...
    }
    func.func @decode(...) {
      %x1 = call @layer0(%x0, %pos, %kc, %vc, %c0) {tlmc.layer = 0 : i64} : ...
      %x2 = call @layer0(%x1, %pos, %kc, %vc, %c1) {tlmc.layer = 1 : i64} : ...
    }
    ```
  }];
  let dependentDialects = ["mlir::arith::ArithDialect", "mlir::func::FuncDialect"];
  let statistics = [
    Statistic<"numFunctions", "layer-functions", "distinct layer functions">,
    Statistic<"numLayerCalls", "layer-calls", "layers outlined into calls">,
    Statistic<"numLayersInline", "entries-inline",
              "entry points whose layers could not be outlined">
  ];
}

def ConvertTLMToLinalg : Pass<"convert-tlm-to-linalg", "mlir::ModuleOp"> {
  let summary = "Lower the tlm graph to linalg, tensor, scf and arith";
  let description = [{
    Rewrites every tlm op of every function into upstream dialects on
    tensors, ready for one-shot bufferization:

    - `embedding`, `rms_norm`, `layer_norm`, `linear`, `add_bias`, `rope`,
      `add_positions`, `silu`, `swiglu`, `gelu`, `geglu` (GELU's tanh form
      as x·sigmoid(2u): one exp), `scale`, `softcap` (libm tanh), `add`
      become `linalg.generic` ops (f16/bf16 weights are extended on load),
      but a `rope` whose heads are whole 16-lane vectors rotates in scf
      loops of vector ops on buffers (partners by shuffle or by the other
      half's load), bracketed like attention;
    - `attention` becomes scf loops over buffers (its KV cache is a buffer
      already), bracketed by `bufferization.to_buffer`/`to_tensor`; a
      `window` starts every loop over positions at the window's first, a
      `softcap` squashes each scaled score; with `attention-heads-per-pass`
      a prefill chunk's units take whole KV groups and one pass over the
      keys scores several heads; a token that sees more positions than a
      row of scores holds (1024) takes them a tile at a time with a
      running maximum and sum (online softmax), the rest keep llama2.c's
      steps;
    - `weight_ref @w` becomes a `memref.view` of a new leading function
      argument, `%weights: memref<Nxi8>`, at the offset the weight layout
      (codegen/Target/WeightLayout.h) gives `@w`, and the `tlm.weight`
      declarations are erased;
    - `compress.quantized_linear` and `compress.sparse_linear` become
      `linalg.generic` ops over (token, output feature) whose bodies run the
      group-scaled quantized kernel, the CSR loop, or, with `sparse-blocks`,
      the AVX-512 block kernel (vector ops and `llvm.call_intrinsic`).

    Before:
    ```mlir
    %w = tlm.weight_ref @blk.0.attn_q : tensor<64x64xf32>
    %q = tlm.linear %h, %w : tensor<1x64xf32>, tensor<64x64xf32> -> tensor<1x64xf32>
    ```
    After:
    ```mlir
    %v = memref.view %weights[%c1024][] : memref<1040384xi8> to memref<64x64xf32>
    %w = bufferization.to_tensor %v restrict : memref<64x64xf32> to tensor<64x64xf32>
    %q = linalg.generic {...} ins(%h, %w : ...) outs(%zero : tensor<1x64xf32>) {...}
    ```
  }];
  let dependentDialects = [
    "mlir::arith::ArithDialect", "mlir::bufferization::BufferizationDialect",
    "mlir::linalg::LinalgDialect", "mlir::math::MathDialect",
    "mlir::memref::MemRefDialect", "mlir::scf::SCFDialect",
    "mlir::tensor::TensorDialect", "mlir::vector::VectorDialect",
    "mlir::LLVM::LLVMDialect"
  ];
  let options = [
    Option<"sparseBlocks", "sparse-blocks", "bool", "false",
           "Store sparse weights that fit in 32-feature blocks and multiply "
           "them with AVX-512 permutes (codegen/Target/SparseBlocks.h)">,
    Option<"floatPanels", "float-panels", "bool", "false",
           "Store f16 weights read only by products and lookups in 16-row "
           "panels for the runtime's kernels (codegen/Target/FloatPanels.h)">,
    Option<"ggmlPanels", "ggml-panels", "bool", "false",
           "Store GGUF Q8_0/Q4_0 weights read only by products in 16-row "
           "panels for the runtime's kernels (codegen/Target/GGMLPanels.h)">,
    Option<"attentionHeadsPerPass", "attention-heads-per-pass", "int64_t", "1",
           "Query heads of one KV group whose scores one pass over the keys "
           "computes, sharing each key load (a prefill's units then take "
           "whole KV groups); as many as the target's vector registers hold "
           "4 partial sums of (selectAttentionHeadsPerPass)">
  ];
  let statistics = [
    Statistic<"numLoweredOps", "lowered-ops", "tlm ops lowered">,
    Statistic<"weightBytes", "weight-bytes", "bytes of weights laid out">
  ];
}

def TLMPlanArena : Pass<"tlm-plan-arena", "mlir::ModuleOp"> {
  let summary = "Place the KV cache and every buffer in one planned arena";
  let description = [{
    Runs after bufferization. Each entry function
    `@f(%weights, %tokens, %pos, %key_cache, %value_cache, %logits)` becomes
    `@<prefix>f(%weights, %arena: memref<Nxi8>, %tokens, %pos, %logits,
    %ctx: !llvm.ptr)` (the C ABI of runtime/include/tlm/tlm.h): the caches
    are views at the start of the arena, and every `memref.alloc` becomes a
    view at an offset chosen by a liveness-based first-fit plan, so buffers
    whose lifetimes do not overlap share bytes. The logits are produced in
    the arena too and copied out at the end, so generated kernels address
    only weights and arena; a buffer bufferization copies into the logits
    as its last use is replaced by them (the classifier writes the staged
    logits, one copy instead of two). All entry points share the largest plan's
    arena. Generated code then never allocates; the arena size is recorded
    on each function as `tlmc.arena_bytes`.

    Before:
    ```mlir
    %a = memref.alloc() {alignment = 64 : i64} : memref<1x64xf32>
    ```
    After:
    ```mlir
    %a = memref.view %arena[%c81920][] : memref<90112xi8> to memref<1x64xf32>
    ```
  }];
  let dependentDialects = ["mlir::LLVM::LLVMDialect"];
  let options = [
    Option<"symbolPrefix", "symbol-prefix", "std::string", "\"\"",
           "Prefix for the entry points' symbol names">
  ];
  let statistics = [
    Statistic<"arenaBytes", "arena-bytes", "bytes of the shared arena">,
    Statistic<"plannedBuffers", "planned-buffers", "allocations placed">
  ];
}

def TLMTokenLoops : Pass<"tlm-token-loops", "mlir::ModuleOp"> {
  let summary = "Group a prefill's elementwise ops into parallel loops over its tokens";
  let description = [{
    Runs after `tlm-plan-arena` and before `tlm-parallelize-rows`, on the
    entry points and layer functions. Between two products a prefill runs
    a string of elementwise ops over its tokens (norms, RoPE and its
    tables, residual adds, SwiGLU, the fills and copies bufferization left)
    that `tlm-parallelize-rows` does not split: on 2 threads one waited
    while the other ran them, ~15% of a SmolLM2 prefill's time. Each op
    here is token-local: a `linalg.generic`, `linalg.fill` or `memref.copy`
    on planned views (or a layer's memref argument its callers pass as
    arena views, which may differ from call to call: the layer's input,
    which tlm-parallelize-rows then finds from its byte offset in the
    arena) whose iteration dimension 0 is the token, indexing
    dimension 0 of every buffer it touches by token or not at all (weights
    read whole), whose body loads only the current token's row, and which
    is not a product. A maximal run of such ops over the same token count
    (only side-effect-free ops between them) becomes one
    `scf.for %t = 0 to T` marked `tlmc.parallel_loop`, each op applied to
    token t's rows (rank-keeping `memref.subview`s, `linalg.index 0`
    replaced by t); `tlm-parallelize-rows` then hands the loop to the
    thread pool. A run ends where two of its buffers may overlap in the
    arena without being the same view, or where a buffer one op writes is
    read whole by another: rows could not be computed independently there
    (an op whose own buffers may overlap joins no run).
    A product's epilogue (an elementwise op right after it that reads its
    output: SwiGLU after up, a residual add after o or down;
    `ProductEpilogues.h`) ends a run and stays out of any: it runs in the
    product's job, on the features each thread computed.
    Only runs of at least `min-work` work are grouped (a decode step's
    single token never is): an op's work is its elements, each
    transcendental function of an element (exp, sin, cos, pow, tanh, log,
    erf) counting 16 more. On 2 threads a run pays a handoff and reads
    rows the other thread's product wrote (cache lines moving between
    cores); but so does the same run left on the calling thread, alone.
    Measured on SmolLM2's 128-token prefill, per layer on 2 threads (rdtsc
    per job, utils/bench/job-profile.sh): its attention norm took ~100K
    TSC ticks as a serial step (~33K on 1 thread), its FFN norm ~47K
    serial and ~23K as a job; the compile pipeline's 131072 groups both
    norms of a 128-token chunk (~147K) and none of a 32-token one:
    prefill 1.04x on 2 threads (faster in 10 of 12 alternations), level
    on 1. Results are bitwise unchanged: every op does the same
    arithmetic on the same elements.

    Before:
    ```mlir
    linalg.fill ins(%zero : f32) outs(%ss : memref<128xf32>)
    linalg.generic {iterator_types = ["parallel", "reduction"]} ins(%x : memref<128x64xf32>) outs(%ss : memref<128xf32>) {...}
    ```
    After:
    ```mlir
    scf.for %t = %c0 to %c128 step %c1 {
      %s = memref.subview %ss[%t] [1] [1] : memref<128xf32> to memref<1xf32, strided<[1], offset: ?>>
      linalg.fill ins(%zero : f32) outs(%s : ...)
      %xt = memref.subview %x[%t, 0] [1, 64] [1, 1] : ...
      linalg.generic {...} ins(%xt : ...) outs(%s : ...) {...}
    } {tlmc.parallel_loop}
    ```
  }];
  let options = [
    Option<"minWork", "min-work", "int64_t", "262144",
           "Smallest run (elements, transcendentals weighted) worth a loop "
           "across threads">
  ];
  let dependentDialects = ["mlir::scf::SCFDialect",
                           "mlir::memref::MemRefDialect",
                           "mlir::arith::ArithDialect"];
  let statistics = [
    Statistic<"numLoops", "loops", "runs of token-local ops grouped into loops">,
    Statistic<"numOps", "ops", "token-local ops moved into loops">
  ];
}

def TLMParallelizeRows : Pass<"tlm-parallelize-rows", "mlir::ModuleOp"> {
  let summary = "Split large matrix products and parallel loops across the runtime's threads";
  let description = [{
    Runs after `tlm-plan-arena`, on the entry points and the layer
    functions they call (`tlm-share-layers`). Each `linalg.generic` marked
    `tlmc.parallel_rows` (a lowered `tlm.linear`) whose operands are views of
    the weights and the arena, and whose work is at least `min-work`
    multiply-adds, is outlined into a kernel
    `@<entry>_rows<N>(%weights, %arena, %begin, %end, %s0, %s1)` that
    computes output features [begin, end), and replaced by a call
    `tlmrt_parallel_for(%ctx, @kernel, %weights, %arena, %features, %grain,
    %c0, %c0)`, where the grain is 16 for weights packed in 16-row panels
    (a range never splits a panel) and 1 otherwise. Products that read the
    same input (a layer's q, k and v; gate and up) become one kernel over
    their output features one after another, called where the last of them
    was, when the ops between them touch nothing the earlier ones write
    and write nothing they read: one handoff to the threads instead of
    three (a handoff costs ~0.5-1.1 us, and SmolLM2's k and v products
    stream only ~60 KB each), and the int8 kernels quantize the shared
    input once. Each `scf.for` marked
    `tlmc.parallel_loop` (attention's heads, `tlm-token-loops`' runs of
    elementwise ops over a prefill's tokens) becomes a kernel
    `@<entry>_loop<N>` over iterations [begin, end), grain 1; what
    its body reads from outside must be constants, planned views, memref
    arguments every caller passes as the same arena view (a layer's KV
    caches), side-effect-free ops on those (recomputed in the kernel: a
    decode's `pos + 1`, the reshaped key cache), and at most two of: other
    index values (the position, the layer index) and memref arguments the
    callers pass as different arena views (a layer's input, which the
    kernel rebuilds from its byte offset in the arena), which the call
    hands over as %s0 and %s1.

    A product's epilogue (`ProductEpilogues.h`: an elementwise
    `linalg.generic` right after it that reads its output element by
    element, such as a residual add after the o and down projections)
    runs in the product's kernel: after the products, each range
    [begin, end) runs it on those features, as a loop over 16-feature
    slices (`tlm-vectorize-elementwise` makes each slice a vector), and the
    job is split at multiples of 16. A thread then reads only what it just
    wrote, where a serial step between two jobs read the halves both cores
    wrote. An epilogue of a group of several products must read all their
    outputs, equally wide (SwiGLU on gate and up): the job then runs over
    their common features, each range computing its part of every product
    before the epilogue. It must not write what the products read, nor
    read their outputs other than element by element (writing one in place
    is fine). Its buffers are planned views or layer arguments the callers
    pass as different arena views (a layer's input and output): the call
    hands their byte offsets in the arena as %s0 and %s1. When its result
    is only copied to a layer argument before the return (bufferization's
    out-parameter) and its body does not read its output, it writes that
    argument and the copy goes.

    Why 65536: handing a product to a second thread and waiting for it
    costs ~0.4-0.6 us with the worker spinning (`tlmc-kernel-bench
    threads/handoff`, 2 threads), and a product whose weights sit in the
    cache runs at ~30-40 GMAC/s on one core, so splitting pays only above
    ~2 x 35e9 x 0.5e-6 = 35K multiply-adds; twice that leaves a margin for
    the inputs and outputs the two cores exchange. At 16384, stories260K's
    decode handed its classifier (32768) to the pool every token and ran
    no faster, often slower, on 2 threads than on 1. Products streamed
    from memory (~7 GMAC/s) would pay off sooner, but every product of a
    model that large is far above the bar anyway (SmolLM2-135M's smallest
    is 110592). The runtime splits the range into chunks the threads
    take (runtime/src/ThreadPool.cpp); every output is computed by
    exactly one thread in the same order, so results do not depend on the
    thread count.

    Before:
    ```mlir
    linalg.generic {...} ins(%x, %w : ...) outs(%y : ...) attrs = {tlmc.parallel_rows}
    scf.for %h = %c0 to %c9 step %c1 { ... %pos ... } {tlmc.parallel_loop}
    ```
    After:
    ```mlir
    %k = func.constant @decode_rows0 : (memref<Wxi8>, memref<Axi8>, index, index, index, index) -> ()
    func.call @tlmrt_parallel_for(%ctx, %k, %weights, %arena, %c512, %c1, %c0, %c0) : (...) -> ()
    %l = func.constant @decode_loop0 : (...) -> ()
    func.call @tlmrt_parallel_for(%ctx, %l, %weights, %arena, %c9, %c1, %pos, %c0) : (...) -> ()
    ```
  }];
  let options = [
    Option<"minWork", "min-work", "int64_t", "65536",
           "Smallest product (multiply-adds) worth splitting across threads">
  ];
  let dependentDialects = ["mlir::scf::SCFDialect",
                           "mlir::memref::MemRefDialect",
                           "mlir::arith::ArithDialect"];
  let statistics = [
    Statistic<"numKernels", "kernels", "products and loops outlined into kernels">,
    Statistic<"numEpilogues", "epilogues",
              "elementwise ops run in a product's job on its ranges">,
    Statistic<"numSerial", "products-left-serial",
              "large enough products (and parallel loops) left on one thread "
              "because they read "
              "something other than planned views (each also gets a warning: "
              "a lost thread is a bug)">
  ];
}

def TLMUseUKernels : Pass<"tlm-use-ukernels", "mlir::ModuleOp"> {
  let summary = "Compute products with the runtime's micro-kernels the target has";
  let description = [{
    Runs after `tlm-parallelize-rows`, with the instruction set the target
    description selected (`codegen/Target/TargetOptions.cpp`; never the
    host's). Each buffer-semantics `linalg.generic` marked `tlmc.ukernel`
    (a product on GGUF Q8_0/Q4_0 blocks, `q8_0`/`q4_0`, or on f16/f32 rows,
    `f16`/`f32`; with an `x16` suffix on weights packed in 16-row panels,
    which bf16 has too) becomes one call of the runtime's kernel for that
    format and instruction set (`runtime/src/ProductKernels.h`) over the
    same output rows: the whole token x row range of the generic, so a
    thread's kernel still computes exactly its rows. The block kernels
    quantize the input to int8 per 32-column block and run integer dot
    products; the float ones widen the weights exactly and sum in f32.
    With no instruction set (or a shape the kernels do not take) the
    generic stays, and lowers to the generated f32 product; weights in
    panels have no generated product, so there that is an error. With
    `hardware-prefetch` (a CPU whose hardware prefetchers stream a decode
    step's weights faster alone, such as AMD Zen 4) products on panels call
    the kernels' `_hwprefetch` entry points, which compute the same bits
    without software prefetches.

    Before:
    ```mlir
    linalg.generic {...} outs(%y : memref<1x?xf32, strided<[576, 1], offset: ?>>)
        attrs = {tlmc.ukernel = "q8_0"} {...}
    ```
    After:
    ```mlir
    func.call @tlmrt_uk_q8_0_avx512vnni(%x, %c576, %c1, %w, %rows, %c576, %y, %c576)
        : (!llvm.ptr, i64, i64, !llvm.ptr, i64, i64, !llvm.ptr, i64) -> ()
    ```
  }];
  let dependentDialects = ["mlir::LLVM::LLVMDialect", "mlir::memref::MemRefDialect",
                           "mlir::func::FuncDialect"];
  let options = [
    Option<"isa", "isa", "std::string", "\"\"",
           "Kernel set to call (codegen/Target/TargetOptions.h's table): "
           "avx512 (float weights), avx512vnni (and GGUF blocks), amx (and "
           "AMX tiles for panels), avx2-float (float weights without "
           "AVX-512), avx2 (and GGUF blocks in panels), neondot (GGUF "
           "blocks with AArch64 sdot), "
           "neoni8mm (and smmla for prefill), or empty for none">,
    Option<"hardwarePrefetch", "hardware-prefetch", "bool", "false",
           "Call the panel kernels' `_hwprefetch` entry points, which leave "
           "a decode step's weight stream to the CPU's hardware prefetchers "
           "(prefersHardwarePrefetch in codegen/Target/TargetOptions.cpp)">
  ];
  let statistics = [
    Statistic<"numCalls", "ukernel-calls", "products computed by micro-kernels">
  ];
}

def TLMApproximateExp : Pass<"tlm-approximate-exp", "mlir::func::FuncOp"> {
  let summary = "Compute math.exp as a polynomial instead of a libm call";
  let description = [{
    `math.exp` lowers to a call of libm's `expf` per element, which neither
    vectorizes nor inlines: it was ~20% of a stories260K decode step
    (softmax scores and SiLU). This pass expands each f32 `math.exp` into
    MLIR's polynomial approximation (range reduction to [-ln2/2, ln2/2], a
    degree-6 polynomial, scaling by 2^k through the exponent bits): plain
    arithmetic that LLVM vectorizes with the loop around it. Its error is a
    few ulp of f32 (the golden and llama.cpp reference tests bound what it
    may move).

    Before:
    ```mlir
    %e = math.exp %x : f32
    ```
    After (abridged):
    ```mlir
    %k = math.floor ... : f32
    %p = math.fma ... : f32
    %e = arith.bitcast ... : i32 to f32
    ```
  }];
  let dependentDialects = ["mlir::arith::ArithDialect", "mlir::math::MathDialect",
                           "mlir::vector::VectorDialect"];
}

def TLMExpandF16Conversions
    : Pass<"tlm-expand-f16-conversions", "mlir::func::FuncOp"> {
  let summary = "Convert between f16 and f32 with integer arithmetic";
  let description = [{
    A CPU without half-precision conversions (RISC-V without Zfhmin, the
    Linux baseline RV64GC) gets `arith.extf`/`arith.truncf` between f16 and
    f32 as calls of `__extendhfsf2`/`__truncsfhf2`, which the cross C
    libraries do not have. The compiler runs this pass for such a target
    (LoweringOptions::softF16): each conversion, scalar or vector, becomes
    bit arithmetic and selects, exact for every value (subnormals, infinities,
    NaNs; f32 to f16 rounds to nearest even), and vectorizable.

    Before:
    ```mlir
    %f = arith.extf %h : f16 to f32
    ```
    After (abridged):
    ```mlir
    %b = arith.bitcast %h : f16 to i16
    %w = arith.extui %b : i16 to i32
    %m = arith.shli ... : i32          // exponent and mantissa at f32's place
    %s = arith.mulf ..., 2^112 : f32   // rebias (normals and subnormals)
    %f = arith.select %isInfOrNaN, ..., ... : f32
    ```
  }];
  let dependentDialects = ["mlir::arith::ArithDialect"];
}

def TLMVectorizeElementwise : Pass<"tlm-vectorize-elementwise", "mlir::func::FuncOp"> {
  let summary = "Lower elementwise linalg.generic ops on buffers to vector loops";
  let description = [{
    `convert-linalg-to-loops` turns an elementwise generic into a scalar
    load, the body and a store per element, and LLVM does not vectorize
    those loops: every buffer is a view of the one arena, so it cannot prove
    the output does not alias the inputs. Norms' scaling, SwiGLU's product,
    residual adds and RoPE tables were ~10% of a SmolLM2 prefill on one
    thread, all of it where a second thread waits. Each buffer-semantics
    generic with two parallel iterators, identity maps, one static shape
    whose rows are contiguous and a multiple of 16 wide, and a body of
    elementwise scalar ops becomes an `scf.for` over rows around an
    `scf.for` over columns in steps of 16 whose body is the generic's on
    `vector<16x...>`: loads, the same ops (values from outside the body
    broadcast), a store. What depends only on the row (operands read by
    row and arith or sqrt on them, a norm's 1/sqrt(sum/n + eps)) is
    computed once per row as scalars before the columns loop and
    broadcast: LLVM cannot hoist it, since the row's operand is reloaded
    from the arena the loop stores to. The same operations on the same
    elements: results are bitwise unchanged.

    Before:
    ```mlir
    linalg.generic {indexing_maps = [#id, #id, #id], iterator_types = ["parallel", "parallel"]}
        ins(%a, %b : memref<4x32xf32>, memref<4x32xf32>) outs(%y : memref<4x32xf32>) {
    ^bb0(%x: f32, %z: f32, %o: f32):
      %s = arith.addf %x, %z : f32
      linalg.yield %s : f32
    }
    ```
    After:
    ```mlir
    scf.for %i = %c0 to %c4 step %c1 {
      scf.for %j = %c0 to %c32 step %c16 {
        %x = vector.load %a[%i, %j] : memref<4x32xf32>, vector<16xf32>
        %z = vector.load %b[%i, %j] : memref<4x32xf32>, vector<16xf32>
        %s = arith.addf %x, %z : vector<16xf32>
        vector.store %s, %y[%i, %j] : memref<4x32xf32>, vector<16xf32>
      }
    }
    ```
  }];
  let dependentDialects = ["mlir::scf::SCFDialect", "mlir::vector::VectorDialect",
                           "mlir::arith::ArithDialect"];
  let statistics = [
    Statistic<"numVectorized", "vectorized", "elementwise generics vectorized">
  ];
}

def TLMReductionLoops : Pass<"tlm-reduction-loops", "mlir::func::FuncOp"> {
  let summary = "Lower reducing linalg.generic ops to loops that keep the sum in a register";
  let description = [{
    `convert-linalg-to-loops` turns a reduction into a load, an update and a
    store of the output element on every iteration. On buffers that are all
    views of one arena, LLVM cannot prove the output does not alias the
    inputs, so the sum stays in memory and the loop is neither promoted to
    a register nor vectorized. This pass lowers each buffer-semantics
    `linalg.generic` whose trailing iterators are reductions (and whose
    output does not depend on them) to `scf.for` loops over the parallel
    dimensions around `scf.for` loops over the reduction dimensions that
    carry the partial result in `iter_args`: one load of the output before,
    one store after. The body is the generic's, with `linalg.index`
    replaced by the loop's induction variable, so the arithmetic (and its
    fast-math flags) is unchanged: a reduction the lowering marked
    `reassoc` vectorizes, one that must keep the reference's order keeps it.

    Before:
    ```mlir
    linalg.generic {indexing_maps = [(t, n, k) -> (t, k), (t, n, k) -> (n, k), (t, n, k) -> (t, n)],
                    iterator_types = ["parallel", "parallel", "reduction"]}
        ins(%x, %w : memref<1x64xf32>, memref<32x64xf32>) outs(%y : memref<1x32xf32>) {...}
    ```
    After:
    ```mlir
    scf.for %t = %c0 to %c1 step %c1 {
      scf.for %n = %c0 to %c32 step %c1 {
        %init = memref.load %y[%t, %n] : memref<1x32xf32>
        %sum = scf.for %k = %c0 to %c64 step %c1 iter_args(%acc = %init) -> (f32) {
          ...
          scf.yield %next : f32
        }
        memref.store %sum, %y[%t, %n] : memref<1x32xf32>
      }
    }
    ```
  }];
  let dependentDialects = ["mlir::affine::AffineDialect", "mlir::scf::SCFDialect",
                           "mlir::memref::MemRefDialect"];
  let statistics = [
    Statistic<"numLowered", "lowered-reductions", "reductions lowered to register loops">
  ];
}

#endif // TLMC_CODEGEN_PASSES_TD
