#!/usr/bin/env bash
# Installs the Debian 12 packages lamkit needs, only when some are missing (run as root, or
# with sudo available). Used by the README's two commands.
set -euo pipefail
pkgs=(build-essential cmake pkg-config git clang-format
      libopenblas-openmp-dev libjansson-dev libopenmpi-dev openmpi-bin clang libclang-rt-14-dev
      libhdf5-dev python3-h5py nettle-dev zlib1g-dev
      libmicrohttpd-dev wrk curl python3-prometheus-client
      python3 python3-torch python3-numpy)
missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
# Node.js and npm (the tests' npm packages): any install will do, Debian's when none is there.
command -v node >/dev/null || missing+=(nodejs)
command -v npm >/dev/null || missing+=(npm)
if [ ${#missing[@]} -gt 0 ]; then
  echo "installing: ${missing[*]}"
  sudo_cmd=""
  [ "$(id -u)" = 0 ] || sudo_cmd="sudo"
  export DEBIAN_FRONTEND=noninteractive
  $sudo_cmd apt-get update -qq
  $sudo_cmd apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi
