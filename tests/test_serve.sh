#!/usr/bin/env bash
# serve.<mode>: the real `lam serve` on a free port (port 0; the port is read back from its
# "listening on" line), driven by independent clients (tests/serve.cmake says what each mode
# proves). Answers are checked in Python against the request's observation, independently of
# lamkit; the metrics are parsed by Python's prometheus_client.
# Usage: test_serve.sh MODE LAM CHECKPOINT RECORDINGS.jsonl WORKDIR SOURCE_DIR
set -uo pipefail
mode=$1 lam=$2 ck=$3 rec=$4 work=$5 src=$6
py=/usr/bin/python3
here=$(cd "$(dirname "$0")" && pwd)
rm -rf "$work" && mkdir -p "$work"
model=$(basename "$ck" .h5) # the model's id: the checkpoint's name
pid=""
cleanup() { [ -n "$pid" ] && kill -KILL "$pid" 2>/dev/null; }
trap cleanup EXIT
fail() {
  echo "FAIL: $*"
  [ -f "$work/serve.log" ] && { echo "--- server log:"; tail -20 "$work/serve.log"; }
  exit 1
}
command -v curl >/dev/null || { echo "curl not installed: skipping"; exit 77; }
"$py" -c "import prometheus_client" 2>/dev/null \
  || { echo "python3-prometheus-client not installed (scripts/deps.sh): skipping"; exit 77; }

# start_server LOG FLAGS...: lam serve on port 0, one model thread; sets pid, port, base
start_server() {
  local log=$1; shift
  "$lam" serve "$ck" --port 0 --threads 1 "$@" >"$log" 2>&1 &
  pid=$!
  port=""
  for _ in $(seq 1 1200); do # loading takes well under a second; a loaded machine, longer
    port=$(sed -n 's/^lam serve: listening on http:\/\/127\.0\.0\.1:\([0-9]*\) .*/\1/p' "$log")
    [ -n "$port" ] && break
    kill -0 "$pid" 2>/dev/null || fail "lam serve exited: $(cat "$log")"
    sleep 0.05
  done
  [ -n "$port" ] || fail "lam serve printed no listening line"
  base=http://127.0.0.1:$port
}
# stop_server LOG: SIGTERM, exit 0, the stop reported
stop_server() {
  kill -TERM "$pid"
  wait "$pid"
  local rc=$?
  pid=""
  [ $rc = 0 ] || fail "lam serve exited $rc after SIGTERM: $(tail -5 "$1")"
  grep -q "^lam serve: stopped" "$1" || fail "no 'stopped' line: $(tail -5 "$1")"
}

# requests made from recorded steps of test episodes: reqN.json ({task, observation})
"$py" - "$rec" "$work" <<'PY' || fail "making requests"
import json, sys
eps = [json.loads(l) for l in open(sys.argv[1])]
eps = [e for e in eps if len(e["steps"]) > 2]
eps.sort(key=lambda e: (e.get("split") != "test_app", e["id"]))
for i, e in enumerate(eps[:8]):
    s = e["steps"]
    json.dump({"task": e["task"], "observation": s[0]["observation"]},
              open(f"{sys.argv[2]}/req{i}.json", "w"))
    json.dump({"task": e["task"], "steps": [{"observation": x["observation"], "action": x["action"]}
                                            for x in s[:3]]},
              open(f"{sys.argv[2]}/ep{i}.json", "w"))
PY

