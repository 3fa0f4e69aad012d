#!/usr/bin/env bash
# ptxas_log.sh LOG_DIR COMPILER ARGS... - the CUDA compiler launcher (cuda/cuda.cmake): runs
# the compile, writes ptxas' resource report (-Xptxas -v: registers, shared memory, stack
# frame, spills per kernel and architecture) to LOG_DIR/<object>.log for the
# cuda.ptxas_resources test, and passes every other line of the compiler's stderr through.
set -u
log_dir=$1
shift
obj=""
prev=""
for a in "$@"; do
  [ "$prev" = "-o" ] && obj=$a
  prev=$a
done
tmp=$(mktemp)
"$@" 2>"$tmp"
rc=$?
if [ -n "$obj" ]; then
  grep -E '^ptxas info|bytes stack frame' "$tmp" >"$log_dir/$(basename "$obj").log" || true
fi
grep -vE '^ptxas info|bytes stack frame|^ptxas info *: (Used|Function properties|Compiling entry)' "$tmp" >&2
rm -f "$tmp"
exit $rc
