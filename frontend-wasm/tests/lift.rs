//! Lifting WASM text, then running the IR in the reference interpreter:
//! integer semantics, traps where WASM traps, instantiation, tables, the
//! unsupported-function fallback, and no panic on any input.

use alloy_primitives::U256;
use chainlift_frontend_wasm::{Error, Lifted, Options, lift, read};
use chainlift_ir::entities::FuncId;
use chainlift_ir::inst::{SourcePos, TrapCode};
use chainlift_ir::interp::{Interpreter, Limits, Outcome, Program, SimpleHost, State};
use proptest::prelude::*;
use std::sync::Arc;

/// A module instance in the interpreter.
struct Instance {
    lifted: Lifted,
    program: Arc<Program>,
    state: State,
}

impl Instance {
    fn new(wat: &str) -> Instance {
        let bytes = read(wat.as_bytes()).expect("valid text");
        let lifted = lift(&bytes, &Options::default()).expect("lifts");
        let program = Arc::new(Program::new(&lifted.module));
        let mut i = Instance {
            lifted,
            program,
            state: State::default(),
        };
        assert_eq!(i.run(FuncId::new(0), &[]), Outcome::Values(vec![]));
        i
    }

    fn run(&mut self, f: FuncId, args: &[u64]) -> Outcome {
        let mut interp = Interpreter::with_state(
            &self.lifted.module,
            self.program.clone(),
            Limits::default(),
            std::mem::take(&mut self.state),
        );
        let args: Vec<U256> = args.iter().map(|a| U256::from(*a)).collect();
        let out = interp.run(&mut SimpleHost::default(), f, &args);
        self.state = interp.into_state();
        out
    }

    fn call(&mut self, name: &str, args: &[u64]) -> Outcome {
        let f = self.lifted.func(name).expect("exported").func;
        self.run(f, args)
    }

    fn value(&mut self, name: &str, args: &[u64]) -> u64 {
        match self.call(name, args) {
            Outcome::Values(v) => v[0].as_limbs()[0],
            other => panic!("{name}{args:?}: {other:?}"),
        }
    }

    fn trap(&mut self, name: &str, args: &[u64]) -> TrapCode {
        match self.call(name, args) {
            Outcome::Trap { code, pos } => {
                // Every trap but the interpreter's depth limit names its
                // offset.
                assert!(
                    matches!(pos, SourcePos::Wasm(_)) || code == TrapCode::CallStackExhausted,
                    "{name}: {code} at {pos:?}"
                );
                code
            }
            other => panic!("{name}{args:?}: expected a trap, got {other:?}"),
        }
    }
}

const ARITH: &str = r#"(module
  (func (export "div_s") (param i32 i32) (result i32) (i32.div_s (local.get 0) (local.get 1)))
  (func (export "rem_s") (param i32 i32) (result i32) (i32.rem_s (local.get 0) (local.get 1)))
  (func (export "div_u64") (param i64 i64) (result i64) (i64.div_u (local.get 0) (local.get 1)))
  (func (export "shl") (param i32 i32) (result i32) (i32.shl (local.get 0) (local.get 1)))
  (func (export "shr_s64") (param i64 i64) (result i64) (i64.shr_s (local.get 0) (local.get 1)))
  (func (export "rotr") (param i32 i32) (result i32) (i32.rotr (local.get 0) (local.get 1)))
  (func (export "clz") (param i32) (result i32) (i32.clz (local.get 0)))
  (func (export "ctz64") (param i64) (result i64) (i64.ctz (local.get 0)))
  (func (export "popcnt") (param i32) (result i32) (i32.popcnt (local.get 0)))
  (func (export "popcnt64") (param i64) (result i64) (i64.popcnt (local.get 0)))
  (func (export "ext8") (param i32) (result i32) (i32.extend8_s (local.get 0)))
  (func (export "ext16_64") (param i64) (result i64) (i64.extend16_s (local.get 0)))
  (func (export "ext32") (param i32) (result i64) (i64.extend_i32_s (local.get 0)))
  (func (export "wrap") (param i64) (result i32) (i32.wrap_i64 (local.get 0)))
  (func (export "lt_s") (param i32 i32) (result i32) (i32.lt_s (local.get 0) (local.get 1)))
  (func (export "select") (param i32 i32 i32) (result i32)
    (select (local.get 0) (local.get 1) (local.get 2)))
)"#;

