//! The interpreter's decoded fast path against the module run instruction
//! by instruction (an empty `Program`): the same outcome, position, steps,
//! memory and stack at every budget.

use alloy_primitives::U256;
use chainlift_ir::entities::FuncId;
use chainlift_ir::function::Module;
use chainlift_ir::interp::{Interpreter, Limits, Outcome, Program, SimpleHost, State};
use chainlift_ir::parse::parse_module;
use std::sync::Arc;

/// The module of `text`, verified, with its decoded program and the empty
/// one (every instruction run from the module).
fn programs(text: &str) -> (Module, Arc<Program>, Arc<Program>) {
    let module = parse_module(text).expect("parses");
    chainlift_ir::verify::verify(&module).expect("verifies");
    let decoded = Arc::new(Program::new(&module));
    (module, decoded, Arc::new(Program::default()))
}

/// Runs the module's first function from `state` with `program`: the
/// outcome, the steps taken and the state left.
fn run(
    module: &Module,
    program: &Arc<Program>,
    limits: Limits,
    state: State,
    args: &[U256],
) -> (Outcome, u64, State) {
    let mut host = SimpleHost::default();
    let mut interp = Interpreter::with_state(module, program.clone(), limits, state);
    let outcome = interp.run(&mut host, FuncId::new(0), args);
    (outcome, interp.steps, interp.into_state())
}

/// The stack-in-memory form's shape: bound checks that trap on one side
/// (the two of `block1` and `block2` decoded as one range check, which
/// each of them can fail),
/// guarding a body that loads, computes, grows memory, calls the host and
/// stores (through one address before and after the growth and the host
/// call, where a run that stops fitting the budget goes on from the module;
/// the loads and the stores each two in a row, which run without a
/// dispatch between them); a check whose failing side goes on to a revert
/// (decoded as a guard the body runs on through); a loop back through the
/// checks.
const GUARDED: &str = "
function %guarded(i64, i256) -> i256 {
block0(v0: i64, v1: i256):
    jump block1(v0, v1) @0x0
block1(v28: i64, v29: i256):
    v2 = iconst.i64 2
    v3 = icmp.ult v28, v2 @0x1
    brif v3, block9, block2 @0x1
block2:
    v4 = iconst.i64 1020
    v5 = icmp.ugt v28, v4 @0x2
    brif v5, block8, block3 @0x2
block3:
    v6 = iconst.i64 0xfffffffffffffffe
    v7 = add.i64 v28, v6 @0x3
    v8 = stack.load.i256 v7 @0x3
    v9 = iconst.i64 0xffffffffffffffff
    v10 = add.i64 v28, v9 @0x4
    v11 = stack.load.i256 v10 @0x4
    v12 = add.i256 v8, v11 @0x5
    v30 = iconst.i256 9
    v31 = icmp.eq v12, v30 @0x5
    brif v31, block10, block11 @0x5
block11:
    v13 = iconst.i256 0x20
    mem.expand v12, v13 @0x6
    store.i256.be v12, v29 @0x6
    v14 = host.sload v12 @0x7
    v15 = iconst.i64 1
    v16 = add.i64 v28, v15 @0x8
    stack.store v7, v14 @0x8
    stack.store v28, v12 @0x9
    v17 = iconst.i256 0
    v18 = icmp.eq v29, v17 @0xa
    brif v18, block4, block5(v16) @0xa
block4:
    return v12
block5(v19: i64):
    v20 = iconst.i256 1
    v21 = sub.i256 v29, v20 @0xb
    jump block6(v19, v21) @0xb
block6(v22: i64, v23: i256):
    v24 = iconst.i64 3
    v25 = icmp.ult v22, v24 @0xc
    brif v25, block9, block7 @0xc
block7:
    v26 = iconst.i64 0xfffffffffffffffd
    v27 = add.i64 v22, v26 @0xd
    jump block1(v27, v23) @0xd
block8:
    trap stack_overflow @0xe
block9:
    trap stack_underflow @0xf
block10:
    jump block12 @0x10
block12:
    v32 = iconst.i256 0
    exit.revert v32, v32 @0x11
}
";

