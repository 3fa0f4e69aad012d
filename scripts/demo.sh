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
