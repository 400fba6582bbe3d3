//! `chainlift lift` and `chainlift ir verify|opt|run`.

use crate::Common;
use anyhow::{Context, anyhow, bail};
use chainlift_frontend_evm::pipeline::{self, Stages};
use chainlift_ir::interp::{Interpreter, Limits, Outcome, SimpleHost};
use chainlift_ir::{entities::FuncId, function::Module, parse, passes, print, verify};
use std::io::{Read, Write};

fn read_text(file: &str) -> anyhow::Result<String> {
    if file == "-" {
        let mut s = String::new();
        std::io::stdin().read_to_string(&mut s)?;
        return Ok(s);
    }
    std::fs::read_to_string(file).with_context(|| format!("cannot read {file}"))
}

fn parse_file(file: &str) -> anyhow::Result<Module> {
    let text = read_text(file)?;
    parse::parse_module(&text).map_err(|e| anyhow!("{file}: {e}"))
}

fn verified(m: &Module, what: &str) -> anyhow::Result<()> {
    verify::verify(m).map_err(|errors| {
        let first = &errors[0];
        anyhow!("{what}: {} verifier error(s); first: {first}", errors.len())
    })
}

pub fn lift(
    common: &Common,
    stages: Stages,
    stats: bool,
    out: &mut dyn Write,
) -> anyhow::Result<()> {
    let input = crate::input::read(
        common.file.as_deref(),
        common.code.as_deref(),
        common.contract.as_deref(),
    )?;
    let compiled = if chainlift_emulator::stylus::is_wasm(&input.code) {
        use chainlift_backend_wasm::inspect::{Profile, inspect};
        if let Ok(i) = inspect(&input.code)
            && matches!(i.profile, Profile::CosmWasm | Profile::Near)
        {
            writeln!(
                out,
                "; a {} contract: its host profile is not supported yet, so it is lifted in the generic profile (%init and one function per export; its host imports trap `unsupported` when called)",
                i.profile.name()
            )?;
        }
        chainlift_emulator::stylus::compile_as(
            &input.code,
            stages,
            chainlift_frontend_wasm::Profile::Auto,
        )
        .map_err(|e| anyhow!("{e}"))?
    } else {
        pipeline::Cache::shared().get(&input.code, common.fork, stages)?
    };
    if stats {
        let legal = if stages.legalize { " (legalized)" } else { "" };
        writeln!(
            out,
            "instructions: {} lifted, {} {}{legal}",
            compiled.lifted_insts,
            compiled.module.inst_count(),
            if stages.optimize { "optimized" } else { "raw" },
        )?;
        if compiled.wasm.is_none() {
            writeln!(out, "lifted with {}", compiled.lift)?;
        }
    } else {
        write!(out, "{}", print::print_module(&compiled.module))?;
    }
    Ok(())
}

