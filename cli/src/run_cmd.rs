//! `chainlift run` and `chainlift diff`: a plan of calls (one from the
//! command line, or a scenario file), run in one or several engines, each
//! engine carrying its own state from call to call.

use crate::CallArgs;
use crate::abi;
use crate::engines::{engine, engine_names};
use crate::report::hex;
use crate::scenario::{self, Expect, Plan, Step};
use anyhow::{anyhow, bail};
use chainlift_emulator::evm::EvmEngine;
use chainlift_emulator::registry;
use chainlift_emulator::trace::Lockstep;
use chainlift_emulator::{BlockEnv, Call, Engine, EngineError, Outcome, Status};
use serde_json::{Value, json};
use std::collections::BTreeMap;
use std::io::Write;
use std::path::Path;

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
            create: false,
            caller,
            origin: caller,
            to: scenario::CONTRACT,
            value: scenario::number(&args.value)?,
            data,
            gas_limit: args.gas,
            gas_price: alloy_primitives::U256::ZERO,
        },
        function,
        abi: abi.clone(),
        expect: None,
    };
    Ok(scenario::single(input, abi, step, storage, block, c.fork))
}

/// What one engine made of one call: its outcome, or why it could not run
/// the call (the contract does not translate for its target, the call
/// needs something the target cannot express, or the run reached a limit
/// of the target VM that the EVM does not have).
pub type Ran = Result<Outcome, String>;

/// Every engine's result for every step, each engine carrying its own
/// world from call to call. An engine that cannot run a call continues
/// from revm's world (or, without revm, the first engine's that ran it), so
/// that its later calls are still compared from the same state.
pub fn execute(plan: &Plan, engines: &[Box<dyn Engine>]) -> Vec<Vec<Ran>> {
    let mut worlds = vec![plan.world.clone(); engines.len()];
    let mut results = vec![];
    for step in &plan.steps {
        let mut row = vec![];
        for (e, world) in engines.iter().zip(&mut worlds) {
            let ran = match e.run(world, &plan.block, &step.call, plan.fork) {
                Ok(o) => match &o.status {
                    Status::TargetLimit(why) => Err(why.clone()),
                    _ => Ok(o),
                },
                Err(EngineError::Unsupported { reason, .. }) => Err(reason),
                Err(err) => Err(err.to_string()),
            };
            if let Ok(o) = &ran {
                world.commit(&step.call, o);
            }
            row.push(ran);
        }
        // From revm when it ran (the oracle), else the first engine that did.
        let oracle = engines
            .iter()
            .zip(&row)
            .position(|(e, r)| e.name() == "evm" && r.is_ok());
        let reference = oracle.or_else(|| row.iter().position(Result::is_ok));
        if let Some(reference) = reference.filter(|_| row.iter().any(Result::is_err)) {
            let carried = worlds[reference].clone();
            for (ran, world) in row.iter().zip(&mut worlds) {
                if ran.is_err() {
                    *world = carried.clone();
                }
            }
        }
        results.push(row);
    }
    results
}

