#!/usr/bin/env python3
"""examples/cmake-project builds against this build tree.

A separate CMake project finds tlmc (find_package(TLMC CONFIG) with
TLMC_DIR), compiles stories260K during its own build (tlmc_add_model, the
weights embedded) and links a 60-line app on the runtime's C API. Its greedy
story must be the golden one, character for character; a rebuild with
nothing changed must not run tlmc again; a missing model is a configure
error, not a broken build. The project enables C alone: the runtime needs
no C++ library. And the same app links by hand, as a device toolchain
would: the C compiler, the model's object, libtlmrt.a, -lpthread -lm; and
with the same link, two sessions of that model running at once on two
threads (test/e2e/two_sessions.c) generate what one alone does.
"""
import argparse
import os
import shutil

from e2e_common import Results, require, run


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--build", required=True, help="tlmc's build directory")
    p.add_argument("--source", required=True, help="tlmc's source directory")
    p.add_argument("--shared", required=True)
    p.add_argument("--work", required=True)
    a = p.parse_args()
    model = os.path.join(a.shared, "models", "stories260K", "stories260K.bin")
    golden = os.path.join(a.shared, "golden", "stories260K")
    require(model, "stories260K")
    shutil.rmtree(a.work, ignore_errors=True)
    os.makedirs(a.work)
    res = Results()
    project = os.path.join(a.source, "examples", "cmake-project")
    out = os.path.join(a.work, "build")
    generator = ["-G", "Ninja"] if shutil.which("ninja") else []
    # The compilers tlmc's build used (its runtime library is theirs).
    with open(os.path.join(a.build, "CMakeCache.txt")) as f:
        for line in f:
            for lang in ("C", "CXX"):
                key = f"CMAKE_{lang}_COMPILER:"
                if line.startswith(key):
                    generator.append(f"-DCMAKE_{lang}_COMPILER=" +
                                     line.split("=", 1)[1].strip())
    r = run(["cmake", "-S", project, "-B", out, *generator,
             f"-DTLMC_DIR={a.build}", f"-DSTORY_MODEL={model}"])
    if not res.check(r.returncode == 0, "configures", r.stdout + r.stderr):
        res.finish()
    r = run(["cmake", "--build", out])
    if not res.check(r.returncode == 0, "builds (tlmc runs in the build)",
                     r.stdout + r.stderr):
        res.finish()
    res.check("tlmc: compiling" in r.stdout, "the model was compiled by the "
              "build")
    story = os.path.join(out, "story")
    res.check(not os.path.exists(os.path.join(out, "stories.tlmw")),
              "weights embedded: no container beside the app")
    for case in ("once", "mom"):
        with open(os.path.join(golden, case + ".prompt")) as f:
            prompt = f.read()
        with open(os.path.join(golden, case + ".txt")) as f:
            want = f.read().rstrip("\n")
        got = run([story, prompt])
        res.check(got.returncode == 0 and got.stdout.rstrip("\n") == want,
                  f"{case}: the golden story", got.stdout[-200:] + got.stderr)
    r = run(["cmake", "--build", out])
    res.check(r.returncode == 0 and "tlmc: compiling" not in r.stdout,
              "a rebuild with nothing changed does not recompile the model")
    # By hand: a C compiler and nothing else of C++.
    # The C compiler tlmc's build used, and its sanitizers if it has any
    # (an instrumented runtime links with them; nothing else changes).
    cc, extra = None, []
    with open(os.path.join(a.build, "CMakeCache.txt")) as f:
        for line in f:
            if line.startswith("CMAKE_C_COMPILER:"):
                cc = line.split("=", 1)[1].strip()
            if line.startswith("TLMC_SANITIZE:") and line.split("=", 1)[1].strip():
                extra = ["-fsanitize=" + line.split("=", 1)[1].strip()]
    hand = os.path.join(a.work, "hand")
    os.makedirs(hand)
    r = run([os.path.join(a.build, "bin", "tlmc"), "compile", model, "-o",
             os.path.join(hand, "stories"), "--embed-weights"])
    res.check(r.returncode == 0, "compiles the model for a hand link", r.stderr)
    app = os.path.join(hand, "story")
    r = run([cc, "-std=c11", "-I", hand,
             "-I", os.path.join(a.source, "runtime", "include"),
             os.path.join(project, "story.c"), os.path.join(hand, "stories.o"),
             os.path.join(a.build, "lib", "libtlmrt.a"), "-lpthread", "-lm",
             *extra, "-o", app])
    res.check(r.returncode == 0, "links with the C compiler, -lpthread -lm "
              "(no libstdc++)", r.stdout + r.stderr)
    with open(os.path.join(golden, "once.prompt")) as f:
        prompt = f.read()
    with open(os.path.join(golden, "once.txt")) as f:
        want = f.read().rstrip("\n")
    got = run([app, prompt]) if os.path.exists(app) else None
    res.check(got is not None and got.returncode == 0 and
              got.stdout.rstrip("\n") == want,
              "the hand-linked app tells the golden story")
    # Two sessions of the same model and container on two threads at once
    # (each with a pool of its own) agree token for token with one alone.
    two = os.path.join(hand, "two_sessions")
    r = run([cc, "-std=c11", "-I", hand,
             "-I", os.path.join(a.source, "runtime", "include"),
             os.path.join(a.source, "test", "e2e", "two_sessions.c"),
             os.path.join(hand, "stories.o"),
             os.path.join(a.build, "lib", "libtlmrt.a"), "-lpthread", "-lm",
             *extra, "-o", two])
    res.check(r.returncode == 0, "links the two-session test", r.stderr)
    got = run([two, prompt, "200"]) if os.path.exists(two) else None
    res.check(got is not None and got.returncode == 0 and
              got.stdout.startswith("identical"),
              "two sessions at once on two threads generate what one "
              "alone does", (got.stdout + got.stderr) if got else "")
    bad = os.path.join(a.work, "bad")
    r = run(["cmake", "-S", project, "-B", bad, *generator,
             f"-DTLMC_DIR={a.build}"])
    res.check(r.returncode != 0 and "set STORY_MODEL" in r.stderr,
              "no model: a configure error that says what to set")
    res.finish()


if __name__ == "__main__":
    main()
