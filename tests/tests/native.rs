//! The native backend end to end: every 256-bit operation against revm on
//! random and edge operands, mutated fixtures through the native engine
//! (untrusted bytecode compiled and run in this process), every fixture
//! and bench contract compiled, bounded runs, and every scenario. (The
//! IR file tests run every legalized `; run:` line compiled too.)

use chainlift_backend_native::{Options, compile};
use chainlift_emulator::evm::EvmEngine;
use chainlift_emulator::ir::IrEngine;
use chainlift_emulator::{BlockEnv, Engine, Status};
use chainlift_frontend_evm::Fork;
use chainlift_frontend_evm::pipeline::{Cache, Stages};
use chainlift_tests::ops::{
    OPS, constant, every_contract, log_copy_program, mutated_call, mutated_matches_revm,
    one_contract, program, program_const, run, word,
};
use chainlift_tests::{chainlift, path};
use proptest::prelude::*;

fn native() -> IrEngine {
    IrEngine::native()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(32))]
    #[test]
    fn every_256_bit_operation_matches_revm(a in word(), b in word(), c in word()) {
        let engine = native();
        for op in OPS {
            let a = if matches!(op, 0x1a..=0x1d | 0x0b) { a % alloy_primitives::U256::from(300) } else { a };
            let data = [a, b, c].iter().flat_map(|v| v.to_be_bytes::<32>()).collect::<Vec<u8>>();
            let code = program(op);
            prop_assert_eq!(
                run(&engine, code.clone(), data.clone()),
                run(&EvmEngine, code, data),
                "opcode {:#04x} on {:#x}, {:#x}, {:#x}", op, a, b, c
            );
        }
    }

    #[test]
    fn operations_with_a_constant_operand_match_revm(x in word(), k in constant(), left: bool) {
        let engine = native();
        // ADD SUB MUL DIV AND OR XOR SHL SHR SAR BYTE
        for op in [0x01, 0x03, 0x02, 0x04, 0x16, 0x17, 0x18, 0x1b, 0x1c, 0x1d, 0x1a] {
            let code = program_const(op, k, left);
            let data = x.to_be_bytes::<32>().to_vec();
            prop_assert_eq!(
                run(&engine, code.clone(), data.clone()),
                run(&EvmEngine, code, data),
                "opcode {:#04x} on {:#x} and the constant {:#x} (left: {})", op, x, k, left
            );
        }
    }

    #[test]
    fn logs_and_copies_of_any_length_match_revm(
        data in proptest::collection::vec(any::<u8>(), 0..300),
        k in prop::sample::select(vec![0u8, 1, 8, 31, 32, 64, 200, 255]),
        topics in 0u8..=4,
    ) {
        let code = log_copy_program(k, topics);
        let outcome = |engine: &dyn Engine| {
            let (world, call) = one_contract(code.clone(), data.clone());
            engine.run(&world, &BlockEnv::default(), &call, Fork::Osaka).unwrap()
        };
        let expected = outcome(&EvmEngine);
        prop_assert_eq!(expected.logs.len(), 2);
        prop_assert_eq!(outcome(&native()).difference(&expected), None);
    }
}

/// Cases of the mutated-fixture fuzzing: 24, or `NATIVE_FUZZ_CASES`.
fn fuzz_cases() -> u32 {
    std::env::var("NATIVE_FUZZ_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(24)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(fuzz_cases()))]
    /// Differential fuzzing of machine code made from untrusted bytecode:
    /// fixtures with a few bytes changed, called with one of their
    /// selectors and random arguments, end alike in revm and in the native
    /// engine, and never crash or corrupt the host (a longer run:
    /// `NATIVE_FUZZ_CASES=300 cargo test --release -p chainlift-tests
    /// --test native mutated`).
    #[test]
    fn mutated_contracts_behave_alike_in_revm_and_native(
        which in any::<prop::sample::Index>(),
        edits in proptest::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 0..6),
        pick in any::<prop::sample::Index>(),
        args in proptest::collection::vec(any::<u8>(), 0..96),
    ) {
        let (code, data) = mutated_call(which, edits, pick, args);
        let r = mutated_matches_revm(&native(), code, data);
        prop_assert!(r.is_ok(), "{}", r.unwrap_err());
    }
}

/// Every fixture and every bench contract compiles.
#[test]
fn every_fixture_and_bench_contract_compiles() {
    let codes = every_contract();
    assert!(codes.len() >= 39, "{} contracts", codes.len());
    let stages = Stages {
        legalize: true,
        ..Stages::default()
    };
    for (name, code) in &codes {
        let compiled = Cache::shared().get(code, Fork::Osaka, stages).unwrap();
        let program = compile(&compiled.module, &Options::default())
            .unwrap_or_else(|e| panic!("{name}: {e}"));
        assert!(program.stats.functions >= 1, "{name}");
    }
}

#[test]
fn a_module_that_is_not_legalized_is_refused() {
    let code = alloy_primitives::hex::decode("600160020160005260206000f3").unwrap();
    let compiled = Cache::shared()
        .get(&code, Fork::Osaka, Stages::default())
        .unwrap();
    let err = compile(&compiled.module, &Options::default()).unwrap_err();
    assert!(err.to_string().contains("not legalized"), "{err}");
}

/// An endless loop stops when the budget its gas buys is spent, and memory
/// grows only as far as the gas pays for: bounded runs, as in revm.
#[test]
fn endless_loops_and_huge_memory_stop() {
    let block = BlockEnv::default();
    // JUMPDEST PUSH0 JUMP: forever.
    let (world, mut call) = one_contract(vec![0x5b, 0x5f, 0x56], vec![]);
    call.gas_limit = 1_000_000;
    let got = native().run(&world, &block, &call, Fork::Osaka).unwrap();
    assert!(
        matches!(&got.status, Status::Halt(why) if why.contains("out of budget")),
        "{:?}",
        got.status
    );
    // MSTORE at 2^32: out of memory long before anything is allocated.
    let code = vec![0x5f, 0x64, 1, 0, 0, 0, 0, 0x52, 0x00];
    let (world, call) = one_contract(code, vec![]);
    let got = native().run(&world, &block, &call, Fork::Osaka).unwrap();
    assert!(
        matches!(&got.status, Status::Halt(why) if why.contains("out_of_memory")),
        "{:?}",
        got.status
    );
}

#[test]
fn every_scenario_agrees_on_the_native_engine() {
    for s in std::fs::read_dir(path("examples/scenarios")).unwrap() {
        let s = s.unwrap().path();
        let r = chainlift(&["diff", s.to_str().unwrap(), "--engines", "evm,ir,native"]);
        assert_eq!(r.code, 0, "{}: {}{}", s.display(), r.stdout, r.stderr);
    }
}

#[test]
fn translate_to_native_reports_both_tiers() {
    let token = path("examples/token/out/Token.json");
    let r = chainlift(&["translate", &token, "--target", "native", "--json"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let v: serde_json::Value = serde_json::from_str(&r.stdout).unwrap();
    assert_eq!(v["target"], "native");
    assert!(v["ir_instructions"].as_u64().unwrap() > 1000, "{v}");
    for tier in ["first_tier", "best_tier"] {
        assert!(v[tier]["code_bytes"].as_u64().unwrap() > 0, "{v}");
    }
    let r = chainlift(&["translate", &token, "--target", "native", "-o", "x"]);
    assert_eq!(r.code, 2);
    assert!(r.stderr.contains("compiles in memory"), "{}", r.stderr);
}
