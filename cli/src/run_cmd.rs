//! `chainlift run` and `chainlift diff`: one call, one or several engines.

use crate::CallArgs;
use alloy_primitives::{Address, U256};
use anyhow::{anyhow, bail};
use chainlift_emulator::evm::EvmEngine;
use chainlift_emulator::ir::IrEngine;
use chainlift_emulator::{Account, BlockEnv, Call, Engine, Outcome, World};
use serde_json::{Value, json};
use std::io::Write;

/// Where the contract under test lives.
const CONTRACT: Address = Address::new([0xc0; 20]);

fn number(s: &str) -> anyhow::Result<U256> {
    let s = s.trim();
    match s.strip_prefix("0x") {
        Some(h) => U256::from_str_radix(h, 16),
        None => U256::from_str_radix(s, 10),
    }
    .map_err(|_| anyhow!("bad number `{s}`"))
}

fn engine(name: &str) -> anyhow::Result<Box<dyn Engine>> {
    match name.trim() {
        "evm" => Ok(Box::new(EvmEngine)),
        "ir" => Ok(Box::new(IrEngine::default())),
        other => bail!("unknown engine `{other}` (available: evm, ir)"),
    }
}

fn setup(args: &CallArgs) -> anyhow::Result<(World, BlockEnv, Call)> {
    let c = &args.common;
    let input = crate::input::read(c.file.as_deref(), c.code.as_deref(), c.contract.as_deref())?;
    let caller: Address = args
        .caller
        .parse()
        .map_err(|_| anyhow!("bad --caller `{}`", args.caller))?;
    let mut contract = Account {
        code: input.code,
        nonce: 1,
        ..Default::default()
    };
    for s in &args.storage {
        let (k, v) = s
            .split_once('=')
            .ok_or_else(|| anyhow!("--storage takes SLOT=VALUE, got `{s}`"))?;
        contract.storage.insert(number(k)?, number(v)?);
    }
    let mut world = World::default();
    world.accounts.insert(CONTRACT, contract);
    world.accounts.insert(
        caller,
        Account {
            balance: U256::from(10u64).pow(U256::from(24)),
            ..Default::default()
        },
    );
    let call = Call {
        caller,
        origin: caller,
        to: CONTRACT,
        value: number(&args.value)?,
        data: crate::input::parse_hex(&args.calldata, "--calldata")?,
        gas_limit: args.gas,
        gas_price: U256::ZERO,
    };
    Ok((world, BlockEnv::default(), call))
}

fn hex(b: &[u8]) -> String {
    format!(
        "0x{}",
        b.iter().map(|x| format!("{x:02x}")).collect::<String>()
    )
}

fn outcome_json(o: &Outcome) -> Value {
    json!({
        "status": o.status.kind(),
        "reason": match &o.status { chainlift_emulator::Status::Halt(r) => Value::String(r.clone()), _ => Value::Null },
        "return_data": hex(&o.return_data),
        "storage": o.storage.iter().map(|(k, (_, v))| (format!("{k:#x}"), Value::String(format!("{v:#x}")))).collect::<serde_json::Map<_, _>>(),
        "logs": o.logs.iter().map(|l| json!({
            "address": l.address.to_string(),
            "topics": l.topics.iter().map(|t| format!("{t:#x}")).collect::<Vec<_>>(),
            "data": hex(&l.data),
        })).collect::<Vec<_>>(),
        "cost": {"unit": o.cost.unit, "amount": o.cost.amount},
    })
}

fn outcome_text(out: &mut dyn Write, name: &str, o: &Outcome) -> std::io::Result<()> {
    let status = match &o.status {
        chainlift_emulator::Status::Halt(r) => format!("halt ({r})"),
        s => s.kind().to_string(),
    };
    writeln!(out, "{name}:")?;
    writeln!(out, "  status:      {status}")?;
    writeln!(out, "  return data: {}", hex(&o.return_data))?;
    for (k, (before, after)) in &o.storage {
        writeln!(out, "  storage:     {k:#x}: {before:#x} -> {after:#x}")?;
    }
    for l in &o.logs {
        let topics: Vec<String> = l.topics.iter().map(|t| format!("{t:#x}")).collect();
        writeln!(
            out,
            "  log:         {} [{}] {}",
            l.address,
            topics.join(", "),
            hex(&l.data)
        )?;
    }
    writeln!(out, "  cost:        {} {}", o.cost.amount, o.cost.unit)
}

pub fn run(args: &CallArgs, engine_name: &str, out: &mut dyn Write) -> anyhow::Result<()> {
    let (world, block, call) = setup(args)?;
    let e = engine(engine_name)?;
    let o = e.run(&world, &block, &call, args.common.fork)?;
    if args.common.json {
        let mut v = outcome_json(&o);
        v["schema_version"] = json!(crate::report::SCHEMA_VERSION);
        v["engine"] = json!(e.name());
        crate::report::write_json(out, &v)?;
    } else {
        outcome_text(out, e.name(), &o)?;
    }
    Ok(())
}

/// Returns the exit code: 0 when every engine agrees, 1 otherwise.
pub fn diff(args: &CallArgs, engines: &[String], out: &mut dyn Write) -> anyhow::Result<u8> {
    if engines.len() < 2 {
        bail!("--engines needs at least two engines to compare");
    }
    let (world, block, call) = setup(args)?;
    let mut results = vec![];
    for name in engines {
        let e = engine(name)?;
        let o = e.run(&world, &block, &call, args.common.fork)?;
        results.push((e.name(), o));
    }
    let first_difference = results.iter().skip(1).find_map(|(name, o)| {
        results[0]
            .1
            .difference(o)
            .map(|d| format!("{} vs {name}: {d}", results[0].0))
    });
    if args.common.json {
        let engines: serde_json::Map<String, Value> = results
            .iter()
            .map(|(n, o)| (n.to_string(), outcome_json(o)))
            .collect();
        crate::report::write_json(
            out,
            &json!({
                "schema_version": crate::report::SCHEMA_VERSION,
                "equal": first_difference.is_none(),
                "calls": [{"equal": first_difference.is_none(), "difference": first_difference, "engines": engines}],
            }),
        )?;
    } else {
        for (name, o) in &results {
            outcome_text(out, name, o)?;
        }
        match &first_difference {
            None => writeln!(out, "equal: every engine agrees")?,
            Some(d) => writeln!(out, "DIFFERENT: {d}")?,
        }
    }
    Ok(if first_difference.is_none() { 0 } else { 1 })
}
