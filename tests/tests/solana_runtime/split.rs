//! A system in two programs in LiteSVM: the vault in one, its token in
//! another (`program = "token"` in the scenario). The vault's calls into
//! the token are cross-program invocations signed for by the vault's state
//! account, which the token takes for the vault's address; each call must
//! give what the sbf engine gives for the same programs and accounts, and
//! what revm gives.

use super::bundles::{bundle_call_agrees, create_state, program_units, send_heap_framed};
use super::*;
use chainlift_emulator::sbf::Programs;
use std::sync::Arc;

#[test]
fn a_vault_calls_its_token_in_another_program_in_litesvm_as_on_revm() {
    let dir = std::env::temp_dir().join(format!("chainlift-litesvm-split-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = PathBuf::from(path("examples/scenarios/erc4626-programs.toml"));
    let (vault_kp, token_kp) = (Keypair::new(), Keypair::new());
    let (vault_id, token_id) = (vault_kp.pubkey(), token_kp.pubkey());
    // Each program knows the other's id.
    let mut manifests = vec![];
    for (name, me, other) in [
        ("main", &vault_id, ("token", &token_id)),
        ("token", &token_id, ("main", &vault_id)),
    ] {
        let so = dir.join(format!("{name}.so"));
        let run = chainlift_tests::chainlift(&[
            "translate",
            "--deploy",
            file.to_str().unwrap(),
            "--program",
            name,
            "-o",
            so.to_str().unwrap(),
            "--program-id",
            &me.to_string(),
            "--program-ids",
            &format!("{}={}", other.0, other.1),
        ]);
        assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
        let manifest: serde_json::Value = serde_json::from_str(
            &std::fs::read_to_string(dir.join(format!("{name}.manifest.json"))).unwrap(),
        )
        .unwrap();
        manifests.push((*me, std::fs::read(&so).unwrap(), manifest));
    }
    let plan = scenario::load(&file, BlockEnv::default(), Fork::Osaka, 10_000_000, None).unwrap();
    let heap = manifests[0].2["program"]["heap_bytes"].as_u64().unwrap() as u32;

    let mut svm = LiteSVM::new().with_sigverify(false);
    let payer = Keypair::new();
    svm.airdrop(&payer.pubkey(), 1_000_000_000_000).unwrap();
    deploy_at(&mut svm, &payer, &manifests[0].1, &vault_kp);
    deploy_at(&mut svm, &payer, &manifests[1].1, &token_kp);
    let programs: Arc<Programs> = Arc::new(
        manifests
            .iter()
            .map(|(id, elf, _)| (id.to_bytes(), Arc::new(Ok(sbf::load(elf).unwrap()))))
            .collect(),
    );
    let exe_of = |id: Pubkey| {
        let (_, exe) = programs.iter().find(|(k, _)| *k == id.to_bytes()).unwrap();
        exe.clone()
    };
    // Each contract's state account, created by its own program.
    let mut state_keys: BTreeMap<Address, (Pubkey, Pubkey)> = BTreeMap::new();
    for (program_id, _, manifest) in &manifests {
        let exe = exe_of(*program_id);
        let exe = exe.as_ref().as_ref().unwrap();
        for c in manifest["contracts"].as_array().unwrap() {
            let at: Address = c["address"].as_str().unwrap().parse().unwrap();
            let funds = svm.get_account(&payer.pubkey()).unwrap().lamports;
            let (key, data, emulated) = chainlift_tests::create_bundle_state(
                exe,
                program_id.to_bytes(),
                (c, 0),
                (payer.pubkey().to_bytes(), funds),
                heap as usize,
            );
            assert_eq!(emulated.result, Ok(exit::SUCCESS), "create {}", c["name"]);
            let key = Pubkey::new_from_array(key);
            let create = create_state(*program_id, key, payer.pubkey(), data);
            if let Err(f) = send_heap_framed(&mut svm, &payer, heap, create) {
                panic!(
                    "create {}: {:?}\n{}",
                    c["name"],
                    f.err,
                    f.meta.pretty_logs()
                );
            }
            state_keys.insert(at, (key, *program_id));
        }
    }
    let clock = set_clock(&mut svm, &plan.block);
    let mut world = plan.world.clone();
    let (mut costs, mut stopped) = (vec![], 0);
    for (i, step) in plan.steps.iter().enumerate() {
        let label = format!("call {} ({})", i + 1, step.label);
        let caller = funded_caller(&mut svm, step.call.caller);
        let (state, program_id) = state_keys[&step.call.to];
        let exe = exe_of(program_id);
        let exe = exe.as_ref().as_ref().unwrap();
        let key_for = |a: Address| state_keys.get(&a).map_or_else(|| solana_key(a), |s| s.0);
        let mut keys = vec![(state, false, true), (caller, true, true)];
        let data = sbf::instruction_data(0, &step.call.data);
        let (solana, emulated) = loop {
            let before = accounts_now(&svm, &keys);
            let emulated = emulate_in(
                exe,
                programs.clone(),
                (program_id, clock, heap),
                &keys,
                &before,
                &data,
            );
            let ix = Instruction {
                program_id,
                accounts: metas(&keys),
                data: data.clone(),
            };
            let result = send_heap_framed(&mut svm, &payer, heap, ix);
            // A call out whose program failed fails the transaction: the
            // sbf engine names it, LiteSVM reports the called program's
            // error as the instruction's.
            if let Err(e) = &emulated {
                assert!(e.contains(sbf::CALL_OUT_FAILED), "{label}: sbf: {e}");
                let Err(f) = result else {
                    panic!("{label}: LiteSVM ran what the sbf engine could not: {e}")
                };
                assert!(
                    matches!(
                        f.err,
                        TransactionError::InstructionError(1, InstructionError::Custom(_))
                    ),
                    "{label}: {:?}",
                    f.err
                );
                break (None, None);
            }
            let (mut solana, meta) = observed(result, 1, accounts_now(&svm, &keys), &label);
            solana.compute_units = program_units(&meta, program_id, heap, &label);
            let emulated = emulated.expect("an exit code");
            if solana.code == exit::ACCOUNT_NEEDED && solana == emulated {
                let r = &solana.return_data;
                let at = Address::from_slice(&r[..20]);
                if r.len() == 52 {
                    // A contract another program holds: that program and
                    // the address's state account under it.
                    let other = Pubkey::try_from(&r[20..]).unwrap();
                    keys.push((other, false, false));
                    keys.push((state_key(other, at), false, true));
                } else {
                    keys.push((key_for(at), false, at != Address::ZERO));
                }
                continue;
            }
            break (Some(solana), Some(emulated));
        };
        let oracle = EvmEngine
            .run(&world, &plan.block, &step.call, plan.fork)
            .unwrap();
        let (Some(solana), Some(emulated)) = (solana, emulated) else {
            // (The EVM would have given the vault 0 and gone on.)
            assert_eq!(oracle.status, Status::Revert, "{label}");
            stopped += 1;
            world.commit(&step.call, &oracle);
            continue;
        };
        bundle_call_agrees(&label, &solana, &emulated, &oracle);
        world.commit(&step.call, &oracle);
        for (k, (key, _, _)) in keys.iter().enumerate() {
            let contract = state_keys.iter().find(|(_, s)| s.0 == *key);
            if let (true, Some((&at, _))) = (k != 1, contract) {
                assert_eq!(
                    nonzero(&solana.data[k]),
                    world.accounts[&at].storage,
                    "{label}: storage of {at}"
                );
            }
        }
        costs.push((step.label.clone(), solana.compute_units));
    }
    assert_eq!(stopped, 1, "one call's token reverts inside the call out");
    eprintln!(
        "the vault and its token in two programs: compute units per call in LiteSVM (Agave 4.2):"
    );
    for (label, cu) in costs {
        eprintln!("  {cu:>7}  {label}");
    }
    let _ = std::fs::remove_dir_all(dir);
}