#[test]
fn integer_operations_have_wasm_semantics() {
    let mut m = Instance::new(ARITH);
    let neg = |x: i32| x as u32 as u64;
    assert_eq!(m.value("div_s", &[neg(-7), 2]), neg(-3));
    assert_eq!(m.value("rem_s", &[neg(-7), 2]), neg(-1));
    // MIN % -1 is 0 (no trap), MIN / -1 traps.
    assert_eq!(m.value("rem_s", &[neg(i32::MIN), neg(-1)]), 0);
    assert_eq!(
        m.trap("div_s", &[neg(i32::MIN), neg(-1)]),
        TrapCode::IntegerOverflow
    );
    assert_eq!(m.trap("div_s", &[1, 0]), TrapCode::DivideByZero);
    assert_eq!(m.trap("div_u64", &[1, 0]), TrapCode::DivideByZero);
    assert_eq!(m.value("div_u64", &[u64::MAX, 2]), u64::MAX / 2);
    // Shift counts are taken modulo the width.
    assert_eq!(m.value("shl", &[1, 33]), 2);
    assert_eq!(m.value("shr_s64", &[1 << 63, 65]), 0xc000_0000_0000_0000);
    assert_eq!(m.value("rotr", &[1, 1]), 0x8000_0000);
    assert_eq!(m.value("clz", &[0]), 32);
    assert_eq!(m.value("clz", &[1]), 31);
    assert_eq!(m.value("ctz64", &[0]), 64);
    assert_eq!(m.value("ctz64", &[0x100]), 8);
    assert_eq!(m.value("popcnt", &[0xffff_ffff]), 32);
    assert_eq!(m.value("popcnt", &[0x8000_0001]), 2);
    assert_eq!(m.value("popcnt64", &[u64::MAX]), 64);
    assert_eq!(m.value("popcnt64", &[0x0123_4567_89ab_cdef]), 32);
    assert_eq!(m.value("ext8", &[0x80]), neg(-128));
    assert_eq!(m.value("ext16_64", &[0x8000]), (-32768i64) as u64);
    assert_eq!(m.value("ext32", &[neg(-1)]), u64::MAX);
    assert_eq!(m.value("wrap", &[0x1_2345_6789]), 0x2345_6789);
    assert_eq!(m.value("lt_s", &[neg(-1), 0]), 1);
    assert_eq!(m.value("select", &[5, 6, 0]), 6);
    assert_eq!(m.value("select", &[5, 6, 7]), 5);
}

proptest! {
    #[test]
    fn popcnt_and_ctz_match_rust(x in any::<u64>()) {
        let mut m = Instance::new(ARITH);
        prop_assert_eq!(m.value("popcnt64", &[x]), x.count_ones() as u64);
        prop_assert_eq!(m.value("popcnt", &[x as u32 as u64]), (x as u32).count_ones() as u64);
        prop_assert_eq!(m.value("ctz64", &[x]), x.trailing_zeros() as u64);
        prop_assert_eq!(m.value("clz", &[x as u32 as u64]), (x as u32).leading_zeros() as u64);
    }
}

const MEMORY: &str = r#"(module
  (memory 1 3)
  (data (i32.const 8) "\01\02\03\04\05\06\07\08\09")
  (global $g (mut i64) (i64.const 7))
  (global $c i32 (i32.const 42))
  (func (export "load16_s") (param i32) (result i32) (i32.load16_s (local.get 0)))
  (func (export "load64") (param i32) (result i64) (i64.load offset=8 (local.get 0)))
  (func (export "store16") (param i32 i32) (i32.store16 (local.get 0) (local.get 1)))
  (func (export "load8_u") (param i32) (result i32) (i32.load8_u (local.get 0)))
  (func (export "size") (result i32) (memory.size))
  (func (export "grow") (param i32) (result i32) (memory.grow (local.get 0)))
  (func (export "fill") (param i32 i32 i32) (memory.fill (local.get 0) (local.get 1) (local.get 2)))
  (func (export "bump") (result i64)
    (global.set $g (i64.add (global.get $g) (i64.const 1)))
    (global.get $g))
  (func (export "c") (result i32) (global.get $c))
)"#;

