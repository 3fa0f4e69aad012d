#!/usr/bin/env bash
# The main job end to end: install what is missing, build in Release, run it on the embedded
# default (the built-in UI simulator): synthesize episodes with held-out splits, validate them,
# train a tokenizer on their prompts, build the HDF5 dataset store, train the `small` model
# with a progress bar, and say where the checkpoint is.
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/deps.sh
./scripts/build.sh
mkdir -p out
./build/lam info
./build/lam data synth --episodes 2000 --seed 1 --valid 0.05 --holdout-templates 1 \
  --holdout-apps todo --holdout-domains accounts --out out/sim.jsonl
./build/lam data validate out/sim.jsonl
./build/lam data tokenizer train --vocab 4096 --out out/tokenizer.json out/sim.jsonl
./build/lam data build out/sim.jsonl --tokenizer out/tokenizer.json --out out/sim.h5
./build/lam data inspect out/sim.h5 --samples 1
./build/lam train --data out/sim.h5 --model small --steps 300 --out out/run

ckpt=$(ls out/run/ckpt-*.h5 | tail -n 1)
# a quick evaluation on the held-out splits (docs/results.md has the full one and its figures)
./build/lam eval "$ckpt" --data out/sim.jsonl --episodes 50 --closed-loop 20 \
  --out out/eval.json --html out/eval.html

# Serve the trained model, ask it over HTTP for the first actions of a held-out simulator task
# (POST /v1/act, docs/http-api.md), print them and stop the server.
/usr/bin/python3 - out/sim.jsonl >out/request.json <<'PY'
import json, sys
for line in open(sys.argv[1]):
    e = json.loads(line)
    if e["split"] == "test_template":
        print(json.dumps({"task": e["task"], "observation": e["steps"][0]["observation"]}))
        break
PY
./build/lam serve "$ckpt" --port 0 2>out/serve.log &
server=$!
trap 'kill "$server" 2>/dev/null || true' EXIT
for _ in $(seq 300); do grep -q "listening on" out/serve.log && break; sleep 0.1; done
url=$(grep -o 'http://[^ ]*' out/serve.log | head -n 1)
echo "task: $(/usr/bin/python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["task"])' out/request.json)"
curl -sS --fail-with-body "$url/v1/act" -H 'Content-Type: application/json' -d @out/request.json |
  /usr/bin/python3 -c 'import json,sys; a=json.load(sys.stdin); [print("  ", json.dumps(x)) for x in a["actions"]]; print("usage:", json.dumps(a["usage"]))'
kill -TERM "$server"
wait "$server"
trap - EXIT
echo "served from $url and stopped (log: out/serve.log)"
