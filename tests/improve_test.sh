#!/usr/bin/env bash
# infer.improve: `lam improve` end to end on a tiny model trained here for a few steps: two
# rounds of rollouts on training templates, the recorded episodes valid for the recording schema
# (`lam data validate`, the independent validator) with expert corrections among them (steps
# with a target), the aggregate dataset holding them, training continued from the model (the
# rounds stretches of one schedule, the same as the baseline's), and the table with the held-out closed-loop success of each model (plus the equal-compute baseline); rollouts cut at their
# first correction by default, whole with --all-states; --beta 1 rollouts the expert's own;
# --rollout-weight K puts each round's rollouts into the aggregate K times.
# Usage: improve_test.sh LAM RECORDINGS.jsonl DATA.h5 WORKDIR
set -uo pipefail
lam=$1 rec=$2 data=$3 work=$4
py=/usr/bin/python3
rm -rf "$work" && mkdir -p "$work"
fail() { echo "FAIL: $*"; exit 1; }
"$lam" train --data "$data" --model tiny --seq 1024 --batch 4 --steps 4 --warmup 1 --quiet \
  --eval-every 0 --threads 1 --out "$work/run" >/dev/null 2>&1 || fail "train"
"$lam" improve "$work/run/ckpt-00000004.h5" --data "$rec" --out "$work/imp" --rounds 2 \
  --episodes 6 --steps 2 --warmup 1 --step-limit 6 --eval-episodes 2 --baseline --threads 1 \
  --quiet >"$work/table.md" 2>"$work/improve.err" || fail "improve: $(tail -5 "$work/improve.err")"
"$lam" data validate "$work/imp/round-1/rollouts.jsonl" >"$work/validate.txt" \
  || fail "the rollouts are not valid recordings: $(tail -5 "$work/validate.txt")"
"$py" - "$work/imp/round-1/rollouts.jsonl" "$work/imp/table.json" "$rec" <<'PY' || fail "checks"
import json, sys
eps = [json.loads(l) for l in open(sys.argv[1])]
assert 1 <= len(eps) <= 6, len(eps)
steps = [s for e in eps for s in e["steps"]]
fixed = [s for s in steps if "target" in s]
assert fixed, "no correction: an untrained model cannot have acted like the expert everywhere"
train_templates = {e["template"] for e in map(json.loads, open(sys.argv[3])) if e.get("split", "train") == "train"}
for e in eps:
    assert e["split"] == "train" and e["template"] in train_templates, e["template"]
    assert 1 <= len(e["steps"]) <= 6
t = json.load(open(sys.argv[2]))
rows = t["rows"]
assert [r["round"] for r in rows] == [0, 1, 2, "baseline"], rows
# by default a rollout joins the data up to its first correction: the states the model
# reached after leaving the expert's path are counted, not written
for e in eps:
    marks = [i for i, s in enumerate(e["steps"]) if "target" in s]
    assert marks in ([], [len(e["steps"]) - 1]), (e["id"], marks)
assert rows[1]["kept"] == len(steps), (rows[1], len(steps))
assert rows[1]["states"] > len(steps), ("no state after a first correction left out", rows[1])
assert rows[1]["corrections"] > len(fixed), rows[1]
for r in rows:
    for split, rate in r["held_out"].items():
        assert split.startswith("test_") and 0.0 <= rate <= 1.0, (split, rate)
print("improve: %d episodes, %d states, %d corrections" % (len(eps), len(steps), len(fixed)))
PY
grep -q "| 1 |" "$work/table.md" || fail "the printed table has no round 1: $(cat "$work/table.md")"
# training continued: round 1 trains steps 1-2 from the model, round 2 resumes it for steps 3-4
# (its optimizer state and schedule), the baseline steps 1-4 plain; the learning rates of the
# rounds are the baseline's, step by step
"$py" - "$work/imp" <<'PY' || fail "training did not continue"
import json, os, sys
d = sys.argv[1]
logs = {}
for run, a, b in (("round-1/run", 1, 2), ("round-2/run", 3, 4), ("baseline/run", 1, 4)):
    log = [json.loads(l) for l in open(os.path.join(d, run, "log.jsonl"))]
    assert [r["step"] for r in log] == list(range(a, b + 1)), (run, [r["step"] for r in log])
    assert os.path.exists(os.path.join(d, run, "ckpt-%08d.h5" % b)), os.listdir(os.path.join(d, run))
    logs[run] = {r["step"]: r["lr"] for r in log}
