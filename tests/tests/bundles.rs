//! Systems of contracts on Solana: the `sbf` engines put every contract of
//! the world into one program (a bundle, `chainlift_backend_sbf::bundle`)
//! and run calls between them inside it. Each case compares with revm, or
//! expects the named target limit where the program cannot follow the EVM.
//! The ERC-4626 vault over the token (`examples/scenarios/erc4626.toml`)
//! runs as a bundle in `every_scenario_agrees_across_evm_ir_sbf_and_the_jit`
//! (`tests/tests/sbf.rs`) and in `chainlift diff`.

use alloy_primitives::{Address, U256};
use chainlift_emulator::evm::EvmEngine;
use chainlift_emulator::sbf::SbfEngine;
use chainlift_emulator::{Account, BlockEnv, Call, Engine, Outcome, Status, World};
use chainlift_frontend_evm::Fork;
use chainlift_tests::hex;

/// The caller's half: forwards its calldata after the first word to the
/// address in that word with `op` (CALL `f1`, CALLCODE `f2`, STATICCALL
/// `fa` or DELEGATECALL `f4`), stores the success flag at slot 0x10 and
/// RETURNDATASIZE at 0x11, and returns the 64 bytes of output.
fn caller(op: &str) -> Vec<u8> {
    let value = if matches!(op, "f1" | "f2") {
        "6000"
    } else {
        ""
    };
    hex(&format!(
        "6020 3603 6020 6000 37
         6040 610100 6020 3603 6000 {value} 600035 5a {op}
         601055 3d 601155
         6040 610100 f3"
    ))
}

