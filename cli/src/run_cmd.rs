//! `chainlift run` and `chainlift diff`: a plan of calls (one from the
//! command line, or a scenario file), run in one or several engines, each
//! engine carrying its own state from call to call.

use crate::CallArgs;
use crate::abi;
use crate::report::hex;
use crate::scenario::{self, Expect, Plan, Step};
use alloy_json_abi::JsonAbi;
use anyhow::{anyhow, bail};
use chainlift_emulator::evm::EvmEngine;
use chainlift_emulator::ir::IrEngine;
use chainlift_emulator::sbf::SbfEngine;
use chainlift_emulator::trace::Lockstep;
use chainlift_emulator::{BlockEnv, Call, Engine, Outcome, Status};
use serde_json::{Value, json};
use std::collections::BTreeMap;
use std::io::Write;
use std::path::Path;

/// The engines `run`, `diff` and `test` know.
pub const ENGINES: &[&str] = &["evm", "ir", "sbf", "sbf-jit"];

/// The engines `diff` and `test` compare when none are named. The SBF
/// engines are asked for by name (`--engines evm,ir,sbf`): they cannot run
/// every contract (see backend-sbf's mapping), and a default that fails on
/// such contracts would help nobody.
pub const DEFAULT_ENGINES: &[&str] = &["evm", "ir"];

pub fn engine(name: &str) -> anyhow::Result<Box<dyn Engine>> {
    match name.trim() {
        "evm" => Ok(Box::new(EvmEngine)),
        "ir" => Ok(Box::new(IrEngine::default())),
        "sbf" => Ok(Box::new(SbfEngine::new(false))),
        "sbf-jit" => Ok(Box::new(SbfEngine::new(true))),
        other => bail!(
            "unknown engine `{other}` (available: {})",
            ENGINES.join(", ")
        ),
    }
}

/// The plan the command line describes: a scenario file, or one call.
fn plan(args: &CallArgs) -> anyhow::Result<Plan> {
    let c = &args.common;
    let mut file = c.file.clone();
    let mut call_args = args.args.clone();
    // With --code, the first positional word is a call argument.
    if c.code.is_some()
        && let Some(f) = file.take()
    {
        call_args.insert(0, f);
    }
    let mut block = BlockEnv::default();
    args.block.apply(&mut block)?;
    if let Some(f) = file.as_deref().filter(|f| f.ends_with(".toml")) {
        if args.sig.is_some() || args.calldata.is_some() || !call_args.is_empty() {
            bail!("a scenario file lists its own calls: drop --sig, --calldata and arguments");
        }
        return scenario::load(Path::new(f), block, c.fork, args.gas, None);
    }
    let input = crate::input::read(file.as_deref(), c.code.as_deref(), c.contract.as_deref())?;
    let abi = match &args.abi {
        Some(path) => Some(scenario::read_abi(path)?),
        None => input.abi.clone(),
    };
    let caller = scenario::address(&args.caller, "--caller")?;
    let (data, function, label) = scenario::calldata(
        args.calldata.as_deref(),
        args.sig.as_deref(),
        &call_args,
        abi.as_ref(),
        "the call",
    )?;
    let mut storage = BTreeMap::new();
    for s in &args.storage {
        let (k, v) = s
            .split_once('=')
            .ok_or_else(|| anyhow!("--storage takes SLOT=VALUE, got `{s}`"))?;
        storage.insert(scenario::number(k)?, scenario::number(v)?);
    }
    let step = Step {
        label,
        call: Call {
            caller,
            origin: caller,
            to: scenario::CONTRACT,
            value: scenario::number(&args.value)?,
            data,
            gas_limit: args.gas,
            gas_price: alloy_primitives::U256::ZERO,
        },
        function,
        expect: None,
    };
    Ok(scenario::single(input, abi, step, storage, block, c.fork))
}

/// Every engine's outcome of every step, each engine carrying its own
/// world from call to call.
pub fn execute(plan: &Plan, engines: &[Box<dyn Engine>]) -> anyhow::Result<Vec<Vec<Outcome>>> {
    let mut worlds = vec![plan.world.clone(); engines.len()];
    let mut results = vec![];
    for (i, step) in plan.steps.iter().enumerate() {
        let mut row = vec![];
        for (e, world) in engines.iter().zip(&mut worlds) {
            let o = e
                .run(world, &plan.block, &step.call, plan.fork)
                .map_err(|err| anyhow!("call {} ({}): {}: {err}", i + 1, step.label, e.name()))?;
            world.commit(&step.call, &o);
            row.push(o);
        }
        results.push(row);
    }
    Ok(results)
}