#[test]
fn memory_data_and_globals_persist_like_an_instance() {
    let mut m = Instance::new(MEMORY);
    assert_eq!(m.value("load64", &[0]), 0x0807_0605_0403_0201);
    assert_eq!(m.value("load16_s", &[0xfffe]), 0);
    assert_eq!(m.trap("load16_s", &[0xffff]), TrapCode::OutOfBounds);
    // A store that does not fit writes nothing.
    assert_eq!(m.trap("store16", &[0xffff, 0xabcd]), TrapCode::OutOfBounds);
    assert_eq!(m.value("load8_u", &[0xffff]), 0);
    assert_eq!(
        m.call("store16", &[0xfffe, 0xabcd]),
        Outcome::Values(vec![])
    );
    assert_eq!(m.value("load16_s", &[0xfffe]), 0xffff_abcd);
    assert_eq!(m.value("size", &[]), 1);
    assert_eq!(m.value("grow", &[1]), 1);
    assert_eq!(
        m.value("grow", &[2]),
        u32::MAX as u64,
        "past the maximum of 3"
    );
    assert_eq!(m.value("size", &[]), 2);
    assert_eq!(m.trap("fill", &[0x1_fff0, 1, 0x11]), TrapCode::OutOfBounds);
    assert_eq!(m.value("bump", &[]), 8);
    assert_eq!(m.value("bump", &[]), 9);
    assert_eq!(m.value("c", &[]), 42);
}

const CONTROL: &str = r#"(module
  (type $ii (func (param i32) (result i32)))
  (type $ll (func (param i64) (result i64)))
  (table 4 funcref)
  (elem (i32.const 0) $double $fac $f64id)
  (func $double (type $ii) (i32.mul (local.get 0) (i32.const 2)))
  (func $f64id (param f64) (result f64) (local.get 0))
  (func $fac (type $ll)
    (if (result i64) (i64.eqz (local.get 0))
      (then (i64.const 1))
      (else (i64.mul (local.get 0) (call $fac (i64.sub (local.get 0) (i64.const 1)))))))
  (func (export "fac") (param i64) (result i64) (call $fac (local.get 0)))
  (func (export "dispatch") (param i32 i32) (result i32)
    (call_indirect (type $ii) (local.get 1) (local.get 0)))
  (func (export "dispatch64") (param i32 i64) (result i64)
    (call_indirect (type $ll) (local.get 1) (local.get 0)))
  (func (export "switch") (param i32) (result i32)
    (block $c (block $b (block $a
      (br_table $a $b $c (local.get 0)))
      (return (i32.const 10)))
      (return (i32.const 11)))
    (i32.const 12))
  (func (export "loop") (param i32) (result i32) (local $acc i32)
    (block $done (loop $next
      (br_if $done (i32.eqz (local.get 0)))
      (local.set $acc (i32.add (local.get $acc) (local.get 0)))
      (local.set 0 (i32.sub (local.get 0) (i32.const 1)))
      (br $next)))
    (local.get $acc))
  (func (export "multi") (param i32) (result i32 i32)
    (block (result i32 i32) (local.get 0) (i32.const 1)))
  (func (export "floaty") (result f32) (f32.const 1.5))
  (func (export "runaway") (call $runaway_inner))
  (func $runaway_inner (call $runaway_inner))
)"#;

#[test]
fn control_flow_calls_and_tables() {
    let mut m = Instance::new(CONTROL);
    assert_eq!(m.value("fac", &[20]), 2_432_902_008_176_640_000);
    assert_eq!(m.value("dispatch", &[0, 21]), 42);
    // Wrong type (fac is i64 -> i64), a float function whose IR types
    // would match, an empty slot and an index past the table all trap.
    assert_eq!(m.trap("dispatch", &[1, 1]), TrapCode::BadIndirectCall);
    assert_eq!(m.trap("dispatch64", &[2, 1]), TrapCode::BadIndirectCall);
    assert_eq!(m.trap("dispatch", &[3, 1]), TrapCode::BadIndirectCall);
    assert_eq!(m.trap("dispatch", &[4, 1]), TrapCode::BadIndirectCall);
    assert_eq!(m.value("dispatch64", &[1, 5]), 120);
    for (i, want) in [(0, 10), (1, 11), (2, 12), (7, 12)] {
        assert_eq!(m.value("switch", &[i]), want);
    }
    assert_eq!(m.value("loop", &[100]), 5050);
    assert_eq!(
        m.call("multi", &[9]),
        Outcome::Values(vec![U256::from(9), U256::from(1)])
    );
    // The float function is not lifted; the integer ones are.
    let floaty = m.lifted.func("floaty").unwrap().index;
    let why = m.lifted.unsupported(floaty).expect("listed");
    assert_eq!(why.what, "f32 in the signature");
    assert_eq!(m.trap("floaty", &[]), TrapCode::Unsupported);
    assert_eq!(m.trap("runaway", &[]), TrapCode::CallStackExhausted);
}

