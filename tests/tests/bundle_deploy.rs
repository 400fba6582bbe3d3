//! Deploying a system of contracts on Solana: the program creates each
//! contract's state account at the program-derived address of its EVM
//! address (only the contracts the system deploys, once each), and a
//! client that follows the manifest `chainlift translate --deploy` writes
//! plays the system's scenario as revm does.

use alloy_primitives::{Address, U256};
use chainlift_emulator::evm::EvmEngine;
use chainlift_emulator::{BlockEnv, Engine, Status};
use chainlift_frontend_evm::Fork;
use chainlift_tests::hex;

/// `chainlift translate --deploy` of a scenario with several contracts
/// writes one program for the system and a manifest per contract (code
/// id, address, state account, initialize). A client that creates and
/// initializes each state account as the manifest says, then sends the
/// scenario's calls (adding the state accounts the program asks for), gets
/// revm's status and return data on every call.
#[test]
fn translate_writes_one_program_for_a_system_that_runs_its_scenario() {
    use chainlift_backend_sbf::exit;
    use chainlift_emulator::sbf::{self, AccountIn, Invocation};
    let dir = std::env::temp_dir().join(format!("chainlift-system-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let so = dir.join("erc4626.so");
    let scenario = "examples/scenarios/erc4626.toml";
    let program_id = bs58::encode(sbf::PROGRAM_ID).into_string();
    let run = chainlift_tests::translate_deploy(scenario, &so, &program_id);
    assert!(
        run.stdout.contains("bundle of 2 contracts"),
        "{}",
        run.stdout
    );
    let m: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("erc4626.manifest.json")).unwrap())
            .unwrap();
    let exe = sbf::load(&std::fs::read(&so).unwrap()).unwrap();
    let heap_size = m["program"]["heap_bytes"].as_u64().unwrap() as usize;
    assert_eq!(heap_size, 256 * 1024);
    // The Codama IDL: per contract, an initialize instruction whose data is
    // the manifest's, and one instruction per function (its selector at
    // offset 8), all names distinct.
    let idl: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("erc4626.codama.json")).unwrap())
            .unwrap();
    let ixs = idl["program"]["instructions"].as_array().unwrap();
    let names: std::collections::BTreeSet<&str> =
        ixs.iter().map(|ix| ix["name"].as_str().unwrap()).collect();
    assert_eq!(names.len(), ixs.len(), "distinct names");
    for c in m["contracts"].as_array().unwrap() {
        let name = c["name"].as_str().unwrap();
        let init = ixs
            .iter()
            .find(|ix| {
                ix["name"] == format!("initialize{}{}", name[..1].to_uppercase(), &name[1..])
            })
            .unwrap_or_else(|| panic!("no initialize for {name}"));
        let id = c["code_id"].as_u64().unwrap();
        assert_eq!(init["discriminators"][1]["constant"]["value"]["number"], id);
        let data =
            alloy_primitives::hex::decode(c["initialize"]["data"].as_str().unwrap()).unwrap();
        assert_eq!(
            data.len() as u64,
            init["discriminators"][0]["size"].as_u64().unwrap()
        );
        assert_eq!(
            u32::from_le_bytes(data[8..12].try_into().unwrap()) as u64,
            id
        );
        assert_eq!(
            &data[12..32],
            c["address"]
                .as_str()
                .unwrap()
                .parse::<Address>()
                .unwrap()
                .as_slice()
        );
        for f in c["functions"].as_array().unwrap() {
            let selector = &f["selector"].as_str().unwrap()[2..];
            assert!(
                ixs.iter()
                    .any(|ix| ix["name"].as_str().unwrap().starts_with(name)
                        && ix["discriminators"][0]["constant"]["value"]["data"] == selector),
                "{name}: {selector}"
            );
        }
    }
    // Each contract's state account, created by the program at its
    // address's program-derived address.
    let mut states: std::collections::BTreeMap<Address, (Vec<u8>, u64, [u8; 32])> =
        Default::default();
    for c in m["contracts"].as_array().unwrap() {
        let at: Address = c["address"].as_str().unwrap().parse().unwrap();
        let lamports = c["state"]["rent_exempt_lamports"].as_u64().unwrap();
        let (key, _, r) = chainlift_tests::create_bundle_state(
            &exe,
            sbf::PROGRAM_ID,
            (c, 0),
            ([7; 32], 1 << 40),
            heap_size,
        );
        assert_eq!(r.result, Ok(exit::SUCCESS), "{}", c["name"]);
        assert_eq!(r.owners[0], sbf::PROGRAM_ID, "{}", c["name"]);
        assert_eq!(
            r.lamports,
            [lamports, (1 << 40) - lamports, 1],
            "{}",
            c["name"]
        );
        assert_eq!(
            r.state.len() as u64,
            c["state"]["data_len"].as_u64().unwrap()
        );
        assert_eq!(
            chainlift_backend_sbf::storage::bundle_contract(&r.state),
            Some((c["code_id"].as_u64().unwrap() as u32, at))
        );
        states.insert(at, (r.state, lamports, key));
    }
    let plan = chainlift_cli::scenario::load(
        std::path::Path::new(&chainlift_tests::path(scenario)),
        BlockEnv::default(),
        Fork::Osaka,
        30_000_000,
        None,
    )
    .unwrap();
    let mut world = plan.world.clone();
    for step in &plan.steps {
        let call = &step.call;
        let mut order = vec![call.to];
        let r = loop {
            let mut accounts: Vec<AccountIn> = vec![];
            let snapshot = states.clone();
            for (i, a) in order.iter().enumerate() {
                let (data, lamports, key) = &snapshot[a];
                accounts.push(AccountIn {
                    key: *key,
                    owner: sbf::PROGRAM_ID,
                    lamports: *lamports,
                    signer: false,
                    writable: true,
                    executable: false,
                    data,
                });
                if i == 0 {
                    accounts.push(AccountIn {
                        key: sbf::key_of(call.caller),
                        owner: [0; 32],
                        lamports: 1 << 40,
                        signer: true,
                        writable: false,
                        executable: false,
                        data: &[],
                    });
                }
            }
            let r = sbf::execute(
                &exe,
                false,
                &Invocation {
                    program_id: sbf::PROGRAM_ID,
                    accounts: &accounts,
                    data: &sbf::instruction_data(0, &call.data),
                    clock: (0, 0),
                    heap_size,
                },
            );
            if r.result == Ok(exit::ACCOUNT_NEEDED) {
                let wanted = Address::from_slice(&r.return_data);
                assert!(states.contains_key(&wanted), "{}: {wanted}", step.label);
                assert!(!order.contains(&wanted));
                order.push(wanted);
                continue;
            }
            // The state accounts' data after the call (index 1 is the caller).
            let mut after = vec![];
            for (i, a) in order.iter().enumerate() {
                let at = if i == 0 { 0 } else { i + 1 };
                after.push((*a, r.data[at].clone()));
            }
            break (r, after);
        };
        let (r, after) = r;
        let oracle = EvmEngine.run(&world, &plan.block, call, plan.fork).unwrap();
        let status = match r.result {
            Ok(exit::SUCCESS) => Status::Success,
            Ok(exit::REVERT) => Status::Revert,
            other => panic!("{}: {other:?}", step.label),
        };
        assert_eq!(status, oracle.status, "{}", step.label);
        assert_eq!(r.return_data, oracle.return_data, "{}", step.label);
        if status == Status::Success {
            for (a, data) in after {
                states.get_mut(&a).unwrap().0 = data;
            }
        }
        world.commit(call, &oracle);
    }
    let _ = std::fs::remove_dir_all(dir);
}

