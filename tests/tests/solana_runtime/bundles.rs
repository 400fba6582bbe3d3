//! Systems as one program in LiteSVM: the bundles `chainlift translate
//! --deploy` writes, deployed, their state accounts created, and their
//! scenarios played against the sbf engine and revm.

use super::*;

/// A system as one program: `chainlift translate --deploy` writes the
/// bundle and its manifest; LiteSVM deploys it, creates and initializes
/// each contract's state account as the manifest says, and runs the
/// scenario's calls as transactions that ask for the 256 KiB heap, adding
/// the state accounts the program asks for. Each call must give what the
/// sbf engine gives for the same program and accounts (status, return
/// data, logs, every account's data and lamports, the program's compute
/// units), and what revm gives (status, return data, logs, storage).
fn bundle_deploys_and_matches(scenario_file: &str) {
    // A directory per scenario: the tests run in parallel.
    let stem = Path::new(scenario_file)
        .file_stem()
        .map_or("system".into(), |s| s.to_string_lossy().into_owned());
    let dir = std::env::temp_dir().join(format!(
        "chainlift-litesvm-bundle-{stem}-{}",
        std::process::id()
    ));
    std::fs::create_dir_all(&dir).unwrap();
    let so = dir.join("system.so");
    let program = Keypair::new();
    chainlift_tests::translate_deploy(scenario_file, &so, &program.pubkey().to_string());
    let elf = std::fs::read(&so).unwrap();
    let manifest: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("system.manifest.json")).unwrap())
            .unwrap();
    let heap = manifest["program"]["heap_bytes"].as_u64().unwrap() as u32;
    let exe = sbf::load(&elf).unwrap();
    let plan = scenario::load(
        Path::new(&path(scenario_file)),
        BlockEnv::default(),
        Fork::Osaka,
        10_000_000,
        None,
    )
    .unwrap();

    let mut svm = LiteSVM::new().with_sigverify(false);
    let payer = Keypair::new();
    svm.airdrop(&payer.pubkey(), 1_000_000_000_000).unwrap();
    let program_id = deploy_at(&mut svm, &payer, &elf, &program);
    let contracts: Vec<(Address, serde_json::Value)> = manifest["contracts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| (c["address"].as_str().unwrap().parse().unwrap(), c.clone()))
        .collect();
    // Each state account: created by the program at its address's
    // program-derived address, the payer paying the rent, in LiteSVM and
    // the sbf engine.
    let mut state_keys = std::collections::BTreeMap::new();
    for (at, c) in &contracts {
        let space = c["state"]["data_len"].as_u64().unwrap() as usize;
        let rent = c["state"]["rent_exempt_lamports"].as_u64().unwrap();
        assert_eq!(svm.minimum_balance_for_rent_exemption(space), rent);
        // Someone sent the second contract's address lamports (a rent-exempt
        // amount for no data, as Agave requires) before it was
        // created (which a plain CreateAccount would refuse).
        let funded = if state_keys.is_empty() { 0 } else { 1_000_000 };
        let expected_key: Pubkey = c["state"]["account"]["key"]
            .as_str()
            .unwrap()
            .parse()
            .unwrap();
        if funded != 0 {
            svm.airdrop(&expected_key, funded).unwrap();
        }
        let funds = svm.get_account(&payer.pubkey()).unwrap().lamports;
        let (key, data, emulated) = chainlift_tests::create_bundle_state(
            &exe,
            program_id.to_bytes(),
            (c, funded),
            (payer.pubkey().to_bytes(), funds),
            heap as usize,
        );
        assert_eq!(emulated.result, Ok(exit::SUCCESS), "create {}", c["name"]);
        let key = Pubkey::new_from_array(key);
        let create = create_state(program_id, key, payer.pubkey(), data);
        let meta = match send_heap_framed(&mut svm, &payer, heap, create) {
            Ok(meta) => meta,
            Err(f) => panic!(
                "create {}: {:?}\n{}",
                c["name"],
                f.err,
                f.meta.pretty_logs()
            ),
        };
        let account = svm.get_account(&key).unwrap();
        assert_eq!(account.data, emulated.state, "create {}", c["name"]);
        assert_eq!(account.owner, program_id, "create {}", c["name"]);
        assert_eq!(account.lamports, rent, "create {}", c["name"]);
        assert_eq!(
            meta.compute_units_consumed,
            emulated.compute_units + 150,
            "create {}: CU",
            c["name"]
        );
        eprintln!(
            "{scenario_file}: {} created at {key} in {} CU",
            c["name"], emulated.compute_units
        );
        state_keys.insert(*at, key);
    }
    // The immutables of contracts the system creates: storage slots
    // revm's world does not have.
    let immutables: std::collections::BTreeSet<U256> = manifest["created"]["contracts"]
        .as_array()
        .into_iter()
        .flatten()
        .flat_map(|c| c["immutables"].as_array().unwrap())
        .map(|i| i["slot"].as_str().unwrap().parse().unwrap())
        .collect();
    let clock = set_clock(&mut svm, &plan.block);

    let mut world = plan.world.clone();
    let mut costs = vec![];
    for (i, step) in plan.steps.iter().enumerate() {
        let label = format!("call {} ({})", i + 1, step.label);
        let caller = funded_caller(&mut svm, step.call.caller);
        assert!(
            step.call.value.is_zero(),
            "{label}: no value in this scenario"
        );
        // A contract's account is its state account; any other address's
        // the key that ends in it.
        let key_for = |a: Address| state_keys.get(&a).copied().unwrap_or_else(|| solana_key(a));
        let mut keys = vec![(key_for(step.call.to), false, true), (caller, true, true)];
        let (solana, emulated) = loop {
            let before = accounts_now(&svm, &keys);
            let data = sbf::instruction_data(0, &step.call.data);
            let emulated = emulate(
                &exe,
                (program_id, clock, heap),
                &keys,
                &before,
                &data,
                &label,
            );
            let ix = Instruction {
                program_id,
                accounts: metas(&keys),
                data,
            };
            let result = send_heap_framed(&mut svm, &payer, heap, ix);
            let (mut solana, meta) = observed(result, 1, accounts_now(&svm, &keys), &label);
            solana.compute_units = program_units(&meta, program_id, heap, &label);
            assert_eq!(
                meta.compute_units_consumed,
                solana.compute_units + 150,
                "{label}"
            );
            if solana.code == exit::ACCOUNT_NEEDED && solana == emulated {
                // An address's account, the system program (the zero
                // address), or (a byte 1 after the address) the state
                // account of a contract being created.
                let at = Address::from_slice(&solana.return_data[..20]);
                let asked = match solana.return_data.get(20) {
                    Some(1) => state_key(program_id, at),
                    _ => key_for(at),
                };
                assert!(
                    !keys.iter().any(|(k, _, _)| *k == asked),
                    "{label}: asked again for {asked}"
                );
                keys.push((asked, false, at != Address::ZERO));
                continue;
            }
            break (solana, emulated);
        };
        let oracle = EvmEngine
            .run(&world, &plan.block, &step.call, plan.fork)
            .unwrap();
        bundle_call_agrees(&label, &solana, &emulated, &oracle);
        world.commit(&step.call, &oracle);
        // Contracts the call created: their state accounts from now on.
        for at in oracle.code.keys() {
            let key = state_key(program_id, *at);
            assert!(
                keys.iter().any(|(k, _, _)| *k == key),
                "{label}: {at} created without its state account"
            );
            state_keys.insert(*at, key);
        }
        for (k, (key, _, _)) in keys.iter().enumerate() {
            let contract = state_keys.iter().find(|(_, s)| *s == key);
            if let (true, Some((&at, _))) = (k != 1, contract) {
                let mut held = nonzero(&solana.data[k]);
                held.retain(|slot, _| !immutables.contains(slot));
                assert_eq!(
                    held, world.accounts[&at].storage,
                    "{label}: storage of {at}"
                );
            }
        }
        costs.push((step.label.clone(), solana.compute_units));
    }
    eprintln!("{scenario_file}: compute units per call in LiteSVM (Agave 4.2), one bundle:");
    for (label, cu) in costs {
        eprintln!("  {cu:>7}  {label}");
    }
    let _ = std::fs::remove_dir_all(dir);
}

