#!/usr/bin/env bash
# train.* tests through the real binary. Usage: train_test.sh MODE LAM DATA.h5 WORKDIR
#   resume_bitwise  a run stopped by SIGTERM part-way (exit 143, a checkpoint at the step it
#                   reached) and resumed gives bitwise the parameters and AdamW moments of the
#                   uninterrupted run (compared with h5py)
#   mpi_ranks       2 ranks (mpirun) with 2 rows each give the parameters of 1 rank with 4 rows
#                   split the same way (--micro 2, accumulated) within relative 1e-5, and of 1
#                   rank with 4 rows in one micro-batch as closely as that accumulated run does
#                   (the fp32 reordering floor, measured here: after 6 AdamW steps it is ~4e-5 on
#                   Haswell-class OpenBLAS kernels); skips (77) without mpirun
#   time_budget     --time S: the step count chosen at the end of the warmup is the checkpoint's
#                   `steps`, the log has that many lines, and the run is bitwise the run of
#                   that many --steps; its usage errors (no wall time is asserted: the count
#                   depends on the machine)
#   cli             usage errors exit 2; a resume with another model, a damaged checkpoint, a
#                   missing dataset exit 1 with a message naming the problem
set -uo pipefail
mode=$1 lam=$2 data=$3 work=$4
py=/usr/bin/python3
rm -rf "$work" && mkdir -p "$work"
fail() { echo "FAIL: $*"; exit 1; }
common=(--data "$data" --model tiny --seq 512 --batch 4 --warmup 3 --lr 2e-3 --quiet
        --eval-every 0 --threads 2)

expect() { # expect RC TEXT CMD...: exit status RC and TEXT in the output
  local want=$1 text=$2; shift 2
  out=$("$@" 2>&1); rc=$?
  [ $rc = "$want" ] || fail "$*: exit $rc, expected $want: $out"
  grep -qF -- "$text" <<<"$out" || fail "$*: output lacks '$text': $out"
}

train_steps() { # train_steps CKPT.h5: the `steps` its /train JSON records
  "$py" -c "import h5py,json,sys; print(json.loads(bytes(h5py.File(sys.argv[1])['train'][()]).decode())['steps'])" "$1"
}

compare() { # compare A.h5 B.h5 TOL: max relative difference of params, adam_m, adam_v
  "$py" - "$1" "$2" "$3" <<'PY'
import sys, h5py, numpy as np
a, b, tol = h5py.File(sys.argv[1]), h5py.File(sys.argv[2]), float(sys.argv[3])
worst = 0.0
for k in ("params", "adam_m", "adam_v"):
    x, y = a[k][()], b[k][()]
    if x.shape != y.shape: sys.exit(f"{k}: shapes {x.shape} vs {y.shape}")
    if tol == 0.0:
        same = np.array_equal(x.view(np.uint32), y.view(np.uint32))
        print(f"{k}: {x.size} values {'bitwise equal' if same else 'DIFFER'}")
        if not same: sys.exit(1)
    else:
        e = float(np.abs(x - y).max() / np.abs(x).max())
        print(f"{k}: {x.size} values, max relative difference {e:.2e} (tolerance {tol:g})")
        worst = max(worst, e)
print(f"worst {worst:.3e}")
if worst > tol: sys.exit(1)
PY
}

