#!/usr/bin/env bash
# quality.learns: the whole path learns, and the test fails when any part of it (data, prompt,
# loss mask, optimizer, decoding) regresses. Simulator episodes of the login app are
# synthesized with one task template held out (login.basic: sign in, then done), a tokenizer is
# trained, the dataset store built, and the tiny preset trained for a fixed number of steps on
# one thread (about 2.5 minutes). The model is then evaluated against a random valid-action
# policy (`lam eval --policy random`: every token the grammar allows equally likely, the same
# episodes, tasks and step limit): offline on the held-out template, and closed loop in the
# simulator on fresh tasks of the training templates and of the held-out template. Results do
# not depend on the thread count, so the figures are those of any run on the same CPU kind.
# What it asserts: trained with the defaults (a language-model loss on the prompt at weight 0.25
# beside the actions', `lam train --prompt-loss`; typed values copied from the task when decoding,
# docs/decoding.md "Copied values", whole chunks; element positions written bare, `button "Go"
# 7`, docs/formats.md), the model finds the right element on the held-out template 100% of the
# time (the random policy: 21.3%) and gets 75.7% of its steps right (2.7%); closed loop it solves
# 97.0% of 200 fresh held-out-template tasks (0%) and 87.0% of 200 training-template tasks (0%),
# 16 actions at most (the password reset, one of the five training templates, takes the expert 12
# to 14). On an AVX2-only AMD EPYC, 2026-12-08; copying whole words, before, 90.5% and 84.5%; with
# positions in brackets 56.0% and 71.0% there, 76.5% and 71.0% on an AVX-512 one
# (docs/results.md). The bars sit well below (+0.3 and
# 0.6; +0.45; 50% and random + 40%; 25% and 3x random) so that another CPU's rounding, which
# changes the training trajectory, does not flip them (other training seeds of the same recipe,
# 200 steps further: 77% to 94.5% held out; before typed values came from the task only: 57% to
# 80%).
# Usage: quality_test.sh LAM WORKDIR [STEPS]
set -uo pipefail
lam=$1 work=$2 steps=${3:-1000}
py=/usr/bin/python3
rm -rf "$work" && mkdir -p "$work"
fail() { echo "FAIL: $*"; exit 1; }
"$lam" data synth --episodes 1000 --seed 3 --apps login --holdout-templates login.basic \
  --valid 0.05 --out "$work/d.jsonl" --quiet >/dev/null 2>&1 || fail "synth"
"$lam" data tokenizer train --vocab 1024 --out "$work/tok.json" "$work/d.jsonl" >/dev/null 2>&1 \
  || fail "tokenizer"
"$lam" data build "$work/d.jsonl" --tokenizer "$work/tok.json" --out "$work/d.h5" \
  >/dev/null 2>&1 || fail "build"
"$lam" train --data "$work/d.h5" --model tiny --seq 512 --batch 8 --steps "$steps" --threads 1 \
  --eval-every 0 --ckpt-every 0 --quiet --out "$work/run" >"$work/train.txt" 2>&1 \
  || fail "train: $(tail -5 "$work/train.txt")"
ckpt=$(ls "$work"/run/ckpt-*.h5 | tail -n 1)
for policy in model random; do
  "$lam" eval "$ckpt" --data "$work/d.jsonl" --splits test_template,train --episodes 50 \
    --closed-loop 200 --step-limit 16 --policy "$policy" --threads 1 --quiet \
    --out "$work/$policy.json" 2>"$work/$policy.err" \
    || fail "eval --policy $policy: $(tail -5 "$work/$policy.err")"
done
"$py" - "$work/model.json" "$work/random.json" <<'PY' || fail "the model against the random policy"
import json, sys
m, r = (json.load(open(p)) for p in sys.argv[1:3])
assert (m["policy"], r["policy"]) == ("model", "random")
def off(rep, split, k):
    s = rep["offline"]["splits"][split]
    assert s["episodes"] == 50, s
    return s[k]
def cl(rep, split):
    s = rep["closed_loop"]["splits"][split]
    assert s["episodes"] == 200, s
    return s["success_rate"]
rows = [("held-out template, offline element accuracy",
         off(m, "test_template", "element_accuracy"), off(r, "test_template", "element_accuracy")),
        ("held-out template, offline step success", off(m, "test_template", "step_success"),
         off(r, "test_template", "step_success")),
        ("training templates, closed-loop success", cl(m, "train"), cl(r, "train")),
        ("held-out template, closed-loop success", cl(m, "test_template"), cl(r, "test_template"))]
for name, a, b in rows:
    print("%-46s trained tiny %5.1f%%   random valid policy %5.1f%%"
          % (name, 100 * a, 100 * b))
(ea, er), (sa, sr), (ca, cr), (ha, hr) = [(a, b) for _, a, b in rows]
assert ea >= 0.6 and ea >= er + 0.3, ("element accuracy", ea, er)
assert sa >= sr + 0.45, ("step success", sa, sr)
assert ca >= 0.25 and ca >= 3 * cr, ("closed loop, training templates", ca, cr)
assert ha >= 0.5 and ha >= hr + 0.4, ("closed loop, held-out template", ha, hr)
PY
echo "quality learns: ok"
