//! EVM → IR on every fixture: lifts, verifies, round-trips through the text
//! format before and after optimization; snapshots of the optimized IR;
//! random bytes lift without panicking (invalid code becomes traps).

use chainlift_frontend_evm::{Fork, Options, analyze, lift};
use chainlift_ir::function::Module;
use chainlift_ir::{legalize, parse, passes, print, verify};
use chainlift_tests::{chainlift, fixture_artifacts, root};
use proptest::prelude::*;
use std::fmt::Write;

/// Lifts, verifies and round-trips; returns (raw, optimized) modules.
fn lift_checked(code: &[u8], fork: Fork, what: &str) -> (Module, Module) {
    lift_checked_with(code, fork, what, Default::default())
}

fn lift_checked_with(
    code: &[u8],
    fork: Fork,
    what: &str,
    options: lift::LiftOptions,
) -> (Module, Module) {
    let a = analyze(
        code,
        &Options {
            fork,
            ..Options::default()
        },
    )
    .unwrap();
    let raw = lift::lift(&a, options);
    if let Err(e) = verify::verify(&raw) {
        panic!("{what}: lifted IR does not verify: {}", e[0]);
    }
    assert!(
        parse::parse_module(&print::print_module(&raw)).unwrap() == raw,
        "{what}: raw IR does not round-trip"
    );
    let mut opt = raw.clone();
    passes::optimize(&mut opt);
    if let Err(e) = verify::verify(&opt) {
        panic!("{what}: optimized IR does not verify: {}", e[0]);
    }
    assert!(
        parse::parse_module(&print::print_module(&opt)).unwrap() == opt,
        "{what}: optimized IR does not round-trip"
    );
    (raw, opt)
}

#[test]
fn every_fixture_lifts_verifies_and_round_trips() {
    // The analysis's steps (abstract instructions run) are pinned too:
    // recursion once made them grow with the square of its depth.
    let mut table = String::from(
        "fixture                         bytes   lifted  optimized  legalized  analysis steps\n",
    );
    for path in fixture_artifacts() {
        let code = chainlift_tests::artifact_runtime(&path);
        let name = path
            .strip_prefix(root().join("examples"))
            .unwrap()
            .to_string_lossy()
            .replace("/out/", "/");
        let (raw, opt) = lift_checked(&code, Fork::Osaka, &name);
        // The 64-bit form verifies, holds no i256 and round-trips.
        let mut legal = legalize::legalize(&opt);
        passes::optimize(&mut legal);
        if let Err(e) = verify::verify(&legal) {
            panic!("{name}: legalized IR does not verify: {}", e[0]);
        }
        assert!(!legalize::has_i256(&legal), "{name}: an i256 is left");
        assert!(
            parse::parse_module(&print::print_module(&legal)).unwrap() == legal,
            "{name}: legalized IR does not round-trip"
        );
        let steps = analyze(&code, &Options::default()).unwrap().cfg.steps;
        writeln!(
            table,
            "{name:31} {:5}  {:7}  {:9}  {:9}  {steps:14}",
            code.len(),
            raw.inst_count(),
            opt.inst_count(),
            legal.inst_count()
        )
        .unwrap();
    }
    eprintln!("{table}");
    insta::assert_snapshot!("lift_instruction_counts", table);
}

#[test]
fn lifted_ir_snapshots() {
    for rel in ["vyper/out/Counter.json", "token/out/Token.json"] {
        let run = chainlift(&["lift", &root().join("examples").join(rel).to_string_lossy()]);
        assert_eq!(run.code, 0, "{}", run.stderr);
        insta::assert_snapshot!(format!("lift__{}", rel.replace('/', "_")), run.stdout);
    }
}

#[test]
fn small_programs_lift_as_expected() {
    // PUSH1 4 JUMP INVALID JUMPDEST PUSH1 1 PUSH1 0 SSTORE STOP
    let run = chainlift(&["lift", "--code", "0x600456fe5b600160005500"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    insta::assert_snapshot!("lift__direct_jump", run.stdout);
    // A computed jump: the target comes from calldata, so it goes through the
    // dispatch over every JUMPDEST.
    let run = chainlift(&["lift", "--code", "0x60003556005b600160005500"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    insta::assert_snapshot!("lift__computed_jump", run.stdout);
    // Stack underflow is a trap at the pc that underflows.
    let run = chainlift(&["lift", "--code", "0x600101"]);
    assert!(
        run.stdout.contains("trap stack_underflow @0x2"),
        "{}",
        run.stdout
    );
    // Undefined opcodes and INVALID trap.
    let run = chainlift(&["lift", "--fork", "constantinople", "--code", "0x5f"]);
    assert!(
        run.stdout.contains("trap invalid_opcode @0x0"),
        "{}",
        run.stdout
    );
}

/// In the stack-in-memory form a call and its return run on as one trace:
/// the callee's code is copied after the call, the return address pushed
/// before it is a constant there, so the return is a direct jump and no
/// slot goes through the stack array. Every engine still agrees.
#[test]
fn a_call_and_its_return_lift_to_straight_code_in_the_stack_form() {
    // push ret; push 5; jump f; ret: mstore(0, top); return(0, 32);
    // f: top + 1, swap the return address up, jump back.
    let code = "0x60076005600e565b5f5260205ff35b6001019056";
    let bytes = chainlift_tests::hex(code);
    let (_, opt) = lift_checked_with(
        &bytes,
        Fork::Osaka,
        "call and return",
        lift::LiftOptions::stack_in_memory(),
    );
    let f = &opt.functions[0];
    for b in &f.layout {
        let data = f.block(*b);
        let ops: Vec<String> = data.insts.iter().map(|i| format!("{:?}", i.op)).collect();
        assert!(
            !ops.iter().any(|o| o.starts_with("Stack")),
            "a slot went through the stack array: {ops:?}"
        );
        assert!(
            !matches!(data.term, chainlift_ir::function::Terminator::Switch { .. }),
            "the return is not a direct jump"
        );
    }
    let run = chainlift(&[
        "--stack-in-memory",
        "diff",
        "--code",
        code,
        "--engines",
        "evm,ir,ir64,sbf",
    ]);
    assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
    assert!(run.stdout.contains("agree"), "{}", run.stdout);
}

proptest! {
    #[test]
    fn random_bytes_lift_without_panicking(code in prop::collection::vec(any::<u8>(), 0..1024)) {
        lift_checked(&code, Fork::Osaka, "random bytes");
        lift_checked_with(&code, Fork::Osaka, "random bytes", lift::LiftOptions::stack_in_memory());
    }

    #[test]
    fn evm_shaped_bytes_lift_without_panicking(
        pieces in prop::collection::vec(prop_oneof![
            any::<u8>().prop_map(|b| vec![b]),
            (0u8..64).prop_map(|t| vec![0x60, t, 0x56]),
            (0u8..64).prop_map(|t| vec![0x60, t, 0x57]),
            Just(vec![0x5b]),
            (1u8..=16).prop_map(|n| vec![0x7f + n]),
            (1u8..=16).prop_map(|n| vec![0x8f + n]),
            Just(vec![0x60, 0x00, 0x35, 0x56]),
                        ], 0..60)
    ) {
        let code = pieces.concat();
        lift_checked(&code, Fork::Osaka, "evm-shaped bytes");
        lift_checked_with(&code, Fork::Osaka, "evm-shaped bytes", lift::LiftOptions::stack_in_memory());
    }
}
