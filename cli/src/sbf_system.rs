//! `translate --deploy SCENARIO` for a scenario that deploys several
//! contracts: one Solana program for the whole system, a bundle
//! (backend-sbf's `translate_bundle`), each contract with the code and the
//! storage its constructor left, and a manifest beside it that says, per
//! contract, its code id, its address, its state account and the
//! instruction that initializes it, and its functions and events.

use crate::sbf_check::Checked;
use crate::sbf_client::Client;
use alloy_primitives::Address;
use alloy_primitives::U256;
use anyhow::{Context, anyhow, bail};
use chainlift_backend_sbf::{Contract, Init, Outside, Target, bundle, translate_bundle};
use chainlift_emulator::children;
use chainlift_frontend_evm::Fork;
use chainlift_frontend_evm::pipeline::Compiled;
use chainlift_frontend_evm::pipeline::Stages;
use serde_json::{Value, json};
use std::collections::BTreeMap;
use std::io::Write;
use std::sync::Arc;

/// The target a system translates for: a bundle's heap, and the
/// options of `args`; in a system of several programs, the contracts the
/// others hold and their ids.
fn system_target(
    args: &crate::TranslateArgs,
    plan: &crate::scenario::Plan,
    check: bool,
) -> anyhow::Result<Target> {
    let (outside, trusted) = programs(args, plan, check)?;
    Ok(Target {
        heap_size: bundle::HEAP,
        chain_id: args.chain_id,
        wei_per_lamport: args.wei_per_lamport,
        constants: crate::sbf_check::constants(&args.env, args.strict)?,
        outside,
        trusted,
        ..Target::default()
    })
}

/// The name of the program that holds the contracts a scenario puts in
/// no program of their own.
const MAIN: &str = "main";

/// The program a contract of `plan` goes into.
fn program_of<'a>(plan: &'a crate::scenario::Plan, at: &Address) -> &'a str {
    plan.world.programs.get(at).map_or(MAIN, String::as_str)
}

/// The program `args` translates (`--program`, else `main`).
fn chosen(args: &crate::TranslateArgs) -> &str {
    args.program.as_deref().unwrap_or(MAIN)
}

/// In a system of several programs (`program = "NAME"` in the
/// scenario): the contracts the other programs hold, with those programs'
/// ids (`--program-ids`), and every program's id that `args` knows (each
/// speaks for its contracts when it calls another). A `check` needs no
/// ids: a program it is not given stands in as the hash of its name.
fn programs(
    args: &crate::TranslateArgs,
    plan: &crate::scenario::Plan,
    check: bool,
) -> anyhow::Result<(Vec<Outside>, Vec<[u8; 32]>)> {
    let mine = chosen(args);
    let mut ids: BTreeMap<&str, [u8; 32]> = BTreeMap::new();
    for pair in &args.program_ids {
        let (name, key) = pair
            .split_once('=')
            .with_context(|| format!("--program-ids {pair}: write NAME=KEY"))?;
        ids.insert(name, crate::sbf_client::key_of(key)?);
    }
    if let Some(id) = &args.program_id {
        ids.insert(mine, crate::sbf_client::key_of(id)?);
    }
    let with_code = plan.contracts.iter().filter(|c| {
        plan.world
            .accounts
            .get(&c.address)
            .is_some_and(|a| !a.code.is_empty())
    });
    let names: std::collections::BTreeSet<&str> = with_code
        .clone()
        .map(|c| program_of(plan, &c.address))
        .collect();
    if !names.contains(mine) {
        bail!(
            "--program {mine}: the scenario's programs are {}",
            names.iter().copied().collect::<Vec<_>>().join(", ")
        );
    }
    if names.len() == 1 {
        return Ok((vec![], vec![]));
    }
    let mut outside: Vec<Outside> = vec![];
    for c in with_code {
        let name = program_of(plan, &c.address);
        if name == mine || outside.iter().any(|o| o.address == c.address) {
            continue;
        }
        let program = match ids.get(name) {
            Some(id) => *id,
            None if check => alloy_primitives::keccak256(name).0,
            None => bail!(
                "{} is in the program `{name}`: give its id, --program-ids {name}=KEY",
                c.name
            ),
        };
        outside.push(Outside {
            address: c.address,
            program,
            code_size: plan.world.accounts[&c.address].code.len() as u64,
        });
    }
    Ok((outside, ids.into_values().collect()))
}

