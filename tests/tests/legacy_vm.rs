//! The legacytests VM tests (Constantinople rules) from `../shared/corpus`:
//! every code lifts, verifies, round-trips through the text format, and
//! optimizes to a module that verifies and round-trips too. Each test is
//! then run in the IR interpreter and checked against the file's own
//! expectations (`post` storage, `out`, exceptional halt); tests whose
//! expectation depends on what the IR does not model are skipped, by reason.

use alloy_primitives::{U256, keccak256};
use chainlift_frontend_evm::{Fork, Options, analyze, lift};
use chainlift_ir::inst::HostOp;
use chainlift_ir::interp::{Host, Interpreter, Limits, Outcome};
use chainlift_ir::{entities::FuncId, parse, passes, print, verify};
use chainlift_tests::root;
use serde_json::Value;
use std::collections::{BTreeMap, HashMap};
use std::path::PathBuf;

fn corpus() -> Vec<PathBuf> {
    let dir = root().join("../shared/corpus/legacytests-vm");
    let mut out = vec![];
    let mut stack = vec![dir];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d)
            .unwrap_or_else(|e| panic!("{}: {e}", d.display()))
            .flatten()
        {
            let p = e.path();
            if p.is_dir() {
                stack.push(p);
            } else if p.extension().is_some_and(|x| x == "json") {
                out.push(p);
            }
        }
    }
    out.sort();
    out
}

fn word(v: &Value) -> U256 {
    let s = v.as_str().unwrap_or("0x0");
    let h = s.trim_start_matches("0x");
    if h.is_empty() {
        U256::ZERO
    } else {
        U256::from_str_radix(h, 16).unwrap()
    }
}

fn bytes(v: &Value) -> Vec<u8> {
    let h = v.as_str().unwrap_or("0x").trim_start_matches("0x");
    (0..h.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&h[i..i + 2], 16).unwrap())
        .collect()
}

/// The VM-test world: the pre-state accounts and the fixed environment.
struct VmHost {
    address: U256,
    storage: HashMap<U256, U256>,
    calldata: Vec<u8>,
    code: Vec<u8>,
    env: HashMap<&'static str, U256>,
    balances: HashMap<U256, U256>,
    codes: HashMap<U256, Vec<u8>>,
    logs: usize,
}

impl Host for VmHost {
    fn sload(&mut self, key: U256) -> U256 {
        self.storage.get(&key).copied().unwrap_or_default()
    }
    fn sstore(&mut self, key: U256, value: U256) {
        self.storage.insert(key, value);
    }
    fn tload(&mut self, _key: U256) -> U256 {
        U256::ZERO
    }
    fn tstore(&mut self, _key: U256, _value: U256) {}
    fn calldata(&self) -> &[u8] {
        &self.calldata
    }
    fn code(&self) -> &[u8] {
        &self.code
    }
    fn env(&mut self, op: HostOp) -> U256 {
        if op == HostOp::SelfBalance {
            return self
                .balances
                .get(&self.address)
                .copied()
                .unwrap_or_default();
        }
        self.env.get(op.name()).copied().unwrap_or_default()
    }
    fn log(&mut self, _topics: &[U256], _data: &[u8]) {
        self.logs += 1;
    }
    fn balance(&mut self, address: U256) -> U256 {
        self.balances.get(&address).copied().unwrap_or_default()
    }
    fn ext_code(&mut self, address: U256) -> Vec<u8> {
        self.codes.get(&address).cloned().unwrap_or_default()
    }
    fn ext_code_hash(&mut self, address: U256) -> U256 {
        match self.codes.get(&address) {
            Some(c) => U256::from_be_bytes(keccak256(c).0),
            None if self.balances.contains_key(&address) => U256::from_be_bytes(keccak256([]).0),
            None => U256::ZERO,
        }
    }
}