#[test]
fn instantiation_traps_when_a_segment_does_not_fit() {
    let bytes = read(br#"(module (memory 1) (data (i32.const 65535) "ab"))"#).unwrap();
    let lifted = lift(&bytes, &Options::default()).unwrap();
    let mut interp = Interpreter::new(&lifted.module, Limits::default());
    let out = interp.run(&mut SimpleHost::default(), FuncId::new(0), &[]);
    assert!(
        matches!(
            out,
            Outcome::Trap {
                code: TrapCode::OutOfBounds,
                ..
            }
        ),
        "{out:?}"
    );
}

#[test]
fn invalid_and_unlinkable_modules_are_named() {
    let e = lift(b"\0asm\x01\0\0\0\x01", &Options::default()).unwrap_err();
    assert!(matches!(e, Error::Invalid { .. }), "{e}");
    let e = read(b"(module (func (result i32) (i64.const 1)))")
        .map(|b| lift(&b, &Options::default()))
        .unwrap()
        .unwrap_err();
    assert!(e.to_string().contains("type mismatch"), "{e}");
    let e = read(b"(module (import \"env\" \"g\" (global i32)))")
        .map(|b| lift(&b, &Options::default()))
        .unwrap()
        .unwrap_err();
    assert_eq!(e.to_string(), "import env.g (global) is not provided");
    let e = read(b"(module (func").unwrap_err();
    assert!(matches!(e, Error::Text(_)), "{e}");
}

fn erc20() -> Vec<u8> {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../shared/corpus/stylus/erc20.wasm"
    );
    std::fs::read(path).expect("../shared/corpus/stylus/erc20.wasm beside the checkout")
}

#[test]
fn the_stylus_erc20_lifts_whole() {
    let lifted = lift(&erc20(), &Options::default()).unwrap();
    assert_eq!(lifted.profile, chainlift_frontend_wasm::Profile::Stylus);
    assert!(lifted.unsupported.is_empty(), "{:?}", lifted.unsupported);
    assert!(
        lifted.unknown_imports.is_empty(),
        "{:?}",
        lifted.unknown_imports
    );
    // The entry takes no parameters and the module verifies (`lift` checks).
    assert!(lifted.module.functions[0].params.is_empty());
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(
        std::env::var("WASM_FUZZ_CASES").ok().and_then(|v| v.parse().ok()).unwrap_or(64)
    ))]

    /// Any bytes, and the Stylus ERC-20 with bytes changed: an error or a
    /// module, never a panic; a module runs to an end within its budget.
    #[test]
    fn mutated_modules_never_panic(
        edits in proptest::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 1..6),
        random in proptest::collection::vec(any::<u8>(), 0..64),
    ) {
        let _ = lift(&random, &Options::default());
        let mut bytes = erc20();
        for (i, b) in edits {
            let i = i.index(bytes.len());
            bytes[i] = b;
        }
        if let Ok(lifted) = lift(&bytes, &Options::default()) {
            let limits = Limits { budget: 200_000, ..Limits::default() };
            let mut interp = Interpreter::new(&lifted.module, limits);
            let mut host = SimpleHost { calldata: vec![0x06, 0xfd, 0xde, 0x03], ..Default::default() };
            let _ = interp.run(&mut host, FuncId::new(0), &[]);
        }
    }
}