/// `chainlift translate`: lift, optimize, verify, then translate.
pub(crate) fn translate(
    args: &crate::TranslateArgs,
    stack_in_memory: bool,
    out: &mut dyn Write,
) -> anyhow::Result<u8> {
    use chainlift_backend_sbf::{Target, translate};
    if args.heap_size < 4096 || args.heap_size > 256 * 1024 || !args.heap_size.is_multiple_of(1024)
    {
        bail!("--heap-size must be a multiple of 1024 between 4096 and 262144");
    }
    if args.wei_per_lamport == 0 || args.wei_per_lamport > i32::MAX as u32 {
        bail!("--wei-per-lamport must be between 1 and 2147483647");
    }
    if let Some(id) = &args.program_id {
        if args.target != "sbf" {
            bail!("--program-id is for --target sbf");
        }
        crate::sbf_client::public_key(id).context("--program-id")?;
    }
    if args.check && args.target != "sbf" {
        bail!("--check is for --target sbf");
    }
    let (code, initial_storage, functions, abi, name) = match &args.deploy {
        Some(path) => {
            if args.common.file.is_some() || args.common.code.is_some() {
                bail!("--deploy takes the contract from the scenario: drop FILE and --code");
            }
            let mut plan = crate::scenario::load(
                std::path::Path::new(path),
                chainlift_emulator::BlockEnv::default(),
                args.common.fork,
                30_000_000,
                None,
            )?;
            // A scenario with several contracts: one program for the
            // system, a bundle (--check checks each of its contracts).
            let contracts: std::collections::HashSet<_> = plan
                .contracts
                .iter()
                .filter(|c| {
                    plan.world
                        .accounts
                        .get(&c.address)
                        .is_some_and(|a| !a.code.is_empty())
                })
                .map(|c| c.address)
                .collect();
            if args.target == "sbf" && contracts.len() > 1 {
                let stages = Stages {
                    stack_in_memory,
                    ..Stages::default()
                };
                if args.check {
                    return crate::sbf_system::check_system(args, &plan, stages, out);
                }
                return crate::sbf_system::translate_system(args, &plan, stages, out);
            }
            let address = plan
                .deployments
                .first()
                .and_then(|(_, d)| d.address)
                .with_context(|| format!("{path} deploys no contract"))?;
            let account = plan
                .world
                .accounts
                .remove(&address)
                .with_context(|| format!("{path}: no account at {address}"))?;
            let named = plan.contracts.iter().find(|c| c.address == address);
            let abi = named.and_then(|c| c.abi.clone());
            let functions = crate::input::signatures(abi.as_ref());
            (
                account.code,
                account.storage,
                functions,
                abi,
                named.map(|c| c.name.clone()),
            )
        }
        None => {
            let c = &args.common;
            let input =
                crate::input::read(c.file.as_deref(), c.code.as_deref(), c.contract.as_deref())?;
            (
                input.code,
                Default::default(),
                input.functions,
                input.abi,
                input.name,
            )
        }
    };
    let stages = Stages {
        stack_in_memory,
        ..Stages::default()
    };
    if args.target == "wasm" || args.target == "native" {
        let stages = Stages {
            legalize: true,
            ..stages
        };
        let compiled = contract(&code, args.common.fork, stages)?;
        if args.target == "native" {
            translate_native(args, &compiled.module, out)?;
        } else {
            translate_wasm(args, &compiled.module, initial_storage.len(), out)?;
        }
        return Ok(0);
    }
    let emit = args.emit.as_deref().unwrap_or("elf");
    if !matches!(emit, "elf" | "asm") {
        bail!("--emit {emit} is for --target wasm; sbf writes elf or asm");
    }
    let compiled = contract(&code, args.common.fork, stages)?;
    let mut target = Target {
        heap_size: args.heap_size,
        chain_id: args.chain_id,
        wei_per_lamport: args.wei_per_lamport,
        initial_storage,
        constants: crate::sbf_check::constants(&args.env, args.strict)?,
        ..Target::default()
    };
    // A WASM contract: one function, every call inlined, and Solana's
    // largest heap (the program then needs a RequestHeapFrame).
    let flat;
    let module = match &compiled.wasm {
        Some(_) => {
            flat =
                chainlift_emulator::stylus::one_function(&compiled).map_err(|e| anyhow!("{e}"))?;
            target.heap_size = target.heap_size.max(chainlift_emulator::sbf::WASM_HEAP);
            &flat
        }
        None => &compiled.module,
    };
    let writes_elf = emit == "elf" && !matches!(args.output.as_deref(), None | Some("-"));
    let checked = crate::sbf_check::Checked::new(
        module,
        &target,
        &code,
        args.common.fork,
        functions,
        args.check || writes_elf,
    )?;
    if args.check {
        return checked.print(args.common.json, out);
    }
    let program = match translate(module, &target) {
        Ok(p) => p,
        Err(e) => return Err(checked.translate_error(e)),
    };
    let bytes = if emit == "asm" {
        program.listing.clone().into_bytes()
    } else {
        program.elf.clone()
    };
    match args.output.as_deref() {
        None | Some("-") if emit == "asm" => out.write_all(&bytes)?,
        None | Some("-") => bail!("--emit elf writes a binary: name a file with -o program.so"),
        Some(path) => {
            std::fs::write(path, &bytes).with_context(|| format!("cannot write {path}"))?;
            let beside = if emit == "elf" {
                let stem = std::path::Path::new(path)
                    .file_stem()
                    .map_or("program".into(), |s| s.to_string_lossy().into_owned());
                let client = crate::sbf_client::Client {
                    name: name.clone().unwrap_or_else(|| stem.clone()),
                    target: &target,
                    program: &program,
                    module,
                    checked: &checked,
                    abi: abi.as_ref(),
                    program_id: args.program_id.clone(),
                };
                let dir = std::path::Path::new(path).with_file_name("");
                let manifest = dir.join(format!("{stem}.manifest.json"));
                let idl = dir.join(format!("{stem}.codama.json"));
                for (file, value) in [(&manifest, client.manifest()), (&idl, client.codama())] {
                    let mut text = serde_json::to_string_pretty(&value)?;
                    text.push('\n');
                    std::fs::write(file, text)
                        .with_context(|| format!("cannot write {}", file.display()))?;
                }
                Some((manifest, idl))
            } else {
                None
            };
            if args.common.json {
                crate::report::write_json(
                    out,
                    &serde_json::json!({
                        "schema_version": crate::report::SCHEMA_VERSION,
                        "target": args.target,
                        "output": path,
                        "emit": emit,
                        "elf_bytes": program.elf.len(),
                        "instructions": program.instructions,
                        "memory_limit": program.memory_limit,
                        "limit_sites": checked.limit_counts(),
                        "constants": checked.constants_json(),
                        "manifest": beside.as_ref().map(|b| b.0.display().to_string()),
                        "idl": beside.as_ref().map(|b| b.1.display().to_string()),
                    }),
                )?;
            } else {
                writeln!(
                    out,
                    "wrote {path}: SBPF v3, {} bytes, {} instructions, EVM memory up to {} bytes",
                    program.elf.len(),
                    program.instructions,
                    program.memory_limit
                )?;
                if let Some((manifest, idl)) = &beside {
                    writeln!(
                        out,
                        "wrote {} (accounts, instruction data, events, errors: docs/solana.md) and {} (Codama IDL)",
                        manifest.display(),
                        idl.display()
                    )?;
                }
                checked.note(out)?;
            }
        }
    }
    Ok(0)
}

