//! Calls out of a bundle in the sbf engines, against revm: a contract
//! another program holds (`World::programs`) is called by cross-program
//! invocation; it sees the calling contract's address as `msg.sender`, a
//! `staticcall` reaches it static, and what Solana cannot do as the EVM
//! does ends with a named target limit, never a different result.

use alloy_primitives::{Address, U256};
use chainlift_backend_sbf::exit;
use chainlift_emulator::evm::EvmEngine;
use chainlift_emulator::sbf::SbfEngine;
use chainlift_emulator::{Account, BlockEnv, Call, Engine, Outcome, Status, World};
use chainlift_frontend_evm::Fork;
use chainlift_tests::hex;

const A: Address = Address::repeat_byte(0xa1);
const B: Address = Address::repeat_byte(0xb2);
const C: Address = Address::repeat_byte(0xc3);
const CALLER: Address = Address::repeat_byte(0xca);
const FORK: Fork = Fork::Prague;

/// `op` (`f1` call, `fa` staticcall, `f4` delegatecall) of `to` without
/// calldata, 32 bytes of output at 0; then its success in slot 1 and the
/// output word in slot 0.
fn calls(to: Address, op: &str) -> Vec<u8> {
    let value = if op == "f1" { "5f" } else { "" };
    let mut code = hex(&format!("6020 5f 5f 5f {value} 73"));
    code.extend_from_slice(to.as_slice());
    code.extend_from_slice(&hex(&format!("5a {op} 600155 5f51 5f55 00")));
    code
}

/// A `call` of `to` sending `wei`.
fn pays(to: Address, wei: u64) -> Vec<u8> {
    let mut code = hex(&format!("5f 5f 5f 5f 67{wei:016x} 73"));
    code.extend_from_slice(to.as_slice());
    code.extend_from_slice(&hex("5a f1 600155 00"));
    code
}

/// Returns `msg.sender`.
fn returns_caller() -> Vec<u8> {
    hex("33 5f52 60205ff3")
}

/// Calls `to` (no output), then reverts.
fn calls_then_reverts(to: Address) -> Vec<u8> {
    let mut code = hex("5f 5f 5f 5f 5f 73");
    code.extend_from_slice(to.as_slice());
    code.extend_from_slice(&hex("5a f1 50 5f5ffd"));
    code
}

/// `a`, `b` and `c`'s code; `b` in a program of its own.
fn world(a: Vec<u8>, b: Vec<u8>, c: Vec<u8>) -> World {
    let mut w = World::default();
    for (at, code) in [(A, a), (B, b), (C, c)] {
        let account = Account {
            code,
            nonce: 1,
            balance: U256::from(10u64).pow(U256::from(18)),
            ..Account::default()
        };
        w.accounts.insert(at, account);
    }
    w.accounts.insert(
        CALLER,
        Account {
            balance: U256::from(10u64).pow(U256::from(21)),
            ..Account::default()
        },
    );
    w.programs.insert(B, "b".into());
    w
}

fn call(to: Address) -> Call {
    Call {
        caller: CALLER,
        origin: CALLER,
        to,
        value: U256::ZERO,
        data: vec![],
        gas_limit: 10_000_000,
        gas_price: U256::ZERO,
        create: false,
    }
}

/// revm's outcome, and both sbf engines'.
fn run(w: &World, to: Address) -> (Outcome, Vec<Outcome>) {
    let block = BlockEnv::default();
    let c = call(to);
    let expected = EvmEngine.run(w, &block, &c, FORK).unwrap();
    let sbf = [SbfEngine::new(false), SbfEngine::new(true)]
        .iter()
        .map(|e| e.run(w, &block, &c, FORK).unwrap())
        .collect();
    (expected, sbf)
}

fn agree(w: &World, to: Address, what: &str) -> Outcome {
    let (expected, sbf) = run(w, to);
    for out in sbf {
        assert_eq!(
            expected.difference(&out),
            None,
            "{what}: revm {expected:?}\nsbf {out:?}"
        );
    }
    expected
}

