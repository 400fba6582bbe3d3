//! Deployability: the example contracts (the ERC20, the registry, the
//! Vyper vault), translated to SBPF v3 ELFs, deploy into a real Solana
//! runtime (LiteSVM 0.16: Agave 4.2's program runtime with the mainnet
//! feature set) through the upgradeable BPF loader, the way `solana
//! program deploy` does it: a buffer account, the ELF written in chunks,
//! then `DeployWithMaxDataLen`, which verifies the ELF.
//!
//! Each scenario's calls then run as real transactions, ether value as
//! lamports (the system transfer the program makes by CPI, and lamports
//! paid out of the state account). For every call, what the runtime
//! reports (status, return data, `Program data:` logs, the state
//! account's bytes, every account's lamports, compute units) must equal
//! what the emulator's `sbf` engine gives for the same program on the same
//! accounts, and the status, return data, logs, storage and balances must
//! equal revm's, the oracle. A call that pays an account it was not given
//! ends asking for it (`ACCOUNT_NEEDED`, the address as return data), in
//! both; the account is added and the call sent again, as a client would.
//!
//! Behind the `solana-runtime` feature (Agave's runtime is a large build):
//! `cargo test -p chainlift-tests --features solana-runtime --test solana_runtime`.
#![cfg(feature = "solana-runtime")]

use alloy_primitives::{Address, U256};
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use chainlift_backend_sbf::{exit, storage};
use chainlift_cli::scenario;
use chainlift_emulator::evm::EvmEngine;
use chainlift_emulator::sbf::{self, AccountIn, Invocation, SbfEngine};
use chainlift_emulator::{BlockEnv, Engine, Status};
use chainlift_frontend_evm::Fork;
use chainlift_tests::path;
use litesvm::LiteSVM;
use litesvm::types::{FailedTransactionMetadata, TransactionMetadata};
use solana_account::Account as SolanaAccount;
use solana_address::Address as Pubkey;
use solana_clock::Clock;
use solana_instruction::{AccountMeta, Instruction};
use solana_instruction_error::InstructionError;
use solana_keypair::Keypair;
use solana_loader_v3_interface::get_program_data_address;
use solana_loader_v3_interface::instruction as loader;
use solana_loader_v3_interface::state::UpgradeableLoaderState;
use solana_message::Message;
use solana_sdk_ids::bpf_loader_upgradeable;
use solana_signer::Signer;
use solana_transaction::Transaction;
use solana_transaction_error::TransactionError;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// ELF bytes per loader `Write`: a transaction holds at most 1,232 bytes.
const CHUNK: usize = 900;

/// Sends `ixs` paid and signed by `payer` and `signers`; panics with the
/// runtime's logs if the transaction fails.
fn send(svm: &mut LiteSVM, ixs: &[Instruction], payer: &Keypair, signers: &[&Keypair]) {
    let mut all = vec![payer];
    all.extend_from_slice(signers);
    let tx = Transaction::new(
        &all,
        Message::new(ixs, Some(&payer.pubkey())),
        svm.latest_blockhash(),
    );
    if let Err(f) = svm.send_transaction(tx) {
        panic!("{:?}\n{}", f.err, f.meta.pretty_logs());
    }
    svm.expire_blockhash();
}

/// Deploys `elf` through the upgradeable loader with `payer` as the
/// upgrade authority; returns the program id.
fn deploy(svm: &mut LiteSVM, payer: &Keypair, elf: &[u8]) -> Pubkey {
    deploy_at(svm, payer, elf, &Keypair::new())
}