# check_answer REQ ANS [MAX]: the answer's actions are valid for the request's observation
check_answer() {
  "$py" - "$1" "$2" "${3:-8}" <<'PY'
import json, sys
req, ans, most = json.load(open(sys.argv[1])), json.load(open(sys.argv[2])), int(sys.argv[3])
els = {}
for e in req["observation"]["elements"]:
    els.setdefault(e["id"], e)                      # the first element with an id decides
roles = {"click": None, "hover": None, "type": {"textbox", "searchbox", "combobox"},
         "select": {"combobox"}, "press": {"textbox", "searchbox"}, "scroll": {"list", "dialog"}}
no_click = {"list", "heading", "dialog", "text"}
acts = ans["actions"]
assert 1 <= len(acts) <= most, ans
for i, a in enumerate(acts):
    t = a["type"]
    assert t in ("click", "type", "select", "hover", "press", "scroll", "goto", "back", "done"), a
    assert t != "done" or i == len(acts) - 1, ans
    if "element" in a:
        e = els[a["element"]]                        # the element exists
        assert not e.get("disabled"), a
        assert a["role"] == e["role"] and a["name"] == e["name"], a
        if roles.get(t): assert e["role"] in roles[t], a
        if t == "click": assert e["role"] not in no_click, a
    else:
        assert t not in ("click", "type", "select", "hover"), a
    if t == "select": assert a["value"] in e["options"], a
    if t == "scroll": assert a["value"] in ("up", "down"), a
assert ans["text"].endswith("<end>") and ans["usage"]["completion_tokens"] > 0, ans
assert ans["usage"]["total_tokens"] == ans["usage"]["prompt_tokens"] + ans["usage"]["completion_tokens"]
PY
}

# expect_error STATUS FILE|- TYPE PARAM TEXT CURL-ARGS...: the status and the error object
expect_error() {
  local want=$1 out=$work/err.json type=$2 param=$3 text=$4; shift 4
  local got
  got=$(curl -s -o "$out" -w '%{http_code}' "$@") || fail "curl $*"
  [ "$got" = "$want" ] || fail "$*: status $got, expected $want: $(head -c 400 "$out")"
  "$py" - "$out" "$type" "$param" "$text" <<'PY' || fail "$*: $(head -c 400 "$out")"
import json, sys
e = json.load(open(sys.argv[1]))["error"]
assert set(e) >= {"message", "type", "param"}, e
assert e["type"] == sys.argv[2], e
assert (e["param"] or "") == sys.argv[3], e
assert sys.argv[4] in e["message"], e
PY
  echo "  $want ${param:-(no param)}: $("$py" -c "import json,sys; print(json.load(open(sys.argv[1]))['error']['message'][:110])" "$out")"
}

case $mode in
curl)
  # the command line's errors
  "$lam" serve >/dev/null 2>&1; [ $? = 2 ] || fail "lam serve without a checkpoint: not exit 2"
  "$lam" serve "$ck" --port 70000 >/dev/null 2>&1; [ $? = 2 ] || fail "--port 70000: not exit 2"
  "$lam" serve "$ck" --api-key a --api-key-file b >/dev/null 2>&1; [ $? = 2 ] || fail "two keys"
  "$lam" serve "$rec" >/dev/null 2>&1; [ $? = 1 ] || fail "a checkpoint that is not one: not exit 1"
  start_server "$work/serve.log"
  out=$("$lam" serve "$ck" --port "$port" 2>&1); rc=$?
  [ $rc = 1 ] && grep -q "MHD_start_daemon on 127.0.0.1 port $port failed" <<<"$out" \
    || fail "a port in use: exit $rc: $out"
  # health, models, tools
  curl -sf "$base/health" >"$work/health.json" || fail "health"
  curl -sf "$base/v1/models" >"$work/models.json" || fail "models"
  curl -sf "$base/v1/tools" >"$work/tools.json" || fail "tools"
  "$py" - "$work" "$model" <<'PY' || fail "health, models, tools"
import json, sys
w = sys.argv[1]
h, m, t = (json.load(open(f"{w}/{n}.json")) for n in ("health", "models", "tools"))
assert h["status"] == "ok" and h["batch_capacity"] == 16 and h["queue"] == 0, h
assert m["object"] == "list" and [d["id"] for d in m["data"]] == [sys.argv[2]], m
names = [x["function"]["name"] for x in t["data"]]
assert names == ["click", "type", "select", "hover", "press", "scroll", "goto", "back", "done"], t
for x in t["data"]:
    assert x["type"] == "function" and x["function"]["parameters"]["type"] == "object", x