fn stops(w: &World, to: Address, why: &str, what: &str) {
    let (_, sbf) = run(w, to);
    for out in sbf {
        match &out.status {
            Status::TargetLimit(t) if t.contains(why) => {}
            other => panic!("{what}: {other:?}, not a target limit naming {why:?}"),
        }
    }
}

#[test]
fn the_called_program_takes_the_calling_contract_for_its_address() {
    for op in ["f1", "fa"] {
        let w = world(calls(B, op), returns_caller(), vec![]);
        let out = agree(&w, A, op);
        // revm: B saw A as its caller, and A kept it.
        assert_eq!(
            out.storage.get(&(A, U256::ZERO)),
            Some(&(U256::ZERO, U256::from_be_slice(A.as_slice())))
        );
        assert_eq!(
            out.storage.get(&(A, U256::from(1))),
            Some(&(U256::ZERO, U256::from(1)))
        );
    }
    // `tx.origin` there is the transaction's signer, which the call out
    // passed on.
    let w = world(calls(B, "f1"), hex("32 5f52 60205ff3"), vec![]);
    let out = agree(&w, A, "origin");
    assert_eq!(
        out.storage.get(&(A, U256::ZERO)),
        Some(&(U256::ZERO, U256::from_be_slice(CALLER.as_slice())))
    );
    // `extcodesize` of a contract another program holds: its code's size.
    let mut code = hex("73");
    code.extend_from_slice(B.as_slice());
    code.extend(hex("3b 5f55 00"));
    let w = world(code, returns_caller(), vec![]);
    let out = agree(&w, A, "extcodesize");
    assert_eq!(
        out.storage.get(&(A, U256::ZERO)),
        Some(&(U256::ZERO, U256::from(7)))
    );
    // Storage written in the other program comes back as the contract's.
    let w = world(calls(B, "f1"), hex("600760095500"), vec![]);
    let out = agree(&w, A, "a write out of the bundle");
    assert_eq!(
        out.storage.get(&(B, U256::from(9))),
        Some(&(U256::ZERO, U256::from(7)))
    );
}

#[test]
fn what_solana_cannot_do_across_programs_is_a_named_target_limit() {
    let limit = exit::describe(exit::CALL_OUT);
    // A staticcall whose callee writes: the EVM halts the callee and goes
    // on; on Solana the static frame's halt fails the transaction.
    let w = world(calls(B, "fa"), hex("600760095500"), vec![]);
    stops(
        &w,
        A,
        chainlift_emulator::sbf::CALL_OUT_FAILED,
        "a write in a static call out",
    );
    // The callee reverts: the same.
    let w = world(calls(B, "f1"), hex("5f5ffd"), vec![]);
    stops(
        &w,
        A,
        chainlift_emulator::sbf::CALL_OUT_FAILED,
        "a revert out of the bundle",
    );
    // Value, delegatecall.
    let w = world(pays(B, 1_000_000_000), returns_caller(), vec![]);
    stops(&w, A, &limit, "value out of the bundle");
    let w = world(calls(B, "f4"), returns_caller(), vec![]);
    stops(&w, A, &limit, "a delegatecall out of the bundle");
    // A call inside the bundle that called out, then reverted: its call
    // out cannot be undone.
    let mut inner = vec![];
    inner.extend(hex("5f 5f 5f 5f 5f 73"));
    inner.extend_from_slice(C.as_slice());
    inner.extend(hex("5a f1 600155 00"));
    let w = world(inner, returns_caller(), calls_then_reverts(B));
    stops(&w, A, &exit::describe(exit::CALL_OUT_UNDONE), "undone");
    // The called program calls back into the caller's program: Solana
    // refuses reentrancy (before that, the instruction the called program
    // got lacks the calling program's account), and the transaction fails.
    let w = world(calls(B, "f1"), calls_then_reverts(A), vec![]);
    stops(
        &w,
        A,
        chainlift_emulator::sbf::CALL_OUT_FAILED,
        "reentrancy",
    );
}