/// The program's own units, from its log line, and the heap's cost (8 CU
/// per 32 KiB page past the first), which the transaction pays when the
/// program's VM is created (the transaction's total adds 150 for the
/// RequestHeapFrame).
pub(super) fn program_units(
    meta: &TransactionMetadata,
    program_id: Pubkey,
    heap: u32,
    label: &str,
) -> u64 {
    let consumed = format!("Program {program_id} consumed ");
    let heap_cost = u64::from(heap / (32 * 1024) - 1) * 8;
    heap_cost
        + meta
            .logs
            .iter()
            .find_map(|l| l.strip_prefix(&consumed))
            .and_then(|r| r.split(' ').next())
            .and_then(|n| n.parse::<u64>().ok())
            .unwrap_or_else(|| panic!("{label}: no units in {:?}", meta.logs))
}

/// One call of a bundle: what LiteSVM gave equals what the sbf engine gave
/// (field by field, so that a difference reads short), and revm's status,
/// return data and logs.
pub(super) fn bundle_call_agrees(
    label: &str,
    solana: &Observed,
    emulated: &Observed,
    oracle: &chainlift_emulator::Outcome,
) {
    let same = |what: &str, a: &dyn std::fmt::Debug, b: &dyn std::fmt::Debug| {
        let (a, b) = (format!("{a:?}"), format!("{b:?}"));
        assert!(
            a == b,
            "{label}: {what}: LiteSVM {a:.300} vs the sbf engine {b:.300}"
        );
    };
    same("exit", &solana.code, &emulated.code);
    same("return data", &solana.return_data, &emulated.return_data);
    same("logs", &solana.logs, &emulated.logs);
    same("lamports", &solana.lamports, &emulated.lamports);
    assert!(
        solana.data == emulated.data,
        "{label}: accounts' data differ"
    );
    same(
        "compute units",
        &solana.compute_units,
        &emulated.compute_units,
    );
    let status = match solana.code {
        exit::SUCCESS => Status::Success,
        exit::REVERT => Status::Revert,
        c => panic!("{label}: exit {c}: {}", exit::describe(c)),
    };
    assert_eq!(status, oracle.status, "{label}");
    assert_eq!(solana.return_data, oracle.return_data, "{label}");
    // A failed transaction's logs (records a nested call flushed before
    // the outermost contract reverted) are void, as on the EVM.
    let logs: Vec<_> = solana
        .logs
        .iter()
        .map(|slices| sbf::decode_bundle_log(slices).unwrap())
        .filter(|_| status == Status::Success)
        .collect();
    assert_eq!(logs, oracle.logs, "{label}");
}