/// The callee: by its first calldata word,
/// 1: stores CALLER at slot 0, returns ADDRESS;
/// 2: reverts with `0xdead`, changing nothing;
/// 3: stores 1 at slot 1, then reverts;
/// 4: calls back its caller with `[ADDRESS, 1]` (so the caller calls it
///    again with mode 1) and returns the first word it got.
fn callee() -> Vec<u8> {
    hex("600035
         80600114602057 80600214602e57 80600314603a57 80600414604557
         00
         5b 33600055 30600052 60206000f3
         5b 61dead600052 6002601efd
         5b 6001600155 60006000fd
         5b 30600052 6001602052 6020 6080 6040 6000 6000 33 5a f1 60206080f3")
}

const A: Address = Address::repeat_byte(0xaa);
const B: Address = Address::repeat_byte(0xbb);

/// A world of contracts: each address with its code.
fn contracts(codes: impl IntoIterator<Item = (Address, Vec<u8>)>) -> World {
    let mut w = World::default();
    for (at, code) in codes {
        w.accounts.insert(
            at,
            Account {
                code,
                ..Account::default()
            },
        );
    }
    w
}

/// `a` at A, the callee at B.
fn world(a: Vec<u8>) -> World {
    contracts([(A, a), (B, callee())])
}

fn call(mode: u8) -> Call {
    let mut data = B.into_word().to_vec();
    data.extend(U256::from(mode).to_be_bytes::<32>());
    Call {
        create: false,
        caller: Address::repeat_byte(0xca),
        origin: Address::repeat_byte(0xca),
        to: A,
        value: U256::ZERO,
        data,
        gas_limit: 10_000_000,
        gas_price: U256::ZERO,
    }
}

/// Runs `call` on revm and on both sbf engines; they must agree, or the
/// sbf engines must stop at the target limit whose text has `limit`.
fn agrees(name: &str, world: &World, call: &Call, limit: Option<&str>) -> Outcome {
    let block = BlockEnv::default();
    let oracle = EvmEngine.run(world, &block, call, Fork::Osaka).unwrap();
    for e in [SbfEngine::new(false), SbfEngine::new(true)] {
        let o = e.run(world, &block, call, Fork::Osaka).unwrap();
        match limit {
            Some(why) => match &o.status {
                Status::TargetLimit(reason) => assert!(reason.contains(why), "{name}: {reason}"),
                other => panic!("{name} on {}: {other:?}, not a target limit", e.name()),
            },
            None => assert_eq!(oracle.difference(&o), None, "{name} on {}", e.name()),
        }
    }
    oracle
}

fn slot(o: &Outcome, at: Address, k: u64) -> Option<U256> {
    o.storage.get(&(at, U256::from(k))).map(|(_, v)| *v)
}

#[test]
fn calls_between_a_bundles_contracts_run_as_on_revm() {
    let w = world(caller("f1"));
    // B stores its caller (A) and returns its own address.
    let o = agrees("a call", &w, &call(1), None);
    assert_eq!(slot(&o, B, 0), Some(U256::from_be_slice(A.as_slice())));
    assert_eq!(slot(&o, A, 0x10), Some(U256::from(1)));
    assert_eq!(slot(&o, A, 0x11), Some(U256::from(32)));
    // A revert that changed nothing is caught: 0, with its data.
    let o = agrees("a caught revert", &w, &call(2), None);
    assert_eq!(slot(&o, A, 0x11), Some(U256::from(2)));
    assert_eq!(slot(&o, A, 0x10), None, "the flag stays 0");
    // Reentrancy: B calls A back, which calls B again.
    let o = agrees("reentrancy", &w, &call(4), None);
    assert_eq!(slot(&o, B, 0), Some(U256::from_be_slice(A.as_slice())));
    // A revert after a change: the store is undone from the journal.
    let o = agrees("a revert after a change", &w, &call(3), None);
    assert_eq!(slot(&o, B, 1), None);
    assert_eq!(slot(&o, A, 0x10), None, "the flag stays 0");
}

/// What a failed call changed two frames down is undone: A calls M with
/// value; M forwards the value to L, which stores its caller (and, in the
/// second case, logs), then M stores and reverts. A keeps the value, only
/// its own flag changes and no record is left.
#[test]
fn a_failed_call_is_undone_with_the_calls_it_made() {
    const M: Address = Address::repeat_byte(0x3d);
    const L: Address = Address::repeat_byte(0x1f);
    // M: call(gas, calldata word 0, callvalue, no input, no output); then
    // sstore(2, 1) and revert.
    let middle = hex("6000600060006000 34 600035 5a f1 50 6001600255 60006000fd");
    // L: sstore(0, caller), sstore(1, callvalue).
    let leaf = hex("33600055 34600155 00");
    let leaf_logs = hex("33600055 34600155 60006000a0 00");
    // A: forwards calldata after the first word to that address with its
    // own value, then stores the success flag (0x10) and its balance (0x12).
    let top = hex("6020 3603 6020 6000 37
         6040 610100 6020 3603 6000 34 600035 5a f1
         601055 47601255 00");
    let payer = Address::repeat_byte(0xca);
    for (name, l, limit) in [
        ("undone two frames down", leaf, None),
        ("a log two frames down", leaf_logs, None),
    ] {
        let mut w = contracts([(A, top.clone()), (M, middle.clone()), (L, l)]);
        w.accounts.entry(payer).or_default().balance = U256::from(10u64).pow(U256::from(18));
        let mut c = call(0);
        c.data = [M.into_word().to_vec(), L.into_word().to_vec()].concat();
        c.value = U256::from(7_000_000_000u64);
        let o = agrees(name, &w, &c, limit);
        if limit.is_none() {
            assert_eq!(slot(&o, A, 0x10), None, "the call failed");
            assert_eq!(slot(&o, A, 0x12), Some(c.value), "A kept the value");
            assert!(o.storage.keys().all(|(at, _)| *at == A), "{:?}", o.storage);
        }
    }
}

/// A table that fills in a nested frame grows there too: L stores 180
/// new slots (its table, of the 128 entries the program creates, takes
/// 96; one extension takes 96 more), called with value by M, which then
/// returns or reverts. The signer pays the growth's rent; a failed call
/// undoes the slots and the value but leaves L's account grown and its
/// rent paid, so its balance is what it was.
#[test]
fn a_table_grows_inside_a_nested_call() {
    const M: Address = Address::repeat_byte(0x3d);
    const L: Address = Address::repeat_byte(0x1f);
    // sstore(i, i) for i in 1..=180.
    let leaf = hex("6100b4 6000 5b 600101 808055 8181 10 600557 00");
    // M: call(gas, calldata word 0, callvalue, no input, no output); then
    // (calldata word 1 set) revert.
    let middle = hex("6000600060006000 34 600035 5a f1 50 602035 6016 57 00 5b 60006000fd");
    let top = hex("6020 3603 6020 6000 37
         6040 610100 6020 3603 6000 34 600035 5a f1
         601055 47601255 00");
    let payer = Address::repeat_byte(0xca);
    for revert in [false, true] {
        let mut w = contracts([(A, top.clone()), (M, middle.clone()), (L, leaf.clone())]);
        w.accounts.entry(payer).or_default().balance = U256::from(10u64).pow(U256::from(18));
        w.accounts.get_mut(&L).unwrap().balance = U256::from(5_000_000_000u64);
        let mut c = call(0);
        c.data = [
            M.into_word().to_vec(),
            L.into_word().to_vec(),
            U256::from(u8::from(revert)).to_be_bytes::<32>().to_vec(),
        ]
        .concat();
        c.value = U256::from(7_000_000_000u64);
        let o = agrees(&format!("growth, revert {revert}"), &w, &c, None);
        let kept = o.storage.keys().filter(|(at, _)| *at == L).count();
        assert_eq!(kept, if revert { 0 } else { 180 });
    }
}

/// A nested call that paid an account the program does not own cannot
/// grow a table afterwards: the rent's transfer makes the runtime see the
/// payment, which a revert would then take back from an account the
/// program does not own (Agave refuses that). It ends at the named limit
/// instead; the emulator checks Agave's rule too.
#[test]
fn a_nested_call_that_paid_an_account_cannot_grow_a_table() {
    const M: Address = Address::repeat_byte(0x3d);
    let heir = Address::repeat_byte(0xee);
    let to = alloy_primitives::hex::encode(heir);
    // M: call(gas, heir, 1 gwei), then sstore(i, i) for i in 1..=280.
    let middle = hex(&format!(
        "6000600060006000 633b9aca00 73{to} 5a f1 50
         610118 6000 5b 600101 808055 8181 10 602a57 00"
    ));
    let mut w = contracts([(A, caller("f1")), (M, middle)]);
    w.accounts
        .entry(Address::repeat_byte(0xca))
        .or_default()
        .balance = U256::from(10u64).pow(U256::from(18));
    w.accounts.get_mut(&M).unwrap().balance = U256::from(5_000_000_000u64);
    w.accounts.entry(heir).or_default().balance = U256::from(10u64).pow(U256::from(16));
    let mut c = call(0);
    c.data = M.into_word().to_vec();
    agrees("pay, then grow", &w, &c, Some("storage table full"));
}

/// The outermost contract's table grows (its state account is the
/// instruction's first, whose data length changes), then it calls B: the
/// program still finds B's account after it (Agave placed the accounts by
/// their lengths at the start).
#[test]
fn accounts_are_found_after_a_table_grew() {
    // sstore(i, i) for i in 1..=180, then as `caller("f1")`.
    let mut top = hex("6100b4 6000 5b 600101 808055 8181 10 600557 50 50");
    top.extend(caller("f1"));
    let mut w = world(top);
    w.accounts
        .entry(Address::repeat_byte(0xca))
        .or_default()
        .balance = U256::from(10u64).pow(U256::from(18));
    let o = agrees("a call after a growth", &w, &call(1), None);
    assert_eq!(slot(&o, B, 0), Some(U256::from_be_slice(A.as_slice())));
    assert_eq!(slot(&o, A, 180), Some(U256::from(180)));
}

#[test]
fn static_and_delegate_calls_inside_a_bundle_run_as_on_revm() {
    // A store in a static call is an exceptional halt: 0, no data.
    let o = agrees(
        "a static call that stores",
        &world(caller("fa")),
        &call(1),
        None,
    );
    assert_eq!(slot(&o, A, 0x10), None);
    // B's code with A's storage, address and caller.
    let o = agrees("a delegate call", &world(caller("f4")), &call(1), None);
    assert_eq!(slot(&o, A, 0), Some(U256::from_be_slice(&[0xca; 20])));
    assert_eq!(slot(&o, B, 0), None);
}

#[test]
fn callcode_runs_the_callees_code_as_the_caller_as_on_revm() {
    // B's code with A's storage and address, A itself as the caller.
    let o = agrees("a callcode", &world(caller("f2")), &call(1), None);
    assert_eq!(slot(&o, A, 0), Some(U256::from_be_slice(A.as_slice())));
    assert_eq!(slot(&o, A, 0x10), Some(U256::from(1)));
    assert_eq!(slot(&o, B, 0), None);
    // A store in A's storage, then a revert: undone.
    let o = agrees(
        "a callcode that reverts",
        &world(caller("f2")),
        &call(3),
        None,
    );
    assert_eq!(slot(&o, A, 1), None);
    assert_eq!(slot(&o, A, 0x10), None, "the flag stays 0");
    // With value (calldata word 1) to B, or to an account without code
    // (outside a bundle): the value stays with A and the code sees it as
    // CALLVALUE; more than A's balance fails the call before anything
    // runs. B stores CALLVALUE (5) and SELFBALANCE (6); A stores the
    // success flag (0x10) and its balance (0x12).
    let top = hex("6000 6000 6000 6000 602035 600035 5a f2 601055 47601255 00");
    let leaf = hex("34600555 47600655 00");
    let gwei = |n: u64| U256::from(n) * U256::from(1_000_000_000u64);
    const NOBODY: Address = Address::repeat_byte(0x0e);
    for (to, value, limit) in [
        (B, gwei(3), None),
        (B, gwei(20), None),
        (NOBODY, gwei(3), None),
        (NOBODY, gwei(20), None),
        (B, U256::from(5), Some("not whole lamports")),
    ] {
        let mut w = contracts([(A, top.clone()), (B, leaf.clone())]);
        if to == NOBODY {
            w.accounts.remove(&B);
            w.accounts.insert(NOBODY, Account::default());
        }
        w.accounts.get_mut(&A).unwrap().balance = gwei(10);
        let mut c = call(0);
        c.data = [to.into_word().to_vec(), value.to_be_bytes::<32>().to_vec()].concat();
        let name = format!("callcode of {value} wei to {to}");
        let o = agrees(&name, &w, &c, limit);
        if limit.is_none() {
            let ran = value <= gwei(10);
            assert_eq!(slot(&o, A, 0x10).is_some(), ran, "{name}");
            assert_eq!(slot(&o, A, 0x12), Some(gwei(10)), "{name}");
            let seen = (to == B && ran).then_some(value);
            assert_eq!(slot(&o, A, 5), seen, "{name}");
        }
    }
}

#[test]
fn calls_nested_deeper_than_the_bundles_frames_end_at_a_named_limit() {
    // A calls itself, forever: revm stops when gas runs out; the bundle
    // at its last frame.
    let w = world(caller("f1"));
    let mut c = call(0);
    c.data = A.into_word().repeat(12);
    let sbf = SbfEngine::new(false);
    let o = sbf.run(&w, &BlockEnv::default(), &c, Fork::Osaka).unwrap();
    assert!(
        matches!(&o.status, Status::TargetLimit(r) if r.contains("nested deeper")),
        "{:?}",
        o.status
    );
}

/// SELFDESTRUCT in a bundle's nested frame (Cancun: the contract stays,
/// its balance moves) to another contract of the bundle and to an account
/// without code; a nested call that overwrites one word 400 times; and
/// nested calls that overwrite more words than the journal holds, or log
/// more than the log buffer holds, end at the named limits.
#[test]
fn selfdestruct_and_full_buffers_inside_a_bundle() {
    const M: Address = Address::repeat_byte(0x3d);
    const L: Address = Address::repeat_byte(0x1f);
    let top = hex("6020 3603 6020 6000 37
         6040 610100 6020 3603 6000 34 600035 5a f1
         601055 00");
    let payer = Address::repeat_byte(0xca);
    let heir = Address::repeat_byte(0xee);
    for (name, to) in [("to a contract", L), ("to an account", heir)] {
        let mut w = contracts([(A, top.clone()), (M, hex("600035 ff")), (L, hex("00"))]);
        w.accounts.entry(payer).or_default().balance = U256::from(10u64).pow(U256::from(18));
        w.accounts.get_mut(&M).unwrap().balance = U256::from(3_000_000_000u64);
        // Rent-exempt, so a few lamports more keep it so.
        w.accounts.entry(heir).or_default().balance = U256::from(10u64).pow(U256::from(16));
        let mut c = call(0);
        c.data = [M.into_word().to_vec(), to.into_word().to_vec()].concat();
        c.value = U256::from(7_000_000_000u64);
        let o = agrees(name, &w, &c, None);
        assert_eq!(slot(&o, A, 0x10), Some(U256::from(1)), "{name}");
    }
    // sstore(0, i) for i in 1..=400 in the callee's frame, which then
    // returns or reverts: the journal holds the slot once.
    for end in ["00", "60006000fd"] {
        let w = contracts([
            (A, caller("f1")),
            (
                B,
                hex(&format!("6000 5b 600101 80600055 80610190 11 600257 {end}")),
            ),
        ]);
        let o = agrees("a word overwritten 400 times", &w, &call(0), None);
        let kept = (end == "00").then_some(U256::from(400));
        assert_eq!(slot(&o, B, 0), kept);
    }
    // sstore(i % 9, i) for i in 1..=400: nine words in turn, more than
    // the journal looks back over, so each store is an entry.
    let w = contracts([
        (A, caller("f1")),
        (
            B,
            hex("6000 5b 600101 80 6009 81 06 55 80610190 11 600257 00"),
        ),
    ]);
    agrees("a full journal", &w, &call(0), Some("journal is full"));
    // log0 of 17,000 bytes in the callee's frame.
    let w = contracts([(A, caller("f1")), (B, hex("614268 6000 a0 00"))]);
    agrees(
        "a full log buffer",
        &w,
        &call(0),
        Some("log buffer is full"),
    );
}

/// Transient storage is per contract across frames: A and B use the same
/// key, B's write neither shows in A's nor survives B's revert.
#[test]
fn transient_storage_inside_a_bundle_is_per_contract() {
    let b = alloy_primitives::hex::encode(B);
    // A: tstore(1, 5); call B; sstore(0x12, tload(1)).
    let top = hex(&format!(
        "6005 6001 5d 6000 6000 6000 6000 6000 73{b} 5a f1 50 6001 5c 6012 55 00"
    ));
    for (name, callee) in [
        // B: tstore(1, 7); sstore(0, tload(1)).
        ("a nested tstore", "6007 6001 5d 6001 5c 6000 55 00"),
        // B: tstore(1, 9); revert.
        ("a nested tstore reverted", "6009 6001 5d 6000 6000 fd"),
    ] {
        let w = contracts([(A, top.clone()), (B, hex(callee))]);
        let mut c = call(0);
        c.data = vec![];
        let o = agrees(name, &w, &c, None);
        assert_eq!(slot(&o, A, 0x12), Some(U256::from(5)), "{name}");
    }
}

/// BALANCE inside a bundle: of the calling contract (a state account:
/// its lamports above rent), of the outermost caller and of itself.
#[test]
fn balances_read_inside_a_bundle_as_on_revm() {
    // B: sstore(0, balance(caller)); sstore(1, balance(origin));
    // sstore(2, balance(address)).
    let callee = hex("33 31 6000 55 32 31 6001 55 30 31 6002 55 00");
    let mut w = contracts([(A, caller("f1")), (B, callee)]);
    w.accounts.get_mut(&A).unwrap().balance = U256::from(2_000_000_000u64);
    w.accounts.get_mut(&B).unwrap().balance = U256::from(5_000_000_000u64);
    w.accounts
        .entry(Address::repeat_byte(0xca))
        .or_default()
        .balance = U256::from(10u64).pow(U256::from(18));
    let o = agrees("balances", &w, &call(0), None);
    assert_eq!(slot(&o, B, 0), Some(U256::from(2_000_000_000u64)));
    assert_eq!(slot(&o, B, 2), Some(U256::from(5_000_000_000u64)));
}

/// Entries a failed call inserted into a table are taken out again: A
/// calls B `n` times with keys 0..n, and B stores (or transiently
/// stores) under the key and reverts, more new keys than either table
/// has room for.
#[test]
fn entries_a_failed_call_inserted_are_taken_out() {
    let b = alloy_primitives::hex::encode(B);
    for (name, op, n) in [("storage", "55", 270u16), ("transient", "5d", 40)] {
        // A: for i in 0..n { mstore(0, i); call(B, input mem[0..32]) }.
        let top = hex(&format!(
            "6000 5b 80600052 6000 6000 6020 6000 6000 73{b} 5a f1 50
             600101 80 61{n:04x} 11 600257 00"
        ));
        // B: store 1 under calldataload(0), then revert.
        let callee = hex(&format!("6001 600035 {op} 6000 6000 fd"));
        let w = contracts([(A, top), (B, callee)]);
        let mut c = call(0);
        c.data = vec![];
        agrees(name, &w, &c, None);
    }
}

/// An EIP-1167 minimal proxy (a clone) over the example ERC-20: the clone
/// holds the token's state and delegates every call to the token's code,
/// in one bundle. Transfers, reads and a failing transfer (its custom
/// error bubbling through the proxy) agree with revm.
#[test]
fn a_minimal_proxy_over_the_token_runs_as_on_revm() {
    let plan = chainlift_cli::scenario::load(
        std::path::Path::new(&chainlift_tests::path("examples/scenarios/token.toml")),
        BlockEnv::default(),
        Fork::Osaka,
        30_000_000,
        None,
    )
    .unwrap();
    let token = plan.contracts[0].address;
    let mut w = plan.world.clone();
    let proxy = Address::repeat_byte(0x1c);
    let clone = hex(&format!(
        "363d3d373d3d3d363d73{}5af43d82803e903d91602b57fd5bf3",
        alloy_primitives::hex::encode(token)
    ));
    // The clone holds what the token's constructor left.
    let state = w.accounts[&token].storage.clone();
    w.accounts.insert(
        proxy,
        Account {
            code: clone,
            storage: state,
            ..Account::default()
        },
    );
    let alice: Address = "0x00000000000000000000000000000000000a11ce"
        .parse()
        .unwrap();
    let bob = Address::repeat_byte(0xb0);
    let word = |a: Address| a.into_word().to_vec();
    let calls = [
        // transfer(bob, 250) from alice, balanceOf(alice), and a transfer
        // of 1000 bob cannot cover.
        (
            alice,
            [
                hex("a9059cbb"),
                word(bob),
                U256::from(250u64).to_be_bytes::<32>().to_vec(),
            ]
            .concat(),
        ),
        (alice, [hex("70a08231"), word(alice)].concat()),
        (
            bob,
            [
                hex("a9059cbb"),
                word(alice),
                U256::from(1000u64).to_be_bytes::<32>().to_vec(),
            ]
            .concat(),
        ),
    ];
    for (i, (from, data)) in calls.into_iter().enumerate() {
        let c = Call {
            create: false,
            caller: from,
            origin: from,
            to: proxy,
            value: U256::ZERO,
            data,
            gas_limit: 10_000_000,
            gas_price: U256::ZERO,
        };
        let o = agrees(&format!("call {i} through the clone"), &w, &c, None);
        assert!(
            o.storage.keys().all(|(a, _)| *a == proxy),
            "the clone's storage changes, not the token's"
        );
        if i == 2 {
            assert_eq!(o.status, Status::Revert);
        }
        w.commit(&c, &o);
    }
}

/// A frame an earlier call used starts with zeroed memory for the next:
/// the first call leaves a word in the callee's memory, the second reads
/// it back as fresh memory, 0 on revm.
#[test]
fn each_call_starts_with_fresh_memory() {
    let c = Address::repeat_byte(0xcc);
    // 6: mstore(0x200, 0xff); anything else: return mload(0x200).
    let callee = hex("600035 600614 601557 61020051 600052 60206000f3 5b 60ff61020052 00");
    let to = alloy_primitives::hex::encode(c);
    // call c with 6, then with 5, and return what the second returned.
    let caller = hex(&format!(
        "6006600052 600060006020600060007 3{to} 5af150
         6005600052 60206040602060006000 73{to} 5af150
         60206040f3"
    ));
    let w = contracts([(A, caller), (c, callee)]);
    let mut call = call(0);
    call.data = vec![];
    let o = agrees("fresh memory", &w, &call, None);
    assert_eq!(o.return_data, vec![0u8; 32]);
}

/// EXTCODECOPY of another contract of the bundle, of the contract itself
/// and of an account without code, with a range past the code's end.
#[test]
fn code_copies_of_the_bundles_contracts_read_as_on_revm() {
    let b = alloy_primitives::hex::encode(B);
    let code = hex(&format!(
        "6040 6010 6000 73{b}3c
         6020 6000 6040 303c
         6020 6000 6060 73{}3c
         60006000600060007 3{b}5afa50
         60806000f3",
        "ee".repeat(20)
    ));
    let mut c = call(0);
    c.data = vec![];
    let o = agrees("extcodecopy", &world(code.clone()), &c, None);
    assert_eq!(&o.return_data[..0x40], &callee()[0x10..0x50]);
    assert_eq!(&o.return_data[0x40..0x60], &code[..0x20]);
}

/// EXTCODESIZE of another contract of the bundle and of the contract
/// itself: their code sizes, from the program's table.
#[test]
fn code_sizes_of_the_bundles_contracts_read_as_on_revm() {
    let b = alloy_primitives::hex::encode(B);
    let code = hex(&format!(
        "73{b}3b600052 303b602052 60006000600060007 3{b}5afa50 60406000f3"
    ));
    let mut c = call(0);
    c.data = vec![];
    let o = agrees("extcodesize", &world(code.clone()), &c, None);
    assert_eq!(
        U256::from_be_slice(&o.return_data[..32]),
        U256::from(callee().len())
    );
    assert_eq!(
        U256::from_be_slice(&o.return_data[32..]),
        U256::from(code.len())
    );
}

/// The same, one frame deeper: the outermost contract calls a middle one
/// that calls a leaf, twice; the leaf's second run must not see what its
/// first left (the middle frame's clearing must not make the leaf's look
/// fresh).
#[test]
fn frames_deeper_than_the_one_reused_are_cleared_too() {
    let (m, l) = (Address::repeat_byte(0x3a), Address::repeat_byte(0x3b));
    let leaf = hex("600035 600614 601557 61020051 600052 60206000f3 5b 60ff61020052 00");
    let (m_hex, l_hex) = (
        alloy_primitives::hex::encode(m),
        alloy_primitives::hex::encode(l),
    );
    // Forwards its calldata to the leaf and returns the leaf's word.
    let middle = hex(&format!(
        "36600060003 7 6020610100 36 6000 6000 73{l_hex} 5af150 6020610100f3"
    ));
    let top = hex(&format!(
        "6006600052 6000 6000 6020 6000 6000 73{m_hex} 5af150
         6005600052 6020 6040 6020 6000 6000 73{m_hex} 5af150
         60206040f3"
    ));
    let w = contracts([(A, top), (m, middle), (l, leaf)]);
    let mut c = call(0);
    c.data = vec![];
    let o = agrees("fresh memory two deep", &w, &c, None);
    assert_eq!(o.return_data, vec![0u8; 32]);
}
