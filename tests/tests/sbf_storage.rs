//! The storage table in a Solana state account: a fresh account takes the
//! constructor's storage on its first instruction, and a table that fills
//! grows by an extension per instruction, its rent paid by the signer, as
//! revm keeps every slot (the LiteSVM side is in `solana_runtime.rs`).

use alloy_primitives::{Address, U256};
use chainlift_emulator::BlockEnv;
use chainlift_emulator::sbf::SbfEngine;
use chainlift_frontend_evm::Fork;
use chainlift_tests::{hex, path, sbf_agrees_or_stops_at as agrees_or_stops_at};

/// A storage table that fills grows by an extension, whose rent the
/// signer pays (not a balance change, as gas is not on the EVM): 280 new
/// slots in one call agree with revm. Solana lets the data grow 10,240
/// bytes per instruction, one extension: 400 new slots end at the named
/// limit, as does a signer that cannot pay the rent.
#[test]
fn storage_grows_past_its_capacity_as_on_revm() {
    // sstore(i, i) for i in 1..=calldataload(0).
    let code = hex("600035 6000 5b 600101 808055 8181 10 600557 00");
    let to = Address::repeat_byte(0xc0);
    let caller = Address::repeat_byte(0xca);
    for (n, balance, limit) in [
        (280u64, 18u32, None),
        (400, 18, Some("storage table full")),
        (280, 0, Some("storage table full")),
    ] {
        let mut world = chainlift_emulator::World::default();
        world.accounts.insert(
            to,
            chainlift_emulator::Account {
                code: code.clone(),
                ..Default::default()
            },
        );
        world.accounts.entry(caller).or_default().balance =
            U256::from(10u64).pow(U256::from(balance)) - U256::from(u64::from(balance == 0));
        let call = chainlift_emulator::Call {
            create: false,
            caller,
            origin: caller,
            to,
            value: U256::ZERO,
            data: U256::from(n).to_be_bytes::<32>().to_vec(),
            gas_limit: 30_000_000,
            gas_price: U256::ZERO,
        };
        let o = agrees_or_stops_at(&format!("{n} new slots"), &world, &call, limit);
        assert_eq!(o.storage.len() as u64, n);
    }
}

/// A fresh state account (all zeros) is initialized by its first
/// instruction, which it signs: the table header sized to the account and
/// the storage the constructor left, kept in the program.
#[test]
fn a_fresh_state_account_takes_the_constructors_storage() {
    use chainlift_backend_sbf::{exit, storage};
    use chainlift_emulator::sbf::{self, AccountIn};
    let storage_left: std::collections::BTreeMap<U256, U256> = (1..=20u64)
        .map(|k| (U256::from(k) << 200, U256::from(k * 1000)))
        .collect();
    let mut engine = SbfEngine::new(false);
    engine.target.initial_storage = storage_left.clone();
    let code = chainlift_tests::artifact_runtime(std::path::Path::new(&path(
        "examples/token/out/Token.json",
    )));
    let exe = loaded(&engine, &code);
    let init_with = |len: usize, signer: bool, owner: [u8; 32], value: u64, system: bool| {
        let zeros = vec![0u8; len];
        let mut accounts = vec![
            AccountIn {
                key: [0xc0; 32],
                owner,
                lamports: 1 << 30,
                signer,
                writable: true,
                executable: false,
                data: &zeros,
            },
            AccountIn {
                key: [0xca; 32],
                owner: [0; 32],
                lamports: 1 << 30,
                signer: true,
                writable: true,
                executable: false,
                data: &[],
            },
        ];
        if system {
            accounts.push(AccountIn::system_program());
        }
        execute(&exe, &accounts, value, &[])
    };
    let init_owned = |len: usize, signer: bool, owner: [u8; 32], value: u64| {
        init_with(len, signer, owner, value, false)
    };
    let init = |len: usize, signer: bool| init_owned(len, signer, sbf::PROGRAM_ID, 0);
    // Room for 64 entries and a bit: the capacity is 64.
    let run = init(storage::HEADER + storage::ENTRY * 64 + 50, true);
    assert_eq!(run.result, Ok(exit::SUCCESS));
    assert_eq!(storage::decode(&run.state).unwrap(), storage_left);
    assert_eq!(run.state[8..16], 64u64.to_le_bytes(), "capacity");
    // The table is the one the emulator builds for the same slots.
    let mut same = storage::encode(&storage_left, 64);
    same.resize(run.state.len(), 0);
    assert_eq!(run.state, same);
    // Only the account itself may initialize it.
    assert_eq!(init(4096, false).result, Ok(exit::BAD_ACCOUNTS));
    // It brings no value.
    assert_eq!(
        init_owned(4096, true, sbf::PROGRAM_ID, 5).result,
        Ok(exit::BAD_INPUT)
    );
    // And only an account the program owns.
    assert_eq!(
        init_owned(4096, true, [9; 32], 0).result,
        Ok(exit::BAD_ACCOUNTS)
    );
    // Too small for the slots (a table of 16 entries takes 12): it grows
    // by an extension, which needs the system program (the program asks
    // for it: the zero address) for the signer to pay its rent.
    let small = storage::HEADER + storage::ENTRY * 16;
    let run = init(small, true);
    assert_eq!(run.result, Ok(exit::ACCOUNT_NEEDED));
    assert_eq!(run.return_data, [0u8; 20]);
    let run = init_with(small, true, sbf::PROGRAM_ID, 0, true);
    assert_eq!(run.result, Ok(exit::SUCCESS));
    assert_eq!(storage::decode(&run.state).unwrap(), storage_left);
    assert_eq!(run.state.len(), small + storage::EXTENSION_BYTES);
    assert_eq!(run.grown, [storage::EXTENSION_BYTES as u64, 0, 0]);
    let rent = storage::EXTENSION_BYTES as u64 * u64::from(engine.target.rent_per_byte);
    assert_eq!(run.lamports[..2], [(1 << 30) + rent, (1 << 30) - rent]);
    assert_eq!(
        init(storage::HEADER + storage::ENTRY, true).result,
        Ok(exit::BAD_STATE)
    );
}

