#!/usr/bin/env bash
# Recompile every example fixture: Solidity (solc-js from npm) and Vyper
# (vyper 0.4.3 in examples/.venv), then check the artefacts.
set -euo pipefail
cd "$(dirname "$0")"

if [ ! -d node_modules/solc ] || [ ! -d node_modules/solc4 ] || [ ! -d node_modules/solc5 ]; then
  npm ci --no-audit --no-fund
fi
node compile.mjs
./compile-vyper.sh
node verify.mjs
