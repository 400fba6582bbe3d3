#!/usr/bin/env node
// Compile every Solidity example with solc-js (standard JSON) and write
// Foundry-like artefacts to <folder>/out/.
//
//   cd examples && npm ci && node compile.mjs [Contract ...]
//
// Solidity 0.8 fixtures get three variants:
//   out/<Name>.json         optimizer on (200 runs), legacy codegen
//   out/<Name>.noopt.json   optimizer off, legacy codegen
//   out/<Name>.viair.json   optimizer on (200 runs), via-IR codegen
// Legacy fixtures (solc 0.4.26 / 0.5.16) get <Name>.json and <Name>.noopt.json.
// Every artefact has a sibling <Name>[.<variant>].runtime.hex with the
// deployed bytecode.

import fs from "node:fs";
import path from "node:path";
import { createRequire } from "node:module";
import { fileURLToPath } from "node:url";

const require = createRequire(import.meta.url);
const ROOT = path.dirname(fileURLToPath(import.meta.url));

const COMPILERS = {
  solc08: require("solc"),
  solc05: require("solc5"),
  solc04: require("solc4"),
};

// EVM version pinned for the 0.8 fixtures so that artefacts do not change
// when the compiler's default moves. Legacy compilers use their own default
// (byzantium for 0.4.26, istanbul for 0.5.16), read back from the metadata.
const EVM_VERSION_08 = "prague";
const RUNS = 200;

const FIXTURES = [
  { source: "token/Token.sol", contract: "Token", compiler: "solc08" },
  { source: "registry/Registry.sol", contract: "Registry", compiler: "solc08" },
  { source: "math/MathHeavy.sol", contract: "MathHeavy", compiler: "solc08" },
  { source: "memory/Buffers.sol", contract: "Buffers", compiler: "solc08" },
  { source: "voucher/Voucher.sol", contract: "Voucher", compiler: "solc08" },
  { source: "vault/TokenVault.sol", contract: "TokenVault", compiler: "solc08" },
  { source: "factory/PairFactory.sol", contract: "PairFactory", compiler: "solc08" },
  { source: "factory/PairFactory.sol", contract: "Pair", compiler: "solc08" },
  { source: "recursion/Recursion.sol", contract: "Recursion", compiler: "solc08" },
  { source: "legacy/Legacy.sol", contract: "Legacy", compiler: "solc04" },
  { source: "legacy/Legacy05.sol", contract: "Legacy05", compiler: "solc05" },
];

const VARIANTS_08 = [
  { suffix: "", optimizer: true, viaIR: false },
  { suffix: "noopt", optimizer: false, viaIR: false },
  { suffix: "viair", optimizer: true, viaIR: true },
];
const VARIANTS_LEGACY = [
  { suffix: "", optimizer: true, viaIR: false },
  { suffix: "noopt", optimizer: false, viaIR: false },
];

function findImports(importPath) {
  // Only npm packages (e.g. @openzeppelin/contracts) are resolved here;
  // fixtures import nothing else.
  const candidate = path.join(ROOT, "node_modules", importPath);
  if (fs.existsSync(candidate)) {
    return { contents: fs.readFileSync(candidate, "utf8") };
  }
  return { error: `import not found: ${importPath}` };
}

function runCompiler(name, input) {
  const solc = COMPILERS[name];
  const json = JSON.stringify(input);
  let raw;
  if (name === "solc08") {
    raw = solc.compile(json, { import: findImports });
  } else if (name === "solc05") {
    raw = solc.compile(json, findImports);
  } else {
    raw = solc.compileStandardWrapper(json, findImports);
  }
  return JSON.parse(raw);
}

