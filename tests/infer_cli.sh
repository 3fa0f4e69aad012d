#!/usr/bin/env bash
# infer.cli: `lam act` and `lam eval` through the real binary on a tiny model trained here for a
# few steps (its quality is not the point): the answer is JSON whose actions are valid for the
# request's observation (checked in Python against the observation, independently of lamkit),
# the evaluation writes a JSON report with every metric in [0, 1], an HTML page and its
# closed-loop episodes as valid recordings with their results (--trace), and bad
# requests and flags exit 1 or 2 with a message naming the problem.
# Usage: infer_cli.sh LAM RECORDINGS.jsonl DATA.h5 WORKDIR
set -uo pipefail
lam=$1 rec=$2 data=$3 work=$4
py=/usr/bin/python3
rm -rf "$work" && mkdir -p "$work"
fail() { echo "FAIL: $*"; exit 1; }
"$lam" train --data "$data" --model tiny --seq 512 --batch 4 --steps 4 --warmup 1 --quiet \
  --eval-every 0 --out "$work/run" >/dev/null 2>&1 || fail "train"
ck="$work/run/ckpt-00000004.h5"
# a request from a recorded step: its observation and the previous actions
"$py" - "$rec" "$work/req.json" <<'PY' || fail "making the request"
import json, sys
eps = [json.loads(l) for l in open(sys.argv[1])]
ep = next(e for e in eps if len(e["steps"]) > 2)
json.dump({"task": ep["task"], "observation": ep["steps"][2]["observation"],
           "history": [s["action"] for s in ep["steps"][:2]], "options": {"max_actions": 3}},
          open(sys.argv[2], "w"))
PY
"$lam" act "$ck" "$work/req.json" >"$work/ans.json" 2>"$work/act.err" || fail "act: $(cat "$work/act.err")"
"$py" - "$work/req.json" "$work/ans.json" <<'PY' || fail "the answer is not valid"
import json, sys
req, ans = json.load(open(sys.argv[1])), json.load(open(sys.argv[2]))
els = {e["id"]: e for e in req["observation"]["elements"]}
allowed = {"click": None, "hover": None, "type": {"textbox", "searchbox", "combobox"},
           "select": {"combobox"}}
assert 1 <= len(ans["actions"]) <= 3, ans
for a in ans["actions"]:
    assert a["type"] in ("click", "hover", "type", "select", "press", "scroll", "goto", "back",
                         "done"), a
    if a["type"] in ("click", "hover", "type", "select"):
        e = els[a["element"]]                      # the element exists
        assert not e.get("disabled"), a
        assert a["role"] == e["role"] and a["name"] == e["name"], a
        if a["type"] == "select": assert a["value"] in e["options"], a
        if a["type"] in allowed and allowed[a["type"]]: assert e["role"] in allowed[a["type"]], a
assert ans["text"].endswith("<end>") and ans["usage"]["completion_tokens"] > 0
print("act:", ans["text"])
PY
# the same request from flags
obs=$("$py" -c "import json,sys; json.dump(json.load(open('$work/req.json'))['observation'], open('$work/obs.json','w'))")
"$lam" act "$ck" --task "Do it" --observation "$work/obs.json" --history 'scroll down' --compact \
  --temperature 0.7 --seed 4 >"$work/ans2.json" || fail "act with flags"
grep -q '"actions"' "$work/ans2.json" || fail "act with flags: no actions"
# evaluation: offline and closed loop, JSON and HTML
"$lam" eval "$ck" --data "$rec" --splits test_app,valid --episodes 2 --closed-loop 2 \
  --step-limit 4 --out "$work/rep.json" --html "$work/rep.html" --trace "$work/trace.jsonl" \
  --quiet 2>"$work/eval.err" || fail "eval: $(cat "$work/eval.err")"
"$lam" data validate "$work/trace.jsonl" >"$work/validate.txt" 2>&1 \
  || fail "the trace is not valid recordings: $(tail -3 "$work/validate.txt")"
"$py" - "$work/rep.json" "$work/trace.jsonl" <<'PY' || fail "the report"
import json, sys
r = json.load(open(sys.argv[1]))
for split in ("test_app", "valid"):
    o = r["offline"]["splits"][split]
    assert o["episodes"] == 2, o
    for k in ("element_accuracy", "operation_f1", "step_success", "episode_success"):
        assert 0.0 <= o[k] <= 1.0, (k, o)
    c = r["closed_loop"]["splits"][split]
    assert c["episodes"] == 2 and 0 <= c["success_rate"] <= 1 and c["mean_steps"] <= 4, c
assert r["offline"]["apps"] and r["offline"]["domains"] and r["closed_loop"]["apps"]
# the trace: the closed-loop episodes of each split, with their results as meta
eps = [json.loads(l) for l in open(sys.argv[2])]
for split in ("test_app", "valid"):
    mine = [e for e in eps if e["split"] == split]
    c = r["closed_loop"]["splits"][split]
    assert len(mine) <= 2, (split, len(mine))  # an episode with no executed step has no line
    assert sum(e["meta"]["success"] for e in mine) == round(c["success_rate"] * 2), (mine, c)
    for e in mine:
        m = e["meta"]
        assert len(e["steps"]) == m["steps"] - m["invalid"] <= 4, m
        assert e["id"].startswith("eval-" + split + "-"), e["id"]
        for st in e["steps"]:  # a target only where the expert would have done otherwise
            assert "target" not in st or st["target"] != st["action"], st
assert eps, "no episode in the trace"
print("eval: report and trace ok")
PY
grep -q "The worst episodes" "$work/rep.html" || fail "html: no worst episodes"
grep -q "Closed loop" "$work/rep.html" || fail "html: no closed loop"
# errors
expect() { # RC TEXT CMD...
  local want=$1 text=$2; shift 2
  out=$("$@" 2>&1); rc=$?
  [ $rc = "$want" ] || fail "$*: exit $rc, expected $want: $out"
  grep -qF -- "$text" <<<"$out" || fail "$*: output lacks '$text': $out"
}
echo '{"task": "x", "observation": {"url": "u", "elements": [{"id": "e1", "role": "buton", "name": "n"}]}}' >"$work/bad.json"
expect 1 "observation.elements[0].role" "$lam" act "$ck" "$work/bad.json"
echo '{"task": "x",' >"$work/trunc.json"
expect 1 "invalid JSON" "$lam" act "$ck" "$work/trunc.json"
expect 2 "a checkpoint is required" "$lam" act
expect 2 "--task needs --observation" "$lam" act "$ck" --task x
expect 1 "not an HDF5 file" "$lam" act "$rec" "$work/req.json"
expect 2 "unknown flag '--nope'" "$lam" eval "$ck" --nope
expect 2 "--policy must be model or random" "$lam" eval "$ck" --policy greedy
expect 2 "--trace needs closed-loop episodes" "$lam" eval "$ck" --closed-loop 0 --trace "$work/t"
expect 1 "no episode of split 'nosuch'" "$lam" eval "$ck" --data "$rec" --splits nosuch --quiet
echo "infer cli: ok"
