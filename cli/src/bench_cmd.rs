//! `chainlift bench`: a workload in each engine from the same state, each
//! outcome checked against revm's, and the median time per call with its
//! speedup over revm measured in the same process. A workload on a WASM
//! (Stylus) contract has the `wasm` engine (wasmtime running the original)
//! as its oracle and baseline instead.

use crate::engines::{engine, engine_names};
use crate::run_cmd::CANNOT_RUN;
use anyhow::{Context, bail};
use chainlift_emulator::suite::{self, Workload};
use chainlift_emulator::{BlockEnv, Engine, EngineError, Outcome};
use chainlift_frontend_evm::Fork;
use serde_json::{Value, json};
use std::io::Write;
use std::path::Path;
use std::time::{Duration, Instant};

/// How long each engine is timed per workload (at least three runs).
const TIME_PER_ENGINE: Duration = Duration::from_millis(300);
/// At most this many timed runs.
const MAX_RUNS: usize = 1000;

/// One engine on one workload.
struct Measured {
    /// Why it could not run, if it could not.
    cannot: Option<String>,
    /// Median time of one call.
    median: Duration,
    /// The first run of the whole workload, compilation included (lifting,
    /// translation and code generation an engine caches per code).
    first: Duration,
    /// Every call's outcome equals revm's.
    equal: bool,
    /// The first difference from revm.
    difference: Option<String>,
    /// The cost of one run of the workload, in the engine's unit.
    cost: Option<(u64, &'static str)>,
}

/// The workloads of a file: benchmark fixtures, state tests or a scenario.
fn workloads(path: &str, fork: Fork) -> anyhow::Result<Vec<Workload>> {
    if path.ends_with(".toml") {
        let plan =
            crate::scenario::load(Path::new(path), BlockEnv::default(), fork, 30_000_000, None)?;
        let name = Path::new(path)
            .file_stem()
            .map_or_else(|| path.to_string(), |s| s.to_string_lossy().into_owned());
        return Ok(vec![Workload {
            name,
            world: plan.world,
            block: plan.block,
            calls: plan.steps.into_iter().map(|s| s.call).collect(),
        }]);
    }
    suite::read_workloads(Path::new(path)).map_err(anyhow::Error::msg)
}

/// Runs the workload once in `e`; every call's outcome.
fn run_once(e: &dyn Engine, w: &Workload, fork: Fork) -> Result<Vec<Outcome>, EngineError> {
    let mut world = w.world.clone();
    let mut outcomes = Vec::with_capacity(w.calls.len());
    for call in &w.calls {
        let o = e.run(&world, &w.block, call, fork)?;
        world.commit(call, &o);
        outcomes.push(o);
    }
    Ok(outcomes)
}

fn measure(e: &dyn Engine, w: &Workload, fork: Fork, reference: &[Outcome]) -> Measured {
    // The first run compiles (and fills the engine's caches): timed apart.
    let cold = Instant::now();
    let first = match run_once(e, w, fork) {
        Ok(o) => o,
        Err(err) => {
            return Measured {
                cannot: Some(err.to_string()),
                median: Duration::ZERO,
                first: Duration::ZERO,
                equal: false,
                difference: None,
                cost: None,
            };
        }
    };
    let cold = cold.elapsed();
    // A limit of the target VM the EVM does not have: cannot run, as in
    // `diff`.
    if let Some(why) = first.iter().find_map(|o| match &o.status {
        chainlift_emulator::Status::TargetLimit(why) => Some(why.clone()),
        _ => None,
    }) {
        return Measured {
            cannot: Some(why),
            median: Duration::ZERO,
            first: Duration::ZERO,
            equal: false,
            difference: None,
            cost: None,
        };
    }
    let difference = reference
        .iter()
        .zip(&first)
        .enumerate()
        .find_map(|(i, (r, o))| r.difference(o).map(|d| format!("call {}: {d}", i + 1)));
    let mut times = vec![];
    let start = Instant::now();
    while times.len() < 3 || (start.elapsed() < TIME_PER_ENGINE && times.len() < MAX_RUNS) {
        let t = Instant::now();
        if run_once(e, w, fork).is_err() {
            break;
        }
        times.push(t.elapsed());
    }
    times.sort();
    let calls = w.calls.len().max(1) as u32;
    let median = times.get(times.len() / 2).copied().unwrap_or_default() / calls;
    let cost = first.first().map(|o| {
        let total = first.iter().map(|o| o.cost.amount).sum::<u64>();
        (total, o.cost.unit)
    });
    Measured {
        cannot: None,
        median,
        first: cold,
        equal: difference.is_none(),
        difference,
        cost,
    }
}

fn show(d: Duration) -> String {
    let ns = d.as_nanos() as f64;
    if ns >= 1e9 {
        format!("{:.2} s", ns / 1e9)
    } else if ns >= 1e6 {
        format!("{:.2} ms", ns / 1e6)
    } else if ns >= 1e3 {
        format!("{:.2} µs", ns / 1e3)
    } else {
        format!("{ns:.0} ns")
    }
}

/// `chainlift bench`; the exit code: 0 when every engine equals revm, 1 on
/// a difference, 4 when some engine could not run some workload.
pub(crate) fn bench(
    paths: &[String],
    names: &[String],
    fork: Option<Fork>,
    json: bool,
    out: &mut dyn Write,
) -> anyhow::Result<u8> {
    // revm is the oracle and the baseline: it always runs, first.
    let mut chosen = vec!["evm".to_string()];
    let wanted = if names.is_empty() {
        engine_names(&["all".to_string()])
    } else {
        engine_names(names)
    };
    for n in wanted {
        if !chosen.contains(&n) {
            chosen.push(n);
        }
    }
    let engines: Vec<Box<dyn Engine>> = chosen
        .iter()
        .map(|n| engine(n))
        .collect::<anyhow::Result<_>>()?;
    let mut report = vec![];
    let (mut differs, mut cannot) = (false, false);
    if !json {
        writeln!(
            out,
            "{:<24} {:<8} {:>12} {:>9} {:>11} {:>9}  {:<6} cost",
            "fixture", "engine", "median/call", "vs revm", "first run", "vs revm", "equal"
        )?;
    }
    let files = crate::test_cmd::files(paths, &["json", "toml"])?;
    if files.is_empty() {
        bail!("no fixtures in {}", paths.join(", "));
    }
    for file in files {
        let fork = fork.unwrap_or(if crate::test_cmd::format_of(&file) == Some("bench") {
            suite::FIXTURE_FORK
        } else {
            Fork::LATEST
        });
        let file = file.to_string_lossy().into_owned();
        let loads = match workloads(&file, fork) {
            Ok(w) => w,
            Err(e) => {
                writeln!(out, "{file}: skipped: {e:#}")?;
                continue;
            }
        };
        for w in loads {
            // A WASM (Stylus) contract has wasmtime as its oracle and
            // baseline: revm does not run it.
            let wasm = w.calls.iter().any(|c| {
                w.world
                    .accounts
                    .get(&c.to)
                    .is_some_and(|a| chainlift_emulator::stylus::is_wasm(&a.code))
            });
            let base_at = if wasm {
                match chosen.iter().position(|n| n == "wasm") {
                    Some(i) => i,
                    None => {
                        cannot = true;
                        writeln!(
                            out,
                            "{}: cannot run: a WASM contract, whose oracle and baseline is the wasm engine: name it in --engines",
                            w.name
                        )?;
                        continue;
                    }
                }
            } else {
                0
            };
            let reference = run_once(engines[base_at].as_ref(), &w, fork)
                .with_context(|| format!("{}: {}", w.name, chosen[base_at]))?;
            let results: Vec<Option<Measured>> = engines
                .iter()
                .enumerate()
                .map(|(i, e)| {
                    (!(wasm && i == 0)).then(|| measure(e.as_ref(), &w, fork, &reference))
                })
                .collect();
            let Some(Some(base)) = results.get(base_at) else {
                bail!("{}: no baseline", w.name);
            };
            let base = base.median.as_secs_f64();
            if wasm && !json {
                writeln!(
                    out,
                    "{:<24} (baseline and oracle: wasm; revm does not run WASM contracts)",
                    w.name.chars().take(24).collect::<String>()
                )?;
            }
            // A first run against revm's warm one (revm compiles nothing).
            let calls = w.calls.len().max(1) as f64;
            let mut engines_json = serde_json::Map::new();
            for (name, m) in chosen.iter().zip(&results) {
                let Some(m) = m else { continue };
                let ratio = (m.cannot.is_none() && m.median.as_secs_f64() > 0.0)
                    .then(|| base / m.median.as_secs_f64());
                let cold_ratio = (m.cannot.is_none() && m.first.as_secs_f64() > 0.0)
                    .then(|| base * calls / m.first.as_secs_f64());
                differs |= m.cannot.is_none() && !m.equal;
                cannot |= m.cannot.is_some();
                engines_json.insert(
                    name.clone(),
                    json!({
                        "median_ns": m.cannot.is_none().then_some(m.median.as_nanos() as u64),
                        "ratio_vs_evm": ratio,
                        "first_run_ns": m.cannot.is_none().then_some(m.first.as_nanos() as u64),
                        "first_run_ratio_vs_evm": cold_ratio,
                        "equal": m.cannot.is_none() && m.equal,
                        "difference": m.difference,
                        "cannot_run": m.cannot,
                        "cost": m.cost.map(|(amount, unit)| json!({"amount": amount, "unit": unit})),
                    }),
                );
                if !json {
                    let label: String = w.name.chars().take(24).collect();
                    match &m.cannot {
                        Some(why) => {
                            let why: String = why.chars().take(90).collect();
                            writeln!(out, "{label:<24} {name:<8} cannot run: {why}")?
                        }
                        None => writeln!(
                            out,
                            "{label:<24} {name:<8} {:>12} {:>8.2}x {:>11} {:>8.3}x  {:<6} {}",
                            show(m.median),
                            ratio.unwrap_or(0.0),
                            show(m.first),
                            cold_ratio.unwrap_or(0.0),
                            if m.equal { "yes" } else { "NO" },
                            m.cost.map_or(String::new(), |(a, u)| format!("{a} {u}")),
                        )?,
                    }
                    if let Some(d) = &m.difference {
                        writeln!(
                            out,
                            "{:<24} {:<8} differs from {}: {d}",
                            "", "", chosen[base_at]
                        )?;
                    }
                }
            }
            report.push(json!({
                "name": w.name,
                "file": file,
                "baseline": chosen[base_at],
                "engines": Value::Object(engines_json),
            }));
        }
    }
    if json {
        crate::report::write_json(
            out,
            &json!({"schema_version": crate::report::SCHEMA_VERSION, "fixtures": report}),
        )?;
    }
    Ok(if differs {
        1
    } else if cannot {
        CANNOT_RUN
    } else {
        0
    })
}