function compileFixture(fixture, variant) {
  const is08 = fixture.compiler === "solc08";
  const settings = {
    optimizer: { enabled: variant.optimizer, runs: RUNS },
    outputSelection: {
      [fixture.source]: {
        [fixture.contract]: ["abi", "evm.bytecode.object", "evm.deployedBytecode.object", "metadata"],
      },
    },
  };
  if (is08) {
    settings.evmVersion = EVM_VERSION_08;
    if (variant.viaIR) settings.viaIR = true;
  }
  const input = {
    language: "Solidity",
    sources: {
      [fixture.source]: { content: fs.readFileSync(path.join(ROOT, fixture.source), "utf8") },
    },
    settings,
  };

  const output = runCompiler(fixture.compiler, input);
  const diagnostics = output.errors || [];
  const errors = diagnostics.filter((e) => e.severity === "error");
  const warnings = diagnostics.filter((e) => e.severity !== "error");
  if (errors.length > 0) {
    for (const e of errors) console.error(e.formattedMessage || e.message);
    throw new Error(`${fixture.source} (${variant.suffix || "default"}): compilation failed`);
  }

  const c = output.contracts?.[fixture.source]?.[fixture.contract];
  if (!c) throw new Error(`${fixture.source}: contract ${fixture.contract} missing from output`);
  const bytecode = c.evm?.bytecode?.object || "";
  const deployed = c.evm?.deployedBytecode?.object || "";
  if (!/^[0-9a-f]+$/i.test(bytecode) || !/^[0-9a-f]+$/i.test(deployed)) {
    throw new Error(`${fixture.source}: empty or unlinked bytecode`);
  }
  const metadata = JSON.parse(c.metadata);

  const artefact = {
    contractName: fixture.contract,
    abi: c.abi,
    bytecode: { object: "0x" + bytecode.toLowerCase() },
    deployedBytecode: { object: "0x" + deployed.toLowerCase() },
    compiler: {
      name: "solc",
      version: metadata.compiler.version,
      optimizer: variant.optimizer,
      runs: variant.optimizer ? RUNS : null,
      viaIR: variant.viaIR,
      evmVersion: metadata.settings.evmVersion || (is08 ? EVM_VERSION_08 : "unknown"),
    },
  };
  return { artefact, warnings };
}

function writeArtefact(fixture, variant, artefact) {
  const outDir = path.join(ROOT, path.dirname(fixture.source), "out");
  fs.mkdirSync(outDir, { recursive: true });
  const base = variant.suffix ? `${fixture.contract}.${variant.suffix}` : fixture.contract;
  const jsonPath = path.join(outDir, `${base}.json`);
  const hexPath = path.join(outDir, `${base}.runtime.hex`);
  fs.writeFileSync(jsonPath, JSON.stringify(artefact, null, 2) + "\n");
  fs.writeFileSync(hexPath, artefact.deployedBytecode.object + "\n");
  return [jsonPath, hexPath];
}

// Optional arguments name the contracts to compile (default: all of them),
// e.g. `node compile.mjs TokenVault PairFactory Pair`.
const only = process.argv.slice(2);
for (const name of only) {
  if (!FIXTURES.some((f) => f.contract === name)) {
    console.error(`unknown fixture: ${name}`);
    process.exit(2);
  }
}

let failed = false;
for (const fixture of FIXTURES) {
  if (only.length > 0 && !only.includes(fixture.contract)) continue;
  const variants = fixture.compiler === "solc08" ? VARIANTS_08 : VARIANTS_LEGACY;
  for (const variant of variants) {
    const label = `${fixture.contract}${variant.suffix ? "." + variant.suffix : ""}`;
    try {
      const { artefact, warnings } = compileFixture(fixture, variant);
      const [jsonPath] = writeArtefact(fixture, variant, artefact);
      const size = (artefact.deployedBytecode.object.length - 2) / 2;
      console.log(
        `${label.padEnd(22)} ${artefact.compiler.version.padEnd(24)} runtime ${String(size).padStart(6)} bytes` +
          `${warnings.length ? `  (${warnings.length} warning(s))` : ""}  -> ${path.relative(ROOT, jsonPath)}`,
      );
    } catch (err) {
      failed = true;
      console.error(`${label}: ${err.message}`);
    }
  }
}
process.exit(failed ? 1 : 0);
