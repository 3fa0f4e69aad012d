#!/usr/bin/env bash
# bench/gpu/run.sh [BUILD_DIR] - everything a GPU is needed for, in one call, on a machine with
# an NVIDIA GPU (sm_80 or sm_90), nvcc and the CUDA libraries:
#   1. builds lamkit with CUDA (Release) in BUILD_DIR [build-gpu];
#   2. runs the GPU tests: every op of "cuda" and "cuda-fp32" against the CPU backend and the
#      double reference, a whole training step, the ptxas report (they skip without a GPU);
#   3. benchmarks a training step of `small` and a 124M-parameter model: lam bench on cuda and
#      cuda-fp32 against the same model in PyTorch on the same GPU, alternating rounds
#      (bench/gpu/train_step_gpu.py), with tokens/s and MFU;
#   4. writes the test summary and the JSON lines under bench/results/ (<gpu>-<date>.*).
# Exit status: 77 without a GPU, 1 if a test failed, else 0. docs/gpu.md says what it checks.
set -uo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
build=${1:-$root/build-gpu}
command -v nvidia-smi >/dev/null && nvidia-smi -L | grep -q GPU || { echo "no NVIDIA GPU"; exit 77; }
gpu=$(nvidia-smi --query-gpu=name --format=csv,noheader | head -1)
slug=$(echo "$gpu" | tr 'A-Z' 'a-z' | tr -c 'a-z0-9\n' '-' | sed 's/-\+/-/g; s/^-//; s/-$//')
stamp=$(date +%Y-%m-%d)
mkdir -p "$root/bench/results"
echo "== $gpu: build in $build"
cmake -S "$root" -B "$build" -DCMAKE_BUILD_TYPE=Release -DLAM_CUDA=ON >/dev/null || exit 1
cmake --build "$build" -j"$(nproc)" >"$build/build.log" 2>&1 || { tail -40 "$build/build.log"; exit 1; }
echo "== GPU tests"
ctest --test-dir "$build" --output-on-failure \
  -R '^(backend\.(parity|ops)_[a-z_]*_cuda(_fp32)?|cuda\.ptxas_resources)$' \
  | tee "$root/bench/results/$slug-$stamp.tests.txt"
tests_rc=${PIPESTATUS[0]}
cp "$build/ptxas/report.txt" "$root/bench/results/$slug-$stamp.ptxas.txt" 2>/dev/null
echo "== training step: lamkit (cuda, cuda-fp32) against PyTorch on the same GPU"
python3 "$root/bench/gpu/train_step_gpu.py" --lam "$build/lam" --record || exit 1
[ "$tests_rc" = 0 ] || { echo "GPU tests failed"; exit 1; }
echo "== done: bench/results/$slug-$stamp.*"
