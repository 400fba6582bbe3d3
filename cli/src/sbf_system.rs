//! `translate --deploy SCENARIO` for a scenario that deploys several
//! contracts: one Solana program for the whole system, a bundle
//! (backend-sbf's `translate_bundle`), each contract with the code and the
//! storage its constructor left, and a manifest beside it that says, per
//! contract, its code id, its address, its state account and the
//! instruction that initializes it, and its functions and events.

use crate::sbf_check::Checked;
use crate::sbf_client::Client;
use anyhow::{Context, anyhow, bail};
use chainlift_backend_sbf::{Contract, Target, bundle, translate_bundle};
use chainlift_frontend_evm::pipeline::Stages;
use serde_json::{Value, json};
use std::io::Write;

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
    let target = Target {
        heap_size: bundle::HEAP,
        chain_id: args.chain_id,
        wei_per_lamport: args.wei_per_lamport,
        constants: crate::sbf_check::constants(&args.env, args.strict)?,
        ..Target::default()
    };
    let mut compiled = vec![];
    // The contracts the scenario deployed (with code), in its order.
    let deployed = plan.contracts.iter().filter(|c| {
        plan.world
            .accounts
            .get(&c.address)
            .is_some_and(|a| !a.code.is_empty())
    });
    for c in deployed {
        let account = plan
            .world
            .accounts
            .get(&c.address)
            .with_context(|| format!("no account at {} ({})", c.address, c.name))?;
        let m = chainlift_frontend_evm::pipeline::Cache::shared().get(
            &account.code,
            args.common.fork,
            stages,
        )?;
        compiled.push((c, account, m));
    }
    let contracts: Vec<Contract> = compiled
        .iter()
        .map(|(_, account, m)| Contract {
            module: &m.module,
            initial_storage: &account.storage,
        })
        .collect();
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
        let mut init = [0u8; 12];
        init[8..].copy_from_slice(&(id as u32).to_le_bytes());
        part["initialize"]["data"] = alloy_primitives::hex::encode_prefixed(init).into();
        part["initialize"]["note"] = "once, on the contract's freshly created state account (all zeros, owned by the program): the calldata is its code id (u32, little-endian); writes the storage table the constructor left".into();
        // A bundle's table header: `CLSB`, then the code id.
        part["state"]["table"]["magic"] = format!(
            "0x{:016x}",
            u64::from(chainlift_backend_sbf::storage::BUNDLE_MAGIC) | (id as u64) << 32
        )
        .into();
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
                "manifest": file.display().to_string(),
                "idl": idl.display().to_string(),
            }),
        )?;
    } else {
        writeln!(
            out,
            "wrote {path}: SBPF v3 bundle of {} contracts ({}), {} bytes, {} instructions, {} frames of {} bytes (EVM memory up to {} bytes each); it needs a 256 KiB heap frame",
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