/// A table grows by one extension per instruction, as many instructions
/// as it needs: a state account with room for 12 entries takes 100 slots
/// (one extension), then 200 (a second one), then not 400 (it would need
/// two at once); every slot stored is read back from the tables.
#[test]
fn a_storage_table_grows_over_instructions() {
    use chainlift_backend_sbf::{exit, storage};
    use chainlift_emulator::sbf::{self, AccountIn};
    // sstore(i, i) for i in 1..=calldataload(0).
    let code = hex("600035 6000 5b 600101 808055 8181 10 600557 00");
    let engine = SbfEngine::new(false);
    let exe = loaded(&engine, &code);
    let mut data = vec![0u8; storage::HEADER + storage::ENTRY * 16];
    let mut lamports = [1u64 << 40, 1u64 << 40];
    let base = data.len();
    for (n, code, extensions) in [
        (None, exit::SUCCESS, 0),
        (Some(100u64), exit::SUCCESS, 1),
        (Some(200), exit::SUCCESS, 2),
        (Some(400), exit::STORAGE_FULL, 2),
    ] {
        let accounts = [
            AccountIn {
                key: [0xc0; 32],
                owner: sbf::PROGRAM_ID,
                lamports: lamports[0],
                signer: n.is_none(),
                writable: true,
                executable: false,
                data: &data,
            },
            AccountIn::payer([0xca; 32], lamports[1]),
            AccountIn::system_program(),
        ];
        let calldata = n.map_or(vec![], |n| U256::from(n).to_be_bytes::<32>().to_vec());
        let run = execute(&exe, &accounts, 0, &calldata);
        let label = format!("{n:?} slots");
        assert_eq!(run.result, Ok(code), "{label}");
        if code != exit::SUCCESS {
            continue;
        }
        assert_eq!(
            run.data[0].len(),
            base + extensions * storage::EXTENSION_BYTES,
            "{label}"
        );
        let stored: std::collections::BTreeMap<U256, U256> = (1..=n.unwrap_or(0))
            .map(|i| (U256::from(i), U256::from(i)))
            .collect();
        assert_eq!(storage::decode(&run.data[0]).unwrap(), stored, "{label}");
        data = run.data[0].clone();
        lamports = [run.lamports[0], run.lamports[1]];
    }
    // sload(calldataload(0)), returned, reads every table.
    let reader = hex("600035 54 600052 60206000f3");
    let exe = loaded(&engine, &reader);
    for k in [1u64, 13, 99, 150, 200, 201, 1000] {
        let accounts = [
            AccountIn {
                key: [0xc0; 32],
                owner: sbf::PROGRAM_ID,
                lamports: lamports[0],
                signer: false,
                writable: true,
                executable: false,
                data: &data,
            },
            AccountIn::payer([0xca; 32], lamports[1]),
        ];
        let run = execute(&exe, &accounts, 0, &U256::from(k).to_be_bytes::<32>());
        assert_eq!(run.result, Ok(exit::SUCCESS));
        let want = if k <= 200 { k } else { 0 };
        assert_eq!(
            run.return_data,
            U256::from(want).to_be_bytes::<32>(),
            "slot {k}"
        );
    }
}

/// `code` translated by `engine` for the contract at 0xc0…c0, loaded.
fn loaded(engine: &SbfEngine, code: &[u8]) -> chainlift_emulator::sbf::Loaded {
    let program = engine
        .program(
            code,
            Fork::Osaka,
            Address::repeat_byte(0xc0),
            &engine.target_for(&BlockEnv::default(), U256::ZERO),
        )
        .unwrap();
    chainlift_emulator::sbf::load(&program.elf).unwrap()
}

/// One instruction of the program at `exe` on `accounts` (value and
/// calldata), in the interpreter with the default 32 KiB heap.
fn execute(
    exe: &chainlift_emulator::sbf::Loaded,
    accounts: &[chainlift_emulator::sbf::AccountIn],
    value: u64,
    calldata: &[u8],
) -> chainlift_emulator::sbf::Run {
    use chainlift_emulator::sbf;
    sbf::execute(
        exe,
        false,
        &sbf::Invocation {
            program_id: sbf::PROGRAM_ID,
            accounts,
            data: &sbf::instruction_data(value, calldata),
            clock: (0, 0),
            heap_size: 32 * 1024,
        },
    )
}
