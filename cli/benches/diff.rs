//! Throughput of `diff` on the ERC20 scenario (examples/scenarios/token.toml,
//! 17 calls after a deployment). Printed as calls per second, with ratios
//! against revm alone running the same calls in the same process.
//!
//! `cargo bench -p chainlift-cli --bench diff`

use chainlift_cli::run_cmd::execute;
use chainlift_cli::scenario;
use chainlift_emulator::evm::EvmEngine;
use chainlift_emulator::ir::IrEngine;
use chainlift_emulator::{BlockEnv, Engine};
use chainlift_frontend_evm::Fork;
use std::path::Path;
use std::time::Duration;

mod common;
use common::time;

fn main() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../examples/scenarios/token.toml");
    let plan = scenario::load(&path, BlockEnv::default(), Fork::Osaka, 10_000_000, None)
        .expect("scenario");
    let calls = plan.steps.len() as f64;
    let per_sec = |d: Duration| calls / d.as_secs_f64();

    let evm: Vec<Box<dyn Engine>> = vec![Box::new(EvmEngine)];
    let revm = time(|| {
        every_call_ran(execute(&plan, &evm));
    });
    // The IR engine keeps each lifted module: this is the steady state.
    let ir: Vec<Box<dyn Engine>> = vec![Box::new(IrEngine::default())];
    let ir_warm = time(|| {
        every_call_ran(execute(&plan, &ir));
    });
    let both: Vec<Box<dyn Engine>> = vec![Box::new(EvmEngine), Box::new(IrEngine::default())];
    let diff_warm = time(|| {
        every_call_ran(execute(&plan, &both));
    });
    // The whole command, cold: read the scenario, deploy on revm, lift,
    // run every call in both engines, compare, print.
    let cli = time(|| {
        let mut out = Vec::new();
        let mut err = Vec::new();
        let code = chainlift_cli::run(
            ["chainlift", "diff", path.to_str().unwrap()].map(String::from),
            &mut out,
            &mut err,
        );
        assert_eq!(code, 0);
    });
    println!("ERC20 scenario: {calls} calls");
    println!(
        "  revm alone (baseline)      {:>9.0} calls/s  {:>8.1} µs/call",
        per_sec(revm),
        revm.as_secs_f64() * 1e6 / calls
    );
    println!(
        "  ir engine (lifted, warm)   {:>9.0} calls/s  {:>8.1} µs/call  {:.2}x revm time",
        per_sec(ir_warm),
        ir_warm.as_secs_f64() * 1e6 / calls,
        ir_warm.as_secs_f64() / revm.as_secs_f64()
    );
    println!(
        "  diff evm+ir (warm)         {:>9.0} calls/s  {:>8.1} µs/call  {:.2}x revm time",
        per_sec(diff_warm),
        diff_warm.as_secs_f64() * 1e6 / calls,
        diff_warm.as_secs_f64() / revm.as_secs_f64()
    );
    println!(
        "  chainlift diff, end to end {:>9.0} calls/s  {:>8.1} ms/run   {:.2}x revm time",
        per_sec(cli),
        cli.as_secs_f64() * 1e3,
        cli.as_secs_f64() / revm.as_secs_f64()
    );
}

/// Panics unless every engine ran every call (a bench of calls an engine
/// cannot run would time nothing).
fn every_call_ran(results: Vec<Vec<chainlift_cli::run_cmd::Ran>>) {
    for ran in results.into_iter().flatten() {
        ran.expect("every engine runs every call");
    }
}