/// The contract's module from the pipeline: EVM code through frontend-evm,
/// a WASM module (a Stylus contract) through frontend-wasm.
fn contract(
    code: &[u8],
    fork: chainlift_frontend_evm::Fork,
    stages: Stages,
) -> anyhow::Result<std::sync::Arc<pipeline::Compiled>> {
    if chainlift_emulator::stylus::is_wasm(code) {
        return chainlift_emulator::stylus::compile(code, stages).map_err(|e| anyhow!("{e}"));
    }
    Ok(pipeline::Cache::shared().get(code, fork, stages)?)
}

/// `translate --target native`: the legalized module compiled to this
/// machine's code in both of the native engine's tiers, reported (the code
/// lives in memory: there is nothing to write).
fn translate_native(
    args: &crate::TranslateArgs,
    module: &chainlift_ir::verify::Verified,
    out: &mut dyn Write,
) -> anyhow::Result<()> {
    use chainlift_backend_native::{Options, Regalloc, compile};
    if args.emit.is_some() || args.output.is_some() {
        bail!("--target native compiles in memory: it takes no --emit or -o");
    }
    let best = Options {
        verify: false,
        ..Options::default()
    };
    let fast = Options {
        regalloc: Regalloc::Fast,
        inline: false,
        ..best
    };
    let tiers = [
        ("first", compile(module, &fast)?),
        ("best", compile(module, &best)?),
    ];
    let ir = tiers[0].1.stats.ir_instructions;
    if args.common.json {
        let t = |p: &chainlift_backend_native::Program| {
            serde_json::json!({
                "compile_ns": p.stats.compile_time.as_nanos() as u64,
                "code_bytes": p.stats.code_bytes,
            })
        };
        crate::report::write_json(
            out,
            &serde_json::json!({
                "schema_version": crate::report::SCHEMA_VERSION,
                "target": "native",
                "arch": std::env::consts::ARCH,
                "functions": tiers[0].1.stats.functions,
                "ir_instructions": ir,
                "first_tier": t(&tiers[0].1),
                "best_tier": t(&tiers[1].1),
            }),
        )?;
        return Ok(());
    }
    writeln!(
        out,
        "compiled to {} machine code in memory: {} functions, {ir} IR instructions",
        std::env::consts::ARCH,
        tiers[0].1.stats.functions,
    )?;
    for (name, p) in &tiers {
        writeln!(
            out,
            "  {name:5} tier: {:>8.1} ms, {:>9} bytes of code",
            p.stats.compile_time.as_secs_f64() * 1e3,
            p.stats.code_bytes
        )?;
    }
    writeln!(
        out,
        "the native engine starts modules over {} IR instructions in the first tier (single-pass register allocator, no inlining) and moves them to the best once hot",
        chainlift_emulator::native::LARGE
    )?;
    Ok(())
}

