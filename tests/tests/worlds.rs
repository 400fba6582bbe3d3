//! Worlds that lose nothing: after every call, each engine's world carries
//! every account the call touched or created — storage written by nested
//! calls, created contracts with their code and nonces, balances, accounts
//! destroyed by SELFDESTRUCT (Cancun rules and before) — and nothing of a
//! frame that reverted. Each test runs the same calls in every engine that
//! can run them, each carrying its own world as scenarios do, and checks
//! both what the calls return and the worlds themselves, against revm.

use alloy_primitives::{Address, U256};
use chainlift_emulator::evm::EvmEngine;
use chainlift_emulator::ir::IrEngine;
use chainlift_emulator::sbf::SbfEngine;
use chainlift_emulator::{Account, BlockEnv, Call, Engine, Outcome, Status, World};
use chainlift_frontend_evm::Fork;
use chainlift_frontend_evm::opcode::by_name;
use std::collections::BTreeMap;

/// A small assembler: mnemonics, `0x…` pushes (the shortest PUSHn), `name:`
/// for a JUMPDEST and `@name` for a PUSH2 of its offset.
fn asm(src: &str) -> Vec<u8> {
    let tokens: Vec<&str> = src.split_whitespace().collect();
    let mut labels = BTreeMap::new();
    for pass in 0..2 {
        let mut code = vec![];
        for t in &tokens {
            if let Some(name) = t.strip_suffix(':') {
                labels.insert(name.to_string(), code.len());
                code.push(0x5b);
            } else if let Some(name) = t.strip_prefix('@') {
                let at = if pass == 0 { 0 } else { labels[name] };
                code.extend([0x61, (at >> 8) as u8, at as u8]);
            } else if let Some(hex) = t.strip_prefix("0x") {
                let v = U256::from_str_radix(hex, 16).unwrap();
                let bytes = v.to_be_bytes_trimmed_vec();
                if bytes.is_empty() {
                    code.push(0x5f);
                } else {
                    code.push(0x5f + bytes.len() as u8);
                    code.extend(bytes);
                }
            } else {
                code.push(by_name(t).unwrap_or_else(|| panic!("no opcode {t}")).byte);
            }
        }
        if pass == 1 {
            return code;
        }
    }
    unreachable!()
}

/// Stores word 1 of the calldata at the slot word 0 names; with one word
/// of calldata, returns what that slot holds.
fn store() -> Vec<u8> {
    asm("CALLDATASIZE 0x20 EQ @read JUMPI \
         0x20 CALLDATALOAD 0x00 CALLDATALOAD SSTORE STOP \
         read: 0x00 CALLDATALOAD SLOAD 0x00 MSTORE 0x20 0x00 RETURN")
}

/// Stores as [`store`] does, then reverts.
fn store_then_revert() -> Vec<u8> {
    asm("0x20 CALLDATALOAD 0x00 CALLDATALOAD SSTORE 0x00 0x00 REVERT")
}

/// Calldata `s, v, key, value, flag`: calls `s` then `v` with
/// `(key, value)`, then reverts when `flag` is set.
fn relay() -> Vec<u8> {
    asm(
        "0x40 CALLDATALOAD 0x00 MSTORE 0x60 CALLDATALOAD 0x20 MSTORE \
         0x00 0x00 0x40 0x00 0x00 0x00 CALLDATALOAD GAS CALL POP \
         0x00 0x00 0x40 0x00 0x00 0x20 CALLDATALOAD GAS CALL POP \
         0x80 CALLDATALOAD @bail JUMPI STOP \
         bail: 0x00 0x00 REVERT",
    )
}

/// Calldata `salt, init code…`: CREATE2 of the init code, returning the
/// address (0 when the creation fails).
fn factory() -> Vec<u8> {
    asm("0x20 CALLDATASIZE SUB DUP1 0x20 0x00 CALLDATACOPY \
         0x00 CALLDATALOAD SWAP1 0x00 0x00 CREATE2 \
         0x00 MSTORE 0x20 0x00 RETURN")
}

