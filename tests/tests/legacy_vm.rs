//! The legacytests VM tests (Constantinople rules) from `../shared/corpus`:
//! every code lifts, verifies, round-trips through the text format, and
//! optimizes to a module that verifies and round-trips too. Each test is
//! then run in the IR interpreter and checked against the file's own
//! expectations (`post` storage, `out`, exceptional halt); tests whose
//! expectation depends on what the IR does not model are skipped, by reason.

use alloy_primitives::{U256, keccak256};
use chainlift_emulator::ir::memory_for_gas;
use chainlift_frontend_evm::{Fork, Options, analyze, lift};
use chainlift_ir::inst::HostOp;
use chainlift_ir::interp::{Host, Interpreter, Limits, Outcome};
use chainlift_ir::{entities::FuncId, parse, passes, print, verify};
use chainlift_tests::{json_bytes, json_word};
use serde_json::Value;
use std::collections::{BTreeMap, HashMap};

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
    if !chainlift_tests::corpus_tier("legacytests_lift_verify_roundtrip_and_run") {
        return;
    }
    let files = chainlift_tests::legacy_corpus();
    assert!(files.len() > 500, "corpus missing: {} files", files.len());
    let mut t = Tally::default();
    for path in &files {
        let text = std::fs::read_to_string(path).unwrap();
        let json: Value = serde_json::from_str(&text).unwrap();
        for (name, test) in json.as_object().unwrap() {
            let exec = &test["exec"];
            let code = json_bytes(&exec["code"]);
            let a = analyze(
                &code,
                &Options {
                    fork: Fork::Constantinople,
                    ..Options::default()
                },
            )
            .unwrap();
            let mut m = lift::lift(&a, Default::default());
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

            if let Some(reason) = chainlift_tests::legacy_skip_reason(&a, test) {
                *t.skipped.entry(reason).or_default() += 1;
                continue;
            }
            let address = json_word(&exec["address"]);
            let mut host = VmHost {
                address,
                storage: HashMap::new(),
                calldata: json_bytes(&exec["data"]),
                code: code.clone(),
                env: HashMap::new(),
                balances: HashMap::new(),
                codes: HashMap::new(),
                logs: 0,
            };
            for (addr, acct) in test["pre"].as_object().unwrap() {
                let a = json_word(&Value::String(addr.clone()));
                host.balances.insert(a, json_word(&acct["balance"]));
                host.codes.insert(a, json_bytes(&acct["code"]));
                if a == address {
                    for (k, v) in acct["storage"].as_object().unwrap() {
                        host.storage
                            .insert(json_word(&Value::String(k.clone())), json_word(v));
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
                host.env.insert(k, json_word(v));
            }
            // Memory costs gas on the EVM: the largest memory the test's gas
            // pays for is the interpreter's memory limit, so expansion past it
            // ends as the EVM's out-of-gas does.
            let memory = memory_for_gas(json_word(&exec["gas"]).saturating_to()).min(64 << 20);
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
                    let expected_out = json_bytes(&test["out"]);
                    let post = &test["post"][exec["address"].as_str().unwrap()]["storage"];
                    let expected: BTreeMap<U256, U256> = post
                        .as_object()
                        .map(|o| {
                            o.iter()
                                .map(|(k, v)| (json_word(&Value::String(k.clone())), json_word(v)))
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