PY
  curl -sf "$base/v1/models/$model" | grep -q "\"id\":\"$model\"" || fail "one model"
  # answers: valid for their observations, and the same as `lam act` gives (greedy)
  : >"$work/usage.txt"
  for i in 0 1 2 3 4 5; do
    curl -sf "$base/v1/act" -d @"$work/req$i.json" >"$work/ans$i.json" || fail "act $i"
    check_answer "$work/req$i.json" "$work/ans$i.json" || fail "answer $i: $(cat "$work/ans$i.json")"
    "$lam" act "$ck" "$work/req$i.json" --threads 1 >"$work/cli$i.json" 2>/dev/null || fail "lam act $i"
    "$py" -c "import json,sys; a,b=(json.load(open(f)) for f in sys.argv[1:]); assert a['text']==b['text'], (a['text'], b['text'])" \
      "$work/ans$i.json" "$work/cli$i.json" || fail "the server and lam act differ on request $i"
    "$py" -c "import json,sys; u=json.load(open(sys.argv[1]))['usage']; print(u['prompt_tokens'], u['completion_tokens'])" \
      "$work/ans$i.json" >>"$work/usage.txt"
  done
  echo "  6 answers valid and equal to lam act's: $(cut -c1-60 <<<"$(cat "$work"/ans*.json | tr -d '\n')")..."
  # 16 clients at once (curl --parallel): every answer is the one it gets alone, and the decode
  # loop batched them (some step advanced more than one sequence)
  args=()
  for k in $(seq 0 15); do
    [ $k -gt 0 ] && args+=(--next)
    args+=(-s -d @"$work/req$((k % 6)).json" -o "$work/par$k.json" "$base/v1/act")
  done
  curl -s --parallel --parallel-immediate --parallel-max 16 "${args[@]}" 2>"$work/parallel.err" || fail "parallel: $(cat "$work/parallel.err")"
  for k in $(seq 0 15); do
    "$py" -c "import json,sys; a,b=(json.load(open(f)) for f in sys.argv[1:]); assert a['text']==b['text'], (a, b)" \
      "$work/par$k.json" "$work/ans$((k % 6)).json" || fail "parallel answer $k differs from the lone one"
    "$py" -c "import json,sys; u=json.load(open(sys.argv[1]))['usage']; print(u['prompt_tokens'], u['completion_tokens'])" \
      "$work/par$k.json" >>"$work/usage.txt"
  done
  # sessions: the server keeps the history; the client sends only the new observation
  "$py" - "$work" <<'PY' || fail "session requests"
import json, sys
w = sys.argv[1]
ep = json.load(open(f"{w}/ep0.json"))
s = ep["steps"]
json.dump({"session": "ep-0", "task": ep["task"], "observation": s[0]["observation"]}, open(f"{w}/s0.json", "w"))
json.dump({"session": "ep-0", "observation": s[1]["observation"]}, open(f"{w}/s1.json", "w"))
json.dump({"session": "ep-0", "observation": s[2]["observation"], "executed": [s[1]["action"]]}, open(f"{w}/s2.json", "w"))
json.dump({"session": "ep-0", "observation": s[2]["observation"], "executed": [{"type": "click", "element": "e_nope"}]}, open(f"{w}/s2bad.json", "w"))
json.dump({"session": "ep-0", "task": "another task", "observation": s[2]["observation"]}, open(f"{w}/s2task.json", "w"))
json.dump({"session": "ep-0", "observation": s[2]["observation"], "history": "scroll down"}, open(f"{w}/s2hist.json", "w"))
json.dump({"session": "nope", "observation": s[0]["observation"]}, open(f"{w}/snope.json", "w"))
PY
  curl -sf "$base/v1/act" -d @"$work/s0.json" >"$work/sa0.json" || fail "session start"
  curl -sf "$base/v1/sessions/ep-0" >"$work/sg0.json" || fail "session get 0"
  curl -sf "$base/v1/act" -d @"$work/s1.json" >"$work/sa1.json" || fail "session continue"
  curl -sf "$base/v1/sessions/ep-0" >"$work/sg1.json" || fail "session get 1"
  expect_error 400 invalid_request_error executed "e_nope" "$base/v1/act" -d @"$work/s2bad.json"
  expect_error 409 invalid_request_error task "another task" "$base/v1/act" -d @"$work/s2task.json"
  expect_error 400 invalid_request_error history "keeps the history" "$base/v1/act" -d @"$work/s2hist.json"
  expect_error 404 not_found_error session "not a live session" "$base/v1/act" -d @"$work/snope.json"
  curl -sf "$base/v1/act" -d @"$work/s2.json" >"$work/sa2.json" || fail "session executed"
  curl -sf "$base/v1/sessions/ep-0" >"$work/sg2.json" || fail "session get 2"
  "$py" - "$work" <<'PY' || fail "sessions"