/// [`deploy`] at the program id `program` (its keypair).
fn deploy_at(svm: &mut LiteSVM, payer: &Keypair, elf: &[u8], program: &Keypair) -> Pubkey {
    let buffer = Keypair::new();
    let rent =
        svm.minimum_balance_for_rent_exemption(UpgradeableLoaderState::size_of_buffer(elf.len()));
    let create = loader::create_buffer(
        &payer.pubkey(),
        &buffer.pubkey(),
        &payer.pubkey(),
        rent,
        elf.len(),
    )
    .unwrap();
    send(svm, &create, payer, &[&buffer]);
    for (i, chunk) in elf.chunks(CHUNK).enumerate() {
        let offset = u32::try_from(i * CHUNK).unwrap();
        let write = loader::write(&buffer.pubkey(), &payer.pubkey(), offset, chunk.to_vec());
        send(svm, &[write], payer, &[]);
    }
    let rent = svm.minimum_balance_for_rent_exemption(UpgradeableLoaderState::size_of_program());
    let deploy = loader::deploy_with_max_program_len(
        &payer.pubkey(),
        &program.pubkey(),
        &buffer.pubkey(),
        &payer.pubkey(),
        rent,
        elf.len(),
        true,
    )
    .unwrap();
    send(svm, &deploy, payer, &[program]);
    program.pubkey()
}

/// What one call gave, in terms both runs can report.
#[derive(Debug, PartialEq, Eq)]
struct Observed {
    /// The program's exit code (0 success, else the custom error).
    code: u64,
    return_data: Vec<u8>,
    /// Each log's slices.
    logs: Vec<Vec<Vec<u8>>>,
    /// Every account's data afterwards (the state account's first).
    data: Vec<Vec<u8>>,
    /// Every account's lamports afterwards.
    lamports: Vec<u64>,
    compute_units: u64,
}

/// Reads a transaction's outcome as the program saw it: its instruction
/// `index` ran the program; `after` are its accounts afterwards. The
/// compute units are the transaction's.
fn observed(
    result: Result<TransactionMetadata, FailedTransactionMetadata>,
    index: u8,
    after: Vec<(Pubkey, SolanaAccount)>,
    label: &str,
) -> (Observed, TransactionMetadata) {
    let (code, meta) = match result {
        Ok(meta) => (exit::SUCCESS, meta),
        Err(f) => match f.err {
            TransactionError::InstructionError(i, InstructionError::Custom(c)) if i == index => {
                (u64::from(c), f.meta)
            }
            e => panic!(
                "{label}: failed outside the program: {e:?}\n{}",
                f.meta.pretty_logs()
            ),
        },
    };
    let o = Observed {
        code,
        return_data: meta.return_data.data.clone(),
        logs: data_logs(&meta.logs),
        data: after.iter().map(|(_, a)| a.data.clone()).collect(),
        lamports: after.iter().map(|(_, a)| a.lamports).collect(),
        compute_units: meta.compute_units_consumed,
    };
    (o, meta)
}

/// The sbf engine's run of the same instruction on the same accounts
/// (`before`, flagged as `keys` says); a failed run leaves them as they
/// were, as a failed transaction does.
fn emulate(
    exe: &sbf::Loaded,
    invocation: (Pubkey, (u64, i64), u32),
    keys: &[(Pubkey, bool, bool)],
    before: &[(Pubkey, SolanaAccount)],
    data: &[u8],
    label: &str,
) -> Observed {
    emulate_in(exe, Default::default(), invocation, keys, before, data)
        .unwrap_or_else(|e| panic!("{label}: sbf: {e}"))
}

/// [`emulate`] with `programs` for the program's cross-program calls to
/// run; the VM's error when the run did not end with an exit code.
fn emulate_in(
    exe: &sbf::Loaded,
    programs: std::sync::Arc<sbf::Programs>,
    (program_id, clock, heap): (Pubkey, (u64, i64), u32),
    keys: &[(Pubkey, bool, bool)],
    before: &[(Pubkey, SolanaAccount)],
    data: &[u8],
) -> Result<Observed, String> {
    let inputs = inputs(before, keys);
    let run = sbf::execute_in(
        exe,
        false,
        &Invocation {
            program_id: program_id.to_bytes(),
            accounts: &inputs,
            data,
            clock,
            heap_size: heap as usize,
        },
        programs,
    );
    let code = run.result.clone()?;
    let ok = code == exit::SUCCESS;
    Ok(Observed {
        code,
        return_data: run.return_data,
        logs: run.logs,
        data: if ok {
            run.data
        } else {
            before.iter().map(|(_, a)| a.data.clone()).collect()
        },
        lamports: if ok {
            run.lamports
        } else {
            before.iter().map(|(_, a)| a.lamports).collect()
        },
        compute_units: run.compute_units,
    })
}