#[test]
fn decoded_guard_chains_take_the_steps_and_end_the_module_does() {
    let (module, decoded, plain) = programs(GUARDED);
    let run = |program: &Arc<Program>, sp: u64, n: u64, budget, filled: bool| {
        let limits = Limits {
            budget,
            ..Limits::default()
        };
        // A stack of distinct words, so a wrong slot shows; or none yet,
        // so the first access makes it (from the module).
        let stack = match filled {
            true => (0..1024u64).map(|i| U256::from(i % 7)).collect(),
            false => vec![],
        };
        let state = State {
            memory: vec![],
            stack,
        };
        run(
            &module,
            program,
            limits,
            state,
            &[U256::from(sp), U256::from(n)],
        )
    };
    let mut ends = std::collections::BTreeSet::new();
    for (sp, n) in [
        (0, 3),
        (1, 0),
        (2, 0),
        (2, 3),
        (5, 7),
        (1020, 2),
        (1021, 0),
        (3, 40),
        (6, 3),
    ] {
        for filled in [true, false] {
            let full = run(&plain, sp, n, u64::MAX, filled).1;
            for budget in (0..=full + 2).chain([u64::MAX]) {
                let fast = run(&decoded, sp, n, budget, filled);
                let slow = run(&plain, sp, n, budget, filled);
                let at = format!("sp {sp}, n {n}, budget {budget}, filled {filled}");
                assert_eq!((&fast.0, fast.1), (&slow.0, slow.1), "{at}");
                assert_eq!(fast.2.memory, slow.2.memory, "{at}");
                let differs = (0..1024).find(|i| fast.2.stack.get(*i) != slow.2.stack.get(*i));
                assert_eq!(differs, None, "{at}: the stack differs first at this word");
                ends.insert(
                    format!("{:?}", fast.0)
                        .split([' ', '('])
                        .next()
                        .unwrap_or("")
                        .to_string(),
                );
            }
        }
    }
    // Every way out was taken: values, both traps, the revert, the budget.
    let kinds = ["OutOfBudget", "Revert", "Trap", "Values"];
    assert!(kinds.iter().all(|k| ends.contains(*k)), "{ends:?}");
}

/// Word accesses after a growth (decoded as one operation that skips the
/// growth when the word is in memory already) and without one, over an
/// address the test picks, then the memory size.
const WORDS: &str = "
function %words(i256) -> i256 {
block0(v0: i256):
    v1 = iconst.i256 0x20
    mem.expand v0, v1 @0x1
    v2 = load.i256.be v0 @0x1
    v3 = iconst.i256 1
    v4 = add.i256 v2, v3 @0x2
    mem.expand v0, v1 @0x3
    store.i256.be v0, v4 @0x3
    v5 = load.i256.be v0 @0x4
    v6 = mem.size.i256 @0x5
    v7 = add.i256 v5, v6 @0x5
    return v7
}
";

#[test]
fn decoded_word_accesses_grow_and_trap_as_the_module_does() {
    let (module, decoded, plain) = programs(WORDS);
    let run = |program: &Arc<Program>, addr: U256, size: usize, limit: usize, budget| {
        let limits = Limits {
            budget,
            memory: limit,
            ..Limits::default()
        };
        // Memory of any size, even one growth would round up to a word, or
        // one over the limit.
        let state = State {
            memory: (0..size).map(|i| i as u8).collect(),
            stack: vec![],
        };
        let (outcome, steps, state) = run(&module, program, limits, state, &[addr]);
        (outcome, steps, state.memory)
    };
    for size in [0, 40, 64, 96] {
        for limit in [64, 128] {
            for addr in [0u64, 8, 32, 40, 64, 100, u64::MAX - 8] {
                let addr = U256::from(addr);
                let full = run(&plain, addr, size, limit, u64::MAX).1;
                for budget in (0..=full + 2).chain([u64::MAX]) {
                    let fast = run(&decoded, addr, size, limit, budget);
                    let slow = run(&plain, addr, size, limit, budget);
                    let at = format!("addr {addr}, size {size}, limit {limit}, budget {budget}");
                    assert_eq!(fast, slow, "{at}");
                }
            }
        }
    }
}