import json, sys
w = sys.argv[1]
L = lambda n: json.load(open(f"{w}/{n}.json"))
ep, a0, a1, a2, g0, g1, g2 = L("ep0"), L("sa0"), L("sa1"), L("sa2"), L("sg0"), L("sg1"), L("sg2")
strip = lambda acts: [{k: v for k, v in a.items() if k in ("type", "element", "value")} for a in acts]
assert a0["session"] == "ep-0" and g0["task"] == ep["task"] and g0["history"] == [], g0
assert strip(g0["last_answer"]) == strip(a0["actions"]), (g0, a0)
assert strip(g1["history"]) == strip(a0["actions"]), g1          # the answer joined the history
executed = [{k: v for k, v in ep["steps"][1]["action"].items() if k in ("type", "element", "value")}]
assert strip(g2["history"]) == strip(a0["actions"]) + executed, g2  # executed replaced answer 1
# the session's prompt is the stateless one with that history: the same answer (greedy)
json.dump({"task": ep["task"], "observation": ep["steps"][2]["observation"],
           "history": strip(a0["actions"]) + executed}, open(f"{w}/stateless.json", "w"))
PY
  curl -sf "$base/v1/act" -d @"$work/stateless.json" >"$work/stateless_ans.json" || fail "stateless"
  "$py" -c "import json,sys; a,b=(json.load(open(f)) for f in sys.argv[1:]); assert a['text']==b['text'], (a['text'], b['text'])" \
    "$work/sa2.json" "$work/stateless_ans.json" || fail "the session's answer is not the stateless one"
  for f in sa0 sa1 sa2 stateless_ans; do
    "$py" -c "import json,sys; u=json.load(open(sys.argv[1]))['usage']; print(u['prompt_tokens'], u['completion_tokens'])" \
      "$work/$f.json" >>"$work/usage.txt"
  done
  [ "$(curl -s -X DELETE -o /dev/null -w '%{http_code}' "$base/v1/sessions/ep-0")" = 200 ] || fail "delete"
  expect_error 404 not_found_error session "not a live session" "$base/v1/sessions/ep-0"
  echo "  sessions: history kept, executed actions replace the answer, same answer as stateless"
  # bad requests: status, type, param, message
  echo '{"task": "x", "observation": {"url": "u", "elements": [{"id": "e1", "role": "button", "name": "n", "parent": "e404"}]}}' >"$work/b1.json"
  expect_error 400 invalid_request_error "observation.elements[0].parent" '"e404" is not an element' "$base/v1/act" -d @"$work/b1.json"
  expect_error 400 invalid_request_error "" "line 1, column 13 (byte 13)" "$base/v1/act" -d '{"task": "x",'
  expect_error 400 invalid_request_error observation "missing" "$base/v1/act" -d '{"task": "x"}'
  expect_error 400 invalid_request_error "observation.elements[0].role" "unknown role" "$base/v1/act" \
    -d '{"task": "x", "observation": {"url": "u", "elements": [{"id": "e1", "role": "buton", "name": "n"}]}}'
  expect_error 400 invalid_request_error "options.temperature" "must be a number" "$base/v1/act" \
    -d '{"task": "x", "observation": {"url": "u", "elements": []}, "options": {"temperature": -1}}'
  head -c 1100000 /dev/zero | tr '\0' ' ' >"$work/big.txt"
  expect_error 413 invalid_request_error "" "at most 1048576" "$base/v1/act" --data-binary @"$work/big.txt"
  expect_error 413 invalid_request_error "" "over 1048576" "$base/v1/act" -H 'Transfer-Encoding: chunked' --data-binary @"$work/big.txt"
  "$py" -c "
import json, sys
r = json.load(open(sys.argv[1])); r['task'] = ' '.join('word%d' % i for i in range(6000))
json.dump(r, open(sys.argv[2], 'w'))" "$work/req0.json" "$work/long.json"
  expect_error 400 invalid_request_error observation "the prompt is" "$base/v1/act" -d @"$work/long.json"
  expect_error 405 invalid_request_error "" "method not allowed" "$base/v1/act"
  expect_error 404 not_found_error "" "no such endpoint" "$base/v2/act"
  "$py" -c "
