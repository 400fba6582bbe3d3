//! `create2` and `create` inside a bundle, in the sbf engines against revm: the
//! constructor runs in the next frame (its storage writes stay, its
//! revert and halt give 0 with the EVM's return data), a second creation
//! at an address collides, an address whose creation failed takes the next
//! one, the created contract runs its template with its immutable read
//! from storage, and init code the bundle does not hold ends with a named
//! target limit.

use alloy_primitives::{Address, U256, keccak256};
use chainlift_backend_sbf::exit;
use chainlift_emulator::evm::EvmEngine;
use chainlift_emulator::sbf::SbfEngine;
use chainlift_emulator::{Account, BlockEnv, Call, Engine, Status, World};
use chainlift_frontend_evm::Fork;
use chainlift_tests::hex;

const FACTORY: Address = Address::repeat_byte(0xfa);
const OTHER: Address = Address::repeat_byte(0x0e);
const CALLER: Address = Address::repeat_byte(0xca);
const FORK: Fork = Fork::Prague;

/// The factory: copies its embedded init code to memory, appends
/// `calldata[0]` (the constructor's mode) as its argument, `create2`s it
/// with salt `calldata[32]`, stores the address in slot 0 and the return
/// data's size in slot 1, and returns the address.
///
/// The init code reads its argument from the end of its code: mode 1
/// reverts with `0xdeadbeef` before timestamp 1,800,000,000, mode 2 halts
/// (INVALID), mode 3 first stores its own `extcodesize` (0 while it
/// runs) in slot 6; otherwise it stores the mode in slot 5 and returns the
/// runtime code `PUSH32 mode; return it`, the mode written into the
/// `PUSH32` immediate (an immutable).
fn factory() -> Vec<u8> {
    hex(
        "60826100215f39 5f3560825260203560a25f5ff5 805f55 3d600155 5f5260205ff3
         6020602038035f39 5f51
         80600114610037 57 8060021461004f 57 80600314610051 57
         5b 80600555 602761005b60203960215260276020f3
         5b 42636b49d200 10 61002257 63deadbeef5f526004601cfd
         5bfe
         5b 303b600655 61002256
         7f0000000000000000000000000000000000000000000000000000000000000000 5f5260205ff3",
    )
}

/// The factory with `create` in place of `create2`: the same init code,
/// no salt.
fn create_factory() -> Vec<u8> {
    let mut code = hex("608261001e5f39 5f35608252 60a25f5ff0 805f55 3d600155 5f5260205ff3");
    code.extend_from_slice(&factory()[0x21..]);
    code
}

/// The `create` factory sending `calldata[32]` wei with the creation.
fn paying_factory() -> Vec<u8> {
    let mut code = hex("60826100205f39 5f35608252 60a25f602035f0 805f55 3d600155 5f5260205ff3");
    code.extend_from_slice(&factory()[0x21..]);
    code
}

