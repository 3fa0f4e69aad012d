#!/usr/bin/env bash
# The simulated device across MPI ranks (skips with 77 without mpirun):
#   cusim_ranks.sh nccl TEST_CUSIM_NCCL    the NCCL stand-in's collectives and rules, 2 ranks
#   cusim_ranks.sh train LAM DATA.h5 WORK  lam train --device cuda-sim-fp32: 2 ranks (ZeRO-1:
#       NCCL reduce-scatter, AdamW on each rank's shard, NCCL all-gather; 2 rows each) give
#       the parameters and AdamW moments of 1 rank with 4 rows, within fp32 reduction
#       reordering (relative 1e-5, as train.mpi_ranks)
set -uo pipefail
command -v mpirun >/dev/null || { echo "mpirun not installed: skipping"; exit 77; }
mpi=(mpirun --oversubscribe -np 2)
[ "$(id -u)" = 0 ] && mpi+=(--allow-run-as-root)
fail() { echo "FAIL: $*"; exit 1; }
case $1 in
nccl)
  OMP_NUM_THREADS=1 "${mpi[@]}" "$2" || fail "NCCL stand-in"
  ;;
train)
  lam=$2 data=$3 work=$4
  rm -rf "$work" && mkdir -p "$work"
  # a model small enough for the simulator; the store's samples fit rows of 160
  echo '{"dim": 48, "n_layers": 2, "n_heads": 4, "n_kv_heads": 2, "ffn_dim": 72,
         "max_seq_len": 160}' >"$work/model.json"
  common=(--data "$data" --model "$work/model.json" --seq 160 --batch 4 --steps 2 --warmup 1
          --lr 2e-3 --quiet --eval-every 0 --valid-split '' --device cuda-sim-fp32)
  "$lam" train "${common[@]}" --threads 2 --out "$work/one" || fail "1 rank"
  OMP_NUM_THREADS=1 "${mpi[@]}" "$lam" train "${common[@]}" --threads 1 --out "$work/two" ||
    fail "2 ranks"
  /usr/bin/python3 - "$work/one/ckpt-00000002.h5" "$work/two/ckpt-00000002.h5" <<'PY' || fail "2 ranks differ from 1"
import sys, h5py, numpy as np
a, b = h5py.File(sys.argv[1]), h5py.File(sys.argv[2])
worst = 0.0
for k in ("params", "adam_m", "adam_v"):
    x, y = a[k][()], b[k][()]
    if x.shape != y.shape: sys.exit(f"{k}: shapes {x.shape} vs {y.shape}")
    e = float(np.abs(x - y).max() / np.abs(x).max())
    print(f"{k}: {x.size} values, max relative difference {e:.2e} (tolerance 1e-5)")
    worst = max(worst, e)
sys.exit(1 if worst > 1e-5 else 0)
PY
  ;;
*)
  echo "usage: $0 nccl TEST | train LAM DATA WORK"; exit 2 ;;
esac