/// The instruction that creates a contract's state account: only at the
/// program-derived address of the address it names (with its bump), with
/// a code id of the bundle, no value, a writable signer paying the rent
/// and the system program; anything else ends with a named error before
/// anything is created. Once created, the account runs its code under
/// that address (`address(this)` from its prefix, `msg.sender` the
/// signer's key).
#[test]
fn the_program_creates_a_state_account_only_at_its_address() {
    use chainlift_backend_sbf::{Contract, Target, address, bundle, exit, storage};
    use chainlift_emulator::sbf::{self, AccountIn, Invocation};
    // Returns ADDRESS and CALLER.
    let code = hex("30 6000 52 33 6020 52 6040 6000 f3");
    let module = chainlift_frontend_evm::pipeline::Cache::shared()
        .get(&code, Fork::Osaka, Default::default())
        .unwrap();
    let slots = [(U256::from(5), U256::from(7))].into_iter().collect();
    let at = Address::repeat_byte(0x5c);
    let contracts = [Contract {
        module: &module.module,
        initial_storage: &slots,
        address: Some(at),
        immutables: &[],
        nonce: 1,
        init: None,
    }];
    let target = Target {
        heap_size: bundle::HEAP,
        ..Target::default()
    };
    let program = chainlift_backend_sbf::translate_bundle(&contracts, &target).unwrap();
    let exe = sbf::load(&program.elf).unwrap();
    let (key, bump) = address::state_account(&sbf::PROGRAM_ID, at);
    let payer = [9u8; 32];
    let create = |data: &[u8], accounts: &[AccountIn]| {
        sbf::execute(
            &exe,
            false,
            &Invocation {
                program_id: sbf::PROGRAM_ID,
                accounts,
                data,
                clock: (0, 0),
                heap_size: bundle::HEAP as usize,
            },
        )
    };
    let data = |id: u32, a: Address, bump: u8| {
        let mut d = vec![0u8; 8];
        d.extend_from_slice(&id.to_le_bytes());
        d.extend_from_slice(a.as_slice());
        d.push(bump);
        d
    };
    let accounts = [
        AccountIn::other(key, [0; 32], 0),
        AccountIn::payer(payer, 1 << 40),
        AccountIn::system_program(),
    ];
    let rent = (128 + storage::CREATED_BYTES as u64) * u64::from(target.rent_per_byte);
    // Refused, naming the problem: an address the system does not deploy
    // (or not with that code), another bump than the key's, a code id past
    // the bundle's, a value, short data.
    let other = Address::repeat_byte(0x5d);
    for (why, d, code) in [
        (
            "an address not deployed",
            data(0, other, bump),
            exit::BAD_INPUT,
        ),
        (
            "another bump",
            data(0, at, bump.wrapping_sub(1)),
            exit::BAD_ACCOUNTS,
        ),
        ("code id 1 of 1", data(1, at, bump), exit::BAD_INPUT),
        (
            "short data",
            data(0, at, bump)[..32].to_vec(),
            exit::BAD_INPUT,
        ),
        (
            "a value",
            [&[1u8][..], &data(0, at, bump)[1..]].concat(),
            exit::BAD_INPUT,
        ),
    ] {
        let r = create(&d, &accounts);
        assert_eq!(r.result, Ok(code), "{why}");
        assert_eq!(r.lamports[0], 0, "{why}");
        assert!(r.data[0].is_empty(), "{why}");
    }
    // A second account for the address: the key of a lower bump that
    // also gives a program-derived address is not the state account.
    let lower = (1..bump)
        .rev()
        .find_map(|b| {
            address::create_program_address(
                &[address::STATE_SEED, at.as_slice(), &[b]],
                &sbf::PROGRAM_ID,
            )
            .map(|k| (k, b))
        })
        .expect("another bump gives a program-derived address");
    let mut second = accounts.clone();
    second[0].key = lower.0;
    let r = create(&data(0, at, lower.1), &second);
    assert_eq!(
        r.result,
        Ok(exit::BAD_ACCOUNTS),
        "a second account for the address"
    );
    // A read-only payer; an account someone else owns.
    let mut read_only = accounts.clone();
    read_only[1].writable = false;
    assert_eq!(
        create(&data(0, at, bump), &read_only).result,
        Ok(exit::BAD_ACCOUNTS)
    );
    let mut foreign = accounts.clone();
    foreign[0].owner = [0x22; 32];
    assert_eq!(
        create(&data(0, at, bump), &foreign).result,
        Ok(exit::BAD_ACCOUNTS)
    );
    // Without the system program the runtime refuses the creation.
    let r = create(&data(0, at, bump), &accounts[..2]);
    assert!(
        r.result
            .as_ref()
            .is_err_and(|e| e.contains("Unknown program")),
        "{:?}",
        r.result
    );
    // Created: owned by the program, the rent paid by the signer, the
    // prefix and the constructor's storage written.
    let r = create(&data(0, at, bump), &accounts);
    assert_eq!(r.result, Ok(exit::SUCCESS));
    assert_eq!(r.owners[0], sbf::PROGRAM_ID);
    assert_eq!(r.lamports[..2], [rent, (1 << 40) - rent]);
    assert_eq!(storage::bundle_contract(&r.state), Some((0, at)));
    assert_eq!(r.state[storage::BUMP], bump);
    assert_eq!(storage::decode(&r.state).unwrap(), slots);
    // An account someone sent lamports to before (which CreateAccount
    // refuses): topped up to its rent, allocated and assigned; with more
    // than its rent, the payer pays nothing.
    for funded in [1_000_000, rent + 5] {
        let mut sent = accounts.clone();
        sent[0].lamports = funded;
        let f = create(&data(0, at, bump), &sent);
        assert_eq!(f.result, Ok(exit::SUCCESS), "funded with {funded}");
        assert_eq!(f.owners[0], sbf::PROGRAM_ID);
        assert_eq!(f.state, r.state, "funded with {funded}");
        assert_eq!(
            f.lamports[..2],
            [rent.max(funded), (1 << 40) - rent.saturating_sub(funded)]
        );
    }
    // A call: its address from the prefix, its caller the signer's key.
    let call = create(
        &sbf::instruction_data(0, &[]),
        &[
            AccountIn {
                owner: sbf::PROGRAM_ID,
                lamports: rent,
                data: &r.state,
                ..AccountIn::other(key, [0; 32], 0)
            },
            AccountIn::payer(sbf::key_of(Address::repeat_byte(0xca)), 1 << 40),
        ],
    );
    assert_eq!(call.result, Ok(exit::SUCCESS));
    let mut expected = [0u8; 64];
    expected[12..32].copy_from_slice(at.as_slice());
    expected[44..64].copy_from_slice(&[0xca; 20]);
    assert_eq!(call.return_data, expected);
}