/// The contracts `plan` deployed (with code), in its order, each once,
/// with its account and its lifted module.
fn deployed<'p>(
    plan: &'p crate::scenario::Plan,
    program: &str,
    fork: Fork,
    stages: Stages,
) -> anyhow::Result<Deployed<'p>> {
    let mut compiled = vec![];
    // A name bound later to a contract already deployed (`bind`) is not
    // another contract.
    let mut seen = std::collections::HashSet::new();
    let with_code = plan.contracts.iter().filter(|c| {
        plan.world
            .accounts
            .get(&c.address)
            .is_some_and(|a| !a.code.is_empty())
            && program_of(plan, &c.address) == program
            && seen.insert(c.address)
    });
    for c in with_code {
        let account = plan
            .world
            .accounts
            .get(&c.address)
            .with_context(|| format!("no account at {} ({})", c.address, c.name))?;
        let m =
            chainlift_frontend_evm::pipeline::Cache::shared().get(&account.code, fork, stages)?;
        compiled.push((c, account, m));
    }
    Ok(compiled)
}

type Deployed<'p> = Vec<(
    &'p crate::scenario::Named,
    &'p chainlift_emulator::Account,
    Arc<Compiled>,
)>;

/// `translate --check --deploy` for a system: every contract checked as one
/// of the bundle (calls between them run inside the program), each report
/// under the contract's name; exits 1 when any has an operation with no
/// mapping.
pub(crate) fn check_system(
    args: &crate::TranslateArgs,
    plan: &crate::scenario::Plan,
    stages: Stages,
    out: &mut dyn Write,
) -> anyhow::Result<u8> {
    let target = system_target(args, plan, true)?;
    let fork = args.common.fork;
    // (name, address, report) per contract the program holds.
    let mut reports = vec![];
    let deployed = deployed(plan, chosen(args), fork, stages)?;
    for (c, account, m) in &deployed {
        let functions = crate::input::signatures(c.abi.as_ref());
        let checked = Checked::in_bundle(&m.module, &target, &account.code, fork, functions)?;
        reports.push((c.name.clone(), Some(c.address), checked));
    }
    // The contracts they create: each child's template and init code.
    let created = Created::find(&deployed, fork, stages)?;
    let mut contracts = vec![];
    // Two per child: its template, then its init code.
    created.extend(&mut contracts, 0);
    let mut contracts = contracts.into_iter();
    for c in &created.children {
        let parent = deployed
            .iter()
            .find(|(_, account, _)| account.code.get(c.at.clone()) == Some(&c.init[..]))
            .map_or("a contract", |(p, _, _)| p.name.as_str());
        let name = format!(
            "{parent}'s child (init code at {:#x}..{:#x})",
            c.at.start, c.at.end
        );
        for (what, code) in [("runtime", c.with_slots()), ("init code", c.init.clone())] {
            let contract = contracts
                .next()
                .context("a template and init code per child")?;
            let checked = Checked::created(contract, &target, &code, fork)?;
            reports.push((format!("{name}: {what}"), None, checked));
        }
    }
    let refused = reports.iter().filter(|(_, _, r)| r.refused()).count();
    if args.common.json {
        let contracts: Vec<Value> = reports
            .iter()
            .map(|(name, address, r)| {
                let mut v = r.json();
                v["name"] = json!(name);
                v["address"] = json!(address.map(|a| a.to_checksum(None)));
                if let Some(o) = v.as_object_mut() {
                    o.remove("schema_version");
                    o.remove("target");
                }
                v
            })
            .collect();
        crate::report::write_json(
            out,
            &json!({
                "schema_version": crate::report::SCHEMA_VERSION,
                "target": "sbf",
                "translates": refused == 0,
                "contracts": contracts,
            }),
        )?;
    } else {
        writeln!(
            out,
            "a system of {} contracts{}, {}: {}",
            deployed.len(),
            match created.children.len() {
                0 => String::new(),
                n => format!(" and {n} they create"),
            },
            match target.outside.len() {
                0 => "one program".to_string(),
                n => format!(
                    "the program `{}` ({n} more contracts in other programs, called by cross-program invocation)",
                    chosen(args)
                ),
            },
            if refused == 0 {
                "every contract translates".to_string()
            } else {
                format!("{refused} do not translate")
            }
        )?;
        for (name, address, r) in &reports {
            match address {
                Some(a) => writeln!(out, "\n== {name} ({})", a.to_checksum(None))?,
                None => writeln!(out, "\n== {name}")?,
            }
            r.print_text(out)?;
        }
    }
    Ok(u8::from(refused > 0))
}