/// `translate --target wasm`: the legalized module to an Arbitrum Stylus
/// WASM module.
fn translate_wasm(
    args: &crate::TranslateArgs,
    module: &chainlift_ir::verify::Verified,
    constructor_slots: usize,
    out: &mut dyn Write,
) -> anyhow::Result<()> {
    use chainlift_backend_wasm::{Options, stylus, translate};
    let emit = args.emit.as_deref().unwrap_or("wasm");
    if !matches!(emit, "wasm" | "wat") {
        bail!("--emit {emit} is for --target sbf; wasm writes wasm or wat");
    }
    let program = translate(
        module,
        &Options {
            strict: args.strict,
            math_hooks: args.math_hooks,
        },
    )?;
    let r = &program.report;
    let facts = program.inspect()?;
    let mut notes = vec![];
    if !r.non_stylus.is_empty() {
        let ops: Vec<String> = r
            .non_stylus
            .iter()
            .map(|(op, pos)| format!("{op} {pos}").trim().to_string())
            .collect();
        notes.push(format!(
            "warning: imports from `chainlift` ({}): runs in chainlift's wasm engine but cannot be deployed on Arbitrum (--strict refuses it)",
            ops.join(", ")
        ));
    }
    for v in facts
        .stylus_violations
        .iter()
        .filter(|v| !v.contains("`chainlift."))
    {
        notes.push(format!("warning: Stylus would not activate it: {v}"));
    }
    if constructor_slots > 0 {
        notes.push(format!(
            "note: the constructor left {constructor_slots} storage slot(s); on Stylus they are the deployment's state, not part of the module"
        ));
    }
    let text;
    let bytes: &[u8] = if emit == "wat" {
        text = wasmprinter::print_bytes(&program.bytes)
            .map_err(|e| anyhow::anyhow!("cannot print the module as text: {e}"))?;
        text.as_bytes()
    } else {
        &program.bytes
    };
    match args.output.as_deref() {
        None | Some("-") if emit == "wat" => out.write_all(bytes)?,
        None | Some("-") => bail!("--emit wasm writes a binary: name a file with -o program.wasm"),
        Some(path) => {
            std::fs::write(path, bytes).with_context(|| format!("cannot write {path}"))?;
            if args.common.json {
                crate::report::write_json(
                    out,
                    &serde_json::json!({
                        "schema_version": crate::report::SCHEMA_VERSION,
                        "target": "wasm",
                        "output": path,
                        "emit": emit,
                        "bytes": r.size,
                        "compressed_bytes": facts.compressed,
                        "functions": r.functions,
                        "imports": r.imports,
                        "max_locals": r.max_locals,
                        "max_instructions": r.max_instructions,
                        "non_stylus": r.non_stylus.iter().map(|(op, pos)| serde_json::json!({"op": op, "pos": pos.to_string()})).collect::<Vec<_>>(),
                        "stylus_violations": facts.stylus_violations,
                    }),
                )?;
            } else {
                writeln!(
                    out,
                    "wrote {path}: WASM for Arbitrum Stylus, {} bytes ({} brotli-compressed; Stylus deploys up to {}), {} functions, {} imports, at most {} locals and {} instructions per function",
                    r.size,
                    facts.compressed,
                    stylus::MAX_COMPRESSED,
                    r.functions,
                    r.imports.len(),
                    r.max_locals,
                    r.max_instructions
                )?;
                for n in &notes {
                    writeln!(out, "{n}")?;
                }
            }
        }
    }
    Ok(())
}