/// Init code that deploys `runtime` (at most 255 bytes).
fn init(runtime: &[u8]) -> Vec<u8> {
    let n = runtime.len() as u8;
    let mut code = vec![0x60, n, 0x80, 0x60, 11, 0x5f, 0x39, 0x5f, 0xf3];
    // PUSH1 n DUP1 PUSH1 11 PUSH0 CODECOPY PUSH0 RETURN, padded to 11.
    code.extend([0x00, 0x00]);
    code.extend(runtime);
    code
}

/// SELFDESTRUCT to the address in the calldata's first word.
fn destruct() -> Vec<u8> {
    asm("0x00 CALLDATALOAD SELFDESTRUCT")
}

/// With calldata: TSTORE(0, 1). Either way returns TLOAD(0).
fn transient() -> Vec<u8> {
    asm("CALLDATASIZE ISZERO @read JUMPI 0x01 0x00 TSTORE \
         read: 0x00 TLOAD 0x00 MSTORE 0x20 0x00 RETURN")
}

fn addr(n: u8) -> Address {
    Address::with_last_byte(n)
}

const ALICE: u8 = 0xa1;
const STORE: u8 = 0x51;
const REVERTS: u8 = 0x52;
const RELAY: u8 = 0x53;
const FACTORY: u8 = 0x54;
const DESTRUCT: u8 = 0x55;
const TRANSIENT: u8 = 0x56;
const BENEFICIARY: u8 = 0xbe;

fn world() -> World {
    let mut w = World::default();
    let contract = |code: Vec<u8>| Account {
        code,
        nonce: 1,
        ..Default::default()
    };
    w.accounts.insert(
        addr(ALICE),
        Account {
            balance: U256::from(10u64).pow(U256::from(24)),
            ..Default::default()
        },
    );
    w.accounts.insert(addr(STORE), contract(store()));
    w.accounts
        .insert(addr(REVERTS), contract(store_then_revert()));
    w.accounts.insert(addr(RELAY), contract(relay()));
    w.accounts.insert(addr(FACTORY), contract(factory()));
    let mut d = contract(destruct());
    d.balance = U256::from(1000);
    d.storage.insert(U256::from(1), U256::from(1));
    w.accounts.insert(addr(DESTRUCT), d);
    w.accounts.insert(addr(TRANSIENT), contract(transient()));
    w
}

fn words(ws: &[U256]) -> Vec<u8> {
    ws.iter().flat_map(|w| w.to_be_bytes::<32>()).collect()
}

fn word_of(a: Address) -> U256 {
    U256::from_be_slice(a.as_slice())
}

fn call(to: u8, data: Vec<u8>) -> Call {
    Call {
        create: false,
        caller: addr(ALICE),
        origin: addr(ALICE),
        to: addr(to),
        value: U256::ZERO,
        data,
        gas_limit: 10_000_000,
        gas_price: U256::ZERO,
    }
}

fn engines() -> Vec<Box<dyn Engine>> {
    vec![Box::new(EvmEngine), Box::new(IrEngine::default())]
}

/// Runs `calls` in order in every engine, each carrying its own world, and
/// checks that every engine's outcome and world agree with revm's after
/// every call. Returns revm's outcomes and final world.
fn run(engines: &[Box<dyn Engine>], fork: Fork, calls: &[Call]) -> (Vec<Outcome>, World) {
    let mut worlds = vec![world(); engines.len()];
    let mut outcomes = vec![];
    for (i, c) in calls.iter().enumerate() {
        let mut row = vec![];
        for (e, w) in engines.iter().zip(&mut worlds) {
            let o = e
                .run(w, &BlockEnv::default(), c, fork)
                .unwrap_or_else(|err| panic!("call {}: {}: {err}", i + 1, e.name()));
            w.commit(c, &o);
            row.push(o);
        }
        for (j, o) in row.iter().enumerate().skip(1) {
            let name = engines[j].name();
            assert_eq!(row[0].difference(o), None, "call {}: evm vs {name}", i + 1);
            assert_eq!(
                worlds[0],
                worlds[j],
                "call {}: evm's world vs {name}'s",
                i + 1
            );
        }
        outcomes.push(row.swap_remove(0));
    }
    (outcomes, worlds.swap_remove(0))
}

