#!/usr/bin/env python3
"""The installed package, as a user gets it from `cmake --install`.

Installs this build into a temporary prefix, then builds
examples/cmake-project against that prefix (not the build tree): for this
machine, and for AArch64 with the package's toolchain file, run under
qemu-user. Both tell the golden story of stories260K. A hand link with
pkg-config (the prefix's tlmrt.pc) does too. The prefix is then moved: the
package must not remember where it was installed.
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
    a.build, a.source, a.work = map(os.path.abspath, (a.build, a.source, a.work))
    model = os.path.join(a.shared, "models", "stories260K", "stories260K.bin")
    golden = os.path.join(a.shared, "golden", "stories260K")
    require(model, "stories260K")
    shutil.rmtree(a.work, ignore_errors=True)
    os.makedirs(a.work)
    res = Results()
    installed = os.path.join(a.work, "installed")
    r = run(["cmake", "--install", a.build, "--prefix", installed])
    if not res.check(r.returncode == 0, "cmake --install", r.stdout + r.stderr):
        res.finish()
    # Moved after installing: every path in the package is relative.
    prefix = os.path.join(a.work, "prefix")
    os.rename(installed, prefix)
    for path in ["bin/tlmc", "include/tlm/tlm.h", "lib/libtlmrt.a",
                 "lib/cmake/TLMC/TLMCConfig.cmake", "lib/pkgconfig/tlmrt.pc"]:
        res.check(os.path.exists(os.path.join(prefix, path)),
                  f"installs {path}")

    with open(os.path.join(golden, "once.prompt")) as f:
        prompt = f.read()
    with open(os.path.join(golden, "once.txt")) as f:
        want = f.read().rstrip("\n")

    def tells_golden_story(what, cmd):
        got = run(cmd + [prompt])
        res.check(got.returncode == 0 and got.stdout.rstrip("\n") == want,
                  f"{what}: the golden story", got.stdout[-200:] + got.stderr)

    project = os.path.join(a.source, "examples", "cmake-project")
    generator = ["-G", "Ninja"] if shutil.which("ninja") else []
    builds = [("host", [], [])]
    toolchain = os.path.join(prefix, "lib", "cmake", "TLMC", "toolchains",
                             "aarch64-linux-gnu.cmake")
    if os.path.exists(toolchain) and shutil.which("qemu-aarch64"):
        builds.append(("aarch64", [f"-DCMAKE_TOOLCHAIN_FILE={toolchain}"],
                       ["qemu-aarch64", "-cpu", "max"]))
    else:
        res.check(False, "the package has an AArch64 toolchain and runtime "
                  "(utils/setup.sh installs the cross libraries and qemu)")
    for name, options, runner in builds:
        out = os.path.join(a.work, name)
        r = run(["cmake", "-S", project, "-B", out, *generator, *options,
                 f"-DCMAKE_PREFIX_PATH={prefix}", f"-DSTORY_MODEL={model}"])
        if not res.check(r.returncode == 0, f"{name}: configures against the "
                         "installed prefix", r.stdout + r.stderr):
            continue
        r = run(["cmake", "--build", out, "--verbose"])
        if not res.check(r.returncode == 0, f"{name}: builds",
                         r.stdout + r.stderr):
            continue
        res.check(os.path.join(prefix, "bin", "tlmc") in r.stdout and
                  os.path.join(a.build, "bin", "tlmc") not in r.stdout,
                  f"{name}: the installed tlmc compiled the model")
        tells_golden_story(name, runner + [os.path.join(out, "story")])

    # pkg-config, for builds that are not CMake.
    hand = os.path.join(a.work, "pkg-config")
    os.makedirs(hand)
    r = run([os.path.join(prefix, "bin", "tlmc"), "compile", model, "-o",
             os.path.join(hand, "stories"), "--embed-weights"])
    res.check(r.returncode == 0, "the installed tlmc compiles", r.stderr)
    env = dict(os.environ, PKG_CONFIG_PATH=os.path.join(prefix, "lib",
                                                        "pkgconfig"))
    flags = run(["pkg-config", "--cflags", "--libs", "--static", "tlmrt"],
                env=env)
    res.check(flags.returncode == 0 and prefix in flags.stdout,
              "pkg-config tlmrt", flags.stdout + flags.stderr)
    app = os.path.join(hand, "story")
    r = run(["cc", "-std=c11", "-I", hand, os.path.join(project, "story.c"),
             os.path.join(hand, "stories.o"), *flags.stdout.split(),
             "-o", app])
    if res.check(r.returncode == 0, "links with cc and pkg-config's flags",
                 r.stdout + r.stderr):
        tells_golden_story("pkg-config", [app])
    res.finish()


if __name__ == "__main__":
    main()