/// The contracts a system's contracts create (`create2`): each child's
/// template and init code ([`children::children`]), which go into the
/// bundle after the contracts the scenario deploys.
struct Created {
    children: Vec<children::Child>,
    /// Per child: the template's and the init code's compiled modules.
    modules: Vec<(Arc<Compiled>, Arc<Compiled>)>,
    /// Per child, the immutables' storage slots.
    keys: Vec<Vec<U256>>,
    empty: BTreeMap<U256, U256>,
}

impl Created {
    fn find(compiled: &Deployed, fork: Fork, stages: Stages) -> anyhow::Result<Created> {
        let mut found: Vec<children::Child> = vec![];
        for (_, account, m) in compiled {
            for c in children::children(&account.code, &m.module.functions, fork).0 {
                if !found.iter().any(|f| f.init == c.init) {
                    found.push(c);
                }
            }
        }
        let cache = chainlift_frontend_evm::pipeline::Cache::shared();
        let mut modules = vec![];
        for c in &found {
            modules.push((
                cache.get(&c.with_slots(), fork, stages)?,
                cache.get(&c.init, fork, stages)?,
            ));
        }
        let keys = found
            .iter()
            .map(|c| {
                (0..c.immutables.len())
                    .map(children::immutable_key)
                    .collect()
            })
            .collect();
        Ok(Created {
            children: found,
            modules,
            keys,
            empty: BTreeMap::new(),
        })
    }

    /// Code ids `first + 2j` (child `j`'s template) and `first + 2j + 1`
    /// (its init code) into `contracts`.
    fn extend<'a>(&'a self, contracts: &mut Vec<Contract<'a>>, first: usize) {
        for (j, (c, (template, init))) in self.children.iter().zip(&self.modules).enumerate() {
            contracts.push(Contract {
                module: &template.module,
                initial_storage: &self.empty,
                address: None,
                immutables: &self.keys[j],
                nonce: 1,
                init: None,
            });
            contracts.push(Contract {
                module: &init.module,
                initial_storage: &self.empty,
                address: None,
                immutables: &[],
                nonce: 1,
                init: Some(Init {
                    runtime: (first + 2 * j) as u32,
                    template: &c.template,
                    immutables: &c.immutables,
                    keys: &self.keys[j],
                }),
            });
        }
    }

    /// The manifest's `created`: per child, its code ids and immutables.
    fn manifest(&self, first: usize) -> Value {
        let list: Vec<Value> = self
            .children
            .iter()
            .enumerate()
            .map(|(j, c)| {
                json!({
                    "code_id": first + 2 * j,
                    "init_code_id": first + 2 * j + 1,
                    "init_code_keccak256": format!("{:#x}", alloy_primitives::keccak256(&c.init)),
                    "runtime_bytes": c.template.len(),
                    "immutables": c.immutables.iter().enumerate().map(|(i, pcs)| json!({
                        "slot": format!("{:#x}", children::immutable_key(i)),
                        "pcs": pcs,
                    })).collect::<Vec<_>>(),
                })
            })
            .collect();
        json!({
            "contracts": list,
            "note": "contracts the system's contracts create with create2, each from init code the bundle holds: its state account (the program-derived address of its address) must be among the instruction's accounts, writable, with the system program; the program asks for a missing one (account_needed, the address and a byte 1 as return data); the signer pays its rent; each immutable is read from its storage slot",
        })
    }
}