/// The instruction that makes a bundle contract's state account at `key`
/// (its manifest's `initialize.data`), `payer` paying the rent.
pub(super) fn create_state(
    program_id: Pubkey,
    key: Pubkey,
    payer: Pubkey,
    data: Vec<u8>,
) -> Instruction {
    Instruction {
        program_id,
        accounts: vec![
            AccountMeta::new(key, false),
            AccountMeta::new(payer, true),
            AccountMeta::new_readonly(solana_sdk_ids::system_program::id(), false),
        ],
        data,
    }
}

/// `ix` in a transaction that asks for a heap of `heap` bytes first,
/// paid for by `payer`; the blockhash expires after it, so the next
/// transaction is a new one even when it is the same. (The result is
/// LiteSVM's own, large error and all.)
#[allow(clippy::result_large_err)]
pub(super) fn send_heap_framed(
    svm: &mut LiteSVM,
    payer: &Keypair,
    heap: u32,
    ix: Instruction,
) -> Result<TransactionMetadata, FailedTransactionMetadata> {
    let mut tx =
        Transaction::new_unsigned(Message::new(&[heap_frame(heap), ix], Some(&payer.pubkey())));
    tx.partial_sign(&[payer], svm.latest_blockhash());
    let result = svm.send_transaction(tx);
    svm.expire_blockhash();
    result
}

/// `ComputeBudgetInstruction::RequestHeapFrame(bytes)`.
pub(super) fn heap_frame(bytes: u32) -> Instruction {
    let mut data = vec![1u8];
    data.extend_from_slice(&bytes.to_le_bytes());
    Instruction {
        program_id: solana_sdk_ids::compute_budget::id(),
        accounts: vec![],
        data,
    }
}

#[test]
fn the_erc4626_vault_and_its_token_run_as_one_bundle_in_litesvm_as_on_revm() {
    bundle_deploys_and_matches("examples/scenarios/erc4626.toml");
}

/// The pair factory: the factory creates its pair with CREATE2 inside
/// the program (the pair's state account at the program-derived address
/// of its EVM address, which the client adds when the program asks), a
/// second creation at that address fails as on revm, and the pair then
/// calls back into the tokens.
#[test]
fn the_factory_creates_its_pair_in_the_bundle_in_litesvm_as_on_revm() {
    bundle_deploys_and_matches("examples/scenarios/factory.toml");
}

/// A proxy over an implementation: an EIP-1167 clone delegating to the
/// token, both in the bundle; the token's code runs on the clone's state
/// account.
#[test]
fn the_clone_runs_the_token_on_its_own_storage_in_litesvm_as_on_revm() {
    bundle_deploys_and_matches("examples/scenarios/proxy.toml");
}