/// Why a test's expectation cannot be checked without EVM gas or calls.
fn skip_reason(code: &[u8], test: &Value) -> Option<&'static str> {
    let a = analyze(
        code,
        &Options {
            fork: Fork::Constantinople,
            ..Options::default()
        },
    )
    .unwrap();
    let uses = |op: u8| {
        a.instructions
            .iter()
            .any(|i| i.opcode == op && i.info.is_some())
    };
    if uses(0x5a) {
        return Some("reads GAS, which depends on gas accounting");
    }
    if [0xf0, 0xf1, 0xf2, 0xf4, 0xf5, 0xfa]
        .iter()
        .any(|op| uses(*op))
        || test["callcreates"]
            .as_array()
            .is_some_and(|c| !c.is_empty())
    {
        return Some("makes calls or creates, which VM tests do not execute");
    }
    if uses(0x40) {
        return Some("reads BLOCKHASH, which VM tests define by their own rule");
    }
    None
}

/// The largest memory (bytes) whose expansion cost, 3·w + w²/512 gas for w
/// words, fits in `gas`, capped at 64 MiB.
fn memory_for_gas(gas: U256) -> usize {
    let gas = gas.saturating_to::<u64>() as f64;
    // w²/512 + 3w - gas = 0
    let w = (-3.0 + (9.0 + 4.0 * gas / 512.0).sqrt()) * 256.0;
    let mut w = w.max(0.0) as u64;
    while 3 * (w + 1) + (w + 1) * (w + 1) / 512 <= gas as u64 {
        w += 1;
    }
    while w > 0 && 3 * w + w * w / 512 > gas as u64 {
        w -= 1;
    }
    ((w * 32) as usize).min(64 << 20)
}

#[derive(Default)]
struct Tally {
    lifted: usize,
    passed: usize,
    failed: Vec<String>,
    skipped: BTreeMap<&'static str, usize>,
    instructions_before: usize,
    instructions_after: usize,
}