/// `translate --check --deploy` of a system checks every contract it
/// deploys, once each (a name bound later to one of them is not another),
/// as one of the bundle (the factory's CREATE2 runs in it), and the
/// contracts they create (a template and init code each). The exit code is
/// 1 when any contract has an operation with no mapping.
#[test]
fn check_lists_the_problems_of_every_contract_of_a_system() {
    use chainlift_backend_sbf::exit;
    let sites = |v: &serde_json::Value, code: u64| {
        v["limit_sites"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|s| s["exit_code"] == code)
            .count()
    };
    let check = |scenario: &str| {
        chainlift_tests::chainlift(&[
            "translate",
            "--check",
            "--json",
            "--deploy",
            &chainlift_tests::path(scenario),
        ])
    };
    let run = check("examples/scenarios/erc4626.toml");
    assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
    let v: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
    assert_eq!(v["translates"], true);
    let names: Vec<&str> = v["contracts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["token", "vault"]);
    let vault = &v["contracts"][1];
    assert!(sites(vault, exit::STORAGE_FULL) > 0, "{vault}");
    // A call that leaves the bundle still ends in that target limit.
    assert!(sites(vault, exit::CALL_INTO_CODE) > 0, "{vault}");

    // The factory's create2 runs in the bundle: init code the bundle does
    // not hold is a target limit there.
    let run = check("examples/scenarios/factory.toml");
    assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
    let v: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
    assert_eq!(v["translates"], true);
    let contracts = v["contracts"].as_array().unwrap();
    let names: Vec<&str> = contracts
        .iter()
        .map(|c| c["name"].as_str().unwrap())
        .collect();
    // Then the pair it creates: its runtime (a template) and its init
    // code, each checked as the program holds it.
    assert_eq!(
        names,
        [
            "tokenA",
            "tokenB",
            "factory",
            "factory's child (init code at 0x611..0x13c2): runtime",
            "factory's child (init code at 0x611..0x13c2): init code"
        ]
    );
    let factory = &contracts[2];
    assert_eq!(sites(factory, exit::CREATE_UNKNOWN), 1, "{factory}");
    assert_eq!(contracts[3]["address"], serde_json::Value::Null);
    // The pair calls its tokens (in the bundle at run time, target limits
    // at sites the check cannot resolve).
    assert!(sites(&contracts[3], exit::CALL_INTO_CODE) > 0);
    assert_eq!(contracts[4]["translates"], true);
    // A system with an operation that has no mapping: exit 1, and the
    // contract that has it says so.
    let dir = std::env::temp_dir().join(format!("chainlift-check-system-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let scenario = dir.join("system.toml");
    std::fs::write(
        &scenario,
        format!(
            "[[contract]]\nname = \"token\"\nartifact = \"{}\"\nconstructor = {{ args = [\"0x00000000000000000000000000000000000a11ce\", \"1000\"] }}\n\n[[contract]]\nname = \"hasher\"\nruntime = \"0x5f405f5500\"\naddress = \"0x00000000000000000000000000000000000be5e0\"\n\n[[call]]\nto = \"hasher\"\n",
            chainlift_tests::path("examples/token/out/Token.json")
        ),
    )
    .unwrap();
    let run = chainlift_tests::chainlift(&[
        "translate",
        "--check",
        "--json",
        "--deploy",
        scenario.to_str().unwrap(),
    ]);
    assert_eq!(run.code, 1, "{}{}", run.stdout, run.stderr);
    let v: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
    assert_eq!(v["translates"], false);
    assert_eq!(v["contracts"][0]["translates"], true);
    assert_eq!(
        v["contracts"][1]["unsupported"][0]["what"],
        "host.blockhash"
    );
    let _ = std::fs::remove_dir_all(dir);
    // The text form: a header per contract.
    let run = chainlift_tests::chainlift(&[
        "translate",
        "--check",
        "--deploy",
        &chainlift_tests::path("examples/scenarios/factory.toml"),
    ]);
    assert_eq!(run.code, 0);
    assert!(
        run.stdout.starts_with(
            "a system of 3 contracts and 1 they create, one program: every contract translates"
        ),
        "{}",
        run.stdout
    );
    assert!(run.stdout.contains("\n== factory (0x"), "{}", run.stdout);
}

/// A system in two programs (`program = "token"`): `translate --deploy`
/// writes each with `--program`, knowing the other's id; the manifest
/// lists the contracts the other holds, with their program and state
/// account; an id left out is an error that names the program; and
/// `--check` needs none, and lists the calls that can end in `call_out`.
#[test]
fn a_system_in_two_programs_translates_one_program_at_a_time() {
    use chainlift_backend_sbf::exit;
    let scenario = chainlift_tests::path("examples/scenarios/erc4626-programs.toml");
    let dir = std::env::temp_dir().join(format!("chainlift-two-programs-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let (vault_id, token_id) = (
        bs58::encode([7u8; 32]).into_string(),
        bs58::encode([9u8; 32]).into_string(),
    );
    let (vault_id, token_id) = (vault_id.as_str(), token_id.as_str());
    for (name, me, other) in [
        ("main", vault_id, format!("token={token_id}")),
        ("token", token_id, format!("main={vault_id}")),
    ] {
        let so = dir.join(format!("{name}.so"));
        let run = chainlift_tests::chainlift(&[
            "translate",
            "--deploy",
            &scenario,
            "--program",
            name,
            "-o",
            so.to_str().unwrap(),
            "--program-id",
            me,
            "--program-ids",
            &other,
        ]);
        assert_eq!(run.code, 0, "{name}: {}{}", run.stdout, run.stderr);
        let manifest: serde_json::Value = serde_json::from_str(
            &std::fs::read_to_string(dir.join(format!("{name}.manifest.json"))).unwrap(),
        )
        .unwrap();
        let outside = &manifest["outside"]["contracts"][0];
        let (mine, theirs, id) = match name {
            "main" => ("vault", "token", token_id),
            _ => ("token", "vault", vault_id),
        };
        assert_eq!(manifest["contracts"][0]["name"], mine);
        assert_eq!(manifest["contracts"].as_array().unwrap().len(), 1);
        assert_eq!(outside["name"], theirs);
        assert_eq!(outside["program"], id);
        let address: Address = outside["address"].as_str().unwrap().parse().unwrap();
        let key: [u8; 32] = bs58::decode(id).into_vec().unwrap().try_into().unwrap();
        let state = chainlift_backend_sbf::address::state_account(&key, address).0;
        assert_eq!(outside["state_account"], bs58::encode(state).into_string());
    }
    let run = chainlift_tests::chainlift(&[
        "translate",
        "--deploy",
        &scenario,
        "-o",
        dir.join("x.so").to_str().unwrap(),
    ]);
    assert_eq!(run.code, 2);
    assert!(
        run.stderr.contains("--program-ids token=KEY"),
        "{}",
        run.stderr
    );
    let run =
        chainlift_tests::chainlift(&["translate", "--check", "--json", "--deploy", &scenario]);
    assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
    let v: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
    let vault = &v["contracts"][0];
    assert_eq!(vault["name"], "vault");
    assert!(
        vault["limit_sites"]
            .as_array()
            .unwrap()
            .iter()
            .any(|s| s["exit_code"] == exit::CALL_OUT),
        "{vault}"
    );
    let _ = std::fs::remove_dir_all(dir);
}
