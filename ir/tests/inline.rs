//! The inliner: one function out, the same behaviour, and named refusals.

use alloy_primitives::U256;
use chainlift_ir::entities::FuncId;
use chainlift_ir::interp::{Interpreter, Limits, Outcome, SimpleHost};
use chainlift_ir::parse::parse_module;
use chainlift_ir::passes::inline::{InlineError, inline_into_entry};
use chainlift_ir::verify::verify;

fn run(m: &chainlift_ir::function::Module, data: u8) -> Outcome {
    let mut host = SimpleHost {
        calldata: vec![data],
        ..Default::default()
    };
    Interpreter::new(m, Limits::default()).run(&mut host, FuncId::new(0), &[])
}

#[test]
fn inlining_keeps_behaviour_and_leaves_one_function() {
    let text = "
function %entry() {
block0:
    v0 = iconst.i256 0
    v1 = host.calldataload v0
    v2 = iconst.i256 248
    v3 = lshr.i256 v1, v2
    v4 = trunc.i64 v3
    v5, v6 = call fn1, v4
    v7 = call fn2, v5
    v8 = add.i64 v7, v6
    v9 = uext.i256 v8
    v10 = iconst.i256 0
    v11 = iconst.i256 32
    mem.expand v10, v11
    store.i256.be v10, v9
    exit.return v10, v11
}

function %twice(i64) -> i64, i64 {
block0(v0: i64):
    v1 = add.i64 v0, v0
    v2 = iconst.i64 0
    v3 = icmp.eq v0, v2
    brif v3, block1, block2
block1:
    v4 = iconst.i64 7
    return v4, v4
block2:
    v5 = call fn2, v1
    return v5, v0
}

function %inc(i64) -> i64 {
block0(v0: i64):
    v1 = iconst.i64 1
    v2 = add.i64 v0, v1
    return v2
}
";
    let m = parse_module(text).unwrap();
    verify(&m).unwrap();
    let flat = inline_into_entry(&m, 10_000).unwrap();
    verify(&flat).unwrap();
    assert_eq!(flat.functions.len(), 1);
    for data in [0u8, 1, 5, 200] {
        assert_eq!(run(&m, data), run(&flat, data), "calldata {data}");
    }
    let out = run(&flat, 5);
    let Outcome::Return(r) = out else {
        panic!("{out:?}")
    };
    // twice(5) = (inc(10), 5) = (11, 5); inc(11) + 5 = 17.
    assert_eq!(U256::from_be_slice(&r), U256::from(17));
}

#[test]
fn recursion_and_size_are_refused_by_name() {
    let text = "
function %entry() {
block0:
    v0 = iconst.i64 3
    v1 = call fn1, v0
    exit.stop
}

function %down(i64) -> i64 {
block0(v0: i64):
    v1 = call fn1, v0
    return v1
}
";
    let m = parse_module(text).unwrap();
    assert_eq!(
        inline_into_entry(&m, 10_000),
        Err(InlineError::Recursive("down".into()))
    );
    let big = "
function %entry() {
block0:
    v0 = iconst.i64 3
    v1 = call fn1, v0
    v2 = call fn1, v1
    exit.stop
}

function %f(i64) -> i64 {
block0(v0: i64):
    v1 = add.i64 v0, v0
    v2 = add.i64 v1, v1
    return v2
}
";
    let m = parse_module(big).unwrap();
    assert_eq!(inline_into_entry(&m, 5), Err(InlineError::TooLarge(5)));
}

/// `call_indirect` becomes a switch over direct calls (then inlined):
/// entries, empty slots, mistyped entries and indexes past the table
/// behave as before.
#[test]
fn indirect_calls_are_devirtualized_then_inlined() {
    let text = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/files/call_indirect.ir"
    ))
    .unwrap();
    let m = parse_module(&text).unwrap();
    let mut direct = m.clone();
    assert!(chainlift_ir::passes::devirtualize::run(&mut direct).unwrap());
    verify(&direct).unwrap();
    let flat = inline_into_entry(&m, 10_000).unwrap();
    verify(&flat).unwrap();
    let call = |m: &chainlift_ir::function::Module, f: usize, args: &[u64]| {
        let args: Vec<U256> = args.iter().map(|a| U256::from(*a)).collect();
        Interpreter::new(m, Limits::default()).run(
            &mut SimpleHost::default(),
            FuncId::new(f),
            &args,
        )
    };
    for index in [0, 1, 2, 3, 4, 0xffff_ffff] {
        let want = call(&m, 0, &[index, 6, 7]);
        assert_eq!(call(&direct, 0, &[index, 6, 7]), want, "index {index}");
        assert_eq!(call(&flat, 0, &[index, 6, 7]), want, "index {index}");
    }
    // Recursion through a table is still recursion.
    assert_eq!(call(&direct, 4, &[5]), call(&m, 4, &[5]));
}