rounds = {**logs["round-1/run"], **logs["round-2/run"]}
assert rounds == logs["baseline/run"], (rounds, logs["baseline/run"])
assert len(set(rounds.values())) > 1, rounds
print("improve: the rounds trained steps 1-2 and 3-4 of the baseline's schedule")
PY
# --all-states: every state of every rollout joins the data, corrections after the first too;
# --eval-train: the training templates measured beside the held-out splits; --rollout-weight 3:
# the round's rollouts enter the aggregate three times
"$lam" improve "$work/run/ckpt-00000004.h5" --data "$rec" --out "$work/all" --rounds 1 \
  --episodes 6 --steps 1 --warmup 1 --step-limit 6 --eval-episodes 2 --all-states --eval-train \
  --rollout-weight 3 --threads 1 --quiet >/dev/null 2>"$work/all.err" \
  || fail "improve --all-states: $(tail -5 "$work/all.err")"
"$py" - "$work/all/round-1/rollouts.jsonl" "$work/all/table.json" "$work/imp/table.json" <<'PY' || fail "--all-states"
import json, sys
eps = [json.loads(l) for l in open(sys.argv[1])]
t = json.load(open(sys.argv[2]))
row = t["rows"][1]
steps = [s for e in eps for s in e["steps"]]
assert row["states"] == row["kept"] == len(steps), (row, len(steps))
# the plain data's samples (the first run's aggregate less its round-1 rollouts, one sample a
# step) plus three of each rollout step
first = json.load(open(sys.argv[3]))
assert first["rollout_weight"] == 1 and t["rollout_weight"] == 3, (first["rollout_weight"], t["rollout_weight"])
plain = first["rows"][1]["samples"] - first["rows"][1]["kept"]
assert row["samples"] == plain + 3 * len(steps), (row["samples"], plain, len(steps))
assert row["corrections"] == sum("target" in s for s in steps), row
assert any(sum("target" in s for s in e["steps"]) > 1 for e in eps), "no episode with two corrections"
# --eval-train: each model measured on fresh tasks of the training templates too
for r in json.load(open(sys.argv[2]))["rows"]:
    assert "train" in r["held_out"] and 0.0 <= r["held_out"]["train"] <= 1.0, r
    assert any(k.startswith("test_") for k in r["held_out"]), r
print("improve --all-states: %d states, %d corrections" % (len(steps), row["corrections"]))
PY
# --beta 1: the expert acts in every state (DAgger's mixture at its end), so each rollout is an
# expert demonstration the simulator judges solved, kept whole, every executed action the expert's;
# the model's own actions still count as corrections where they differ
"$lam" improve "$work/run/ckpt-00000004.h5" --data "$rec" --out "$work/beta" --rounds 1 \
  --episodes 6 --steps 1 --warmup 1 --step-limit 30 --eval-episodes 1 --beta 1 \
  --threads 1 --quiet >/dev/null 2>"$work/beta.err" || fail "improve --beta 1: $(tail -5 "$work/beta.err")"
"$lam" data validate "$work/beta/round-1/rollouts.jsonl" >"$work/validate_beta.txt" \
  || fail "--beta 1 rollouts are not valid recordings: $(tail -5 "$work/validate_beta.txt")"
"$py" - "$work/beta/round-1/rollouts.jsonl" "$work/beta/table.json" <<'PY' || fail "--beta 1"
import json, sys
eps = [json.loads(l) for l in open(sys.argv[1])]
t = json.load(open(sys.argv[2]))
row = t["rows"][1]
assert t["beta"] == 1.0, t["beta"]
assert len(eps) == 6 and row["rollout_success"] == 1.0, ("the expert's rollouts all succeed", row)
steps = [s for e in eps for s in e["steps"]]
fixed = [s for s in steps if "target" in s]
assert row["states"] == row["kept"] == len(steps), (row, len(steps))
assert row["corrections"] == len(fixed) > 0, (row, len(fixed))
for s in fixed:
    assert s["action"] == s["target"], ("a wrong action was executed", s["action"], s["target"])
print("improve --beta 1: %d states, %d where the model was wrong" % (len(steps), len(fixed)))
PY
echo "infer improve: ok"
