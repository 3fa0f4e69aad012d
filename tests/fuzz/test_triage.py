#!/usr/bin/env python3
"""test_triage.py - checks how tests/fuzz/triage.py judges findings, with a stub in place of the
fuzz binary (it prints the report that the artifact's file holds, as a replay would) and
hand-written sanitizer reports, so that no clang build is needed: a crash in our code fails, a
listed libhdf5 leak passes, an unlisted one fails, a leak or crash that does not happen again
alone is judged as the docstring of triage.py says.
Usage: test_triage.py TRIAGE_PY"""
import os
import subprocess
import sys
import tempfile

TRIAGE = sys.argv[1]
KNOWN = "leak H5O_protect  a header that fails to load\n"
OURS = """==7==ERROR: AddressSanitizer: heap-buffer-overflow on address 0x602 at pc 0x55 bp 0x1 sp 0x2
    #0 0x55 in memcpy (/usr/lib/llvm-14/lib/clang/14.0.6/lib/linux/libclang_rt.asan.so+0x1)
    #1 0x56 in read_any /src/checkpoint.c:342:3 (/b/fuzz_checkpoint_libfuzzer+0x1234)
"""
LIB_LEAK = """==8==ERROR: LeakSanitizer: detected memory leaks

Direct leak of 40 byte(s) in 1 object(s) allocated from:
    #0 0x55 in malloc (/b/fuzz_checkpoint_libfuzzer+0x10)
    #1 0x56 in H5FL_malloc (/usr/lib/x86_64-linux-gnu/hdf5/serial/libhdf5.so.103+0x20)
    #2 0x57 in {fn} (/usr/lib/x86_64-linux-gnu/hdf5/serial/libhdf5.so.103+0x30)
    #3 0x58 in read_any /src/checkpoint.c:342:3 (/b/fuzz_checkpoint_libfuzzer+0x1234)
"""
WARNING = "==9==WARNING: AddressSanitizer failed to allocate 0x1100000008 bytes\n"
LSAN_FATAL = "==10==LeakSanitizer has encountered a fatal error.\n==10==HINT: For debugging\n"
STUB = """import sys
path = sys.argv[-1]
sys.stdout.write(open(path).read())
"""


def run(tmp, artifacts, reports=None):
    """triage.py's exit status and output for artifacts {name: replay output} and, when given,
    fuzzing-process reports {name: text}."""
    art = tempfile.mkdtemp(dir=tmp)
    for name, text in artifacts.items():
        with open(os.path.join(art, name), "w") as f:
            f.write(text)
    args = [sys.executable, TRIAGE, os.path.join(tmp, "known")]
    if reports is not None:
        rep = tempfile.mkdtemp(dir=tmp)
        for name, text in reports.items():
            with open(os.path.join(rep, name), "w") as f:
                f.write(text)
        args += ["--reports", rep]
    args += [os.path.join(art, n) for n in sorted(artifacts)]
    args += ["--", sys.executable, os.path.join(tmp, "stub.py")]
    p = subprocess.run(args, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    return p.returncode, p.stdout


def expect(tmp, what, rc_want, needle, artifacts, reports=None):
    rc, out = run(tmp, artifacts, reports)
    if rc != rc_want or needle not in out:
        print(f"FAIL: {what}: exit {rc} (want {rc_want}), output lacks {needle!r}:\n{out}")
        return 1
    print(f"ok: {what}")
    return 0


def main():
    bad = 0
    with tempfile.TemporaryDirectory() as tmp:
        with open(os.path.join(tmp, "known"), "w") as f:
            f.write(KNOWN)
        with open(os.path.join(tmp, "stub.py"), "w") as f:
            f.write(STUB)
        e = lambda *a: expect(tmp, *a)  # noqa: E731
        bad += e("a crash in our code fails", 1, "FAILS: crash ours: read_any",
                 {"crash-1": OURS})
        bad += e("a listed libhdf5 leak passes", 0, "leak inside libhdf5, known: H5O_protect",
                 {"leak-1": LIB_LEAK.format(fn="H5O_protect")})
        bad += e("an unlisted libhdf5 leak fails", 1, "FAILS: leak unknown: libhdf5",
                 {"leak-1": LIB_LEAK.format(fn="H5D_open")})
        bad += e("a leak that does not happen again passes", 0, "an earlier input's",
                 {"leak-1": ""})
        bad += e("an unreplayed crash without reports fails", 1,
                 "FAILS: did not happen again alone", {"crash-1": ""})
        bad += e("an unreplayed crash with only leak reports and warnings fails", 1,
                 "no fuzzing process reported it", {"crash-1": ""},
                 {"report.1": LIB_LEAK.format(fn="H5O_protect"), "report.2": WARNING * 3})
        bad += e("an unreplayed crash beside LeakSanitizer's fatal error passes", 0,
                 "runtime: LeakSanitizer has encountered a fatal error", {"crash-1": ""},
                 {"report.1": LIB_LEAK.format(fn="H5O_protect"), "report.2": WARNING,
                  "report.3": LSAN_FATAL})
        bad += e("an unreplayed crash beside a report in our code fails and prints it", 1,
                 "heap-buffer-overflow on address", {"crash-1": ""},
                 {"report.1": LSAN_FATAL, "report.2": OURS})
        bad += e("an unreplayed crash beside a stack without a finding line fails", 1,
                 "a report with no finding line", {"crash-1": ""},
                 {"report.1": OURS.split("\n", 1)[1]})
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
