//! A Solana client's view of a translated program: the manifest and the
//! Codama IDL `translate` writes beside the ELF must describe the program
//! as it runs. A client that knows only those two files (how to create and
//! initialize the state account, the instruction data each function
//! takes, the accounts, the events, the errors) drives the ERC20 through
//! its scenario in the sbf engine, and every call must end as on revm.
//! Also `chainlift address`.

use alloy_primitives::{Address, U256};
use chainlift_backend_sbf::exit;
use chainlift_emulator::evm::EvmEngine;
use chainlift_emulator::sbf::{self, AccountIn, Invocation};
use chainlift_emulator::{Engine, Status};
use chainlift_frontend_evm::Fork;
use chainlift_tests::{chainlift, path};
use serde_json::Value;
use std::collections::BTreeMap;

/// Encodes one argument by its Codama type node, from `input`: the bytes
/// the argument stands for (a word's significant bytes, or the rest of
/// the calldata for `bytesTypeNode`). Only the nodes the IDL uses.
fn encode(ty: &Value, input: &[u8]) -> Vec<u8> {
    match ty["kind"].as_str().unwrap() {
        "preOffsetTypeNode" => {
            assert_eq!(ty["strategy"], "padded");
            let mut out = vec![0u8; ty["offset"].as_u64().unwrap() as usize];
            out.extend(encode(&ty["type"], input));
            out
        }
        "fixedSizeTypeNode" => {
            let size = ty["size"].as_u64().unwrap() as usize;
            assert_eq!(input.len(), size, "{ty}");
            input.to_vec()
        }
        "numberTypeNode" => {
            assert_eq!(ty["endian"], "be");
            input.to_vec()
        }
        "booleanTypeNode" => input.to_vec(),
        "bytesTypeNode" => input.to_vec(),
        other => panic!("no encoder for {other}"),
    }
}

/// The bytes an argument of Codama type `ty` takes from an ABI word: the
/// significant ones, which the encoding pads back.
fn significant(ty: &Value, word: &[u8]) -> Vec<u8> {
    match ty["kind"].as_str().unwrap() {
        "preOffsetTypeNode" => word[ty["offset"].as_u64().unwrap() as usize..].to_vec(),
        _ => word.to_vec(),
    }
}

/// The instruction data for `calldata` by the IDL's instruction for its
/// selector: `lamports`, the selector (its default), then each argument.
fn instruction_data(idl: &Value, lamports: u64, calldata: &[u8]) -> Vec<u8> {
    let selector = alloy_primitives::hex::encode(&calldata[..4]);
    let ix = idl["program"]["instructions"]
        .as_array()
        .unwrap()
        .iter()
        .find(|ix| ix["discriminators"][0]["constant"]["value"]["data"].as_str() == Some(&selector))
        .unwrap_or_else(|| panic!("no instruction for selector {selector}"));
    let d = &ix["discriminators"][0];
    assert_eq!(d["kind"], "constantDiscriminatorNode");
    assert_eq!(d["offset"], 8, "the selector follows the 8-byte value");
    let args = ix["arguments"].as_array().unwrap();
    assert_eq!(args[0]["name"], "lamports");
    assert_eq!(args[0]["type"]["format"], "u64");
    assert_eq!(args[0]["type"]["endian"], "le");
    assert_eq!(args[1]["name"], "selector");
    assert_eq!(args[1]["defaultValue"]["data"], selector.as_str());
    let mut out = lamports.to_le_bytes().to_vec();
    out.extend(alloy_primitives::hex::decode(&selector).unwrap());
    let body = &calldata[4..];
    for (i, a) in args[2..].iter().enumerate() {
        if a["type"]["kind"] == "bytesTypeNode" {
            assert_eq!(a["name"], "abiArguments");
            out.extend(encode(&a["type"], body));
        } else {
            let word = &body[32 * i..32 * i + 32];
            out.extend(encode(&a["type"], &significant(&a["type"], word)));
        }
    }
    out
}

/// A Solana key standing for `a`: any 12 bytes, then the address.
fn key_for(a: Address) -> [u8; 32] {
    let mut k = [0x5a; 32];
    k[12..].copy_from_slice(a.as_slice());
    k
}