/// Why `o` does not meet `expect`, if it does not.
fn check(expect: &Expect, step: &Step, plan: &Plan, o: &Outcome) -> Option<String> {
    if let Some(s) = &expect.status
        && s != o.status.kind()
    {
        return Some(format!(
            "expected {s}, got {}",
            describe_status(o, step, plan)
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
        match plan.revert(step, &o.return_data) {
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

fn describe_status(o: &Outcome, step: &Step, plan: &Plan) -> String {
    match &o.status {
        Status::Halt(r) => format!("halt ({r})"),
        Status::TargetLimit(r) => format!("target limit ({r})"),
        Status::Revert => match plan.revert(step, &o.return_data) {
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

fn outcome_json(ran: &Ran, step: &Step, plan: &Plan) -> Value {
    let o = match ran {
        Ok(o) => o,
        Err(why) => return json!({"status": "cannot-run", "reason": why}),
    };
    let decoded = match o.status {
        Status::Success => decoded(step, &o.return_data).map(Value::String),
        Status::Revert => plan
            .revert(step, &o.return_data)
            .map(|r| Value::String(r.to_string())),
        Status::Halt(_) | Status::TargetLimit(_) => None,
    };
    json!({
        "status": o.status.kind(),
        "reason": match &o.status { Status::Halt(r) | Status::TargetLimit(r) => Value::String(r.clone()), _ => Value::Null },
        "return_data": hex(&o.return_data),
        "decoded": decoded,
        "storage": storage_json(o, step),
        "nonces": o.nonces.iter().map(|(a, (_, n))| (a.to_string(), json!(n))).collect::<serde_json::Map<_, _>>(),
        "created": o.code.iter().map(|(a, c)| (a.to_string(), Value::String(hex(c)))).collect::<serde_json::Map<_, _>>(),
        "destroyed": o.destroyed.iter().map(|a| a.to_string()).collect::<Vec<_>>(),
        "logs": o.logs.iter().map(|l| json!({
            "address": l.address.to_string(),
            "topics": l.topics.iter().map(|t| format!("{t:#x}")).collect::<Vec<_>>(),
            "data": hex(&l.data),
        })).collect::<Vec<_>>(),
        "balances": o.balances.iter().map(|(a, (_, v))| (a.to_string(), Value::String(v.to_string()))).collect::<serde_json::Map<_, _>>(),
        "cost": {"unit": o.cost.unit, "amount": o.cost.amount},
    })
}

/// Storage changes as JSON: the called contract's by slot, as before
/// several accounts were reported, and every other account's under its
/// address.
fn storage_json(o: &Outcome, step: &Step) -> Value {
    let mut own = serde_json::Map::new();
    let mut others: BTreeMap<String, serde_json::Map<String, Value>> = BTreeMap::new();
    for ((a, k), (_, v)) in &o.storage {
        let entry = (format!("{k:#x}"), Value::String(format!("{v:#x}")));
        if *a == step.call.to {
            own.insert(entry.0, entry.1);
        } else {
            others
                .entry(a.to_string())
                .or_default()
                .insert(entry.0, entry.1);
        }
    }
    for (a, slots) in others {
        own.insert(a, Value::Object(slots));
    }
    Value::Object(own)
}

fn outcome_text(
    out: &mut dyn Write,
    name: &str,
    ran: &Ran,
    step: &Step,
    plan: &Plan,
) -> std::io::Result<()> {
    writeln!(out, "{name}:")?;
    let o = match ran {
        Ok(o) => o,
        Err(why) => return writeln!(out, "  cannot run: {why}"),
    };
    writeln!(out, "  status:      {}", describe_status(o, step, plan))?;
    writeln!(out, "  return data: {}", hex(&o.return_data))?;
    for ((a, k), (before, after)) in &o.storage {
        let whose = if *a == step.call.to {
            String::new()
        } else {
            format!("{a} ")
        };
        writeln!(
            out,
            "  storage:     {whose}{k:#x}: {before:#x} -> {after:#x}"
        )?;
    }
    for (a, c) in &o.code {
        writeln!(out, "  created:     {a} ({} bytes of code)", c.len())?;
    }
    for (a, (before, after)) in &o.nonces {
        writeln!(out, "  nonce:       {a}: {before} -> {after}")?;
    }
    for a in &o.destroyed {
        writeln!(out, "  destroyed:   {a}")?;
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
    let many = plan.deployments.len() > 1;
    for (name, d) in &plan.deployments {
        let a = d.address.map(|a| a.to_string()).unwrap_or_default();
        let size = plan
            .world
            .accounts
            .get(&d.address.unwrap_or_default())
            .map_or(0, |x| x.code.len());
        let name = if many {
            format!("{name} ")
        } else {
            String::new()
        };
        writeln!(
            out,
            "deployed {name}on revm at {a}: {size} bytes of runtime code, {} gas",
            d.outcome.cost.amount
        )?;
    }
    Ok(())
}

/// `chainlift run`: the plan in one engine. Returns 1 when a scenario's
/// expectation fails, 4 when the engine could not run a call.
pub(crate) fn run(args: &CallArgs, engine_name: &str, out: &mut dyn Write) -> anyhow::Result<u8> {
    let plan = plan(args)?;
    let e = engine(engine_name)?;
    let results = execute(&plan, std::slice::from_ref(&e));
    let mut failures = vec![];
    let mut cannot = 0usize;
    for (i, (step, row)) in plan.steps.iter().zip(&results).enumerate() {
        match &row[0] {
            Ok(o) => {
                if let Some(f) = step.expect.as_ref().and_then(|x| check(x, step, &plan, o)) {
                    failures.push(format!("call {} ({}): {f}", i + 1, step.label));
                }
            }
            Err(_) => cannot += 1,
        }
    }
    if args.common.json {
        let calls: Vec<Value> = plan
            .steps
            .iter()
            .zip(&results)
            .map(|(step, row)| {
                let mut v = outcome_json(&row[0], step, &plan);
                v["call"] = json!(step.label);
                v
            })
            .collect();
        let v = if calls.len() == 1 && plan.deployments.is_empty() {
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
            outcome_text(out, e.name(), &row[0], step, &plan)?;
        }
        for f in &failures {
            writeln!(out, "EXPECTATION FAILED: {f}")?;
        }
    }
    Ok(if !failures.is_empty() {
        1
    } else if cannot > 0 {
        CANNOT_RUN
    } else {
        0
    })
}

/// The exit code of `run`, `diff` and `bench` when every engine that ran
/// agreed (and met every expectation) but some engine could not run some
/// call.
pub const CANNOT_RUN: u8 = 4;

/// The engines `diff` compares: the ones named (`all` for every one), or
/// the registry's defaults.
fn engines(names: &[String]) -> anyhow::Result<Vec<Box<dyn Engine>>> {
    let names = engine_names(names);
    if names.len() < 2 {
        bail!("--engines needs at least two engines to compare");
    }
    names.iter().map(|n| engine(n)).collect()
}

/// How the engines fared on one call.
struct Verdict {
    /// The engines in groups that agree, in the order their first member
    /// appears; engines that could not run are grouped by reason.
    groups: Vec<Group>,
    /// The first difference from the reference (the first engine that
    /// ran), as "evm vs ir: …".
    difference: Option<String>,
}

struct Group {
    /// Indices into the engine list.
    members: Vec<usize>,
    /// `Some(reason)` for engines that could not run the call.
    cannot: Option<String>,
}

fn verdict(row: &[Ran], names: &[&'static str]) -> Verdict {
    let mut groups: Vec<Group> = vec![];
    for (i, ran) in row.iter().enumerate() {
        let found = groups.iter_mut().find(|g| {
            let first = &row[g.members[0]];
            match (first, ran) {
                (Ok(a), Ok(b)) => a.difference(b).is_none(),
                (Err(a), Err(b)) => a == b,
                _ => false,
            }
        });
        match found {
            Some(g) => g.members.push(i),
            None => groups.push(Group {
                members: vec![i],
                cannot: ran.as_ref().err().cloned(),
            }),
        }
    }
    let reference = row.iter().position(Result::is_ok);
    let difference = reference.and_then(|r| {
        let base = row[r].as_ref().ok()?;
        row.iter().enumerate().skip(r + 1).find_map(|(j, o)| {
            let d = base.difference(o.as_ref().ok()?)?;
            Some(format!("{} vs {}: {d}", names[r], names[j]))
        })
    });
    Verdict { groups, difference }
}

impl Verdict {
    /// The engines that could not run, with their reasons.
    fn cannot(&self, names: &[&'static str]) -> Vec<String> {
        self.groups
            .iter()
            .filter_map(|g| {
                let why = g.cannot.as_ref()?;
                Some(format!("{}: {why}", join(&g.members, names, ", ")))
            })
            .collect()
    }

    /// One line: equal or which engines differ, and who could not run.
    fn summary(&self, names: &[&'static str]) -> String {
        let ran: Vec<&Group> = self.groups.iter().filter(|g| g.cannot.is_none()).collect();
        let mut s = match (ran.len(), &self.difference) {
            (0, _) => "no engine ran it".to_string(),
            (_, None) => format!("equal ({})", join(&ran[0].members, names, " = ")),
            (_, Some(d)) => {
                let groups: Vec<String> =
                    ran.iter().map(|g| join(&g.members, names, " = ")).collect();
                format!("DIFFERENT ({}): {d}", groups.join(" | "))
            }
        };
        let cannot: Vec<String> = self
            .groups
            .iter()
            .filter(|g| g.cannot.is_some())
            .map(|g| join(&g.members, names, ", "))
            .collect();
        if !cannot.is_empty() {
            s.push_str(&format!("; cannot run: {}", cannot.join(", ")));
        }
        s
    }
}

fn join(members: &[usize], names: &[&'static str], sep: &str) -> String {
    members
        .iter()
        .map(|i| names[*i])
        .collect::<Vec<_>>()
        .join(sep)
}

/// `chainlift diff`. Returns the exit code: 0 when every engine agrees and
/// every expectation holds, 1 on a difference or a failed expectation,
/// [`CANNOT_RUN`] when every engine that ran agreed but some engine could
/// not run some call.
pub(crate) fn diff(
    args: &CallArgs,
    names: &[String],
    trace: bool,
    wide: bool,
    out: &mut dyn Write,
) -> anyhow::Result<u8> {
    let engines = engines(names)?;
    let names: Vec<&'static str> = engines.iter().map(|e| e.name()).collect();
    let plan = plan(args)?;
    let results = execute(&plan, &engines);
    let mut calls_json = vec![];
    let mut first: Option<String> = None;
    let mut failures: Vec<String> = vec![];
    let mut cannot_run: BTreeMap<&'static str, Vec<String>> = BTreeMap::new();
    let mut view = View::new(names.clone(), wide);
    let mut differing = None;
    for (i, (step, row)) in plan.steps.iter().zip(&results).enumerate() {
        let v = verdict(row, &names);
        let mut expectation = None;
        for (e, ran) in names.iter().zip(row) {
            match ran {
                Ok(o) => {
                    if let Some(f) = step.expect.as_ref().and_then(|x| check(x, step, &plan, o)) {
                        let msg = format!("call {} ({}): {e}: {f}", i + 1, step.label);
                        failures.push(msg.clone());
                        expectation.get_or_insert(msg);
                    }
                }
                Err(why) => cannot_run.entry(e).or_default().push(format!(
                    "call {} ({}): {why}",
                    i + 1,
                    step.label
                )),
            }
        }
        if let (None, Some(d)) = (&first, &v.difference) {
            first = Some(format!("call {} ({}): {d}", i + 1, step.label));
            differing = Some(i);
        }
        if args.common.json {
            calls_json.push(json!({
                "call": step.label,
                "equal": v.difference.is_none(),
                "difference": v.difference,
                "expectation": expectation,
                "groups": v.groups.iter().map(|g| g.members.iter().map(|m| names[*m]).collect::<Vec<_>>()).collect::<Vec<_>>(),
                "cannot_run": v.cannot(&names),
                "engines": names.iter().zip(row).map(|(e, o)| (e.to_string(), outcome_json(o, step, &plan))).collect::<serde_json::Map<_, _>>(),
            }));
        } else {
            view.call(i + 1, step, row, &plan, &v);
        }
    }
    let mut trace_report = None;
    if trace && let Some(i) = differing {
        let v = verdict(&results[i], &names);
        trace_report = Some(lockstep(&plan, i, &engines, &v)?);
    }
    if args.common.json {
        let mut v = json!({
            "schema_version": crate::report::SCHEMA_VERSION,
            "equal": first.is_none(),
            "expectations": failures,
            "cannot_run": cannot_run,
            "calls": calls_json,
        });
        if let Some(t) = &trace_report {
            v["trace"] = trace_json(t);
        }
        crate::report::write_json(out, &v)?;
    } else {
        deployment_text(out, &plan)?;
        view.print(out)?;
        if let Some(t) = &trace_report {
            trace_text(out, t)?;
        }
        for f in &failures {
            writeln!(out, "EXPECTATION FAILED: {f}")?;
        }
        for (e, calls) in &cannot_run {
            writeln!(
                out,
                "{e} could not run {} of {} call(s); first: {}",
                calls.len(),
                plan.steps.len(),
                calls[0]
            )?;
        }
        let ran = names.iter().filter(|n| {
            cannot_run
                .get(*n)
                .is_none_or(|c| c.len() < plan.steps.len())
        });
        match &first {
            None if cannot_run.is_empty() => writeln!(
                out,
                "equal: every engine agrees on {} call(s)",
                plan.steps.len()
            )?,
            None => writeln!(
                out,
                "equal where they ran: {} agree on every call they could run",
                ran.copied().collect::<Vec<_>>().join(", ")
            )?,
            Some(d) => writeln!(out, "DIFFERENT: {d}")?,
        }
    }
    Ok(if first.is_some() || !failures.is_empty() {
        1
    } else if !cannot_run.is_empty() {
        CANNOT_RUN
    } else {
        0
    })
}

/// The text `diff` prints: one block per call with a one-line verdict, then
/// one row per field. By default the engines that agree share one column
/// and each outlier (or engine that could not run) has its own, cut to the
/// terminal's width; `--wide` gives every engine its own column in full.
struct View {
    names: Vec<&'static str>,
    wide: bool,
    /// Lines already laid out, or tables waiting to be fitted.
    blocks: Vec<Block>,
}

enum Block {
    Line(String),
    /// A header row then field rows; every row has one cell per column.
    Table(Vec<Vec<String>>),
}

impl View {
    fn new(names: Vec<&'static str>, wide: bool) -> Self {
        View {
            names,
            wide,
            blocks: vec![],
        }
    }

    fn call(&mut self, n: usize, step: &Step, row: &[Ran], plan: &Plan, v: &Verdict) {
        self.blocks.push(Block::Line(format!(
            "call {n}: {}  [{}]",
            step.label,
            v.summary(&self.names)
        )));
        // Columns: (header, the engine whose outcome is shown, its members).
        let columns: Vec<(String, usize, Vec<usize>)> = if self.wide {
            (0..row.len())
                .map(|i| (self.names[i].to_string(), i, vec![i]))
                .collect()
        } else {
            v.groups
                .iter()
                .map(|g| {
                    (
                        join(&g.members, &self.names, "="),
                        g.members[0],
                        g.members.clone(),
                    )
                })
                .collect()
        };
        let mut rows = vec![];
        let mut header = vec![String::new()];
        header.extend(columns.iter().map(|c| c.0.clone()));
        rows.push(header);
        type Field<'a> = Box<dyn Fn(&Outcome) -> String + 'a>;
        let mut fields: Vec<(&str, Field)> = vec![
            (
                "status",
                Box::new(|o: &Outcome| describe_status(o, step, plan)),
            ),
            (
                "return data",
                Box::new(|o: &Outcome| short(&hex(&o.return_data))),
            ),
            ("storage", Box::new(|o: &Outcome| storage_cell(o, step))),
            ("logs", Box::new(|o: &Outcome| o.logs.len().to_string())),
        ];
        let any = |f: &dyn Fn(&Outcome) -> bool| row.iter().flatten().any(f);
        if any(&|o| !o.balances.is_empty()) {
            fields.push((
                "balances",
                Box::new(|o: &Outcome| {
                    o.balances
                        .iter()
                        .map(|(a, (_, v))| format!("{a:#}={v}"))
                        .collect::<Vec<_>>()
                        .join(" ")
                }),
            ));
        }
        if any(&|o| !o.code.is_empty() || !o.destroyed.is_empty()) {
            fields.push((
                "accounts",
                Box::new(|o: &Outcome| {
                    let created = o
                        .code
                        .iter()
                        .map(|(a, c)| format!("+{a:#} ({} bytes)", c.len()));
                    let gone = o.destroyed.iter().map(|a| format!("-{a:#}"));
                    created.chain(gone).collect::<Vec<_>>().join(" ")
                }),
            ));
        }
        for (name, f) in &fields {
            let mut r = vec![format!("  {name}")];
            for (_, shown, _) in &columns {
                r.push(match &row[*shown] {
                    Ok(o) => f(o),
                    Err(why) if *name == "status" => format!("cannot run: {why}"),
                    Err(_) => String::new(),
                });
            }
            rows.push(r);
        }
        let mut cost = vec!["  cost".to_string()];
        for (_, _, members) in &columns {
            cost.push(
                members
                    .iter()
                    .filter_map(|m| row[*m].as_ref().ok())
                    .map(|o| format!("{} {}", o.cost.amount, o.cost.unit))
                    .collect::<Vec<_>>()
                    .join(", "),
            );
        }
        rows.push(cost);
        self.blocks.push(Block::Table(rows));
        if let Some(d) = &v.difference {
            self.blocks
                .push(Block::Line(format!("  first difference: {d}")));
        }
    }

    fn print(&self, out: &mut dyn Write) -> std::io::Result<()> {
        let limit = if self.wide {
            usize::MAX
        } else {
            terminal_width()
        };
        for block in &self.blocks {
            match block {
                Block::Line(l) => writeln!(out, "{l}")?,
                Block::Table(rows) => {
                    let cols = rows.iter().map(Vec::len).max().unwrap_or(0);
                    let mut width = vec![0usize; cols];
                    for r in rows {
                        for (w, c) in width.iter_mut().zip(r) {
                            *w = (*w).max(c.chars().count());
                        }
                    }
                    width[0] = width[0].max(13);
                    // Share what the terminal leaves after the field names
                    // between the columns, each at least 12 wide.
                    let room = limit.saturating_sub(width[0] + 2 * cols);
                    let each = (room / cols.saturating_sub(1).max(1)).max(12);
                    for w in width.iter_mut().skip(1) {
                        *w = (*w).min(each);
                    }
                    for r in rows {
                        let mut s = String::new();
                        for (i, c) in r.iter().enumerate() {
                            let c = cut(c, width[i]);
                            let pad = width[i].saturating_sub(c.chars().count());
                            s.push_str(&c);
                            if i + 1 < r.len() {
                                s.push_str(&" ".repeat(pad + 2));
                            }
                        }
                        writeln!(out, "{}", s.trim_end())?;
                    }
                }
            }
        }
        Ok(())
    }
}

/// The terminal's width: `COLUMNS` when set, else 120.
fn terminal_width() -> usize {
    std::env::var("COLUMNS")
        .ok()
        .and_then(|c| c.parse().ok())
        .filter(|w| *w >= 40)
        .unwrap_or(120)
}

/// `s` cut to `width` characters, the cut marked with `…`.
fn cut(s: &str, width: usize) -> String {
    if s.chars().count() > width {
        let mut c: String = s.chars().take(width.saturating_sub(1)).collect();
        c.push('…');
        c
    } else {
        s.to_string()
    }
}

/// The storage changes in one cell: the called contract's as `slot=value`,
/// other accounts' as `account:slot=value`.
fn storage_cell(o: &Outcome, step: &Step) -> String {
    o.storage
        .iter()
        .map(|((a, k), (_, v))| {
            if *a == step.call.to {
                format!("{}={}", compact(k), compact(v))
            } else {
                format!("{a:#}:{}={}", compact(k), compact(v))
            }
        })
        .collect::<Vec<_>>()
        .join(" ")
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

/// Reruns call `i` of the plan in lockstep in two engines that differ on
/// it and can trace (a member of the reference's group and one outside it),
/// from the state revm reached after the calls before it (on which all
/// agreed).
fn lockstep(
    plan: &Plan,
    i: usize,
    engines: &[Box<dyn Engine>],
    v: &Verdict,
) -> anyhow::Result<(usize, Lockstep)> {
    let mut world = plan.world.clone();
    for step in &plan.steps[..i] {
        let o = EvmEngine.run(&world, &plan.block, &step.call, plan.fork)?;
        world.commit(&step.call, &o);
    }
    let ran: Vec<&Group> = v.groups.iter().filter(|g| g.cannot.is_none()).collect();
    let (Some(reference), rest) = (ran.first(), ran.get(1..).unwrap_or_default()) else {
        bail!("no engine ran call {}", i + 1);
    };
    let mut tried = vec![];
    for a in &reference.members {
        for b in rest.iter().flat_map(|g| &g.members) {
            let (ea, eb) = (&engines[*a], &engines[*b]);
            match chainlift_emulator::trace::lockstep(
                ea.as_ref(),
                eb.as_ref(),
                &world,
                &plan.block,
                &plan.steps[i].call,
                plan.fork,
            ) {
                Ok(t) => return Ok((i, t)),
                Err(EngineError::Unsupported { .. }) => {
                    tried.push(format!("{} vs {}", ea.name(), eb.name()))
                }
                Err(e) => return Err(e.into()),
            }
        }
    }
    bail!(
        "--trace needs two engines that differ and can both trace ({}); tried {}",
        registry::ENGINES
            .iter()
            .filter(|e| e.traces)
            .map(|e| e.name)
            .collect::<Vec<_>>()
            .join(", "),
        tried.join(", ")
    )
}

fn pc(p: Option<usize>) -> String {
    p.map_or("?".into(), |p| format!("{p:#x}"))
}

fn trace_text(out: &mut dyn Write, (i, t): &(usize, Lockstep)) -> std::io::Result<()> {
    let [a, b] = t.engines;
    writeln!(
        out,
        "trace of call {} ({a} vs {b}): {} effects in {a}, {} in {b}",
        i + 1,
        t.first.len(),
        t.second.len()
    )?;
    match &t.divergence {
        None => writeln!(
            out,
            "  every effect (storage, logs, exit) and the memory at each agree; the engines differ in what follows the last effect"
        ),
        Some(d) => writeln!(
            out,
            "  first divergence at effect {}: {a} pc {}, {b} pc {}: {}",
            d.index + 1,
            pc(d.pcs[0]),
            pc(d.pcs[1]),
            d.what
        ),
    }
}

fn trace_json((i, t): &(usize, Lockstep)) -> Value {
    json!({
        "call": i + 1,
        "engines": t.engines,
        "effects": [t.first.len(), t.second.len()],
        "divergence": t.divergence.as_ref().map(|d| json!({
            "effect": d.index + 1,
            "pcs": d.pcs,
            "what": d.what,
        })),
    })
}