#[test]
fn legacytests_lift_verify_roundtrip_and_run() {
    let files = corpus();
    assert!(files.len() > 500, "corpus missing: {} files", files.len());
    let mut t = Tally::default();
    for path in &files {
        let text = std::fs::read_to_string(path).unwrap();
        let json: Value = serde_json::from_str(&text).unwrap();
        for (name, test) in json.as_object().unwrap() {
            let exec = &test["exec"];
            let code = bytes(&exec["code"]);
            let a = analyze(
                &code,
                &Options {
                    fork: Fork::Constantinople,
                    ..Options::default()
                },
            )
            .unwrap();
            let mut m =
                lift::lift(&a, Default::default()).unwrap_or_else(|e| panic!("{name}: lift: {e}"));
            if let Err(e) = verify::verify(&m) {
                panic!("{name}: lifted IR does not verify: {}", e[0]);
            }
            let printed = print::print_module(&m);
            let parsed =
                parse::parse_module(&printed).unwrap_or_else(|e| panic!("{name}: parse: {e}"));
            assert!(parsed == m, "{name}: lifted IR does not round-trip");
            t.instructions_before += m.inst_count();
            passes::optimize(&mut m);
            if let Err(e) = verify::verify(&m) {
                panic!("{name}: optimized IR does not verify: {}", e[0]);
            }
            let parsed = parse::parse_module(&print::print_module(&m)).unwrap();
            assert!(parsed == m, "{name}: optimized IR does not round-trip");
            t.instructions_after += m.inst_count();
            t.lifted += 1;

            if let Some(reason) = skip_reason(&code, test) {
                *t.skipped.entry(reason).or_default() += 1;
                continue;
            }
            let address = word(&exec["address"]);
            let mut host = VmHost {
                address,
                storage: HashMap::new(),
                calldata: bytes(&exec["data"]),
                code: code.clone(),
                env: HashMap::new(),
                balances: HashMap::new(),
                codes: HashMap::new(),
                logs: 0,
            };
            for (addr, acct) in test["pre"].as_object().unwrap() {
                let a = word(&Value::String(addr.clone()));
                host.balances.insert(a, word(&acct["balance"]));
                host.codes.insert(a, bytes(&acct["code"]));
                if a == address {
                    for (k, v) in acct["storage"].as_object().unwrap() {
                        host.storage
                            .insert(word(&Value::String(k.clone())), word(v));
                    }
                }
            }
            let env = &test["env"];
            for (k, v) in [
                ("caller", &exec["caller"]),
                ("origin", &exec["origin"]),
                ("address", &exec["address"]),
                ("callvalue", &exec["value"]),
                ("gasprice", &exec["gasPrice"]),
                ("coinbase", &env["currentCoinbase"]),
                ("timestamp", &env["currentTimestamp"]),
                ("number", &env["currentNumber"]),
                ("prevrandao", &env["currentDifficulty"]),
                ("gaslimit", &env["currentGasLimit"]),
            ] {
                host.env.insert(k, word(v));
            }
            // Memory costs gas on the EVM: the largest memory the test's gas
            // pays for is the interpreter's memory limit, so expansion past it
            // ends as the EVM's out-of-gas does.
            let memory = memory_for_gas(word(&exec["gas"]));
            let mut interp = Interpreter::new(
                &m,
                Limits {
                    budget: 2_000_000,
                    memory,
                    ..Limits::default()
                },
            );
            let outcome = interp.run(&mut host, FuncId::new(0), &[]);
            let expect_halt = test.get("post").is_none();
            let verdict: Result<(), String> = match (&outcome, expect_halt) {
                (Outcome::OutOfBudget { .. }, true) => {
                    *t.skipped
                        .entry("ends out of gas: needs gas accounting")
                        .or_default() += 1;
                    continue;
                }
                (Outcome::Trap { .. }, true) => Ok(()),
                (other, true) => Err(format!("expected an exceptional halt, got {other:?}")),
                (Outcome::Trap { code, pos }, false) => Err(format!("trap {code} at {pos}")),
                (Outcome::OutOfBudget { .. }, false) => Err("out of budget".into()),
                (outcome, false) => {
                    let out = match outcome {
                        Outcome::Return(d) | Outcome::Revert(d) => d.clone(),
                        _ => vec![],
                    };
                    let expected_out = bytes(&test["out"]);
                    let post = &test["post"][exec["address"].as_str().unwrap()]["storage"];
                    let expected: BTreeMap<U256, U256> = post
                        .as_object()
                        .map(|o| {
                            o.iter()
                                .map(|(k, v)| (word(&Value::String(k.clone())), word(v)))
                                .filter(|(_, v)| !v.is_zero())
                                .collect()
                        })
                        .unwrap_or_default();
                    let got: BTreeMap<U256, U256> = host
                        .storage
                        .iter()
                        .filter(|(_, v)| !v.is_zero())
                        .map(|(k, v)| (*k, *v))
                        .collect();
                    if out != expected_out {
                        Err(format!(
                            "return data {out:02x?}, expected {expected_out:02x?}"
                        ))
                    } else if got != expected {
                        Err(format!("storage {got:x?}, expected {expected:x?}"))
                    } else {
                        Ok(())
                    }
                }
            };
            match verdict {
                Ok(()) => t.passed += 1,
                Err(e) => t.failed.push(format!("{name}: {e}")),
            }
        }
    }
    let skipped: usize = t.skipped.values().sum();
    eprintln!(
        "legacytests: {} lifted and round-tripped; IR instructions {} lifted -> {} optimized",
        t.lifted, t.instructions_before, t.instructions_after
    );
    for (reason, n) in &t.skipped {
        eprintln!("  skipped {n}: {reason}");
    }
    for f in &t.failed {
        eprintln!("  FAILED {f}");
    }
    eprintln!(
        "{} passed, {} failed, {} skipped",
        t.passed,
        t.failed.len(),
        skipped
    );
    assert!(
        t.failed.is_empty(),
        "{} legacytests failed on the IR interpreter",
        t.failed.len()
    );
}