/// The module, when the command's input is WASM (binary or text).
pub(crate) fn wasm_input(common: &crate::Common) -> anyhow::Result<Option<Vec<u8>>> {
    use std::io::Read;
    let Some(file) = common.file.as_deref().filter(|f| *f != "-") else {
        return Ok(None);
    };
    let mut head = [0u8; 4];
    let binary = std::fs::File::open(file)
        .is_ok_and(|mut f| f.read_exact(&mut head).is_ok() && &head == b"\0asm");
    if !binary && !file.ends_with(".wat") {
        return Ok(None);
    }
    let input = crate::input::read(Some(file), None, None)?;
    Ok(chainlift_emulator::stylus::is_wasm(&input.code).then_some(input.code))
}

/// `chainlift disasm program.wasm`: every function's instructions with
/// their offsets.
pub(crate) fn disasm_wasm(bytes: &[u8], out: &mut dyn Write) -> anyhow::Result<()> {
    write!(out, "{}", chainlift_frontend_wasm::disasm(bytes)?)?;
    Ok(())
}

/// `chainlift inspect program.wasm`.
pub(crate) fn inspect_wasm(
    common: &crate::Common,
    bytes: &[u8],
    out: &mut dyn Write,
) -> anyhow::Result<()> {
    let file = common.file.as_deref().unwrap_or_default();
    let i = chainlift_backend_wasm::inspect::inspect(bytes)
        .map_err(|e| anyhow::anyhow!("{file}: not a valid WASM module: {e}"))?;
    // What the lifter makes of it.
    let lifted = chainlift_frontend_wasm::lift(bytes, &Default::default());
    if common.json {
        crate::report::write_json(
            out,
            &serde_json::json!({
                "schema_version": crate::report::SCHEMA_VERSION,
                "format": "wasm",
                "profile": i.profile.name(),
                "bytes": i.size,
                "compressed_bytes": i.compressed,
                "functions": i.functions,
                "imports": i.imports.iter().map(|(m, n, k)| serde_json::json!({"module": m, "name": n, "kind": k})).collect::<Vec<_>>(),
                "exports": i.exports.iter().map(|(n, k)| serde_json::json!({"name": n, "kind": k})).collect::<Vec<_>>(),
                "features": i.features,
                "data_segments": i.data_segments,
                "max_locals": i.max_locals,
                "max_instructions": i.max_instructions,
                "start_function": i.start,
                "stylus_violations": i.stylus_violations,
                "lift": match &lifted {
                    Ok(l) => serde_json::json!({
                        "profile": format!("{:?}", l.profile).to_lowercase(),
                        "ir_instructions": l.module.inst_count(),
                        "unsupported": l.unsupported.iter().map(|(f, u)| serde_json::json!({"function": f, "what": u.what, "offset": u.offset})).collect::<Vec<_>>(),
                        "unknown_imports": l.unknown_imports,
                    }),
                    Err(e) => serde_json::json!({"error": e.to_string()}),
                },
            }),
        )?;
        return Ok(());
    }
    writeln!(
        out,
        "format      WASM module, {} bytes ({} brotli-compressed)",
        i.size, i.compressed
    )?;
    writeln!(out, "profile     {}", i.profile.name())?;
    writeln!(out, "features    {}", i.features)?;
    writeln!(
        out,
        "functions   {} defined, {} imported; at most {} locals and {} instructions per function",
        i.functions,
        i.imports.iter().filter(|x| x.2 == "func").count(),
        i.max_locals,
        i.max_instructions
    )?;
    let by_module = |m: &str| -> Vec<String> {
        i.imports
            .iter()
            .filter(|x| x.0 == m)
            .map(|x| x.1.clone())
            .collect()
    };
    let mut modules: Vec<&str> = i.imports.iter().map(|x| x.0.as_str()).collect();
    modules.dedup();
    for m in modules {
        writeln!(out, "imports     {m}: {}", by_module(m).join(" "))?;
    }
    let exports: Vec<String> = i
        .exports
        .iter()
        .map(|(n, k)| format!("{n} ({k})"))
        .collect();
    writeln!(out, "exports     {}", exports.join(", "))?;
    match &lifted {
        Ok(l) => {
            writeln!(
                out,
                "lift        {} profile, {} IR instructions; {} of {} functions not lifted",
                format!("{:?}", l.profile).to_lowercase(),
                l.module.inst_count(),
                l.unsupported.len(),
                i.functions
            )?;
            for (f, u) in l.unsupported.iter().take(8) {
                writeln!(
                    out,
                    "            func {f}: {} at {:#x} (traps `unsupported`)",
                    u.what, u.offset
                )?;
            }
            if l.unsupported.len() > 8 {
                writeln!(out, "            … and {} more", l.unsupported.len() - 8)?;
            }
            if !l.unknown_imports.is_empty() {
                writeln!(
                    out,
                    "            imports no profile implements (they trap when called): {}",
                    l.unknown_imports.join(" ")
                )?;
            }
        }
        Err(e) => writeln!(out, "lift        not lifted: {e}")?,
    }
    if i.profile == chainlift_backend_wasm::inspect::Profile::Stylus {
        if i.stylus_violations.is_empty() {
            writeln!(out, "stylus      meets Arbitrum Stylus's activation rules")?;
        } else {
            for v in &i.stylus_violations {
                writeln!(out, "stylus      breaks a rule: {v}")?;
            }
        }
    }
    Ok(())
}