/// Sets the runtime's clock to the scenario's block (slot = number,
/// unix_timestamp = timestamp), as the program reads it.
fn set_clock(svm: &mut LiteSVM, block: &BlockEnv) -> (u64, i64) {
    let slot = block.number.to::<u64>();
    let time = block.timestamp.to::<i64>();
    let mut clock: Clock = svm.get_sysvar();
    clock.slot = slot;
    clock.unix_timestamp = time;
    svm.set_sysvar(&clock);
    (slot, time)
}

/// The key standing for a call's caller, funded on first use.
fn funded_caller(svm: &mut LiteSVM, caller: Address) -> Pubkey {
    let key = solana_key(caller);
    if svm.get_account(&key).is_none() {
        svm.airdrop(&key, 100_000_000_000).unwrap();
    }
    key
}

/// The `sol_log_data` records in a transaction's logs (`Program data:`
/// lines), each as its base64 slices decoded.
fn data_logs(logs: &[String]) -> Vec<Vec<Vec<u8>>> {
    logs.iter()
        .filter_map(|l| l.strip_prefix("Program data: "))
        .map(|l| l.split(' ').map(|s| BASE64.decode(s).unwrap()).collect())
        .collect()
}

/// The accounts of a call for the sbf engine: as the runtime holds them
/// now (`before`), with the signer and writable flags of `keys`.
fn inputs<'a>(
    before: &'a [(Pubkey, SolanaAccount)],
    keys: &[(Pubkey, bool, bool)],
) -> Vec<AccountIn<'a>> {
    before
        .iter()
        .zip(keys)
        .map(|((k, a), (_, signer, writable))| AccountIn {
            key: k.to_bytes(),
            owner: a.owner.to_bytes(),
            lamports: a.lamports,
            signer: *signer,
            writable: *writable,
            executable: a.executable,
            data: &a.data,
        })
        .collect()
}

/// The same accounts as a transaction's account metas.
fn metas(keys: &[(Pubkey, bool, bool)]) -> Vec<AccountMeta> {
    keys.iter()
        .map(|(k, signer, writable)| {
            if *writable {
                AccountMeta::new(*k, *signer)
            } else {
                AccountMeta::new_readonly(*k, *signer)
            }
        })
        .collect()
}

/// Storage as revm's world holds it: slots with non-zero values.
fn nonzero(table: &[u8]) -> BTreeMap<U256, U256> {
    let mut s = storage::decode(table).expect("a storage table");
    s.retain(|_, v| !v.is_zero());
    s
}

fn solana_key(a: Address) -> Pubkey {
    Pubkey::new_from_array(sbf::key_of(a))
}

/// The state account of the contract at `a` in a bundle.
fn state_key(program: Pubkey, a: Address) -> Pubkey {
    Pubkey::new_from_array(chainlift_backend_sbf::address::state_account(&program.to_bytes(), a).0)
}

/// The accounts of one call, as the runtime holds them now: the state
/// account, the caller, the system program when value is sent, then
/// `extra`.
fn accounts_now(svm: &LiteSVM, keys: &[(Pubkey, bool, bool)]) -> Vec<(Pubkey, SolanaAccount)> {
    keys.iter()
        .map(|(k, _, _)| (*k, svm.get_account(k).unwrap_or_default()))
        .collect()
}

