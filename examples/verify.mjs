#!/usr/bin/env node
// Check the committed artefacts: every expected file exists, bytecode is
// non-empty hex, the .runtime.hex file matches the JSON, and each ABI has the
// functions the fixture is known to expose. Needs no dependencies.
//
//   cd examples && node verify.mjs

import fs from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";

const ROOT = path.dirname(fileURLToPath(import.meta.url));

const SOLC08 = ["", "noopt", "viair"];
const LEGACY = ["", "noopt"];
const VYPER = ["", "codesize", "none"];

const EXPECTED = [
  {
    dir: "token", name: "Token", variants: SOLC08, compiler: "solc",
    functions: ["transfer", "approve", "transferFrom", "balanceOf", "allowance", "totalSupply", "mint", "burn",
      "burnFrom", "owner", "transferOwnership", "renounceOwnership", "batchTransfer", "remainingMintable",
      "MAX_SUPPLY", "mintCount", "name", "symbol", "decimals"],
    errors: ["ERC20InsufficientBalance", "OwnableUnauthorizedAccount", "SupplyCapExceeded", "ZeroAmount"],
    ctorInputs: ["address", "uint256"],
  },
  {
    dir: "registry", name: "Registry", variants: SOLC08, compiler: "solc",
    functions: ["register", "updateUri", "transferRecord", "setOperator", "retire", "endorse", "suspend",
      "reinstate", "setFee", "setPaused", "transferAdmin", "withdrawFees", "withdrawDeposit", "recordCount",
      "getRecord", "lookup", "getEndorsements", "averageScore", "recordsOf", "statusCounts", "admin", "paused",
      "registrationFee", "records", "idByNameHash", "isOperator", "scoreOf", "deposits"],
    errors: ["NotAdmin", "NameTaken", "InsufficientFee", "UnknownRecord"],
    special: ["receive", "fallback"],
  },
  {
    dir: "math", name: "MathHeavy", variants: SOLC08, compiler: "solc",
    functions: ["mulDiv", "mulDivUp", "sqrt", "cbrt", "log2", "log2Wad", "lnWad", "expWad", "signedDivMod",
      "shiftSigned", "narrow", "sumSignedBytes", "modExp", "polyEvalMod", "isPrime", "gcd", "lcm", "popcount",
      "reverseBits", "fibonacci", "fibonacciMod", "primesUpTo", "collatzSteps", "sumOfSquares", "binomial"],
  },
  {
    dir: "memory", name: "Buffers", variants: SOLC08, compiler: "solc",
    functions: ["concat3", "concatStrings", "join", "repeat", "reverseBytes", "slice", "encodeArrays",
      "decodeArrays", "filterPackets", "packMixed", "sort", "argsort", "median", "dedupSorted", "hashChunks",
      "merkleRoot", "hashStrings", "toDecimalString", "toHexString", "describe", "toUpper", "range", "table",
      "stash", "appendToBlob", "blobReversed", "historyCopy", "blob"],
  },
  {
    dir: "voucher", name: "Voucher", variants: SOLC08, compiler: "solc",
    functions: ["createGift", "redeem", "transferWithPermit", "signerOf", "gifts", "permit", "nonces",
      "DOMAIN_SEPARATOR", "eip712Domain", "transfer", "approve", "transferFrom", "balanceOf", "allowance",
      "totalSupply", "owner", "transferOwnership", "renounceOwnership", "name", "symbol", "decimals"],
    errors: ["GiftExists", "UnknownGift", "AlreadyRedeemed", "GiftExpired", "NotAnAccount", "ERC2612InvalidSigner",
      "ERC2612ExpiredSignature"],
    ctorInputs: ["address", "uint256"],
  },
  {
    dir: "vault", name: "TokenVault", variants: SOLC08, compiler: "solc",
    functions: ["deposit", "mint", "withdraw", "redeem", "asset", "totalAssets", "convertToShares",
      "convertToAssets", "maxDeposit", "maxMint", "maxWithdraw", "maxRedeem", "previewDeposit", "previewMint",
      "previewWithdraw", "previewRedeem", "depositCap", "setDepositCap", "sweep", "transfer", "approve",
      "transferFrom", "balanceOf", "allowance", "totalSupply", "owner", "transferOwnership", "renounceOwnership",
      "name", "symbol", "decimals"],
    errors: ["ZeroShares", "CannotSweepAsset", "ERC4626ExceededMaxDeposit", "ERC4626ExceededMaxRedeem",
      "ERC20InsufficientAllowance", "ERC20InsufficientBalance", "OwnableUnauthorizedAccount",
      "SafeERC20FailedOperation"],
    ctorInputs: ["address", "address", "uint256"],
  },
  {
    dir: "factory", name: "PairFactory", variants: SOLC08, compiler: "solc",
    functions: ["createPair", "createPairUnchecked", "getPair", "allPairs", "allPairsLength", "pairFor",
      "sortTokens"],
    errors: ["IdenticalTokens", "ZeroAddress", "PairExists", "Create2Failed"],
    ctorInputs: [],
  },
  {
    dir: "factory", name: "Pair", variants: SOLC08, compiler: "solc",
    functions: ["factory", "token0", "token1", "getReserves", "updates", "getAmountOut", "sync", "skim", "swap"],
    errors: ["Overflow", "InsufficientOutputAmount", "InsufficientInputAmount", "InsufficientLiquidity",
      "InvalidTo", "UnknownToken", "ConstantProductViolated", "TransferFailed"],
    ctorInputs: ["address", "address"],
  },
  {
    dir: "recursion", name: "Recursion", variants: SOLC08, compiler: "solc",
    functions: ["fib", "ackermann", "isEven", "viaPointer", "descend", "push", "sumRange", "values", "deepest"],
    errors: [],
    ctorInputs: [],
  },
  {
    dir: "legacy", name: "Legacy", variants: LEGACY, compiler: "solc", version: "0.4.26",
    functions: ["deposit", "withdraw", "transfer", "approve", "transferFrom", "openEscrow", "release", "refund",
      "escrowDigest", "balanceOf", "setFee", "collectFees", "changeOwner", "owner", "balances", "allowance",
      "escrows"],
    special: ["fallback"],
  },
  {
    dir: "legacy", name: "Legacy05", variants: LEGACY, compiler: "solc", version: "0.5.16",
    functions: ["createDeal", "approveMilestone", "dispute", "resolve", "withdraw", "sweepLoose",
      "transferOwnership", "getDeal", "getMilestones", "getMemo", "dealsOf", "dealHash", "owner", "credits"],
    special: ["fallback"],
  },
  {
    dir: "vyper", name: "Vault", variants: VYPER, compiler: "vyper", version: "0.4.3",
    functions: ["deposit", "withdraw", "transfer", "approve", "transferFrom", "lock", "unlock",
      "preview_deposit", "preview_withdraw", "share_price", "position", "unlocked_balance", "set_fee",
      "set_paused", "transfer_ownership", "collect_fees", "balanceOf", "totalSupply", "allowance", "locks",
      "name", "symbol", "decimals"],
    special: ["fallback"],
  },
  {
    dir: "vyper", name: "Counter", variants: VYPER, compiler: "vyper", version: "0.4.3",
    functions: ["increment", "decrement", "add", "set_step", "reset", "history_length", "history_sum", "total",
      "step", "owner", "per_account", "history"],
  },
];

