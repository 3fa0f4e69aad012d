#!/usr/bin/env bash
# cuda.ptxas_resources: reads ptxas' resource report (-Xptxas -v, logged per object by
# cuda/ptxas_log.sh while nvcc builds the backend) and fails if any kernel, for any
# architecture, uses a stack frame or spills registers to local memory. Writes the table of
# registers and shared memory per kernel to REPORT and prints it.
#   tests/cuda_ptxas.sh LOG_DIR REPORT
set -u
logs=$1
report=$2
ls "$logs"/*.log >/dev/null 2>&1 || { echo "no ptxas logs in $logs (build the lam target first)"; exit 1; }
cat "$logs"/*.log | awk '
  /Compiling entry function/ { fn = $0; sub(/.*function ./, "", fn); sub(/. for .*/, "", fn);
                               arch = $0; sub(/.* for ./, "", arch); sub(/.$/, "", arch); next }
  /bytes stack frame/        { stack = $1; spill = $5 + $9; next }
  /Used [0-9]+ registers/    { regs = $0; sub(/.*Used /, "", regs); sub(/ registers.*/, "", regs);
                               smem = 0;
                               if ($0 ~ /bytes smem/) { smem = $0; sub(/ bytes smem.*/, "", smem);
                                                        sub(/.* /, "", smem) }
                               print fn, arch, regs, smem, stack, spill }
' | sort -u >"$report.raw"
n=$(wc -l <"$report.raw")
[ "$n" -gt 0 ] || { echo "no kernels found in the ptxas logs"; exit 1; }
bad=0
{
  printf "%-58s %-6s %5s %7s %6s %6s\n" kernel arch regs smem_B stack spill
  while read -r fn arch regs smem stack spill; do
    name=$(echo "$fn" | c++filt | sed -e 's/lam_cuda_dev:://' -e 's/(.*//')
    printf "%-58s %-6s %5s %7s %6s %6s\n" "$name" "$arch" "$regs" "$smem" "$stack" "$spill"
  done <"$report.raw"
} >"$report"
cat "$report"
while read -r fn arch regs smem stack spill; do
  if [ "$stack" != 0 ] || [ "$spill" != 0 ]; then
    echo "FAIL $(echo "$fn" | c++filt) for $arch: $stack bytes stack frame, $spill bytes spilled"
    bad=1
  fi
done <"$report.raw"
rm -f "$report.raw"
[ $bad = 0 ] && echo "$n kernel builds: no stack frames, no spills"
exit $bad
