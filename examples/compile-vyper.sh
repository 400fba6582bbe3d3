#!/usr/bin/env bash
# Compile the Vyper examples with vyper 0.4.3 (installed into examples/.venv)
# and write Foundry-like artefacts to vyper/out/:
#   out/<Name>.json           -O gas (vyper's default)
#   out/<Name>.codesize.json  -O codesize
#   out/<Name>.none.json      -O none
# plus a sibling <Name>[.<variant>].runtime.hex with the runtime bytecode.
set -euo pipefail
cd "$(dirname "$0")"

VYPER_VERSION="0.4.3"
EVM_VERSION="prague"
PYTHON="${PYTHON:-python3}"
VENV=".venv"
VYPER="$VENV/bin/vyper"

if [ ! -x "$VYPER" ] || ! "$VYPER" --version 2>/dev/null | grep -q "^${VYPER_VERSION}+"; then
  echo "setting up $VENV with vyper==$VYPER_VERSION"
  "$PYTHON" -m venv "$VENV"
  "$VENV/bin/pip" install --quiet --disable-pip-version-check "vyper==$VYPER_VERSION"
fi
FULL_VERSION="$("$VYPER" --version)"

# Turns `vyper -f abi,bytecode,bytecode_runtime` output (three lines) into an artefact.
WRITE_ARTEFACT='
import json, os, sys
name, version, evm, optimize, json_path, hex_path = sys.argv[1:7]
lines = [l.strip() for l in sys.stdin.read().splitlines() if l.strip()]
if len(lines) != 3:
    sys.exit(f"{name}: expected 3 output lines from vyper, got {len(lines)}")
abi = json.loads(lines[0])
creation, runtime = lines[1].lower(), lines[2].lower()
for code in (creation, runtime):
    if not code.startswith("0x") or len(code) <= 2 or len(code) % 2:
        sys.exit(f"{name}: bad bytecode {code[:20]!r}")
    int(code[2:], 16)
artefact = {
    "contractName": name,
    "abi": abi,
    "bytecode": {"object": creation},
    "deployedBytecode": {"object": runtime},
    "compiler": {
        "name": "vyper",
        "version": version,
        "optimizer": optimize != "none",
        "runs": None,
        "viaIR": False,
        "evmVersion": evm,
    },
}
with open(json_path, "w") as f:
    json.dump(artefact, f, indent=2)
    f.write("\n")
with open(hex_path, "w") as f:
    f.write(runtime + "\n")
print(f"{os.path.basename(json_path):<24} vyper {version} -O {optimize:<8} runtime {(len(runtime) - 2) // 2:>6} bytes")
'

mkdir -p vyper/out
for name in Vault Counter; do
  for optimize in gas codesize none; do
    case "$optimize" in
      gas) base="$name" ;;
      *) base="$name.$optimize" ;;
    esac
    "$VYPER" --evm-version "$EVM_VERSION" -O "$optimize" -f abi,bytecode,bytecode_runtime "vyper/$name.vy" \
      | "$VENV/bin/python" -c "$WRITE_ARTEFACT" "$name" "$FULL_VERSION" "$EVM_VERSION" "$optimize" \
          "vyper/out/$base.json" "vyper/out/$base.runtime.hex"
  done
done