/// Why `o` does not meet `expect`, if it does not.
fn check(expect: &Expect, step: &Step, abi: Option<&JsonAbi>, o: &Outcome) -> Option<String> {
    if let Some(s) = &expect.status
        && s != o.status.kind()
    {
        return Some(format!(
            "expected {s}, got {}",
            describe_status(o, step, abi)
        ));
    }
    if let Some(want) = &expect.return_data {
        match crate::input::parse_hex(want, "expect.return_data") {
            Ok(bytes) if bytes == o.return_data => {}
            Ok(_) => {
                return Some(format!(
                    "expected return data {want}, got {}",
                    hex(&o.return_data)
                ));
            }
            Err(e) => return Some(e.to_string()),
        }
    }
    if let Some(want) = &expect.returns {
        let f = step.function.as_ref()?;
        let got = match abi::decode_return(f, &o.return_data) {
            Ok(v) => v,
            Err(e) => return Some(e.to_string()),
        };
        match abi::expected_returns(f, want) {
            Ok(w) if w == got => {}
            Ok(_) => {
                return Some(format!(
                    "expected returns ({}), got ({})",
                    want.join(", "),
                    abi::format_values(&got)
                ));
            }
            Err(e) => return Some(e.to_string()),
        }
    }
    if let Some(name) = &expect.error {
        match abi::decode_revert(abi, &o.return_data) {
            Some(r) if &r.name == name => {}
            Some(r) => return Some(format!("expected error {name}, got {r}")),
            None => {
                return Some(format!(
                    "expected error {name}, got {}",
                    hex(&o.return_data)
                ));
            }
        }
    }
    if let Some(n) = expect.logs
        && n != o.logs.len()
    {
        return Some(format!("expected {n} log(s), got {}", o.logs.len()));
    }
    None
}

fn describe_status(o: &Outcome, step: &Step, abi: Option<&JsonAbi>) -> String {
    match &o.status {
        Status::Halt(r) => format!("halt ({r})"),
        Status::TargetLimit(r) => format!("target limit ({r})"),
        Status::Revert => match abi::decode_revert(abi, &o.return_data) {
            Some(r) => format!("revert {r}"),
            None if o.return_data.is_empty() => "revert".into(),
            None => format!("revert {}", hex(&o.return_data)),
        },
        Status::Success => match decoded(step, &o.return_data) {
            Some(v) => format!("success ({v})"),
            None => "success".into(),
        },
    }
}

fn decoded(step: &Step, data: &[u8]) -> Option<String> {
    let f = step.function.as_ref()?;
    if f.outputs.is_empty() {
        return None;
    }
    abi::decode_return(f, data)
        .ok()
        .map(|v| abi::format_values(&v))
}

fn outcome_json(o: &Outcome, step: &Step, abi: Option<&JsonAbi>) -> Value {
    let decoded = match o.status {
        Status::Success => decoded(step, &o.return_data).map(Value::String),
        Status::Revert => {
            abi::decode_revert(abi, &o.return_data).map(|r| Value::String(r.to_string()))
        }
        Status::Halt(_) | Status::TargetLimit(_) => None,
    };
    json!({
        "status": o.status.kind(),
        "reason": match &o.status { Status::Halt(r) | Status::TargetLimit(r) => Value::String(r.clone()), _ => Value::Null },
        "return_data": hex(&o.return_data),
        "decoded": decoded,
        "storage": o.storage.iter().map(|(k, (_, v))| (format!("{k:#x}"), Value::String(format!("{v:#x}")))).collect::<serde_json::Map<_, _>>(),
        "logs": o.logs.iter().map(|l| json!({
            "address": l.address.to_string(),
            "topics": l.topics.iter().map(|t| format!("{t:#x}")).collect::<Vec<_>>(),
            "data": hex(&l.data),
        })).collect::<Vec<_>>(),
        "balances": o.balances.iter().map(|(a, (_, v))| (a.to_string(), Value::String(v.to_string()))).collect::<serde_json::Map<_, _>>(),
        "cost": {"unit": o.cost.unit, "amount": o.cost.amount},
    })
}

