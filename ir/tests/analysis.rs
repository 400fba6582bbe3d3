//! `ir::analysis` on small functions: bit bounds, constants fixed by the
//! target, precompile calls and memory coverage.

use chainlift_ir::analysis::{Assumptions, Len, analyze};
use chainlift_ir::entities::{Block, Value};
use chainlift_ir::parse::parse_module;

fn facts(text: &str, assume: &Assumptions) -> chainlift_ir::analysis::Facts {
    let m = parse_module(text).expect("parses");
    analyze(&m.functions[0], assume)
}

const MASKS: &str = "
function %f(i256) {
block0(v0: i256):
    v1 = iconst.i256 0xff
    v2 = and.i256 v0, v1
    v3 = iconst.i256 224
    v4 = lshr.i256 v0, v3
    v5 = host.caller
    v6 = add.i256 v2, v5
    v7 = host.calldatasize
    v8 = mul.i256 v2, v7
    exit.stop
}
";

#[test]
fn bit_bounds_follow_how_values_are_made() {
    let f = facts(MASKS, &Assumptions::default());
    let b = |i: usize| f.bits(Value::new(i));
    assert_eq!(b(0), 256, "a parameter is unknown");
    assert_eq!(b(2), 8, "a mask bounds what it masks");
    assert_eq!(b(4), 32, "a right shift by 224 leaves 32 bits");
    assert_eq!(b(5), 160, "an address");
    assert_eq!(b(6), 161, "a sum is one bit wider");
    assert_eq!(b(8), 72, "a product adds widths");
}

const CALLS: &str = "
function %f() {
block0:
    v0 = iconst.i256 0
    v1 = iconst.i256 2
    v2 = iconst.i256 4
    v3 = host.gas
    v4 = host.staticcall v3, v1, v0, v0, v0, v0
    v5 = host.staticcall v3, v2, v0, v0, v0, v0
    v6 = host.returndatasize
    v7 = host.chainid
    v8 = host.codesize
    exit.stop
}
";

#[test]
fn precompile_calls_and_host_constants() {
    let mut assume = Assumptions {
        chain_id: Some(7),
        code_len: Some(99),
        empty_return_data: true,
        precompiles: vec![1, 2],
        wei_bits: 256,
        host_constants: vec![],
    };
    let f = facts(CALLS, &assume);
    assert_eq!(f.precompile_calls.get(&Value::new(4)), Some(&2));
    assert!(
        !f.precompile_calls.contains_key(&Value::new(5)),
        "4 is not run by the target"
    );
    // A call reaches a precompile, so return data may exist.
    assert!(!f.consts.contains_key(&Value::new(6)));
    assert_eq!(f.consts[&Value::new(7)].to::<u64>(), 7);
    assert_eq!(f.consts[&Value::new(8)].to::<u64>(), 99);
    assert!(f.gas_limit_only.contains(&Value::new(3)));
    // Without precompiles the target runs, return data stays empty.
    assume.precompiles.clear();
    let f = facts(CALLS, &assume);
    assert!(f.consts[&Value::new(6)].is_zero());
}

const MEMORY: &str = "
function %f(i256) {
block0(v0: i256):
    v1 = iconst.i256 32
    v2 = iconst.i256 0
    mem.expand v0, v2
    mem.expand v0, v1
    v3 = load.i256.be v0
    exit.stop
}
";

#[test]
fn memory_an_expand_covered() {
    let f = facts(MEMORY, &Assumptions::default());
    let (b, x) = (Block::new(0), Value::new(0));
    // Instructions: 0, 1 iconst; 2 the zero-length expand; 3 the expand of
    // 32 bytes; 4 the load.
    assert!(
        !f.covered(b, 3, x, Len::Bytes(32)),
        "a zero-length expand covers nothing"
    );
    assert!(f.covered(b, 4, x, Len::Bytes(32)));
    assert!(!f.covered(b, 4, x, Len::Bytes(33)));
    assert!(f.covered(b, 4, x, Len::Value(Value::new(1))));
    assert!(
        !f.covered(b, 4, Value::new(1), Len::Bytes(1)),
        "another offset"
    );
}
