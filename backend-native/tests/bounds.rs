//! Compiled code stays within its bounds on inputs the interpreter's file
//! tests do not reach: recursion without loops stops when its fuel is
//! spent, recursion deeper than the native stack stops with
//! `call_stack_exhausted` instead of overflowing, memory that grows far
//! past its first buffer keeps its contents, and `mem.expand` after an odd
//! `mem.grow` rounds as the interpreter does. Each case also runs in the
//! interpreter, whose outcome it must equal (or, for budgets, match in
//! kind).

use alloy_primitives::U256;
use chainlift_backend_native::{Options, compile};
use chainlift_ir::entities::FuncId;
use chainlift_ir::interp::{Interpreter, Limits, Outcome, SimpleHost};
use chainlift_ir::parse::parse_module;
use chainlift_ir::verify::verified;

fn both(text: &str, func: usize, args: &[u64], limits: Limits) -> (Outcome, Outcome, usize, usize) {
    let m = verified(parse_module(text).expect("parses")).expect("verifies");
    let program = compile(&m, &Options::default()).expect("compiles");
    let args: Vec<U256> = args.iter().map(|a| U256::from(*a)).collect();
    let native = program.call(&mut SimpleHost::default(), FuncId::new(func), &args, limits);
    let mut interp = Interpreter::new(&m, limits);
    let expected = interp.run(&mut SimpleHost::default(), FuncId::new(func), &args);
    (
        native.outcome,
        expected,
        native.memory_size,
        interp.memory.len(),
    )
}

#[test]
fn recursion_without_loops_stops_when_the_fuel_is_spent() {
    // Two calls per frame, 40 deep: 2^40 calls, no loop anywhere.
    let text = "
function %main() {
block0:
    v0 = iconst.i64 40
    call fn1, v0
    exit.stop
}

function %twice(i64) {
block0(v0: i64):
    v1 = iconst.i64 0
    v2 = icmp.eq v0, v1
    brif v2, block1, block2
block1:
    return
block2:
    v3 = iconst.i64 1
    v4 = sub.i64 v0, v3
    call fn1, v4
    call fn1, v4
    return
}
";
    let limits = Limits {
        budget: 100_000,
        ..Limits::default()
    };
    let (native, interp, _, _) = both(text, 0, &[], limits);
    assert!(matches!(native, Outcome::OutOfBudget { .. }), "{native:?}");
    assert!(matches!(interp, Outcome::OutOfBudget { .. }), "{interp:?}");
}

#[test]
fn recursion_past_the_native_stack_stops_cleanly() {
    // With no IR depth limit to speak of, the native stack floor stops it
    // (this test thread has the default 2 MiB stack).
    let text = "
function %main() {
block0:
    v0 = iconst.i64 100000000
    v1 = call fn1, v0
    exit.stop
}

function %down(i64) -> i64 {
block0(v0: i64):
    v1 = iconst.i64 0
    v2 = icmp.eq v0, v1
    brif v2, block1, block2
block1:
    return v0
block2:
    v3 = iconst.i64 1
    v4 = sub.i64 v0, v3
    v5 = call fn1, v4
    v6 = add.i64 v5, v3
    return v6
}
";
    let m = verified(parse_module(text).unwrap()).unwrap();
    let program = compile(&m, &Options::default()).unwrap();
    let limits = Limits {
        budget: u64::MAX / 4,
        call_depth: usize::MAX / 2,
        ..Limits::default()
    };
    let r = program.call(&mut SimpleHost::default(), FuncId::new(0), &[], limits);
    assert!(
        matches!(
            r.outcome,
            Outcome::Trap {
                code: chainlift_ir::inst::TrapCode::CallStackExhausted,
                ..
            }
        ),
        "{:?}",
        r.outcome
    );
}

#[test]
fn memory_grows_past_its_first_buffer_and_keeps_its_contents() {
    // Store at 100, grow to 16 MiB in 64 KiB steps, store at the top, then
    // read both back.
    let text = "
function %main() -> i64, i64, i64 {
block0:
    v0 = iconst.i64 0
    v1 = iconst.i64 128
    mem.expand v0, v1
    v2 = iconst.i64 100
    v3 = iconst.i64 0x1122334455667788
    store.i64.be v2, v3
    v4 = iconst.i64 0x10000
    jump block1(v4)
block1(v5: i64):
    mem.expand v0, v5
    v6 = add.i64 v5, v4
    v7 = iconst.i64 0x1000000
    v8 = icmp.ule v6, v7
    brif v8, block1(v6), block2
block2:
    v9 = mem.size.i64
    v10 = iconst.i64 8
    v11 = sub.i64 v9, v10
    store.i64.le v11, v3
    v12 = load.i64.be v2
    v13 = load.i64.le v11
    return v9, v12, v13
}
";
    let (native, interp, msize, isize) = both(text, 0, &[], Limits::default());
    assert_eq!(native, interp);
    assert_eq!(msize, isize);
    assert_eq!(
        native,
        Outcome::Values(vec![
            U256::from(0x1000000u64),
            U256::from(0x1122334455667788u64),
            U256::from(0x1122334455667788u64)
        ])
    );
}

#[test]
fn expand_after_an_odd_grow_rounds_as_the_interpreter_does() {
    let text = "
function %main() -> i64 {
block0:
    v0 = iconst.i64 5
    v1 = mem.grow.i64 v0
    v2 = iconst.i64 0
    v3 = iconst.i64 1
    mem.expand v2, v3
    v4 = mem.size.i64
    return v4
}
";
    let (native, interp, _, _) = both(text, 0, &[], Limits::default());
    assert_eq!(native, interp);
    assert_eq!(native, Outcome::Values(vec![U256::from(32)]));
}