fn returned(o: &Outcome) -> U256 {
    assert_eq!(o.status, Status::Success, "{o:?}");
    U256::from_be_slice(&o.return_data)
}

#[test]
fn storage_written_by_nested_calls_is_carried() {
    let (s, v) = (word_of(addr(STORE)), word_of(addr(0x99)));
    let (out, world) = run(
        &engines(),
        Fork::Osaka,
        &[
            call(
                RELAY,
                words(&[s, v, U256::from(1), U256::from(0x42), U256::ZERO]),
            ),
            // Read back by a later call, straight from the nested contract.
            call(STORE, words(&[U256::from(1)])),
        ],
    );
    assert_eq!(
        out[0].storage.get(&(addr(STORE), U256::from(1))),
        Some(&(U256::ZERO, U256::from(0x42)))
    );
    assert_eq!(returned(&out[1]), U256::from(0x42));
    assert_eq!(
        world.accounts[&addr(STORE)].storage.get(&U256::from(1)),
        Some(&U256::from(0x42))
    );
}

#[test]
fn nothing_of_a_reverted_frame_survives() {
    let (s, r) = (word_of(addr(STORE)), word_of(addr(REVERTS)));
    let (out, world) = run(
        &engines(),
        Fork::Osaka,
        &[
            // The first nested call's write stays, the second's is undone.
            call(
                RELAY,
                words(&[s, r, U256::from(2), U256::from(7), U256::ZERO]),
            ),
            // The whole call reverts: neither write stays.
            call(
                RELAY,
                words(&[s, r, U256::from(3), U256::from(9), U256::from(1)]),
            ),
            call(STORE, words(&[U256::from(2)])),
            call(STORE, words(&[U256::from(3)])),
        ],
    );
    assert_eq!(out[1].status, Status::Revert);
    assert_eq!(returned(&out[2]), U256::from(7));
    assert_eq!(returned(&out[3]), U256::ZERO);
    assert!(world.accounts[&addr(REVERTS)].storage.is_empty());
    assert_eq!(world.accounts[&addr(STORE)].storage.len(), 1);
}

#[test]
fn created_contracts_are_carried_and_a_salt_works_once() {
    let salt = U256::from(1);
    let mut data = words(&[salt]);
    data.extend(init(&store()));
    let (out, world) = run(&engines(), Fork::Osaka, &[call(FACTORY, data.clone())]);
    let child = Address::from_slice(&out[0].return_data[12..]);
    assert_ne!(child, Address::ZERO);
    assert_eq!(
        child,
        addr(FACTORY).create2(
            salt.to_be_bytes::<32>(),
            alloy_primitives::keccak256(&data[32..])
        )
    );
    assert_eq!(out[0].code.get(&child), Some(&store()));
    assert_eq!(world.accounts[&child].code, store());
    assert_eq!(world.accounts[&child].nonce, 1);
    assert_eq!(world.accounts[&addr(FACTORY)].nonce, 2);

    // The child runs in later calls; the same salt then fails.
    let to_child = |data: Vec<u8>| Call {
        to: child,
        ..call(FACTORY, data)
    };
    let again = call(FACTORY, data);
    let mut worlds = vec![];
    for e in engines() {
        let mut w = world.clone();
        let write = to_child(words(&[U256::from(5), U256::from(6)]));
        let o = e
            .run(&w, &BlockEnv::default(), &write, Fork::Osaka)
            .unwrap();
        w.commit(&write, &o);
        let read = to_child(words(&[U256::from(5)]));
        assert_eq!(
            returned(&e.run(&w, &BlockEnv::default(), &read, Fork::Osaka).unwrap()),
            U256::from(6),
            "{}: the created contract keeps its storage",
            e.name()
        );
        let o = e
            .run(&w, &BlockEnv::default(), &again, Fork::Osaka)
            .unwrap();
        assert_eq!(returned(&o), U256::ZERO, "{}: the salt is taken", e.name());
        w.commit(&again, &o);
        worlds.push(w);
    }
    assert_eq!(worlds[0], worlds[1]);
    // The failed creation still raised the factory's nonce.
    assert_eq!(worlds[0].accounts[&addr(FACTORY)].nonce, 3);
}