/// Inlining every call (what backend-sbf needs) keeps the contract's
/// behaviour: the same calls on the original and the inlined module give
/// the same outcomes and storage.
#[test]
fn an_inlined_stylus_contract_behaves_as_the_original() {
    use chainlift_ir::passes::{inline::inline_into_entry, optimize};
    let ledger = std::fs::read(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../examples/stylus/ledger.wasm"
    ))
    .unwrap();
    for bytes in [erc20(), ledger] {
        let lifted = lift(&bytes, &Options::default()).unwrap();
        let mut flat = inline_into_entry(&lifted.module, 2_000_000).unwrap();
        optimize(&mut flat);
        let flat = chainlift_ir::verify::verified(flat).unwrap();
        eprintln!(
            "{} functions, {} instructions -> 1 function, {} instructions",
            lifted.module.functions.len(),
            lifted.module.inst_count(),
            flat.inst_count()
        );
        let word = |x: u64| U256::from(x).to_be_bytes::<32>();
        let calls: Vec<Vec<u8>> = vec![
            // mint(address(0), 1000) / init() / sumOfSquares(10) / balanceOf(0)
            [&[0x40, 0xc1, 0x0f, 0x19][..], &word(0), &word(1000)].concat(),
            vec![0xe1, 0xc7, 0x39, 0x2a],
            [&[0x52, 0x0f, 0x39, 0x71][..], &word(10)].concat(),
            [&[0x70, 0xa0, 0x82, 0x31][..], &word(0)].concat(),
            [&[0x18, 0x16, 0x0d, 0xdd][..]].concat(),
            vec![0xde, 0xad],
        ];
        let (mut h1, mut h2) = (SimpleHost::default(), SimpleHost::default());
        for data in calls {
            h1.calldata = data.clone();
            h2.calldata = data;
            let a = Interpreter::new(&lifted.module, Limits::default()).run(
                &mut h1,
                FuncId::new(0),
                &[],
            );
            let b = Interpreter::new(&flat, Limits::default()).run(&mut h2, FuncId::new(0), &[]);
            assert_eq!(a, b);
            assert_eq!(h1.storage, h2.storage);
            assert_eq!(h1.logs, h2.logs);
        }
    }
}

/// Inputs built to exhaust memory or time are refused by name: a function
/// whose blocks × locals pass the budget lifts to `trap unsupported`,
/// oversized tables and data are a limit error, and a memory larger than
/// the run's limit fails instantiation.
#[test]
fn oversized_modules_are_bounded_and_named() {
    // 2,000 blocks × 5,000 locals = 10^7 block parameters.
    let blocks = "(block)".repeat(2000);
    let wat = format!(
        "(module (func (export \"big\") (local i64 i64) {blocks}) \
         (func (export \"small\") (result i32) (i32.const 7)))"
    )
    .replace(
        "(local i64 i64)",
        &format!("(local {})", "i64 ".repeat(5000)),
    );
    let bytes = read(wat.as_bytes()).unwrap();
    let lifted = lift(&bytes, &Options::default()).unwrap();
    let big = lifted.func("big").unwrap().index;
    let why = lifted.unsupported(big).expect("not lifted");
    assert!(why.what.contains("too large to lift"), "{}", why.what);
    assert!(
        lifted
            .unsupported(lifted.func("small").unwrap().index)
            .is_none()
    );

    let e = lift(
        &read(b"(module (table 2000000 funcref))").unwrap(),
        &Options::default(),
    )
    .unwrap_err();
    assert!(e.to_string().contains("tables of 2000000 entries"), "{e}");

    // 2,000 pages is past the interpreter's 64 MiB: instantiation traps.
    let bytes =
        read(b"(module (memory 2000) (func (export \"f\") (result i32) memory.size))").unwrap();
    let lifted = lift(&bytes, &Options::default()).unwrap();
    let out = Interpreter::new(&lifted.module, Limits::default()).run(
        &mut SimpleHost::default(),
        FuncId::new(0),
        &[],
    );
    assert!(
        matches!(
            out,
            Outcome::Trap {
                code: TrapCode::OutOfMemory,
                ..
            }
        ),
        "{out:?}"
    );
}

#[test]
fn float_globals_keep_their_bits() {
    let mut m = Instance::new(
        r#"(module (global (export "f") f32 (f32.const 1.5))
             (global (export "d") (mut f64) (f64.const -2))
             (func (export "n") (result i32) (i32.const 1)))"#,
    );
    assert_eq!(m.value("n", &[]), 1);
    let slot = |name: &str, m: &Instance| {
        let g = m.lifted.globals.iter().find(|g| g.name == name).unwrap();
        m.state.stack[g.slot as usize / 4].as_limbs()[g.slot as usize % 4]
    };
    assert_eq!(slot("f", &m), 1.5f32.to_bits() as u64);
    assert_eq!(slot("d", &m), (-2f64).to_bits());
}
