#!/usr/bin/env python3
"""triage.py - sorts the findings of a libFuzzer run into ours and libhdf5's.

Usage: triage.py SIGNATURES ARTIFACT... -- FUZZER [FLAG...]

Each artifact (crash-*, leak-*, timeout-*, oom-*) runs again alone under FUZZER with full stack
unwinding (and LAM_FUZZ_NO_FREELISTS=1, which fuzz_h5store reads: no libhdf5 free lists). The first frame of each report that is not the sanitizer, libFuzzer, an allocator or
libc decides: in our code (the fuzz binary, liblam linked in) the finding is ours and fails the
run; inside libhdf5 it is the library's, and passes only when SIGNATURES lists it: a line
"KIND FUNCTION description" where KIND is crash, leak, timeout or oom and FUNCTION is a libhdf5
function on the stack between that first frame and our code. An undefined-behaviour report is
always ours (libhdf5 is not instrumented). Anything else (an unknown library finding, a report
without a stack) fails, and so does a crash that does not happen again. A timeout that does not
(the input finished alone, only slowly) and a leak that does not (libFuzzer's leak check after
one input reports what earlier inputs lost too) are reported and pass. Prints one line a
finding; exits 1 when any fails.
"""
import os
import re
import subprocess
import sys

FRAME = re.compile(r"^\s+#(\d+) 0x[0-9a-f]+(?: in (.+?))? \(?(/[^\s()+]+)(?:\+0x[0-9a-f]+)?\)?")
SKIP_FN = re.compile(
    r"^(__sanitizer|__asan|__lsan|__ubsan|__interceptor_|fuzzer::|__libc_|_start|"
    r"(malloc|calloc|realloc|free|memcpy|memmove|memset|strdup|strndup|strlen|strnlen|"
    r"strcpy|strncpy|strcmp|memcmp|posix_memalign|aligned_alloc)\b)")


def frames(lines):
    """The stack frames of lines: (function or '', module)."""
    out = []
    for ln in lines:
        m = FRAME.match(ln)
        if m:
            out.append(((m.group(2) or "").split("(")[0].strip(), m.group(3)))
    return out


def judge(kind, stack, known):
    """'ours', ('known', description) or ('unknown', where)."""
    rest = [f for f in stack if not SKIP_FN.match(f[0]) and "libc.so" not in f[1]]
    if not rest:
        return ("unknown", "no frame outside the sanitizer and libc")
    if "libhdf5" not in rest[0][1]:
        return ("ours", rest[0][0] or rest[0][1])
    lib = []
    for fn, mod in rest:
        if "libhdf5" not in mod:
            break
        lib.append(fn)
    for k, fn, desc in known:
        if k == kind and fn in lib:
            return ("known", fn + ": " + desc)
    named = [f for f in lib if f]
    return ("unknown", "libhdf5 " + " < ".join(named[:4]) if named else "libhdf5 (no names)")


def reports(out):
    """(kind, stack lines) for each finding in one run's output."""
    lines = out.splitlines()
    if "ERROR: LeakSanitizer" in out:
        res, cur = [], None
        for ln in lines:
            if re.match(r"^(Direct|Indirect) leak of", ln):
                cur = []
                res.append(("leak", cur))
            elif cur is not None:
                cur.append(ln)
        return res
    if "runtime error:" in out:
        return [("ub", [])]
    kind = ("timeout" if "libFuzzer: timeout" in out else
            "oom" if "out-of-memory" in out else
            "crash" if re.search(r"ERROR: (AddressSanitizer|libFuzzer)", out) else None)
    if kind is None:
        return []
    start = next((i for i, ln in enumerate(lines) if "ERROR:" in ln), 0)
    return [(kind, lines[start:])]


def main():
    cut = sys.argv.index("--")
    sig_file, arts, cmd = sys.argv[1], sys.argv[2:cut], sys.argv[cut + 1:]
    known = []
    for ln in open(sig_file):
        if ln.strip() and not ln.lstrip().startswith("#"):
            k, fn, *desc = ln.split()
            known.append((k, fn, " ".join(desc)))
    env = dict(os.environ)
    env["ASAN_OPTIONS"] = (env.get("ASAN_OPTIONS", "") + ":fast_unwind_on_malloc=0").lstrip(":")
    env["LAM_FUZZ_NO_FREELISTS"] = "1"  # the allocation stack of a leak, not of its recycling
    failed = 0
    for art in arts:
        name = os.path.basename(art)
        try:
            out = subprocess.run(cmd + ["-timeout=20", art], env=env, stdout=subprocess.PIPE,
                                 stderr=subprocess.STDOUT, text=True, errors="replace",
                                 timeout=300).stdout
        except (subprocess.TimeoutExpired, OSError) as e:
            print(f"{name}: FAILS: could not replay it: {e}")
            failed += 1
            continue
        found = reports(out)
        if not found and name.startswith("timeout-"):
            print(f"{name}: slow, but finished alone within 20 s")
            continue
        if not found and name.startswith("leak-"):
            # libFuzzer checks for leaks after an input that allocated more than it freed, and
            # then reports all that is lost by then: also what an earlier input lost without
            # tipping that balance (libhdf5 frees its caches). Such a report names an input that
            # leaks nothing alone; it cannot be judged, only counted.
            print(f"{name}: a leak its input does not make alone (an earlier input's)")
            continue
        if not found:
            print(f"{name}: FAILS: did not happen again alone")
            failed += 1
            continue
        for kind, stack in found:
            if kind == "ub":
                verdict = ("ours", "undefined behaviour")
            else:
                verdict = judge(kind, frames(stack), known)
            if verdict[0] == "known":
                print(f"{name}: {kind} inside libhdf5, known: {verdict[1]}")
            else:
                print(f"{name}: FAILS: {kind} {verdict[0]}: {verdict[1]}")
                failed += 1
    if failed:
        print(f"{failed} finding(s) not known to be libhdf5's")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