#[test]
fn a_contract_destroyed_in_its_creation_frees_its_salt() {
    // Since Cancun a contract that self-destructs in the transaction that
    // created it is removed, so the same salt creates it again.
    let salt = U256::from(9);
    let mut data = words(&[salt]);
    data.extend(asm("0xbe SELFDESTRUCT"));
    let c = call(FACTORY, data);
    let (out, world) = run(&engines(), Fork::Osaka, &[c.clone(), c]);
    let first = returned(&out[0]);
    assert_ne!(first, U256::ZERO);
    assert_eq!(returned(&out[1]), first);
    let child = Address::from_slice(&out[0].return_data[12..]);
    assert!(out[0].destroyed.contains(&child));
    assert!(!world.accounts.contains_key(&child));
}

#[test]
fn selfdestruct_follows_the_fork() {
    let c = call(DESTRUCT, words(&[word_of(addr(BENEFICIARY))]));
    // Cancun (EIP-6780): the contract stays, with its code and storage;
    // only its balance moves.
    let (_, world) = run(&engines(), Fork::Osaka, std::slice::from_ref(&c));
    let d = &world.accounts[&addr(DESTRUCT)];
    assert_eq!(d.code, destruct());
    assert_eq!(d.storage.len(), 1);
    assert_eq!(d.balance, U256::ZERO);
    assert_eq!(world.accounts[&addr(BENEFICIARY)].balance, U256::from(1000));
    // Before Cancun the account is removed.
    let (out, world) = run(&engines(), Fork::Shanghai, &[c]);
    assert!(out[0].destroyed.contains(&addr(DESTRUCT)));
    assert!(!world.accounts.contains_key(&addr(DESTRUCT)));
    assert_eq!(world.accounts[&addr(BENEFICIARY)].balance, U256::from(1000));
}

#[test]
fn transient_storage_ends_with_the_transaction() {
    let mut all = engines();
    all.push(Box::new(SbfEngine::new(false)));
    let (out, _) = run(
        &all,
        Fork::Osaka,
        &[call(TRANSIENT, vec![1]), call(TRANSIENT, vec![])],
    );
    assert_eq!(returned(&out[0]), U256::from(1));
    assert_eq!(returned(&out[1]), U256::ZERO);
}

#[test]
fn value_sent_back_to_the_caller_is_carried() {
    // The caller's own balance is part of the world: a contract that pays
    // the caller back leaves it richer in the next call, in every engine.
    let mut all = engines();
    all.push(Box::new(SbfEngine::new(false)));
    let refund = asm("0x00 0x00 0x00 0x00 SELFBALANCE CALLER GAS CALL STOP");
    let mut w = world();
    w.accounts.insert(
        addr(0x57),
        Account {
            code: refund,
            nonce: 1,
            balance: U256::from(5_000_000_000u64),
            ..Default::default()
        },
    );
    let before = w.accounts[&addr(ALICE)].balance;
    for e in &all {
        let c = call(0x57, vec![]);
        let o = e.run(&w, &BlockEnv::default(), &c, Fork::Osaka).unwrap();
        let mut after = w.clone();
        after.commit(&c, &o);
        assert_eq!(
            after.accounts[&addr(ALICE)].balance,
            before + U256::from(5_000_000_000u64),
            "{}",
            e.name()
        );
        assert_eq!(
            after.accounts[&addr(0x57)].balance,
            U256::ZERO,
            "{}",
            e.name()
        );
    }
}
