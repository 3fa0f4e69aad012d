#!/usr/bin/env python3
"""triage.py - sorts the findings of a libFuzzer run into ours and libhdf5's.

Usage: triage.py SIGNATURES [--reports DIR] ARTIFACT... -- FUZZER [FLAG...]

Each artifact (crash-*, leak-*, timeout-*, oom-*) runs again alone under FUZZER with full stack
unwinding (and LAM_FUZZ_NO_FREELISTS=1, which fuzz_h5store reads: no libhdf5 free lists). The first frame of each report that is not the sanitizer, libFuzzer, an allocator or
libc decides: in our code (the fuzz binary, liblam linked in) the finding is ours and fails the
run; inside libhdf5 it is the library's, and passes only when SIGNATURES lists it: a line
"KIND FUNCTION description" where KIND is crash, leak, timeout or oom and FUNCTION is a libhdf5
function on the stack between that first frame and our code. An undefined-behaviour report is
always ours (libhdf5 is not instrumented). Anything else (an unknown library finding, a report
without a stack) fails. A timeout that does not happen again (the input finished alone, only
slowly) and a leak that does not (libFuzzer's leak check after one input reports what earlier
inputs lost too) are reported and pass.

A crash that does not happen again alone is judged by what the fuzzing processes reported:
DIR holds their sanitizer reports (ASAN_OPTIONS log_path=DIR/report, one file a process;
run_libfuzzer.sh sets it), and every one that is not a leak report is judged as above and
printed. The crash passes only when each of them is a listed library finding or a failure of
the sanitizer's own runtime (LeakSanitizer's fatal error when it cannot stop the process's
threads, an mmap the machine refused): those say nothing of the input, and a loaded CI machine
makes them now and then. Without DIR, or with no such report in it, it fails. Prints one line a
finding (and the head of each report it judges); exits 1 when any fails.
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


# what the sanitizer runtime prints when it fails itself, not the program
RUNTIME_FAILURE = re.compile(
    r"LeakSanitizer has encountered a fatal error|Tracer caught signal|"
    r"ERROR: \w+Sanitizer failed to (allocate|deallocate|mmap|munmap|reserve)|"
    r"ERROR: Failed to mmap|mmap\(\) failed|\(error code: 12\)")


ALLOC_WARNING = re.compile(r"^==\d+==WARNING: \w+Sanitizer failed to allocate 0x[0-9a-f]+ bytes$")


def verdict_of(kind, stack, known):
    """judge()'s verdict for one finding of reports(); undefined behaviour is always ours."""
    return ("ours", "undefined behaviour") if kind == "ub" else judge(kind, frames(stack), known)


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


def process_reports(rep_dir, known):
    """The verdicts of the fuzzing processes' reports that are not leak reports: a list of
    (file, verdict, text), verdict ('known', why), ('runtime', message), ('ours', where) or
    ('unknown', where)."""
    out = []
    for name in sorted(os.listdir(rep_dir)):
        text = open(os.path.join(rep_dir, name), errors="replace").read()
        # allocator_may_return_null's warnings (an allocation over the limit returned NULL)
        # are no finding; a process that printed only those did not fail
        text = "".join(ln for ln in text.splitlines(True) if not ALLOC_WARNING.search(ln))
        if not text.strip() or "LeakSanitizer: detected memory leaks" in text:
            continue
        m = RUNTIME_FAILURE.search(text)
        if m:
            out.append((name, ("runtime", m.group(0)), text))
            continue
        found = reports(text)
        if not found:
            out.append((name, ("unknown", "a report with no finding line"), text))
        for kind, stack in found:
            out.append((name, verdict_of(kind, stack, known), text))
    return out


def unreplayed_crash(name, judged):
    """Judges a crash that did not happen again alone by the fuzzing processes' reports
    (process_reports(), None without a folder of them); returns True when it fails."""
    if judged is None:
        print(f"{name}: FAILS: did not happen again alone")
        return True
    if not judged:
        print(f"{name}: FAILS: did not happen again alone, and no fuzzing process reported it")
        return True
    bad = False
    for rep, verdict, text in judged:
        print(f"  {rep}: {verdict[0]}: {verdict[1]}")
        if verdict[0] not in ("known", "runtime"):
            bad = True
            print("    " + "\n    ".join(text.splitlines()[:40]))
    if bad:
        print(f"{name}: FAILS: did not happen again alone; the fuzzing reported the above")
        return True
    print(f"{name}: did not happen again alone; the fuzzing processes reported only the "
          "sanitizer's own failures or listed library findings (above)")
    return False


def main():
    cut = sys.argv.index("--")
    args, cmd = sys.argv[1:cut], sys.argv[cut + 1:]
    rep_dir = None
    if len(args) > 2 and args[1] == "--reports":
        rep_dir = args[2]
        del args[1:3]
    sig_file, arts = args[0], args[1:]
    known = []
    for ln in open(sig_file):
        if ln.strip() and not ln.lstrip().startswith("#"):
            k, fn, *desc = ln.split()
            known.append((k, fn, " ".join(desc)))
    env = dict(os.environ)
    opts = [o for o in env.get("ASAN_OPTIONS", "").split(":") if o and not o.startswith("log_path=")]
    env["ASAN_OPTIONS"] = ":".join(opts + ["fast_unwind_on_malloc=0"])  # reports to stdout
    env["LAM_FUZZ_NO_FREELISTS"] = "1"  # the allocation stack of a leak, not of its recycling
    failed = 0
    judged = None  # the fuzzing processes' reports, read once when a crash does not replay
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
            if judged is None and rep_dir is not None:
                judged = process_reports(rep_dir, known)
            failed += unreplayed_crash(name, judged)
            continue
        for kind, stack in found:
            verdict = verdict_of(kind, stack, known)
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