case $mode in
resume_bitwise)
  "$lam" train "${common[@]}" --steps 14 --out "$work/a" --ckpt-every 0 || fail "run a"
  "$lam" train "${common[@]}" --steps 14 --out "$work/b" --ckpt-every 5 &
  pid=$!
  # stop it part-way: once its log shows step 7
  for _ in $(seq 600); do
    [ -f "$work/b/log.jsonl" ] && [ "$(wc -l <"$work/b/log.jsonl")" -ge 7 ] && break
    sleep 0.1
  done
  kill -TERM $pid
  wait $pid; rc=$?
  [ $rc = 143 ] || fail "SIGTERM: exit $rc, expected 143"
  last=$(ls "$work/b" | grep -E '^ckpt-[0-9]{8}\.h5$' | sort | tail -1)
  step=$((10#${last:5:8}))
  [ "$step" -ge 7 ] && [ "$step" -lt 14 ] || fail "stopped at step $step (need 7..13)"
  echo "stopped by SIGTERM at step $step"
  ls "$work/b" | grep -q tmp && fail "a temporary file was left behind"
  "$lam" train --resume "$work/b" --quiet || fail "resume"
  compare "$work/a/ckpt-00000014.h5" "$work/b/ckpt-00000014.h5" 0 || fail "resumed run differs"
  # the last K checkpoints are kept (--keep 3): 5, 10, 14 and the interrupted one, 3 newest
  n=$(ls "$work/b" | grep -cE '^ckpt-')
  [ "$n" = 3 ] || fail "$n checkpoints kept, expected 3"
  # the log has one line per step, the resumed ones appended
  [ "$(grep -c '"step"' "$work/b/log.jsonl")" = 14 ] || fail "log lines"  # --stop-at 6 stops with a checkpoint of step 6 of the 14-step schedule; --resume ends it the
  # same as the straight run
  "$lam" train "${common[@]}" --steps 14 --stop-at 6 --out "$work/c" --ckpt-every 0 \
    || fail "run c"
  [ "$(ls "$work/c" | grep -E '^ckpt-')" = ckpt-00000006.h5 ] || fail "--stop-at 6: $(ls "$work/c")"
  "$lam" train --resume "$work/c" --quiet || fail "resume c"
  compare "$work/a/ckpt-00000014.h5" "$work/c/ckpt-00000014.h5" 0 || fail "--stop-at and resume differ"
  ;;
mpi_ranks)
  command -v mpirun >/dev/null || { echo "mpirun not installed: skipping"; exit 77; }
  mpi=(mpirun --oversubscribe -np 2)
  [ "$(id -u)" = 0 ] && mpi+=(--allow-run-as-root)
  "$lam" train "${common[@]}" --steps 6 --out "$work/one" || fail "1 rank"
  OMP_NUM_THREADS=1 "${mpi[@]}" "$lam" train "${common[@]/--threads/--threads}" --steps 6 \
    --out "$work/two" || fail "2 ranks"
  "$lam" train "${common[@]}" --micro 2 --steps 6 --out "$work/acc" || fail "1 rank, --micro 2"
  compare "$work/acc/ckpt-00000006.h5" "$work/two/ckpt-00000006.h5" 1e-5 \
    || fail "2 ranks differ from 1 rank accumulating the same 2 + 2 rows"
  # how far a mere change of summation order moves 6 AdamW steps here: the floor
  floor=$(compare "$work/one/ckpt-00000006.h5" "$work/acc/ckpt-00000006.h5" 1 | sed -n 's/^worst //p')
  tol=$("$py" -c "print(max(1e-5, 2 * float('$floor')))")
  echo "reordering floor $floor: tolerance $tol against the 4-row run"
  compare "$work/one/ckpt-00000006.h5" "$work/two/ckpt-00000006.h5" "$tol" \
    || fail "2 ranks differ from 1 rank with 4 rows by more than reordering"
  # a time budget under 2 ranks: rank 0's count is every rank's (a disagreement would hang the
  # all-reduces or end the ranks apart)
  OMP_NUM_THREADS=1 timeout 300 "${mpi[@]}" "$lam" train "${common[@]}" --warmup 4 --time 2 \
    --out "$work/two_t" || fail "2 ranks with --time"
  n=$(train_steps "$work/two_t"/ckpt-*.h5)
  [ "$(grep -c '"step"' "$work/two_t/log.jsonl")" = "$n" ] || fail "2 ranks, --time: log lines"
  # the log says 2 ranks and only rank 0 wrote
  grep -q '"ranks":2' <("$py" -c "import h5py,sys; print(bytes(h5py.File('$work/two/ckpt-00000006.h5')['train'][()]).decode())") || fail "ranks not recorded"
  ;;
time_budget)
  # eval-every 4 < the decision step 6: validations before and after it are counted
  tb=("${common[@]}" --warmup 6 --eval-every 4 --ckpt-every 0)
  out=$("$lam" train "${tb[@]}" --time 6 --out "$work/t" 2>&1) || fail "--time: $out"
  ck=$(ls "$work/t"/ckpt-*.h5)
  [ "$(echo "$ck" | wc -l)" = 1 ] || fail "one checkpoint expected: $ck"
  n=$(train_steps "$ck")
  [ "$ck" = "$work/t/$(printf 'ckpt-%08d.h5' "$n")" ] || fail "checkpoint $ck, steps $n"
  [ "$n" -ge 6 ] || fail "$n steps: fewer than the decision step"
  grep -qF "time budget 6 s: $n steps" <<<"$out" || fail "the chosen count is not reported: $out"
  [ "$(grep -c '"step"' "$work/t/log.jsonl")" = "$n" ] || fail "log lines against $n steps"
  echo "--time 6 chose $n steps"
  "$lam" train "${tb[@]}" --steps "$n" --out "$work/s" || fail "--steps $n"
  compare "$ck" "$work/s/$(basename "$ck")" 0 || fail "--time differs from --steps $n"
  # the learning rate of every step is the one of the --steps run
  cmp <("$py" -c "import json,sys; [print(json.loads(l)['lr']) for l in open(sys.argv[1])]" "$work/t/log.jsonl") \
      <("$py" -c "import json,sys; [print(json.loads(l)['lr']) for l in open(sys.argv[1])]" "$work/s/log.jsonl") \
    || fail "learning rates differ"
  expect 2 "without --steps" "$lam" train "${tb[@]}" --time 5 --steps 9 --out "$work/x"
  expect 2 "without --steps, --stop-at" "$lam" train "${tb[@]}" --time 5 --stop-at 9 --out "$work/x"
  expect 2 "and --resume" "$lam" train --resume "$work/t" --time 5
  expect 2 "is not a number" "$lam" train "${tb[@]}" --time 0.5 --out "$work/x"
  expect 1 "needs --warmup 3 or more (given 2)" "$lam" train "${common[@]}" --warmup 2 --time 5 \
    --out "$work/x"
  [ ! -e "$work/x/ckpt-00000001.h5" ] || fail "a refused run wrote a checkpoint"
  ;;