/// A `sol_log_data` record as the manifest's event format says: a byte
/// n, n topics of 32 bytes, the data.
fn decode_record(slices: &[Vec<u8>]) -> (Vec<U256>, Vec<u8>) {
    let record = slices.concat();
    let n = record[0] as usize;
    let topics = (0..n)
        .map(|i| U256::from_be_slice(&record[1 + 32 * i..33 + 32 * i]))
        .collect();
    (topics, record[1 + 32 * n..].to_vec())
}

/// A fixed account an IDL instruction names: (writable, signer).
fn account_flags(ix: &Value, name: &str) -> Option<(bool, bool)> {
    ix["accounts"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["name"] == name)
        .map(|a| (a["isWritable"] == true, a["isSigner"] == true))
}

/// The IDL's instruction for a calldata's selector.
fn instruction_for<'a>(idl: &'a Value, calldata: &[u8]) -> &'a Value {
    let selector = alloy_primitives::hex::encode(&calldata[..4]);
    idl["program"]["instructions"]
        .as_array()
        .unwrap()
        .iter()
        .find(|ix| ix["discriminators"][0]["constant"]["value"]["data"].as_str() == Some(&selector))
        .unwrap_or_else(|| panic!("no instruction for selector {selector}"))
}

/// Translates what `scenario` deploys with `--program-id`, then plays
/// its calls as a client that knows only the manifest and the IDL would:
/// creates and initializes the state account as the manifest says, builds
/// each instruction's data and accounts from the IDL, sends lamports for
/// value, adds the accounts the program asks for, and compares each call
/// with revm on the same world: status, return data, logs (decoded by the
/// manifest's record format, each a known event), and the balances of the
/// contract and the accounts it paid. Returns the manifest and how many
/// accounts the program asked for.
fn drive(scenario: &str, stem: &str) -> (Value, usize) {
    let dir = std::env::temp_dir().join(format!("chainlift-client-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let so = dir.join(format!("{stem}.so"));
    let program_id = bs58::encode(sbf::PROGRAM_ID).into_string();
    let run = chainlift_tests::translate_deploy(scenario, &so, &program_id);
    assert!(
        run.stdout.contains(&format!("{stem}.manifest.json")),
        "{}",
        run.stdout
    );
    let elf = std::fs::read(&so).unwrap();
    let read = |name: String| -> Value {
        serde_json::from_str(&std::fs::read_to_string(dir.join(name)).unwrap()).unwrap()
    };
    let (manifest, idl) = (
        read(format!("{stem}.manifest.json")),
        read(format!("{stem}.codama.json")),
    );

    // The files against the program and the bytecode.
    assert_eq!(manifest["program"]["elf_bytes"], elf.len());
    assert_eq!(idl["kind"], "rootNode");
    assert_eq!(idl["standard"], "codama");
    assert_eq!(idl["program"]["publicKey"], program_id.as_str());
    let plan = chainlift_cli::scenario::load(
        std::path::Path::new(&path(scenario)),
        Default::default(),
        Fork::Osaka,
        30_000_000,
        None,
    )
    .unwrap();
    let contract = plan.contracts[0].address;
    let code = plan.world.accounts[&contract].code.clone();
    let analysis = chainlift_frontend_evm::analyze(&code, &Default::default()).unwrap();
    let in_code: Vec<String> = analysis
        .dispatch
        .selectors
        .iter()
        .map(|s| format!("0x{:08x}", s.selector))
        .collect();
    let functions = manifest["functions"].as_array().unwrap();
    let listed: Vec<String> = functions
        .iter()
        .filter(|f| f["in_bytecode"] == true)
        .map(|f| f["selector"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(
        listed, in_code,
        "every selector the dispatcher has, and no other"
    );
    // One instruction per function, after `initialize`, with unique names.
    let ixs = idl["program"]["instructions"].as_array().unwrap();
    assert_eq!(ixs.len(), functions.len() + 1);
    assert_eq!(ixs[0]["name"], "initialize");
    let names: std::collections::BTreeSet<&str> =
        ixs.iter().map(|ix| ix["name"].as_str().unwrap()).collect();
    assert_eq!(names.len(), ixs.len());
    for f in functions {
        let data = &f["selector"].as_str().unwrap()[2..];
        assert!(
            ixs.iter()
                .any(|ix| ix["discriminators"][0]["constant"]["value"]["data"] == data),
            "{f}"
        );
    }
    // The error codes are the program's.
    let codes: Vec<(u64, String)> = manifest["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            assert_eq!(
                e["message"],
                exit::describe(e["code"].as_u64().unwrap()).as_str()
            );
            (
                e["code"].as_u64().unwrap(),
                e["name"].as_str().unwrap().into(),
            )
        })
        .collect();
    let expected: Vec<(u64, String)> = exit::ALL.iter().map(|(c, n)| (*c, n.to_string())).collect();
    assert_eq!(codes, expected);
    let idl_codes: Vec<u64> = idl["program"]["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["code"].as_u64().unwrap())
        .collect();
    assert_eq!(
        idl_codes,
        exit::ALL[1..].iter().map(|(c, _)| *c).collect::<Vec<_>>()
    );
    let topics: BTreeMap<U256, String> = manifest["events"]["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            (
                e["topic0"].as_str().unwrap().parse().unwrap(),
                e["name"].as_str().unwrap().to_string(),
            )
        })
        .collect();

    // The state account as the manifest says: its size, rent, owner; then
    // the initialize instruction with the accounts the IDL names.
    let exe = sbf::load(&elf).unwrap();
    let heap_size = manifest["program"]["heap_bytes"].as_u64().unwrap() as usize;
    let wei_per_lamport = U256::from(manifest["wei_per_lamport"].as_u64().unwrap());
    let state_key = key_for(contract);
    let mut state = vec![0u8; manifest["state"]["data_len"].as_u64().unwrap() as usize];
    let rent = manifest["state"]["rent_exempt_lamports"].as_u64().unwrap();
    let lamports_of = |wei: U256| -> u64 { (wei / wei_per_lamport).to::<u64>() };
    let mut state_lamports = rent + lamports_of(plan.world.accounts[&contract].balance);
    let init = &ixs[0];
    let (state_w, state_s) = account_flags(init, "state").unwrap();
    let (caller_w, caller_s) = account_flags(init, "caller").unwrap();
    let payer = key_for(Address::repeat_byte(0x77));
    let run = sbf::execute(
        &exe,
        false,
        &Invocation {
            program_id: sbf::PROGRAM_ID,
            accounts: &[
                AccountIn {
                    key: state_key,
                    owner: sbf::PROGRAM_ID,
                    lamports: state_lamports,
                    signer: state_s,
                    writable: state_w,
                    executable: false,
                    data: &state,
                },
                AccountIn {
                    key: payer,
                    owner: [0; 32],
                    lamports: 1 << 40,
                    signer: caller_s,
                    writable: caller_w,
                    executable: false,
                    data: &[],
                },
            ],
            data: &alloy_primitives::hex::decode(manifest["initialize"]["data"].as_str().unwrap())
                .unwrap(),
            clock: (0, 0),
            heap_size,
        },
    );
    assert_eq!(run.result, Ok(exit::SUCCESS));
    state = run.state;

    // Every call of the scenario, built from the IDL, against revm.
    let mut world = plan.world.clone();
    let evm = EvmEngine;
    let mut asked = 0;
    assert!(plan.steps.len() > 5);
    for step in &plan.steps {
        let call = &step.call;
        assert_eq!(call.to, contract);
        let ix = instruction_for(&idl, &call.data);
        let lamports = lamports_of(call.value);
        let data = instruction_data(&idl, lamports, &call.data);
        assert_eq!(
            data,
            sbf::instruction_data(lamports, &call.data),
            "{}: the IDL lays out the calldata",
            step.label
        );
        let (state_w, state_s) = account_flags(ix, "state").unwrap();
        let (caller_w, caller_s) = account_flags(ix, "caller").unwrap();
        assert!(state_w && !state_s && caller_s, "{}", step.label);
        if lamports > 0 {
            assert!(
                caller_w,
                "{}: a payable function's caller is writable",
                step.label
            );
            assert!(
                account_flags(ix, "systemProgram").is_some(),
                "{}",
                step.label
            );
        }
        let caller_lamports = lamports_of(
            world
                .accounts
                .get(&call.caller)
                .map_or(U256::ZERO, |a| a.balance),
        )
        .max(1 << 40);
        // Accounts the program asked for, with their lamports.
        let mut extra: Vec<(Address, u64)> = vec![];
        let run = loop {
            let mut accounts = vec![
                AccountIn {
                    key: state_key,
                    owner: sbf::PROGRAM_ID,
                    lamports: state_lamports,
                    signer: false,
                    writable: true,
                    executable: false,
                    data: &state,
                },
                AccountIn {
                    key: key_for(call.caller),
                    owner: [0; 32],
                    lamports: caller_lamports,
                    signer: true,
                    writable: caller_w,
                    executable: false,
                    data: &[],
                },
            ];
            if account_flags(ix, "systemProgram").is_some() {
                accounts.push(AccountIn::system_program());
            }
            for (a, l) in &extra {
                accounts.push(AccountIn {
                    key: key_for(*a),
                    owner: [0; 32],
                    lamports: *l,
                    signer: false,
                    writable: true,
                    executable: false,
                    data: &[],
                });
            }
            let run = sbf::execute(
                &exe,
                false,
                &Invocation {
                    program_id: sbf::PROGRAM_ID,
                    accounts: &accounts,
                    data: &data,
                    clock: (
                        plan.block.number.to::<u64>(),
                        plan.block.timestamp.to::<i64>(),
                    ),
                    heap_size,
                },
            );
            if run.result != Ok(exit::ACCOUNT_NEEDED) {
                break (run, accounts.len());
            }
            // The address is the return data: add the account it stands for.
            let wanted = Address::from_slice(&run.return_data);
            let name = &manifest["functions"]
                .as_array()
                .unwrap()
                .iter()
                .find(|f| {
                    f["selector"] == format!("0x{}", alloy_primitives::hex::encode(&call.data[..4]))
                })
                .unwrap()["accounts_by_address"];
            assert!(
                name.as_array().is_some_and(|a| !a.is_empty()),
                "{}: the manifest says the function looks accounts up",
                step.label
            );
            assert!(!extra.iter().any(|(a, _)| *a == wanted), "{}", step.label);
            let held = world
                .accounts
                .get(&wanted)
                .map_or(U256::ZERO, |a| a.balance);
            extra.push((wanted, lamports_of(held)));
            asked += 1;
        };
        let (run, n) = run;
        let oracle = evm.run(&world, &plan.block, call, plan.fork).unwrap();
        let code = run.result.clone().unwrap();
        let status = match code {
            exit::SUCCESS => Status::Success,
            exit::REVERT => Status::Revert,
            other => panic!("{}: {}", step.label, exit::describe(other)),
        };
        assert_eq!(status, oracle.status, "{}", step.label);
        assert_eq!(run.return_data, oracle.return_data, "{}", step.label);
        world.commit(call, &oracle);
        if status != Status::Success {
            continue;
        }
        let logs: Vec<(Vec<U256>, Vec<u8>)> = run.logs.iter().map(|l| decode_record(l)).collect();
        let want: Vec<(Vec<U256>, Vec<u8>)> = oracle
            .logs
            .iter()
            .map(|l| (l.topics.clone(), l.data.clone()))
            .collect();
        assert_eq!(logs, want, "{}", step.label);
        for (t, _) in &logs {
            let named = t.first().and_then(|t0| topics.get(t0));
            assert!(
                named.is_some(),
                "{}: an event the manifest names",
                step.label
            );
        }
        // The contract's balance (its lamports above rent) and what the
        // accounts it paid hold, as revm has them.
        assert_eq!(run.lamports.len(), n);
        state_lamports = run.lamports[0];
        assert_eq!(
            U256::from(state_lamports - rent) * wei_per_lamport,
            world.accounts[&contract].balance,
            "{}: the contract's balance",
            step.label
        );
        for (i, (a, _)) in extra.iter().enumerate() {
            assert_eq!(
                U256::from(run.lamports[n - extra.len() + i]) * wei_per_lamport,
                world.accounts[a].balance,
                "{}: {a}'s balance",
                step.label
            );
        }
        state = run.state;
    }
    (manifest, asked)
}

#[test]
fn a_client_drives_the_token_from_its_manifest_and_idl_as_revm_runs_it() {
    drive("examples/scenarios/token.toml", "token");
}

#[test]
fn a_client_pays_and_resolves_accounts_for_the_registry_as_revm_runs_it() {
    let (manifest, asked) = drive("examples/scenarios/registry.toml", "registry");
    assert!(asked > 0, "a payout asks for its recipient's account");
    // The registry takes fees and pays them out: payable functions, and
    // functions that look up the accounts they pay.
    let functions = manifest["functions"].as_array().unwrap();
    let by_name = |n: &str| functions.iter().find(|f| f["name"] == n).unwrap();
    assert_eq!(by_name("register")["payable"], true);
    assert_eq!(
        by_name("withdrawFees")["accounts_by_address"],
        serde_json::json!(["call"])
    );
    assert_eq!(
        by_name("lookup")["accounts_by_address"],
        serde_json::json!([])
    );
}

#[test]
fn address_prints_the_evm_address_a_key_stands_for() {
    let run = chainlift(&["address", "11111111111111111111111111111111"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(
        run.stdout.trim(),
        "11111111111111111111111111111111 0x0000000000000000000000000000000000000000"
    );
    // The key is the one the sbf engine gives an address.
    let a: Address = "0x00000000000000000000000000000000000A11cE"
        .parse()
        .unwrap();
    let key = bs58::encode(sbf::key_of(a)).into_string();
    let run = chainlift(&["address", &key, "--json"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let v: Value = serde_json::from_str(&run.stdout).unwrap();
    assert_eq!(v["addresses"][0]["address"], a.to_checksum(None).as_str());
    // A keypair file: its last 32 bytes are the public key.
    let dir = std::env::temp_dir().join(format!("chainlift-address-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("id.json");
    let pair: Vec<u8> = (0u8..32).chain(sbf::key_of(a)).collect();
    std::fs::write(&file, serde_json::to_string(&pair).unwrap()).unwrap();
    let run = chainlift(&["address", file.to_str().unwrap()]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(
        run.stdout.ends_with(&format!("{}\n", a.to_checksum(None))),
        "{}",
        run.stdout
    );
    // The other way: the state account of a system's contract at an
    // address, as the sbf engine and the program derive it.
    let program = bs58::encode(sbf::PROGRAM_ID).into_string();
    let run = chainlift(&["address", "--program", &program, &a.to_string(), "--json"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let v: Value = serde_json::from_str(&run.stdout).unwrap();
    let (state, bump) = chainlift_backend_sbf::address::state_account(&sbf::PROGRAM_ID, a);
    let row = &v["addresses"][0];
    assert_eq!(row["key"], bs58::encode(state).into_string().as_str());
    assert_eq!(row["bump"], bump);
    assert_eq!(row["state_account"], true);
    assert_eq!(row["address"], a.to_checksum(None).as_str());
    let run = chainlift(&["address", "--program", &program, &a.to_string()]);
    assert!(
        run.stdout.contains(&format!("bump {bump}")),
        "{}",
        run.stdout
    );
    // Errors name the problem.
    let run = chainlift(&["address", "0x00000000000000000000000000000000000a11ce"]);
    assert_eq!(run.code, 2);
    assert!(run.stderr.contains("is an EVM address"), "{}", run.stderr);
    assert!(run.stderr.contains("--program"), "{}", run.stderr);
    let run = chainlift(&["address", "0x00000000000000000000000000000000000a11cz"]);
    assert!(run.stderr.contains("not an EVM address"), "{}", run.stderr);
    let run = chainlift(&["address", "abc"]);
    assert!(
        run.stderr.contains("a Solana public key has 32"),
        "{}",
        run.stderr
    );
    let run = chainlift(&["address", "0OIl"]);
    assert!(run.stderr.contains("is not base58"), "{}", run.stderr);
}