/// Two `create`s in one call (slots 0 and 1), then a call into `OTHER`
/// (its success in slot 2): each later account search walks past the
/// state accounts just created.
fn twice_factory() -> Vec<u8> {
    let mut code = hex("608261003b5f39 5f35608252 60a25f5ff0 5f55 60a25f5ff0 600155
         5f5f5f5f5f 730e0e0e0e0e0e0e0e0e0e0e0e0e0e0e0e0e0e0e0e 5af1 600255 00");
    code.extend_from_slice(&factory()[0x21..]);
    code
}

/// A proxy: `delegatecall`s `to` and returns the first word it returned.
fn proxy(to: Address) -> Vec<u8> {
    let mut code = hex("5f5f5f5f 73");
    code.extend_from_slice(to.as_slice());
    code.extend_from_slice(&hex("5af4 50 60205f5f3e 60205ff3"));
    code
}

/// `create2`s its calldata as init code (salt 0) and stores the address in
/// slot 0.
fn any_init_code() -> Vec<u8> {
    hex("365f5f37 5f365f5ff5 5f5500")
}

fn world(code: Vec<u8>) -> World {
    let mut w = World::default();
    for (at, code) in [(FACTORY, code), (OTHER, hex("00"))] {
        w.accounts.insert(
            at,
            Account {
                code,
                nonce: 1,
                ..Account::default()
            },
        );
    }
    w.accounts.insert(
        CALLER,
        Account {
            balance: U256::from(10u64).pow(U256::from(21)),
            ..Account::default()
        },
    );
    w
}

fn call(to: Address, data: Vec<u8>) -> Call {
    Call {
        caller: CALLER,
        origin: CALLER,
        to,
        value: U256::ZERO,
        data,
        gas_limit: 10_000_000,
        gas_price: U256::ZERO,
        create: false,
    }
}

fn create(mode: u64, salt: u64) -> Call {
    let mut data = U256::from(mode).to_be_bytes::<32>().to_vec();
    data.extend_from_slice(&U256::from(salt).to_be_bytes::<32>());
    call(FACTORY, data)
}

/// The address `create2` gives the factory for `mode` and `salt`.
fn predicted(mode: u64, salt: u64) -> Address {
    let code = factory();
    let mut init = code[0x21..0x21 + 130].to_vec();
    init.extend_from_slice(&U256::from(mode).to_be_bytes::<32>());
    FACTORY.create2(U256::from(salt).to_be_bytes::<32>(), keccak256(&init))
}

/// Runs `c` on revm and in both sbf engines from `w`: the outcomes must
/// not differ; then carries revm's into `w`.
fn agree(w: &mut World, c: &Call, what: &str) -> chainlift_emulator::Outcome {
    agree_in(w, &BlockEnv::default(), c, what)
}

fn agree_in(w: &mut World, block: &BlockEnv, c: &Call, what: &str) -> chainlift_emulator::Outcome {
    let expected = EvmEngine.run(w, block, c, FORK).unwrap();
    for engine in [SbfEngine::new(false), SbfEngine::new(true)] {
        let out = engine.run(w, block, c, FORK).unwrap();
        assert_eq!(
            expected.difference(&out),
            None,
            "{what} in {}: revm {expected:?}\n{} {out:?}",
            engine.name(),
            engine.name()
        );
    }
    w.commit(c, &expected);
    expected
}

#[test]
fn create2_in_a_bundle_runs_the_constructor_as_revm_does() {
    let mut w = world(factory());
    // Created: the address the EVM formula gives, the constructor's
    // storage, the code with its immutable, the nonces.
    let out = agree(&mut w, &create(7, 1), "a creation");
    let child = predicted(7, 1);
    assert_eq!(out.status, Status::Success);
    assert_eq!(out.return_data[12..], child.0[..]);
    assert_eq!(
        out.storage.get(&(child, U256::from(5))),
        Some(&(U256::ZERO, U256::from(7)))
    );
    assert_eq!(out.code[&child].len(), 39);
    assert_eq!(out.nonces.get(&FACTORY), Some(&(1, 2)));
    // The child runs its template, the immutable read from its slot.
    let out = agree(&mut w, &call(child, vec![]), "the child");
    assert_eq!(U256::from_be_slice(&out.return_data), U256::from(7));
    // A constructor sees no code at its own address.
    let out = agree(&mut w, &create(3, 4), "extcodesize in a constructor");
    let measured = predicted(3, 4);
    assert_eq!(out.return_data[12..], measured.0[..]);
    assert_eq!(
        out.storage.get(&(measured, U256::from(6))),
        None,
        "extcodesize 0 stores nothing"
    );
    // Again at that address: a collision gives 0 (the nonce still goes up).
    let out = agree(&mut w, &create(7, 1), "a collision");
    assert_eq!(U256::from_be_slice(&out.return_data), U256::ZERO);
    // A constructor that reverts: 0, its revert data as return data
    // (slot 1 holds its size, 4); its storage write is gone.
    let out = agree(&mut w, &create(1, 2), "a reverting constructor");
    assert_eq!(U256::from_be_slice(&out.return_data), U256::ZERO);
    assert_eq!(
        out.storage.get(&(FACTORY, U256::from(1))),
        Some(&(U256::ZERO, U256::from(4)))
    );
    // One that halts: 0 and no return data.
    let out = agree(&mut w, &create(2, 3), "a halting constructor");
    assert_eq!(U256::from_be_slice(&out.return_data), U256::ZERO);
    // Where a creation failed, a later one succeeds (on Solana the account
    // stays, vacant, and is taken again).
    let later = BlockEnv {
        timestamp: U256::from(1_900_000_000u64),
        ..BlockEnv::default()
    };
    let out = agree_in(&mut w, &later, &create(1, 2), "the same creation later");
    assert_eq!(out.return_data[12..], predicted(1, 2).0[..]);
    let out = agree(&mut w, &call(predicted(1, 2), vec![]), "that child");
    assert_eq!(U256::from_be_slice(&out.return_data), U256::from(1));
}

/// Init code the bundle does not hold (it arrives in calldata) ends with
/// the named target limit in the sbf engines; revm creates the contract.
#[test]
fn create2_of_init_code_the_bundle_does_not_hold_is_a_target_limit() {
    let w = world(any_init_code());
    // Init code returning one zero byte of code.
    let c = call(FACTORY, hex("600160 00f3"));
    let block = BlockEnv::default();
    let revm = EvmEngine.run(&w, &block, &c, FORK).unwrap();
    assert_eq!(revm.status, Status::Success);
    assert_eq!(revm.code.len(), 1);
    let out = SbfEngine::new(false).run(&w, &block, &c, FORK).unwrap();
    assert_eq!(
        out.status,
        Status::TargetLimit(exit::describe(exit::CREATE_UNKNOWN)),
        "{out:?}"
    );
}

/// `create` takes its address from the creator's nonce (RLP-encoded: one
/// byte below 0x80, then a length byte and the big-endian bytes), which
/// goes up with each creation, failed or not.
#[test]
fn create_in_a_bundle_takes_the_address_from_the_nonce() {
    for start in [1u64, 0x7f, 0x1_0000_0000] {
        let mut w = world(create_factory());
        w.accounts.get_mut(&FACTORY).unwrap().nonce = start;
        let mode = |m: u64| call(FACTORY, U256::from(m).to_be_bytes::<32>().to_vec());
        let out = agree(&mut w, &mode(7), "a creation");
        assert_eq!(
            out.return_data[12..],
            FACTORY.create(start).0[..],
            "nonce {start}"
        );
        let out = agree(&mut w, &mode(1), "a reverting constructor");
        assert_eq!(U256::from_be_slice(&out.return_data), U256::ZERO);
        let out = agree(&mut w, &mode(8), "a creation after it");
        assert_eq!(
            out.return_data[12..],
            FACTORY.create(start + 2).0[..],
            "nonce {start}"
        );
        let out = agree(
            &mut w,
            &call(FACTORY.create(start + 2), vec![]),
            "the child",
        );
        assert_eq!(U256::from_be_slice(&out.return_data), U256::from(8));
    }
}

/// Value moves from the creator to the new contract (and back when the
/// constructor reverts); a creator whose balance is short gets 0 and keeps
/// its nonce.
#[test]
fn create_moves_its_value_as_revm_does() {
    let gwei = |n: u64| U256::from(n) * U256::from(1_000_000_000u64);
    let mut w = world(paying_factory());
    w.accounts.get_mut(&FACTORY).unwrap().balance = gwei(1_000);
    let pay = |mode: u64, wei: U256| {
        let mut data = U256::from(mode).to_be_bytes::<32>().to_vec();
        data.extend_from_slice(&wei.to_be_bytes::<32>());
        call(FACTORY, data)
    };
    // Ether sent to the first child's address before: on Solana it stays
    // with the account standing for the address, so the sbf engines
    // decline the creation rather than give the contract another balance.
    let mut funded = w.clone();
    funded.accounts.insert(
        FACTORY.create(1),
        Account {
            balance: gwei(5),
            ..Account::default()
        },
    );
    let declined =
        SbfEngine::new(false).run(&funded, &BlockEnv::default(), &pay(7, gwei(300)), FORK);
    assert!(
        matches!(&declined, Err(chainlift_emulator::EngineError::Unsupported { reason, .. }) if reason.contains("holds ether")),
        "{declined:?}"
    );
    let out = agree(&mut w, &pay(7, gwei(300)), "a creation with value");
    assert_eq!(out.return_data[12..], FACTORY.create(1).0[..]);
    assert_eq!(w.accounts[&FACTORY.create(1)].balance, gwei(300));
    assert_eq!(w.accounts[&FACTORY].balance, gwei(700));
    let out = agree(
        &mut w,
        &pay(1, gwei(200)),
        "a reverting constructor with value",
    );
    assert_eq!(U256::from_be_slice(&out.return_data), U256::ZERO);
    assert_eq!(w.accounts[&FACTORY].balance, gwei(700));
    let out = agree(&mut w, &pay(7, gwei(701)), "more than the balance");
    assert_eq!(U256::from_be_slice(&out.return_data), U256::ZERO);
    let nonce = w.accounts[&FACTORY].nonce;
    let out = agree(&mut w, &pay(7, gwei(700)), "all of it");
    assert_eq!(out.return_data[12..], FACTORY.create(nonce).0[..]);
    assert_eq!(w.accounts[&FACTORY].balance, U256::ZERO);
}

/// Accounts found after state accounts the call created (Agave places the
/// next account after the length an account had when the instruction
/// began), and a template's immutable read through a `delegatecall` (from
/// the code's own account, not the proxy's storage).
#[test]
fn accounts_after_created_ones_and_immutables_through_a_proxy() {
    let mut w = world(twice_factory());
    let out = agree(
        &mut w,
        &call(FACTORY, U256::from(7).to_be_bytes::<32>().to_vec()),
        "two creations",
    );
    assert_eq!(out.status, Status::Success);
    assert_eq!(
        out.storage.get(&(FACTORY, U256::from(2))),
        Some(&(U256::ZERO, U256::from(1))),
        "the call after them succeeded"
    );
    let child = FACTORY.create(2);
    assert!(w.accounts[&child].code.len() == 39);
    const PROXY: Address = Address::repeat_byte(0x9e);
    w.accounts.insert(
        PROXY,
        Account {
            code: proxy(child),
            nonce: 1,
            ..Account::default()
        },
    );
    let out = agree(
        &mut w,
        &call(PROXY, vec![]),
        "a delegatecall into the child",
    );
    assert_eq!(U256::from_be_slice(&out.return_data), U256::from(7));
    // Its code's size is the EVM's; a copy of its code (whose immutable the
    // program keeps in storage) ends with a named target limit.
    // (Each reader first calls OTHER, so that it runs in a bundle.)
    const READER: Address = Address::repeat_byte(0x4e);
    let call_other = hex("5f5f5f5f 730e0e0e0e0e0e0e0e0e0e0e0e0e0e0e0e0e0e0e0e 5afa 50");
    let mut size = call_other.clone();
    size.extend_from_slice(&hex("73"));
    size.extend_from_slice(child.as_slice());
    size.extend_from_slice(&hex("3b 5f52 60205ff3"));
    w.accounts.insert(
        READER,
        Account {
            code: size,
            nonce: 1,
            ..Account::default()
        },
    );
    let out = agree(&mut w, &call(READER, vec![]), "extcodesize of the child");
    assert_eq!(U256::from_be_slice(&out.return_data), U256::from(39));
    // EXTCODECOPY(child, 0, 0, 39); RETURN(0, 39)
    let mut copy = call_other;
    copy.extend_from_slice(&hex("6027 5f 5f 73"));
    copy.extend_from_slice(child.as_slice());
    copy.extend_from_slice(&hex("3c 60275ff3"));
    w.accounts.get_mut(&READER).unwrap().code = copy;
    let c = call(READER, vec![]);
    let revm = EvmEngine.run(&w, &BlockEnv::default(), &c, FORK).unwrap();
    assert_eq!(revm.return_data, w.accounts[&child].code);
    let out = SbfEngine::new(false)
        .run(&w, &BlockEnv::default(), &c, FORK)
        .unwrap();
    assert_eq!(
        out.status,
        Status::TargetLimit(exit::describe(exit::TEMPLATE_CODE)),
        "{out:?}"
    );
}

/// Init code reads empty calldata on the EVM, though a constructor's frame
/// keeps its code where calldata goes: `calldatasize` + 7 (slot 1),
/// `calldataload(0)` + 8 (slot 2) and a `calldatacopy` of 32 bytes over a
/// word of memory, which it zeroes, + 9 (slot 3); then it returns one
/// zero byte of code.
#[test]
fn a_constructor_reads_empty_calldata_as_on_the_evm() {
    let init =
        hex("36600701600155 5f35600801600255 60ff604052 60205f604037 604051600901600355 60015ff3");
    assert_eq!(init.len(), 0x27);
    // Copies the init code (at 0x0f) to memory and create2s it, salt 0.
    let mut code = hex("6027600f5f39 5f60275f5ff5 5f55 00");
    code.extend_from_slice(&init);
    let mut w = world(code);
    let out = agree(
        &mut w,
        &call(FACTORY, vec![]),
        "a constructor reading calldata",
    );
    let child = FACTORY.create2([0u8; 32], keccak256(&init));
    for (slot, value) in [(1u64, 7u64), (2, 8), (3, 9)] {
        assert_eq!(
            out.storage.get(&(child, U256::from(slot))),
            Some(&(U256::ZERO, U256::from(value))),
            "slot {slot}"
        );
    }
}
