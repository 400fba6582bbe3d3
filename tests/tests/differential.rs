//! The legacytests VM suite through both engines: revm (the oracle, itself
//! checked against each file's own expected storage, output and halts) and
//! the IR engine, which must agree with revm on everything users observe.
//! Tests whose outcome depends on gas accounting are skipped, by reason.

use alloy_primitives::{Address, U256};
use chainlift_emulator::evm::EvmEngine;
use chainlift_emulator::ir::IrEngine;
use chainlift_emulator::{Account, BlockEnv, Call, Engine, Status, World};
use chainlift_frontend_evm::{Fork, Options, analyze};
use chainlift_tests::{json_bytes, json_word};
use serde_json::Value;
use std::collections::BTreeMap;

fn addr(v: &str) -> Address {
    v.parse().unwrap()
}

/// Intrinsic gas of a Constantinople transaction with this calldata.
fn intrinsic(data: &[u8]) -> u64 {
    21_000
        + data
            .iter()
            .map(|b| if *b == 0 { 4 } else { 68 })
            .sum::<u64>()
}

#[test]
fn legacytests_agree_across_evm_and_ir() {
    let (evm, ir) = (EvmEngine, IrEngine::default());
    let (mut passed, mut failed, mut skipped) = (0usize, vec![], BTreeMap::<String, usize>::new());
    for path in chainlift_tests::legacy_corpus() {
        let json: Value = serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
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
            if let Some(reason) = chainlift_tests::legacy_skip_reason(&a, test) {
                *skipped.entry(reason.to_string()).or_default() += 1;
                continue;
            }
            let mut world = World::default();
            for (a, acct) in test["pre"].as_object().unwrap() {
                let storage = acct["storage"]
                    .as_object()
                    .unwrap()
                    .iter()
                    .map(|(k, v)| (json_word(&Value::String(k.clone())), json_word(v)))
                    .collect();
                world.accounts.insert(
                    addr(a),
                    Account {
                        balance: json_word(&acct["balance"]),
                        nonce: json_word(&acct["nonce"]).to(),
                        code: json_bytes(&acct["code"]),
                        storage,
                    },
                );
            }
            let env = &test["env"];
            let block = BlockEnv {
                number: json_word(&env["currentNumber"]),
                timestamp: json_word(&env["currentTimestamp"]),
                coinbase: addr(env["currentCoinbase"].as_str().unwrap()),
                gas_limit: json_word(&env["currentGasLimit"]).saturating_to(),
                basefee: U256::ZERO,
                prevrandao: json_word(&env["currentDifficulty"]),
                chain_id: 1,
            };
            let data = json_bytes(&exec["data"]);
            let call = Call {
                caller: addr(exec["caller"].as_str().unwrap()),
                origin: addr(exec["origin"].as_str().unwrap()),
                to: addr(exec["address"].as_str().unwrap()),
                value: json_word(&exec["value"]),
                gas_limit: json_word(&exec["gas"]).saturating_to::<u64>() + intrinsic(&data),
                gas_price: json_word(&exec["gasPrice"]),
                data,
            };
            if call.origin != call.caller {
                *skipped
                    .entry("ORIGIN differs from CALLER, which a transaction cannot express".into())
                    .or_default() += 1;
                continue;
            }
            let e = evm
                .run(&world, &block, &call, Fork::Constantinople)
                .unwrap_or_else(|e| panic!("{name}: evm: {e}"));
            // The oracle against the file's own expectations.
            let expect_halt = test.get("post").is_none();
            let oracle_ok = if expect_halt {
                matches!(e.status, Status::Halt(_))
            } else {
                let post = &test["post"][exec["address"].as_str().unwrap()]["storage"];
                let expected: BTreeMap<U256, U256> = post
                    .as_object()
                    .map(|o| {
                        o.iter()
                            .map(|(k, v)| (json_word(&Value::String(k.clone())), json_word(v)))
                            .collect()
                    })
                    .unwrap_or_default();
                let pre = &world.accounts[&call.to].storage;
                let mut after = pre.clone();
                for (k, (_, new)) in &e.storage {
                    after.insert(*k, *new);
                }
                after.retain(|_, v| !v.is_zero());
                let expected: BTreeMap<U256, U256> =
                    expected.into_iter().filter(|(_, v)| !v.is_zero()).collect();
                e.status == Status::Success
                    && after == expected
                    && e.return_data == json_bytes(&test["out"])
            };
            if !oracle_ok {
                failed.push(format!(
                    "{name}: revm disagrees with the test file ({:?})",
                    e.status
                ));
                continue;
            }
            // A test that expects out-of-gas cannot be reproduced without gas.
            let i = ir
                .run(&world, &block, &call, Fork::Constantinople)
                .unwrap_or_else(|err| panic!("{name}: ir: {err}"));
            if expect_halt && matches!(&i.status, Status::Halt(r) if r.starts_with("out of budget"))
            {
                *skipped
                    .entry("ends out of gas: needs gas accounting".into())
                    .or_default() += 1;
                continue;
            }
            match e.difference(&i) {
                None => passed += 1,
                Some(d) => failed.push(format!("{name}: evm vs ir: {d}")),
            }
        }
    }
    let total_skipped: usize = skipped.values().sum();
    for (reason, n) in &skipped {
        eprintln!("  skipped {n}: {reason}");
    }
    for f in &failed {
        eprintln!("  FAILED {f}");
    }
    eprintln!(
        "{passed} passed, {} failed, {total_skipped} skipped",
        failed.len()
    );
    assert!(
        failed.is_empty(),
        "{} legacytests failed across engines",
        failed.len()
    );
}