cli)
  expect 2 "unknown flag '--bogus'" "$lam" train --bogus
  expect 2 "usage: lam train" "$lam" train --steps
  expect 2 "is not an integer" "$lam" train --steps x
  expect 2 "is not a number" "$lam" train --lr 1e99
  expect 0 "--resume PATH" "$lam" train --help
  expect 1 "No such file" "$lam" train --data "$work/none.h5"
  expect 1 "must split into" "$lam" train --data "$data" --batch 3 --micro 2 --quiet
  expect 1 "longer than the model's max_seq_len" "$lam" train --data "$data" --seq 5000 --quiet
  "$lam" train "${common[@]}" --steps 2 --out "$work/r" >/dev/null 2>&1 || fail "short run"
  echo '{"dim": 64}' >"$work/other.json"
  expect 1 "differs from the requested model" "$lam" train --resume "$work/r" --model "$work/other.json"
  head -c 3000 "$work/r/ckpt-00000002.h5" >"$work/cut.h5"
  expect 1 "cut.h5" "$lam" train --resume "$work/cut.h5"
  expect 1 "not a lamkit checkpoint" "$lam" train --resume "$data"
  expect 1 "no checkpoint" "$lam" train --resume "$work"
  ;;
*) fail "unknown mode $mode" ;;
esac
echo "train $mode: ok"