/// A state account for a single-contract program: its creation by the
/// system program (`space` bytes of zeros, `lamports`, owned by the
/// program; the account signs), then its first instruction, which writes
/// the table (the account signs again, `payer` as the caller).
fn state_account(
    payer: &Pubkey,
    program_id: Pubkey,
    state_key: Pubkey,
    space: usize,
    lamports: u64,
) -> [Instruction; 2] {
    let mut create = vec![0u8; 4]; // SystemInstruction::CreateAccount
    create.extend_from_slice(&lamports.to_le_bytes());
    create.extend_from_slice(&(space as u64).to_le_bytes());
    create.extend_from_slice(program_id.as_ref());
    [
        Instruction {
            program_id: Pubkey::new_from_array([0; 32]),
            accounts: vec![
                AccountMeta::new(*payer, true),
                AccountMeta::new(state_key, true),
            ],
            data: create,
        },
        Instruction {
            program_id,
            accounts: vec![
                AccountMeta::new(state_key, true),
                AccountMeta::new(*payer, true),
            ],
            data: sbf::instruction_data(0, &[]),
        },
    ]
}

fn deploys_and_matches(scenario_file: &str) {
    let plan = scenario::load(
        Path::new(&path(scenario_file)),
        BlockEnv::default(),
        Fork::Osaka,
        10_000_000,
        None,
    )
    .unwrap();
    let contract = plan.steps[0].call.to;
    let account = &plan.world.accounts[&contract];
    // The program keeps the storage the constructor left, for the state
    // account's first instruction.
    let mut engine = SbfEngine::new(false);
    engine.target.initial_storage = account.storage.clone();
    let wei = U256::from(engine.target.wei_per_lamport);
    let program = engine
        .program(
            &account.code,
            plan.fork,
            contract,
            &engine.target_for(&plan.block, U256::ZERO),
        )
        .unwrap();
    let exe = sbf::load(&program.elf).unwrap();

    // sigverify off: callers are the keys that stand for the scenario's EVM
    // addresses (12 zero bytes, then the address), which no keypair has.
    let mut svm = LiteSVM::new().with_sigverify(false);
    let payer = Keypair::new();
    svm.airdrop(&payer.pubkey(), 1_000_000_000_000).unwrap();
    let program_id = deploy(&mut svm, &payer, &program.elf);
    let deployed = svm.get_account(&program_id).unwrap();
    assert!(deployed.executable);
    assert_eq!(deployed.owner, bpf_loader_upgradeable::id());
    let data = svm
        .get_account(&get_program_data_address(&program_id))
        .unwrap();
    assert_eq!(
        &data.data[UpgradeableLoaderState::size_of_programdata_metadata()..][..program.elf.len()],
        &program.elf[..],
        "the program data account holds the ELF"
    );

    // The state account: created for the program (data all zeros, room
    // for the table), with the rent-exempt minimum plus the contract's
    // balance; then its first instruction, which it signs, writes the
    // table and the constructor's storage. Both run in the sbf engine too.
    let state_key = solana_key(contract);
    let space = storage::HEADER + storage::ENTRY * storage::capacity_for(account.storage.len());
    let rent = svm.minimum_balance_for_rent_exemption(space);
    assert_eq!(
        rent,
        (128 + space as u64) * u64::from(engine.target.rent_per_byte),
        "the runtime's rent is the one the program assumes"
    );
    let system = Pubkey::new_from_array([0; 32]);
    let lamports = rent + (account.balance / wei).to::<u64>();
    let [create, init] = state_account(&payer.pubkey(), program_id, state_key, space, lamports);
    let mut tx = Transaction::new_unsigned(Message::new(&[create], Some(&payer.pubkey())));
    tx.partial_sign(&[&payer], svm.latest_blockhash());
    svm.send_transaction(tx).unwrap();
    svm.expire_blockhash();
    let fresh = svm.get_account(&state_key).unwrap();
    assert!(fresh.data.iter().all(|b| *b == 0));
    let run = sbf::execute(
        &exe,
        false,
        &Invocation {
            program_id: program_id.to_bytes(),
            accounts: &[
                AccountIn {
                    key: state_key.to_bytes(),
                    owner: program_id.to_bytes(),
                    lamports: fresh.lamports,
                    signer: true,
                    writable: true,
                    executable: false,
                    data: &fresh.data,
                },
                AccountIn {
                    key: payer.pubkey().to_bytes(),
                    owner: [0; 32],
                    lamports: 1,
                    signer: true,
                    writable: true,
                    executable: false,
                    data: &[],
                },
            ],
            data: &sbf::instruction_data(0, &[]),
            clock: (0, 0),
            heap_size: engine.target.heap_size as usize,
        },
    );
    assert_eq!(run.result, Ok(exit::SUCCESS), "init in the sbf engine");
    let mut tx = Transaction::new_unsigned(Message::new(&[init], Some(&payer.pubkey())));
    tx.partial_sign(&[&payer], svm.latest_blockhash());
    let meta = svm.send_transaction(tx).unwrap();
    svm.expire_blockhash();
    let table = svm.get_account(&state_key).unwrap().data;
    assert_eq!(table, run.state, "init: LiteSVM and the sbf engine");
    assert_eq!(meta.compute_units_consumed, run.compute_units, "init: CU");
    let mut constructed = account.storage.clone();
    constructed.retain(|_, v| !v.is_zero());
    assert_eq!(nonzero(&table), constructed, "the constructor's storage");
    eprintln!(
        "{scenario_file}: state account of {space} bytes initialized with {} slots in {} CU",
        account.storage.len(),
        meta.compute_units_consumed
    );
    // The block (its number is one past the deploy slot, so the program
    // is visible).
    let clock = set_clock(&mut svm, &plan.block);
    let heap = engine.target.heap_size;

    let mut world = plan.world.clone();
    let mut costs = vec![];
    for (i, step) in plan.steps.iter().enumerate() {
        let label = format!("call {} ({})", i + 1, step.label);
        let caller = funded_caller(&mut svm, step.call.caller);
        let value = (step.call.value / wei).to::<u64>();
        assert_eq!(
            U256::from(value) * wei,
            step.call.value,
            "{label}: whole lamports"
        );
        // (key, signer, writable)
        let mut keys = vec![(state_key, false, true), (caller, true, true)];
        if value != 0 {
            keys.push((system, false, false));
        }
        let (solana, emulated, before) = loop {
            let before = accounts_now(&svm, &keys);
            let data = sbf::instruction_data(value, &step.call.data);
            // The emulator's sbf engine on the same accounts.
            let emulated = emulate(
                &exe,
                (program_id, clock, heap),
                &keys,
                &before,
                &data,
                &label,
            );

            // The same call as a Solana transaction.
            let ix = Instruction {
                program_id,
                accounts: metas(&keys),
                data,
            };
            let mut tx = Transaction::new_unsigned(Message::new(&[ix], Some(&payer.pubkey())));
            tx.partial_sign(&[&payer], svm.latest_blockhash());
            let result = svm.send_transaction(tx);
            svm.expire_blockhash();
            let (solana, _) = observed(result, 0, accounts_now(&svm, &keys), &label);
            if solana.code == exit::ACCOUNT_NEEDED && solana == emulated {
                let asked = Address::from_slice(&solana.return_data);
                eprintln!("{label}: the program asks for {asked}'s account; sent again with it");
                keys.push((solana_key(asked), false, true));
                continue;
            }
            break (solana, emulated, before);
        };
        assert_eq!(
            solana, emulated,
            "{label}: LiteSVM and the sbf engine differ"
        );

        // And both against revm.
        let oracle = EvmEngine
            .run(&world, &plan.block, &step.call, plan.fork)
            .unwrap();
        let status = match solana.code {
            exit::SUCCESS => Status::Success,
            exit::REVERT => Status::Revert,
            c => panic!("{label}: exit {c}: {}", exit::describe(c)),
        };
        assert_eq!(status, oracle.status, "{label}");
        assert_eq!(solana.return_data, oracle.return_data, "{label}");
        let logs: Vec<_> = solana
            .logs
            .iter()
            .map(|slices| sbf::decode_log(contract, slices).unwrap())
            .collect();
        assert_eq!(logs, oracle.logs, "{label}");
        // Balances: every account but the caller (revm leaves it out too:
        // it pays the gas) and the system program moves by what revm moves
        // it, in wei.
        for (k, (key, _, _)) in keys.iter().enumerate() {
            if k == 1 || *key == system {
                continue;
            }
            let address = Address::from_slice(&key.to_bytes()[12..]);
            let b = world
                .accounts
                .get(&address)
                .map_or(U256::ZERO, |a| a.balance);
            let a = oracle.balances.get(&address).map_or(b, |x| x.1);
            let a =
                if k == 0 && status == Status::Success && !oracle.balances.contains_key(&address) {
                    a + step.call.value
                } else {
                    a
                };
            assert_eq!(
                U256::from(solana.lamports[k]) * wei + b,
                a + U256::from(before[k].1.lamports) * wei,
                "{label}: balance of {address}"
            );
        }
        world.commit(&step.call, &oracle);
        assert_eq!(
            nonzero(&solana.data[0]),
            world.accounts[&contract].storage,
            "{label}: storage"
        );
        let state_lamports = solana.lamports[0];
        assert_eq!(
            U256::from(state_lamports - rent) * wei,
            world.accounts[&contract].balance,
            "{label}: the contract's balance"
        );
        costs.push((step.label.clone(), solana.compute_units));
    }
    eprintln!("{scenario_file}: compute units per call in LiteSVM (Agave 4.2):");
    for (label, cu) in costs {
        eprintln!("  {cu:>7}  {label}");
    }
}

