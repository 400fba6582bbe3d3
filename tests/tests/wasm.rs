//! The WASM backend end to end: every 256-bit operation against revm on
//! random and edge operands, mutated fixtures through the wasm engine,
//! every fixture and bench contract translated to a module that validates,
//! `chainlift translate --target wasm`, `--strict` and `inspect`.

use chainlift_backend_wasm::{Options, translate};
use chainlift_emulator::evm::EvmEngine;
use chainlift_emulator::ir::IrEngine;
use chainlift_emulator::{BlockEnv, Engine};
use chainlift_frontend_evm::Fork;
use chainlift_frontend_evm::pipeline::{Cache, Stages};
use chainlift_tests::ops::{
    OPS, constant, every_contract, log_copy_program, mutated_call, mutated_matches_revm,
    one_contract, program, program_const, run, word,
};
use chainlift_tests::{chainlift, path};
use proptest::prelude::*;
use std::sync::OnceLock;

fn wasm() -> &'static IrEngine {
    static ENGINE: OnceLock<IrEngine> = OnceLock::new();
    ENGINE.get_or_init(|| IrEngine::wasm().expect("wasmtime starts"))
}

/// The same with the long operations through Stylus's `math_*` hooks.
fn wasm_math() -> &'static IrEngine {
    static ENGINE: OnceLock<IrEngine> = OnceLock::new();
    ENGINE.get_or_init(|| {
        IrEngine::wasm_with(Options {
            math_hooks: true,
            ..Options::default()
        })
        .expect("wasmtime starts")
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(32))]
    #[test]
    fn every_256_bit_operation_matches_revm(a in word(), b in word(), c in word()) {
        for op in OPS {
            let a = if matches!(op, 0x1a..=0x1d | 0x0b) { a % alloy_primitives::U256::from(300) } else { a };
            let data = [a, b, c].iter().flat_map(|v| v.to_be_bytes::<32>()).collect::<Vec<u8>>();
            let code = program(op);
            let expected = run(&EvmEngine, code.clone(), data.clone());
            prop_assert_eq!(
                run(wasm(), code.clone(), data.clone()),
                expected.clone(),
                "opcode {:#04x} on {:#x}, {:#x}, {:#x}", op, a, b, c
            );
            prop_assert_eq!(
                run(wasm_math(), code, data),
                expected,
                "math hooks: opcode {:#04x} on {:#x}, {:#x}, {:#x}", op, a, b, c
            );
        }
    }

    #[test]
    fn operations_with_a_constant_operand_match_revm(x in word(), k in constant(), left: bool) {
        // ADD SUB MUL DIV AND OR XOR SHL SHR SAR BYTE
        for op in [0x01, 0x03, 0x02, 0x04, 0x16, 0x17, 0x18, 0x1b, 0x1c, 0x1d, 0x1a] {
            let code = program_const(op, k, left);
            let data = x.to_be_bytes::<32>().to_vec();
            prop_assert_eq!(
                run(wasm(), code.clone(), data.clone()),
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
        prop_assert_eq!(outcome(wasm()).difference(&expected), None);
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(16))]
    /// Differential fuzzing through wasmtime: fixtures with a few bytes
    /// changed, called with one of their selectors and random arguments,
    /// end alike in revm and in the wasm engine, and never crash the host.
    #[test]
    fn mutated_contracts_behave_alike_in_revm_and_wasm(
        which in any::<prop::sample::Index>(),
        edits in proptest::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 0..6),
        pick in any::<prop::sample::Index>(),
        args in proptest::collection::vec(any::<u8>(), 0..96),
    ) {
        let (code, data) = mutated_call(which, edits, pick, args);
        let r = mutated_matches_revm(wasm(), code, data);
        prop_assert!(r.is_ok(), "{}", r.unwrap_err());
    }
}