/// Translates the contracts `plan` deployed into one program.
pub(crate) fn translate_system(
    args: &crate::TranslateArgs,
    plan: &crate::scenario::Plan,
    stages: Stages,
    out: &mut dyn Write,
) -> anyhow::Result<u8> {
    let emit = args.emit.as_deref().unwrap_or("elf");
    if !matches!(emit, "elf" | "asm") {
        bail!("--emit {emit} is for --target wasm; sbf writes elf or asm");
    }
    let target = system_target(args, plan, false)?;
    let program_id = args
        .program_id
        .as_deref()
        .map(crate::sbf_client::key_of)
        .transpose()?;
    let compiled = deployed(plan, chosen(args), args.common.fork, stages)?;
    let created = Created::find(&compiled, args.common.fork, stages)?;
    let mut contracts: Vec<Contract> = compiled
        .iter()
        .map(|(c, account, m)| Contract {
            module: &m.module,
            initial_storage: &account.storage,
            address: Some(c.address),
            immutables: &[],
            nonce: account.nonce,
            init: None,
        })
        .collect();
    created.extend(&mut contracts, compiled.len());
    let names = compiled
        .iter()
        .map(|(c, _, _)| c.name.as_str())
        .collect::<Vec<_>>()
        .join(", ");
    let program = translate_bundle(&contracts, &target).map_err(|e| {
        anyhow!(
            "{e} (in the system of {names}; `chainlift translate --check` on each contract lists every problem)"
        )
    })?;
    let path = match args.output.as_deref() {
        None | Some("-") if emit == "asm" => {
            out.write_all(program.listing.as_bytes())?;
            return Ok(0);
        }
        None | Some("-") => bail!("--emit elf writes a binary: name a file with -o program.so"),
        Some(p) => p,
    };
    if emit == "asm" {
        std::fs::write(path, &program.listing).with_context(|| format!("cannot write {path}"))?;
        return Ok(0);
    }
    let stem = std::path::Path::new(path)
        .file_stem()
        .map_or("program".into(), |s| s.to_string_lossy().into_owned());
    // Each contract as one client would see it, then the bundle's view.
    let mut parts = vec![];
    let mut instructions = vec![];
    for (id, (c, account, m)) in compiled.iter().enumerate() {
        let one = Target {
            initial_storage: account.storage.clone(),
            ..target.clone()
        };
        let functions = crate::input::signatures(c.abi.as_ref());
        let checked = Checked::new(
            &m.module,
            &one,
            &account.code,
            args.common.fork,
            functions,
            true,
        )?;
        let client = Client {
            name: c.name.clone(),
            target: &one,
            program: &program,
            module: &m.module,
            checked: &checked,
            abi: c.abi.as_ref(),
            program_id: args.program_id.clone(),
        };
        instructions.push(crate::sbf_client::codama_initialize_in_bundle(
            &c.name, id as u32,
        ));
        instructions.extend(client.codama_functions(&c.name));
        let mut part = client.manifest();
        state_account_json(&mut part, id as u32, c.address, program_id.as_ref())?;
        let keep = [
            "state",
            "initialize",
            "functions",
            "fallback",
            "receive",
            "events",
        ];
        let mut entry = json!({
            "name": c.name,
            "code_id": id,
            "address": c.address.to_checksum(None),
        });
        for k in keep {
            entry[k] = part[k].clone();
        }
        parts.push((entry, part));
    }
    let Some((_, first)) = parts.first() else {
        bail!("the scenario deploys no contract");
    };
    let mut manifest = first.clone();
    let map = manifest.as_object_mut().expect("an object");
    for k in [
        "state",
        "initialize",
        "functions",
        "fallback",
        "receive",
        "events",
        "plain_transfer",
    ] {
        map.remove(k);
    }
    manifest["name"] = stem.clone().into();
    manifest["bundle"] = json!({
        "frames": bundle::FRAMES,
        "frame_bytes": bundle::stride(bundle::HEAP),
        "note": "every contract of the system in one program: a state account per contract (the table's header holds its code id); calls between them run inside the program; a failed call's storage and lamport changes are undone from a journal, and nested calls' records are held until the call returns to the outermost contract (a failed call's are dropped); transient storage is one table for the instruction; nesting past the frames, a full journal and a full log buffer end with named target limits",
        "journal_entries": bundle::JOURNAL_ENTRIES,
    });
    manifest["log_format"] = "in a bundle, each `sol_log_data` record starts with the emitting contract's address (20 bytes), then a byte n, n topics of 32 bytes and the ABI-encoded data".into();
    manifest["contracts"] = Value::Array(parts.into_iter().map(|(e, _)| e).collect());
    manifest["created"] = created.manifest(compiled.len());
    if !target.outside.is_empty() {
        let by_address = |a: &Address| {
            plan.contracts
                .iter()
                .find(|c| c.address == *a)
                .map_or(String::new(), |c| c.name.clone())
        };
        manifest["outside"] = json!({
            "contracts": target.outside.iter().map(|o| json!({
                "name": by_address(&o.address),
                "address": o.address.to_checksum(None),
                "program": bs58::encode(o.program).into_string(),
                "state_account": bs58::encode(chainlift_backend_sbf::address::state_account(&o.program, o.address).0).into_string(),
            })).collect::<Vec<_>>(),
            "note": "contracts other programs of the system hold: a call to one is a cross-program invocation of its program (instruction data: the value prefix, u64::MAX for a staticcall, then the calldata; accounts: its state account, the calling contract's state account as a signer, then every account of the instruction), so the instruction must hold that program and that state account (account_needed returns the address and the program id, 52 bytes, when they are missing); a failure in the called program fails the transaction (Solana cannot catch it); a call with value, a delegatecall or a callcode ends with call_out, and a call inside the program that fails after calling out ends with call_out_undone",
        });
    }
    let file = std::path::Path::new(path).with_file_name(format!("{stem}.manifest.json"));
    let idl = std::path::Path::new(path).with_file_name(format!("{stem}.codama.json"));
    let idl_value = crate::sbf_client::codama_root(&stem, args.program_id.as_deref(), instructions);
    std::fs::write(path, &program.elf).with_context(|| format!("cannot write {path}"))?;
    for (f, v) in [(&file, &manifest), (&idl, &idl_value)] {
        let mut text = serde_json::to_string_pretty(v)?;
        text.push('\n');
        std::fs::write(f, text).with_context(|| format!("cannot write {}", f.display()))?;
    }
    if args.common.json {
        crate::report::write_json(
            out,
            &json!({
                "schema_version": crate::report::SCHEMA_VERSION,
                "target": "sbf",
                "output": path,
                "emit": emit,
                "elf_bytes": program.elf.len(),
                "instructions": program.instructions,
                "memory_limit": program.memory_limit,
                "contracts": compiled.len(),
                "created": created.children.len(),
                "manifest": file.display().to_string(),
                "idl": idl.display().to_string(),
            }),
        )?;
    } else {
        let children = match created.children.len() {
            0 => String::new(),
            n => format!(" and the init and runtime code of {n} they create"),
        };
        writeln!(
            out,
            "wrote {path}: SBPF v3 bundle of {} contracts ({}){children}, {} bytes, {} instructions, {} frames of {} bytes (EVM memory up to {} bytes each); it needs a 256 KiB heap frame",
            compiled.len(),
            names,
            program.elf.len(),
            program.instructions,
            bundle::FRAMES,
            bundle::stride(bundle::HEAP),
            program.memory_limit
        )?;
        writeln!(
            out,
            "wrote {} (per contract: code id, address, state account, initialize, functions, events) and {} (Codama IDL)",
            file.display(),
            idl.display()
        )?;
    }
    Ok(0)
}

