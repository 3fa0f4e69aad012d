#!/usr/bin/env bash
# Every test: install what is missing, build, run ctest.
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/deps.sh
# npm packages of the tests (the Hugging Face tokenizers binding, the openai client), from the
# committed lock file
{ [ -d node_modules/@anush008/tokenizers ] && [ -d node_modules/openai ]; } || npm ci --no-audit --no-fund
./scripts/build.sh
ctest --test-dir "${LAM_BUILD_DIR:-build}" --output-on-failure -j2
