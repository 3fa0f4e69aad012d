#!/usr/bin/env bash
# cusim.symbols: no object of the simulated device calls a real cudart, cuBLASLt or NCCL entry
# point (each must be renamed to its lam_cusim_ stand-in by cuda/sim/cusim_names.h; one that
# is not would silently reach the real library in a build that links it).
#   tests/cusim_symbols.sh OBJECT_DIR
set -u
objs=$(find "$1" -name '*.o')
[ -n "$objs" ] || { echo "no objects under $1"; exit 1; }
bad=$(for o in $objs; do nm -u "$o" | awk -v o="$(basename "$o")" '$2 ~ /^_?(cuda|cublas|nccl)/ { print o ": " $2 }'; done)
if [ -n "$bad" ]; then
  echo "FAIL simulated objects reference real CUDA entry points (add them to cusim_names.h):"
  echo "$bad"
  exit 1
fi
echo "$(echo "$objs" | wc -w) simulated objects: every CUDA, cuBLASLt and NCCL call is a stand-in"