pub fn verify(file: &str, out: &mut dyn Write) -> anyhow::Result<()> {
    let m = parse_file(file)?;
    verified(&m, file)?;
    writeln!(
        out,
        "{file}: ok ({} functions, {} instructions)",
        m.functions.len(),
        m.inst_count()
    )?;
    Ok(())
}

pub fn opt(file: &str, out: &mut dyn Write) -> anyhow::Result<()> {
    let mut m = parse_file(file)?;
    verified(&m, file)?;
    passes::optimize(&mut m);
    verified(&m, "optimized IR (a bug in a pass)")?;
    write!(out, "{}", print::print_module(&m))?;
    Ok(())
}

pub fn run(
    file: &str,
    calldata: &str,
    storage: &[String],
    budget: u64,
    json: bool,
    out: &mut dyn Write,
) -> anyhow::Result<()> {
    let m = parse_file(file)?;
    verified(&m, file)?;
    let Some(f) = m.functions.first() else {
        bail!("{file} has no function")
    };
    if !f.params.is_empty() {
        bail!(
            "%{} takes parameters; `ir run` runs a contract entry point with none",
            f.name
        );
    }
    let mut host = SimpleHost {
        calldata: crate::input::parse_hex(calldata, "--calldata")?,
        ..Default::default()
    };
    for s in storage {
        let (k, v) = s
            .split_once('=')
            .ok_or_else(|| anyhow!("--storage takes SLOT=VALUE, got `{s}`"))?;
        host.storage
            .insert(crate::scenario::number(k)?, crate::scenario::number(v)?);
    }
    let mut interp = Interpreter::new(
        &m,
        Limits {
            budget,
            ..Limits::default()
        },
    );
    let outcome = interp.run(&mut host, FuncId::new(0), &[]);
    let hex = |d: &[u8]| {
        format!(
            "0x{}",
            d.iter().map(|b| format!("{b:02x}")).collect::<String>()
        )
    };
    let (status, data) = match &outcome {
        Outcome::Stop => ("success".to_string(), vec![]),
        Outcome::Return(d) => ("success".to_string(), d.clone()),
        Outcome::Revert(d) => ("revert".to_string(), d.clone()),
        Outcome::SelfDestruct(a) => (format!("selfdestruct {a:#x}"), vec![]),
        Outcome::Values(vs) => (format!("returned {vs:?}"), vec![]),
        Outcome::Trap { code, pos } => (format!("trap {code} {pos}").trim().to_string(), vec![]),
        Outcome::OutOfBudget { pos } => (format!("out of budget {pos}").trim().to_string(), vec![]),
    };
    let mut slots: Vec<_> = host.storage.iter().filter(|(_, v)| !v.is_zero()).collect();
    slots.sort();
    if json {
        let storage: serde_json::Map<String, serde_json::Value> = slots
            .iter()
            .map(|(k, v)| {
                (
                    format!("{k:#x}"),
                    serde_json::Value::String(format!("{v:#x}")),
                )
            })
            .collect();
        let logs: Vec<serde_json::Value> = host
            .logs
            .iter()
            .map(|(t, d)| serde_json::json!({"topics": t.iter().map(|x| format!("{x:#x}")).collect::<Vec<_>>(), "data": hex(d)}))
            .collect();
        crate::report::write_json(
            out,
            &serde_json::json!({
                "schema_version": crate::report::SCHEMA_VERSION,
                "status": status,
                "return_data": hex(&data),
                "storage": storage,
                "logs": logs,
                "instructions": interp.steps,
            }),
        )?;
    } else {
        writeln!(out, "status:       {status}")?;
        writeln!(out, "return data:  {}", hex(&data))?;
        for (k, v) in slots {
            writeln!(out, "storage:      {k:#x} = {v:#x}")?;
        }
        for (t, d) in &host.logs {
            let topics: Vec<String> = t.iter().map(|x| format!("{x:#x}")).collect();
            writeln!(out, "log:          [{}] {}", topics.join(", "), hex(d))?;
        }
        writeln!(out, "instructions: {}", interp.steps)?;
    }
    Ok(())
}