/// Every fixture and every bench contract translates to a module that
/// validates (translate validates before it returns) and meets the
/// backend's own feature set.
#[test]
fn every_fixture_and_bench_contract_translates() {
    let codes = every_contract();
    assert!(codes.len() >= 39, "{} contracts", codes.len());
    let stages = Stages {
        legalize: true,
        ..Stages::default()
    };
    for (name, code) in &codes {
        let compiled = Cache::shared().get(code, Fork::Osaka, stages).unwrap();
        let program = translate(&compiled.module, &Options::default())
            .unwrap_or_else(|e| panic!("{name}: {e}"));
        // Exactly the backend's feature set (translate validated it so).
        chainlift_backend_wasm::validate(&program.bytes).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert!(program.report.max_locals > 0, "{name}");
    }
}

#[test]
fn translate_writes_a_module_and_inspect_reads_it() {
    let dir = std::env::temp_dir().join(format!("chainlift-wasm-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let out = dir.join("token.wasm");
    let token = path("examples/token/out/Token.json");
    let r = chainlift(&[
        "translate",
        &token,
        "--target",
        "wasm",
        "-o",
        out.to_str().unwrap(),
    ]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(
        r.stdout.contains("WASM for Arbitrum Stylus"),
        "{}",
        r.stdout
    );
    let bytes = std::fs::read(&out).unwrap();
    assert!(bytes.starts_with(b"\0asm"));
    let r = chainlift(&["inspect", out.to_str().unwrap()]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(r.stdout.contains("profile     stylus"), "{}", r.stdout);
    assert!(r.stdout.contains("vm_hooks: read_args"), "{}", r.stdout);
    assert!(
        r.stdout
            .contains("meets Arbitrum Stylus's activation rules"),
        "{}",
        r.stdout
    );
    // The text form.
    let r = chainlift(&["translate", &token, "--target", "wasm", "--emit", "wat"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(r.stdout.starts_with("(module"), "{}", &r.stdout[..40]);
    assert!(r.stdout.contains("(export \"user_entrypoint\""));
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn operations_arbitrum_lacks_are_imported_from_chainlift_or_refused_with_strict() {
    // PUSH0 BLOCKHASH PUSH0 MSTORE PUSH1 32 PUSH0 RETURN
    let code = "5f405f5260205ff3";
    let dir = std::env::temp_dir().join(format!("chainlift-wasm-strict-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let out = dir.join("p.wasm");
    let r = chainlift(&[
        "translate",
        "--code",
        code,
        "--target",
        "wasm",
        "-o",
        out.to_str().unwrap(),
    ]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(
        r.stdout
            .contains("imports from `chainlift` (blockhash @0x1)"),
        "{}",
        r.stdout
    );
    let r = chainlift(&[
        "translate",
        "--code",
        code,
        "--target",
        "wasm",
        "--strict",
        "-o",
        out.to_str().unwrap(),
    ]);
    assert_eq!(r.code, 2, "{}", r.stdout);
    assert!(
        r.stderr
            .contains("blockhash @0x1 has no Arbitrum Stylus host function"),
        "{}",
        r.stderr
    );
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn a_module_that_is_not_legalized_is_refused() {
    let code = alloy_primitives::hex::decode("600160020160005260206000f3").unwrap();
    let compiled = Cache::shared()
        .get(&code, Fork::Osaka, Stages::default())
        .unwrap();
    let err = translate(&compiled.module, &Options::default()).unwrap_err();
    assert!(err.to_string().contains("not legalized"), "{err}");
}

#[test]
fn every_scenario_agrees_on_the_wasm_engine() {
    for s in std::fs::read_dir(path("examples/scenarios")).unwrap() {
        let s = s.unwrap().path();
        let r = chainlift(&[
            "diff",
            s.to_str().unwrap(),
            "--engines",
            "evm,ir,wasm,wasm-math",
        ]);
        assert_eq!(r.code, 0, "{}: {}{}", s.display(), r.stdout, r.stderr);
    }
}