#[test]
fn the_erc20_deploys_into_litesvm_and_its_calls_match_the_sbf_engine_and_revm() {
    deploys_and_matches("examples/scenarios/token.toml");
}

#[test]
fn the_registry_takes_and_pays_out_ether_in_litesvm_as_on_revm() {
    deploys_and_matches("examples/scenarios/registry.toml");
}

#[test]
fn the_vyper_vault_takes_deposits_and_pays_withdrawals_in_litesvm_as_on_revm() {
    deploys_and_matches("examples/scenarios/vault.toml");
}

#[test]
fn the_voucher_checks_permits_and_secrets_in_litesvm_as_on_revm() {
    // sol_secp256k1_recover, sol_sha256 and an account asked for by
    // extcodesize, in Agave itself.
    deploys_and_matches("examples/scenarios/voucher.toml");
}

#[path = "solana_runtime/bundles.rs"]
mod bundles;
#[path = "solana_runtime/split.rs"]
mod split;

/// A storage table that fills grows in Agave as in the sbf engine: a
/// contract storing slots 1..=n (n the calldata) on a state account with
/// room for 12 entries grows by one extension per instruction, its rent
/// paid by the signer through the system program (which the program asks
/// for when it is missing), until one instruction would need two; also
/// after the contract paid an account itself in the same instruction.
#[test]
fn storage_tables_grow_in_litesvm_as_in_the_sbf_engine() {
    // call(calldataload(32), 1 gwei) unless that word is zero, then
    // sstore(i, i) for i in 1..=calldataload(0): a growth after the
    // program moved lamports itself, which the transfer paying the rent
    // must name.
    let code = alloy_primitives::hex::decode(
        "602035 80 15 6019 57 6000600060006000 633b9aca00 85 5a f1 50 5b 50
         600035 6000 5b 600101 808055 8181 10 602057 00"
            .split_whitespace()
            .collect::<String>(),
    )
    .unwrap();
    let contract = Address::repeat_byte(0xc0);
    let engine = SbfEngine::new(false);
    let program = engine
        .program(
            &code,
            Fork::Osaka,
            contract,
            &engine.target_for(&BlockEnv::default(), U256::ZERO),
        )
        .unwrap();
    let exe = sbf::load(&program.elf).unwrap();
    let mut svm = LiteSVM::new().with_sigverify(false);
    let payer = Keypair::new();
    svm.airdrop(&payer.pubkey(), 1_000_000_000_000).unwrap();
    let program_id = deploy(&mut svm, &payer, &program.elf);
    let state_key = solana_key(contract);
    let space = storage::HEADER + storage::ENTRY * 16;
    let rent = svm.minimum_balance_for_rent_exemption(space);
    let system = Pubkey::new_from_array([0; 32]);
    let balance = 10_000_000_000u64;
    let both = state_account(
        &payer.pubkey(),
        program_id,
        state_key,
        space,
        rent + balance,
    );
    let mut tx = Transaction::new_unsigned(Message::new(&both, Some(&payer.pubkey())));
    tx.partial_sign(&[&payer], svm.latest_blockhash());
    svm.send_transaction(tx).unwrap();
    svm.expire_blockhash();
    let caller = funded_caller(&mut svm, Address::repeat_byte(0xca));
    let payee = Address::repeat_byte(0xee);
    funded_caller(&mut svm, payee);
    let heap = engine.target.heap_size;
    // (slots to store, whether 1 gwei is paid first, the exit, tables
    // after it)
    let mut paid = 0;
    for (n, pays, code, extensions) in [
        (100u64, true, exit::SUCCESS, 1),
        (200, false, exit::SUCCESS, 2),
        (300, true, exit::SUCCESS, 3),
        (500, false, exit::STORAGE_FULL, 3),
    ] {
        let label = format!("{n} slots");
        let mut keys = vec![(state_key, false, true), (caller, true, true)];
        let to = if pays { payee } else { Address::ZERO };
        let calldata = [U256::from(n).to_be_bytes::<32>(), to.into_word().0].concat();
        let data = sbf::instruction_data(0, &calldata);
        let (solana, emulated) = loop {
            let before = accounts_now(&svm, &keys);
            let emulated = emulate(
                &exe,
                (program_id, (0, 0), heap),
                &keys,
                &before,
                &data,
                &label,
            );
            let ix = Instruction {
                program_id,
                accounts: metas(&keys),
                data: data.clone(),
            };
            let mut tx = Transaction::new_unsigned(Message::new(&[ix], Some(&payer.pubkey())));
            tx.partial_sign(&[&payer], svm.latest_blockhash());
            let result = svm.send_transaction(tx);
            svm.expire_blockhash();
            let (solana, _) = observed(result, 0, accounts_now(&svm, &keys), &label);
            if solana.code == exit::ACCOUNT_NEEDED && solana == emulated {
                // The payee, or the system program (the zero address) to
                // pay the rent.
                let asked = Address::from_slice(&solana.return_data);
                keys.push(if asked == Address::ZERO {
                    (system, false, false)
                } else {
                    (solana_key(asked), false, true)
                });
                continue;
            }
            break (solana, emulated);
        };
        if pays && code == exit::SUCCESS {
            paid += 1;
        }
        assert_eq!(
            solana, emulated,
            "{label}: LiteSVM and the sbf engine differ"
        );
        assert_eq!(solana.code, code, "{label}");
        let table = &solana.data[0];
        assert_eq!(
            table.len(),
            space + extensions * storage::EXTENSION_BYTES,
            "{label}"
        );
        assert_eq!(
            solana.lamports[0],
            svm.minimum_balance_for_rent_exemption(table.len()) + balance - paid,
            "{label}: the signer paid the rent, the contract the payee"
        );
        if code == exit::SUCCESS {
            let stored: BTreeMap<U256, U256> =
                (1..=n).map(|i| (U256::from(i), U256::from(i))).collect();
            assert_eq!(nonzero(table), stored, "{label}");
        }
        eprintln!(
            "{label}: {} CU, {} bytes",
            solana.compute_units,
            table.len()
        );
    }
}