/// `chainlift cfg program.wasm`: each function's blocks as the lifter
/// makes them (optimized), with the WASM offsets they cover, as Graphviz
/// DOT (one cluster per function) or JSON.
pub(crate) fn cfg_wasm(bytes: &[u8], json: bool, out: &mut dyn Write) -> anyhow::Result<()> {
    use chainlift_ir::function::Terminator;
    use chainlift_ir::inst::SourcePos;
    let lifted = chainlift_frontend_wasm::lift(bytes, &Default::default())?;
    let offsets = |f: &chainlift_ir::function::Function, b: chainlift_ir::entities::Block| {
        let data = f.block(b);
        let wasm = data
            .insts
            .iter()
            .map(|i| i.pos)
            .chain(std::iter::once(data.term_pos))
            .filter_map(|p| match p {
                SourcePos::Wasm(o) => Some(o),
                _ => None,
            });
        let (lo, hi) = wasm.fold((None, None), |(lo, hi): (Option<u32>, Option<u32>), o| {
            (
                Some(lo.map_or(o, |l| l.min(o))),
                Some(hi.map_or(o, |h| h.max(o))),
            )
        });
        lo.zip(hi)
    };
    let kind = |t: &Terminator| match t {
        Terminator::Jump(_) => "jump",
        Terminator::Branch { .. } => "brif",
        Terminator::Switch { .. } => "switch",
        Terminator::Return(_) => "return",
        Terminator::Exit(..) => "exit",
        Terminator::Trap(_) => "trap",
    };
    if json {
        let functions: Vec<serde_json::Value> = lifted
            .module
            .functions
            .iter()
            .map(|f| {
                let blocks: Vec<serde_json::Value> = f
                    .layout
                    .iter()
                    .map(|b| {
                        let data = f.block(*b);
                        serde_json::json!({
                            "block": b.to_string(),
                            "offsets": offsets(f, *b).map(|(lo, hi)| [lo, hi]),
                            "instructions": data.insts.len(),
                            "terminator": kind(&data.term),
                            "successors": data.term.targets().map(|c| c.block.to_string()).collect::<Vec<_>>(),
                        })
                    })
                    .collect();
                serde_json::json!({"function": f.name, "blocks": blocks})
            })
            .collect();
        crate::report::write_json(
            out,
            &serde_json::json!({
                "schema_version": crate::report::SCHEMA_VERSION,
                "format": "wasm",
                "functions": functions,
            }),
        )?;
        return Ok(());
    }
    writeln!(out, "digraph cfg {{")?;
    writeln!(
        out,
        "  node [shape=box fontname=\"monospace\" fontsize=10];"
    )?;
    for (i, f) in lifted.module.functions.iter().enumerate() {
        writeln!(out, "  subgraph cluster_{i} {{")?;
        writeln!(out, "    label=\"%{}\";", f.name)?;
        for b in &f.layout {
            let data = f.block(*b);
            let span = offsets(f, *b)
                .map(|(lo, hi)| format!("{lo:#x}..{hi:#x}"))
                .unwrap_or_default();
            writeln!(
                out,
                "    f{i}_{b} [label=\"{b} {span}\\l{} insts, {}\\l\"];",
                data.insts.len(),
                kind(&data.term)
            )?;
            for c in data.term.targets() {
                writeln!(out, "    f{i}_{b} -> f{i}_{};", c.block)?;
            }
        }
        writeln!(out, "  }}")?;
    }
    writeln!(out, "}}")?;
    Ok(())
}
