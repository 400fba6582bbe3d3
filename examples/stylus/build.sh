#!/usr/bin/env bash
# Builds our own Stylus contracts (contracts/: no_std Rust over the raw
# vm_hooks imports) and copies the modules here. Needs the wasm32 target:
#   rustup target add wasm32-unknown-unknown
# The modules are committed, so CI and users need not build them. MVP
# features plus sign extension and mutable globals, as Stylus accepts, and
# a 16 KiB stack, so that the linear memory is one 64 KiB page (Rust's
# default 1 MiB stack makes 17 pages, each paid for on Stylus, and more
# than a Solana program's 256 KiB heap can hold).
set -euo pipefail
cd "$(dirname "$0")/contracts"
RUSTFLAGS="-C target-cpu=mvp -C target-feature=+sign-ext,+mutable-globals -C link-arg=-z -C link-arg=stack-size=16384" \
  cargo build --release --target wasm32-unknown-unknown
for c in ledger forwarder; do
  cp "target/wasm32-unknown-unknown/release/$c.wasm" "../$c.wasm"
  echo "$c.wasm: $(wc -c < "../$c.wasm") bytes"
done