import json, sys
r = json.load(open(sys.argv[1]))
json.dump({'model': 'gpt-9', 'messages': [{'role': 'user', 'content': r['task']},
          {'role': 'user', 'content': json.dumps(r['observation'])}]}, open(sys.argv[2], 'w'))" \
    "$work/req0.json" "$work/chat_model.json"
  expect_error 404 not_found_error model "not served here" "$base/v1/chat/completions" -d @"$work/chat_model.json"
  expect_error 400 invalid_request_error "tools[0].function.name" "not an action type" "$base/v1/chat/completions" \
    -d '{"messages": [{"role": "user", "content": "x"}], "tools": [{"type": "function", "function": {"name": "fly"}}]}'
  expect_error 400 invalid_request_error messages "no user message" "$base/v1/chat/completions" \
    -d '{"messages": [{"role": "system", "content": "x"}]}'
  # the metrics: every request of this test counted, the tokens of every answer summed
  curl -sf "$base/metrics" >"$work/metrics.txt" || fail "metrics"
  "$py" - "$work/metrics.txt" "$work/usage.txt" <<'PY' || fail "metrics"
import sys
from prometheus_client.parser import text_string_to_metric_families
fam = {f.name: f for f in text_string_to_metric_families(open(sys.argv[1]).read())}
def val(name, **labels):
    f = fam[name]
    for s in f.samples:
        if s.name == (name if f.type != "counter" else name + "_total") and all(s.labels.get(k) == v for k, v in labels.items()):
            return s.value
    return 0
# act 200: 6 single + 16 parallel + 3 session + 1 stateless; the errors as sent above
assert val("lam_requests", endpoint="act", code="200") == 26, val("lam_requests", endpoint="act", code="200")
assert val("lam_requests", endpoint="act", code="400") == 8, val("lam_requests", endpoint="act", code="400")
assert val("lam_requests", endpoint="act", code="404") == 1
assert val("lam_requests", endpoint="act", code="409") == 1
assert val("lam_requests", endpoint="act", code="413") == 2
assert val("lam_requests", endpoint="act", code="405") == 1
assert val("lam_requests", endpoint="sessions", code="200") == 4
assert val("lam_requests", endpoint="sessions", code="404") == 1
assert val("lam_requests", endpoint="chat_completions", code="404") == 1
assert val("lam_requests", endpoint="chat_completions", code="400") == 2
assert val("lam_requests", endpoint="other", code="404") == 1
assert val("lam_requests", endpoint="health", code="200") == 1
pt = ct = 0
for line in open(sys.argv[2]):
    p, c = map(int, line.split()); pt += p; ct += c
assert val("lam_prompt_tokens") == pt, (val("lam_prompt_tokens"), pt)
assert val("lam_completion_tokens") == ct, (val("lam_completion_tokens"), ct)
for f in fam.values():
    if f.type != "histogram": continue
    series = {}
    for s in f.samples:
        key = tuple(sorted((k, v) for k, v in s.labels.items() if k != "le"))
        series.setdefault(key, {"b": []})
        if s.name.endswith("_bucket"): series[key]["b"].append(s.value)
        if s.name.endswith("_count"): series[key]["n"] = s.value
    for k, d in series.items():
        assert d["b"] == sorted(d["b"]) and d["b"][-1] == d["n"], (f.name, k, d)
b = [s for s in fam["lam_decode_batch_size"].samples if s.name.endswith("_bucket")]
steps = next(s.value for s in b if s.labels["le"] == "+Inf")
single = next(s.value for s in b if float(s.labels["le"]) == 1.0)
assert steps > single, "no decode step advanced more than one sequence"
print("  metrics: %d requests counted, %d prompt and %d answer tokens as answered; %d of %d "
      "decode steps batched" % (sum(s.value for s in fam["lam_requests"].samples), pt, ct, steps - single, steps))