const HEX = /^0x(?:[0-9a-f]{2})+$/;
let problems = 0;
let checked = 0;
const fail = (msg) => {
  problems++;
  console.error(`FAIL ${msg}`);
};

for (const fx of EXPECTED) {
  for (const variant of fx.variants) {
    const base = variant ? `${fx.name}.${variant}` : fx.name;
    const rel = path.join(fx.dir, "out", base);
    const jsonFile = path.join(ROOT, `${rel}.json`);
    const hexFile = path.join(ROOT, `${rel}.runtime.hex`);
    if (!fs.existsSync(jsonFile)) { fail(`${rel}.json missing`); continue; }
    if (!fs.existsSync(hexFile)) { fail(`${rel}.runtime.hex missing`); continue; }
    const a = JSON.parse(fs.readFileSync(jsonFile, "utf8"));
    checked++;

    if (a.contractName !== fx.name) fail(`${rel}: contractName ${a.contractName}`);
    if (!HEX.test(a.bytecode?.object || "")) fail(`${rel}: bytecode is not non-empty hex`);
    if (!HEX.test(a.deployedBytecode?.object || "")) fail(`${rel}: deployedBytecode is not non-empty hex`);
    const hex = fs.readFileSync(hexFile, "utf8");
    if (hex !== a.deployedBytecode.object + "\n") fail(`${rel}.runtime.hex differs from deployedBytecode`);
    if (!a.bytecode.object.includes(a.deployedBytecode.object.slice(2, 200)))
      fail(`${rel}: runtime code not found inside creation code`);

    const c = a.compiler || {};
    if (c.name !== fx.compiler) fail(`${rel}: compiler.name ${c.name}`);
    if (fx.version && !String(c.version).startsWith(fx.version + "+")) fail(`${rel}: compiler.version ${c.version}`);
    const wantOpt = !(variant === "noopt" || variant === "none");
    if (c.optimizer !== wantOpt) fail(`${rel}: optimizer ${c.optimizer}`);
    if (c.viaIR !== (variant === "viair")) fail(`${rel}: viaIR ${c.viaIR}`);
    if (c.runs !== (fx.compiler === "solc" && wantOpt ? 200 : null)) fail(`${rel}: runs ${c.runs}`);
    if (typeof c.evmVersion !== "string" || !c.evmVersion) fail(`${rel}: evmVersion missing`);

    if (!Array.isArray(a.abi)) { fail(`${rel}: abi is not an array`); continue; }
    const fns = new Set(a.abi.filter((e) => e.type === "function").map((e) => e.name));
    for (const f of fx.functions) if (!fns.has(f)) fail(`${rel}: abi lacks function ${f}`);
    const errs = new Set(a.abi.filter((e) => e.type === "error").map((e) => e.name));
    for (const e of fx.errors || []) if (!errs.has(e)) fail(`${rel}: abi lacks error ${e}`);
    const types = new Set(a.abi.map((e) => e.type));
    for (const t of fx.special || []) if (!types.has(t)) fail(`${rel}: abi lacks ${t}`);
    if (fx.ctorInputs) {
      const ctor = a.abi.find((e) => e.type === "constructor");
      const got = (ctor?.inputs || []).map((i) => i.type).join(",");
      if (got !== fx.ctorInputs.join(",")) fail(`${rel}: constructor(${got})`);
    }
  }
}

console.log(`${checked} artefacts checked, ${problems} problem(s)`);
process.exit(problems ? 1 : 0);