fn outcome_text(
    out: &mut dyn Write,
    name: &str,
    o: &Outcome,
    step: &Step,
    abi: Option<&JsonAbi>,
) -> std::io::Result<()> {
    writeln!(out, "{name}:")?;
    writeln!(out, "  status:      {}", describe_status(o, step, abi))?;
    writeln!(out, "  return data: {}", hex(&o.return_data))?;
    for (k, (before, after)) in &o.storage {
        writeln!(out, "  storage:     {k:#x}: {before:#x} -> {after:#x}")?;
    }
    for (a, (before, after)) in &o.balances {
        writeln!(out, "  balance:     {a}: {before} -> {after}")?;
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

fn deployment_text(out: &mut dyn Write, plan: &Plan) -> std::io::Result<()> {
    if let Some(d) = &plan.deployment {
        let a = d.address.map(|a| a.to_string()).unwrap_or_default();
        let size = plan
            .world
            .accounts
            .get(&d.address.unwrap_or_default())
            .map_or(0, |x| x.code.len());
        writeln!(
            out,
            "deployed on revm at {a}: {size} bytes of runtime code, {} gas",
            d.outcome.cost.amount
        )?;
    }
    Ok(())
}

/// `chainlift run`: the plan in one engine. Returns 1 when a scenario's
/// expectation fails.
pub(crate) fn run(args: &CallArgs, engine_name: &str, out: &mut dyn Write) -> anyhow::Result<u8> {
    let plan = plan(args)?;
    let e = engine(engine_name)?;
    let results = execute(&plan, std::slice::from_ref(&e))?;
    let abi = plan.abi.as_ref();
    let mut failures = vec![];
    for (i, (step, row)) in plan.steps.iter().zip(&results).enumerate() {
        if let Some(f) = step
            .expect
            .as_ref()
            .and_then(|x| check(x, step, abi, &row[0]))
        {
            failures.push(format!("call {} ({}): {f}", i + 1, step.label));
        }
    }
    if args.common.json {
        let calls: Vec<Value> = plan
            .steps
            .iter()
            .zip(&results)
            .map(|(step, row)| {
                let mut v = outcome_json(&row[0], step, abi);
                v["call"] = json!(step.label);
                v
            })
            .collect();
        let v = if calls.len() == 1 && plan.deployment.is_none() {
            let mut v = calls.into_iter().next().unwrap_or_default();
            v["schema_version"] = json!(crate::report::SCHEMA_VERSION);
            v["engine"] = json!(e.name());
            v
        } else {
            json!({
                "schema_version": crate::report::SCHEMA_VERSION,
                "engine": e.name(),
                "expectations": failures,
                "calls": calls,
            })
        };
        crate::report::write_json(out, &v)?;
    } else {
        deployment_text(out, &plan)?;
        let many = plan.steps.len() > 1;
        for (i, (step, row)) in plan.steps.iter().zip(&results).enumerate() {
            if many {
                writeln!(out, "call {}: {}", i + 1, step.label)?;
            }
            outcome_text(out, e.name(), &row[0], step, abi)?;
        }
        for f in &failures {
            writeln!(out, "EXPECTATION FAILED: {f}")?;
        }
    }
    Ok(u8::from(!failures.is_empty()))
}

/// The engines `diff` compares: the ones named, or every engine.
fn engines(names: &[String]) -> anyhow::Result<Vec<Box<dyn Engine>>> {
    let names: Vec<&str> = if names.is_empty() {
        DEFAULT_ENGINES.to_vec()
    } else {
        names.iter().map(String::as_str).collect()
    };
    if names.len() < 2 {
        bail!("--engines needs at least two engines to compare");
    }
    names.iter().map(|n| engine(n)).collect()
}

/// `chainlift diff`. Returns the exit code: 0 when every engine agrees
/// (and every expectation holds), 1 otherwise.
pub(crate) fn diff(
    args: &CallArgs,
    names: &[String],
    trace: bool,
    out: &mut dyn Write,
) -> anyhow::Result<u8> {
    let engines = engines(names)?;
    let plan = plan(args)?;
    let results = execute(&plan, &engines)?;
    let abi = plan.abi.as_ref();
    let mut calls_json = vec![];
    let mut first: Option<String> = None;
    let mut failures: Vec<String> = vec![];
    let mut table = Table::new(engines.iter().map(|e| e.name()).collect());
    for (i, (step, row)) in plan.steps.iter().zip(&results).enumerate() {
        let difference = row.iter().enumerate().skip(1).find_map(|(j, o)| {
            row[0]
                .difference(o)
                .map(|d| format!("{} vs {}: {d}", engines[0].name(), engines[j].name()))
        });
        let mut expectation = None;
        if let Some(x) = &step.expect {
            for (e, o) in engines.iter().zip(row) {
                if let Some(f) = check(x, step, abi, o) {
                    let msg = format!("call {} ({}): {}: {f}", i + 1, step.label, e.name());
                    failures.push(msg.clone());
                    expectation.get_or_insert(msg);
                }
            }
        }
        if let (None, Some(d)) = (&first, &difference) {
            first = Some(format!("call {} ({}): {d}", i + 1, step.label));
        }
        if args.common.json {
            calls_json.push(json!({
                "call": step.label,
                "equal": difference.is_none(),
                "difference": difference,
                "expectation": expectation,
                "engines": engines.iter().zip(row).map(|(e, o)| (e.name().to_string(), outcome_json(o, step, abi))).collect::<serde_json::Map<_, _>>(),
            }));
        } else {
            table.call(i + 1, step, row, abi, difference.as_deref());
        }
    }
    let mut trace_report = None;
    if trace
        && let Some(i) = results
            .iter()
            .position(|row| row.iter().skip(1).any(|o| row[0].difference(o).is_some()))
    {
        trace_report = Some(lockstep(&plan, i)?);
    }
    if args.common.json {
        let mut v = json!({
            "schema_version": crate::report::SCHEMA_VERSION,
            "equal": first.is_none(),
            "expectations": failures,
            "calls": calls_json,
        });
        if let Some(t) = &trace_report {
            v["trace"] = trace_json(t);
        }
        crate::report::write_json(out, &v)?;
    } else {
        deployment_text(out, &plan)?;
        table.print(out)?;
        if let Some(t) = &trace_report {
            trace_text(out, t)?;
        }
        for f in &failures {
            writeln!(out, "EXPECTATION FAILED: {f}")?;
        }
        match &first {
            None => writeln!(
                out,
                "equal: every engine agrees on {} call(s)",
                plan.steps.len()
            )?,
            Some(d) => writeln!(out, "DIFFERENT: {d}")?,
        }
    }
    Ok(u8::from(first.is_some() || !failures.is_empty()))
}

/// The side-by-side table `diff` prints: one block per call, one column
/// per engine.
struct Table {
    names: Vec<&'static str>,
    rows: Vec<Vec<String>>,
}

impl Table {
    fn new(names: Vec<&'static str>) -> Self {
        Table {
            names,
            rows: vec![],
        }
    }

    fn call(
        &mut self,
        n: usize,
        step: &Step,
        row: &[Outcome],
        abi: Option<&JsonAbi>,
        difference: Option<&str>,
    ) {
        let mark = if difference.is_some() {
            "DIFFERENT"
        } else {
            "equal"
        };
        self.rows
            .push(vec![format!("call {n}: {}  [{mark}]", step.label)]);
        let mut field = |name: &str, f: &dyn Fn(&Outcome) -> String| {
            let mut r = vec![format!("  {name}")];
            r.extend(row.iter().map(f));
            self.rows.push(r);
        };
        field("status", &|o| clip(&describe_status(o, step, abi)));
        field("return data", &|o| short(&hex(&o.return_data)));
        field("storage", &|o| {
            clip(
                &o.storage
                    .iter()
                    .map(|(k, (_, v))| format!("{}={}", compact(k), compact(v)))
                    .collect::<Vec<_>>()
                    .join(" "),
            )
        });
        field("logs", &|o| o.logs.len().to_string());
        if row.iter().any(|o| !o.balances.is_empty()) {
            field("balances", &|o| {
                o.balances
                    .iter()
                    .map(|(a, (_, v))| format!("{a:#}={v}"))
                    .collect::<Vec<_>>()
                    .join(" ")
            });
        }
        field("cost", &|o| format!("{} {}", o.cost.amount, o.cost.unit));
        if let Some(d) = difference {
            self.rows.push(vec![format!("  first difference: {d}")]);
        }
    }

    fn print(&self, out: &mut dyn Write) -> std::io::Result<()> {
        let cols = self.names.len() + 1;
        let mut width = vec![0usize; cols];
        for r in self.rows.iter().filter(|r| r.len() == cols) {
            for (w, c) in width.iter_mut().zip(r) {
                *w = (*w).max(c.chars().count());
            }
        }
        width[0] = width[0].max(13);
        for (w, n) in width.iter_mut().skip(1).zip(&self.names) {
            *w = (*w).max(n.len());
        }
        let line = |out: &mut dyn Write, cells: &[&str]| -> std::io::Result<()> {
            let mut s = String::new();
            for (i, c) in cells.iter().enumerate() {
                let pad = width[i].saturating_sub(c.chars().count());
                s.push_str(c);
                if i + 1 < cells.len() {
                    s.push_str(&" ".repeat(pad + 2));
                }
            }
            writeln!(out, "{}", s.trim_end())
        };
        let mut header = vec![""];
        header.extend(self.names.iter().copied());
        line(out, &header)?;
        for r in &self.rows {
            if r.len() == cols {
                let cells: Vec<&str> = r.iter().map(String::as_str).collect();
                line(out, &cells)?;
            } else {
                writeln!(out, "{}", r[0])?;
            }
        }
        Ok(())
    }
}

/// A cell cut to a readable width.
fn clip(s: &str) -> String {
    if s.chars().count() > 60 {
        format!("{}…", s.chars().take(59).collect::<String>())
    } else {
        s.to_string()
    }
}

fn short(s: &str) -> String {
    if s.chars().count() > 42 {
        format!("{}…({} bytes)", &s[..26], (s.len() - 2) / 2)
    } else {
        s.to_string()
    }
}

/// A word in hex, long ones abbreviated.
fn compact(v: &alloy_primitives::U256) -> String {
    let s = format!("{v:#x}");
    if s.len() > 14 {
        format!("{}…{}", &s[..8], &s[s.len() - 4..])
    } else {
        s
    }
}

/// Reruns call `i` of the plan in revm and the IR in lockstep, from the
/// state revm reached after the calls before it (on which all agreed).
fn lockstep(plan: &Plan, i: usize) -> anyhow::Result<(usize, Lockstep)> {
    let mut world = plan.world.clone();
    for step in &plan.steps[..i] {
        let o = EvmEngine.run(&world, &plan.block, &step.call, plan.fork)?;
        world.commit(&step.call, &o);
    }
    let t = chainlift_emulator::trace::lockstep(
        &IrEngine::default(),
        &world,
        &plan.block,
        &plan.steps[i].call,
        plan.fork,
    )?;
    Ok((i, t))
}

fn pc(p: Option<usize>) -> String {
    p.map_or("?".into(), |p| format!("{p:#x}"))
}

fn trace_text(out: &mut dyn Write, (i, t): &(usize, Lockstep)) -> std::io::Result<()> {
    writeln!(
        out,
        "trace of call {}: {} effects in revm, {} in the IR",
        i + 1,
        t.evm.len(),
        t.ir.len()
    )?;
    match &t.divergence {
        None => writeln!(
            out,
            "  every effect (storage, logs, exit) and the memory at each agree; the engines differ in what follows the last effect"
        ),
        Some(d) => writeln!(
            out,
            "  first divergence at effect {}: evm pc {}, ir pc {}: {}",
            d.index + 1,
            pc(d.evm_pc),
            pc(d.ir_pc),
            d.what
        ),
    }
}

fn trace_json((i, t): &(usize, Lockstep)) -> Value {
    json!({
        "call": i + 1,
        "evm_effects": t.evm.len(),
        "ir_effects": t.ir.len(),
        "divergence": t.divergence.as_ref().map(|d| json!({
            "effect": d.index + 1,
            "evm_pc": d.evm_pc,
            "ir_pc": d.ir_pc,
            "what": d.what,
        })),
    })
}