/// A bundle contract's state account in its manifest `part`: where it
/// lives (the program-derived address of its EVM address), its data (the
/// prefix, then the table, created by the program at its first size) and
/// the instruction that creates it.
fn state_account_json(
    part: &mut Value,
    code_id: u32,
    address: alloy_primitives::Address,
    program_id: Option<&[u8; 32]>,
) -> anyhow::Result<()> {
    use chainlift_backend_sbf::{address, bundle, storage};
    let slots = part["state"]["table"]["initial_slots"]
        .as_u64()
        .unwrap_or(0) as usize;
    let most = storage::CREATED_SLOTS;
    if slots > most {
        bail!(
            "{address}: its constructor left {slots} storage slots; a bundle's state account is created with room for {most} (Solana lets a program create at most 10,240 bytes of data in one instruction)"
        );
    }
    let rent = part["state"]["rent_per_byte"].as_u64().unwrap_or(0);
    let data_len = storage::CREATED_BYTES;
    part["state"]["data_len"] = data_len.into();
    part["state"]["rent_exempt_lamports"] = ((128 + data_len as u64) * rent).into();
    part["state"]["table"]["capacity"] = storage::CREATED_CAPACITY.into();
    part["state"]["prefix"] = json!({
        "bytes": storage::PREFIX,
        "magic": format!("0x{:08x}", storage::BUNDLE_MAGIC),
        "code_id": {"offset": 4, "value": code_id},
        "bump_offset": storage::BUMP,
        "address_offset": storage::ADDRESS,
        "nonce_offset": storage::NONCE,
        "note": "the table starts after the prefix",
    });
    let mut seeds = json!({
        "seeds": ["evm", address.to_checksum(None), "the bump byte"],
        "derive": "the program-derived address of the seeds (`chainlift address --program PROGRAM_ID ADDRESS` prints it and the bump)",
    });
    let mut data = vec![0u8; 8];
    data.extend_from_slice(&code_id.to_le_bytes());
    data.extend_from_slice(address.as_slice());
    if let Some(program) = program_id {
        let (key, bump) = address::state_account(program, address);
        seeds["key"] = bs58::encode(key).into_string().into();
        seeds["bump"] = bump.into();
        data.push(bump);
    }
    part["state"]["account"] = seeds;
    part["initialize"] = json!({
        "data": alloy_primitives::hex::encode_prefixed(&data),
        "data_bytes": bundle::CREATE_DATA,
        "accounts": [
            {"name": "state", "writable": true, "signer": false, "note": "the state account's program-derived address; it must not exist yet"},
            {"name": "caller", "writable": true, "signer": true, "note": "pays the account's rent"},
            {"name": "system_program", "address": crate::sbf_client::SYSTEM_PROGRAM},
        ],
        "note": "once per contract instance: no value (8 zero bytes), then the code id (u32, little-endian), the contract's 20-byte address and the bump byte (`data` ends before the bump when the program id was not given); the program creates only the contracts the system deploys, each at its own address and only at the address's program-derived address with the canonical bump (sol_try_find_program_address), by a system CreateAccount it signs for (the caller paying the rent), and writes the prefix and the storage the constructor left",
    });
    Ok(())
}
