#!/usr/bin/env bash
# Builds the libFuzzer targets (clang, ASan, UBSan, the library instrumented for coverage)
# and runs each for LAM_FUZZ_SECONDS over a scratch copy of its seed corpus. Any crash,
# leak or UBSan report fails. A target's libFuzzer flags are -max_len=8192 unless
# tests/fuzz/<name>.options says otherwise (one flag or NAME=VALUE environment setting a line,
# # comments). A target with tests/fuzz/<name>.known runs in fork mode keeping every finding,
# and tests/fuzz/triage.py fails the run on any that is not a listed bug of the library (the
# sanitizer reports of its processes are kept for that, see triage.py).
# Usage: run_libfuzzer.sh SOURCE_DIR BUILD_DIR
set -euo pipefail
src=$1 build=$2 secs=${LAM_FUZZ_SECONDS:-20}
command -v clang >/dev/null || { echo "clang not installed: skipping the libFuzzer run"; exit 77; }
rt=$(clang -print-resource-dir)/lib/linux/libclang_rt.fuzzer-x86_64.a
[ -f "$rt" ] || { echo "clang's fuzzer runtime ($rt) missing: skipping"; exit 77; }
CC=clang CXX=clang++ cmake -S "$src" -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DLAM_FUZZ=ON -DLAM_CUDA=OFF -DLAM_MPI=OFF -DLAM_NATIVE=OFF >"$build.configure.log" 2>&1 \
  || { cat "$build.configure.log"; exit 1; }
# every fuzz_<name>_libfuzzer target the build defines that has a seed corpus
known=$(cmake --build "$build" --target help | sed -n 's/^\.\.\. fuzz_\(.*\)_libfuzzer$/\1/p')
targets=""
for t in $known; do [ -d "$src/tests/fuzz/corpus/$t" ] && targets="$targets $t"; done
[ -n "$targets" ] || { echo "no libFuzzer targets found in $build"; exit 1; }
for t in $targets; do
  cmake --build "$build" --target "fuzz_${t}_libfuzzer" -j"$(nproc)" >"$build.build-$t.log" 2>&1 \
    || { tail -30 "$build.build-$t.log"; exit 1; }
done
status=0
for t in $targets; do
  work=$(mktemp -d)
  cp -r "$src/tests/fuzz/corpus/$t/." "$work/"
  bin="$build/tests/fuzz_${t}_libfuzzer"
  flags=-max_len=8192 envs=""
  if [ -f "$src/tests/fuzz/$t.options" ]; then
    flags=$(sed 's/#.*//' "$src/tests/fuzz/$t.options" | grep -E '^ *-' || true)
    envs=$(sed 's/#.*//' "$src/tests/fuzz/$t.options" | grep -E '^ *[A-Z_]+=' || true)
  fi
  echo "fuzzing $t for ${secs}s" $flags $envs
  known="$src/tests/fuzz/$t.known"
  if [ -f "$known" ]; then
    # A target over a library with known bugs: every finding is kept and sorted afterwards by
    # triage.py; one in our code, or one in the library not listed in $t.known, fails.
    # The fuzzing processes write their sanitizer reports to $work.rep (libFuzzer's fork mode
    # keeps only their ERROR lines), for the triage of a crash that does not happen again.
    mkdir "$work.art" "$work.rep"
    asan=$(printf '%s\n' $envs | sed -n 's/^ASAN_OPTIONS=//p')
    # (its exit status is the last job's, a finding or not: what it ran and found is judged)
    # shellcheck disable=SC2086 # one flag, one assignment a word
    (cd "$work" && env $envs ASAN_OPTIONS="${asan:+$asan:}log_path=$work.rep/report" "$bin" \
       -max_total_time="$secs" $flags -fork=1 -ignore_crashes=1 -ignore_timeouts=1 \
       -ignore_ooms=1 -artifact_prefix="$work.art/" "$work" >"$work.log" 2>&1) || true
    grep -qE "^#[0-9]+: cov" "$work.log" \
      || { echo "fuzz_$t did not run:"; tail -40 "$work.log"; status=1; }
    grep -E "^#[0-9]+: cov" "$work.log" | tail -1
    if [ -n "$(ls -A "$work.art")" ]; then
      # shellcheck disable=SC2086
      env $envs python3 "$src/tests/fuzz/triage.py" "$known" --reports "$work.rep" \
        "$work.art"/* -- "$bin" $flags || status=1
    fi
    rm -rf "$work.art" "$work.rep"
  # shellcheck disable=SC2086
  elif ! (cd "$work" && env $envs "$bin" -max_total_time="$secs" $flags -print_final_stats=1 \
          "$work" >"$work.log" 2>&1); then
    echo "fuzz_$t failed:"; tail -40 "$work.log"; status=1
  else
    grep -E "stat::number_of_executed_units|Done" "$work.log" | tail -2
  fi
  rm -rf "$work" "$work.log"
done
exit $status