PY
  stop_server "$work/serve.log"
  # the API key: on every endpoint but /health, from a file
  printf ' s3cret-key \n' >"$work/key"
  start_server "$work/serve_key.log" --api-key-file "$work/key"
  expect_error 401 authentication_error "" "API key" "$base/v1/models"
  expect_error 401 authentication_error "" "API key" "$base/v1/act" -H "Authorization: Bearer s3cret" -d @"$work/req0.json"
  expect_error 401 authentication_error "" "API key" "$base/metrics" -H "Authorization: Bearer s3cret-key2"
  curl -sf "$base/health" >/dev/null || fail "/health needs no key"
  curl -sf "$base/v1/act" -H "Authorization: Bearer s3cret-key" -d @"$work/req0.json" >"$work/keyans.json" \
    || fail "the right key refused"
  check_answer "$work/req0.json" "$work/keyans.json" || fail "answer with a key"
  curl -s -D - -o /dev/null "$base/v1/models" | grep -qi '^www-authenticate: Bearer' || fail "no WWW-Authenticate"
  stop_server "$work/serve_key.log"
  echo "serve curl: ok"
  ;;
openai_client)
  [ -d "$src/node_modules/openai" ] || { echo "the openai npm package is missing (npm ci): skipping"; exit 77; }
  start_server "$work/serve.log" --api-key test-key
  NODE_PATH="$src/node_modules" node "$here/test_serve_openai.js" "$base/v1" test-key "$work" "$model" \
    || fail "the openai client"
  stop_server "$work/serve.log"
  echo "serve openai_client: ok"
  ;;
abuse)
  start_server "$work/serve.log" --timeout 3 --max-body 65536
  "$py" "$here/test_serve_abuse.py" 127.0.0.1 "$port" "$work" || fail "abuse"
  stop_server "$work/serve.log"
  echo "serve abuse: ok"
  ;;
shutdown)
  # SIGTERM with 24 requests in flight: each gets its answer (200, valid) or 503 (the ones that
  # could not start), nothing is cut off, and lam serve exits 0
  start_server "$work/serve.log" --batch 4
  args=()
  for k in $(seq 0 23); do
    [ $k -gt 0 ] && args+=(--next)
    args+=(-s -d @"$work/req$((k % 6)).json" -o "$work/sd$k.json" -w '%{http_code}\n' "$base/v1/act")
  done
  curl -s --parallel --parallel-immediate --parallel-max 24 "${args[@]}" >"$work/codes.txt" 2>"$work/curl.err" &
  cpid=$!
  # until all 24 have reached the server (answered or in flight; /metrics itself is in flight)
  for _ in $(seq 1 1200); do
    n=$(curl -s "$base/metrics" | "$py" -c "
import sys
v = {}
for l in sys.stdin:
    if l.startswith('lam_requests_total{endpoint=\"act\"') or l.startswith('lam_requests_in_flight '):
        k = l.split()[0]; v[k] = v.get(k, 0) + float(l.split()[1])
print(int(sum(v.values())) - 1)" 2>/dev/null)
    [ "${n:-0}" -ge 24 ] && break
    sleep 0.05
  done
  [ "${n:-0}" -ge 24 ] || fail "the 24 requests did not reach the server"
  stop_server "$work/serve.log"
  wait "$cpid"
  "$py" - "$work" <<'PY' || fail "answers at shutdown: $(cat "$work/codes.txt")"
import json, sys
w = sys.argv[1]
codes = [l.strip() for l in open(f"{w}/codes.txt") if l.strip()]
assert len(codes) == 24 and all(c in ("200", "503") for c in codes), codes
ok = 0
for k in range(24):
    a = json.load(open(f"{w}/sd{k}.json"))
    if "error" in a:
        assert a["error"]["type"] == "server_error" and "shutting down" in a["error"]["message"], a
    else:
        assert a["text"].endswith("<end>"), a
        ok += 1
assert ok >= 1, "no request was answered"
log = open(f"{w}/serve.log").read()
held = int(log.split("stopping (")[1].split(" ")[0])
print("  at SIGTERM the server held %d requests: %d answered, %d refused with 503" % (held, ok, 24 - ok))
PY
  for k in $(seq 0 23); do
    grep -q '"actions"' "$work/sd$k.json" && { check_answer "$work/req$((k % 6)).json" "$work/sd$k.json" || fail "answer $k"; }
  done
  curl -s -m 2 "$base/health" >/dev/null && fail "still answering after exit"
  echo "serve shutdown: ok"
  ;;
*)
  echo "unknown mode $mode"; exit 2 ;;
esac
