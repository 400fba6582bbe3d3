//! Times EVM → IR lifting plus the optimization passes over every fixture in
//! `examples/` and every contract of `../shared/corpus/bench`, next to the analysis it starts from (measured in the same
//! run), in µs per contract and per KB.
//!
//! Run: `cargo bench -p chainlift-frontend-evm --bench lift`; with
//! `LIFT_STACK_ONLY=1` every contract is lifted with its stack in memory;
//! `LIFT_ONLY=NAME` times only the contracts whose name contains NAME.

/// The allocator the `chainlift` binary uses, so the times are its times.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

use chainlift_frontend_evm::{Options, analyze, lift};
use chainlift_ir::passes;
mod common;

use common::{bench_corpus, fixtures, time, time_fresh};
use std::hint::black_box;
use std::time::Duration;

/// The goal for any contract up to 24 KB (analysis, lift and optimization).
const GOAL: Duration = Duration::from_millis(20);

fn main() {
    let options = Options::default();
    let lift_options = if std::env::var_os("LIFT_STACK_ONLY").is_some() {
        lift::LiftOptions::stack_in_memory()
    } else {
        lift::LiftOptions::default()
    };
    println!(
        "{:24} {:>6} {:>10} {:>10} {:>10} {:>8} {:>8} {:>9}  form",
        "fixture", "bytes", "analyze", "lift", "optimize", "ir in", "ir out", "total/KB"
    );
    let (mut total, mut bytes) = (Duration::ZERO, 0usize);
    let mut worst_per_kb = 0f64;
    // (time, name) of the slowest contract, and the contracts over the goal.
    let mut worst = (Duration::ZERO, String::new());
    let mut over_goal = 0usize;
    let mut count = 0usize;
    let only = std::env::var("LIFT_ONLY").ok();
    for (name, code) in fixtures().into_iter().chain(bench_corpus()) {
        if only.as_ref().is_some_and(|o| !name.contains(o.as_str())) {
            continue;
        }
        let a = analyze(&code, &options).unwrap();
        let (raw, report) = lift::lift_report(&a, lift_options);
        let mut opt = raw.clone();
        passes::optimize(&mut opt);
        let t_analyze = time(|| {
            black_box(analyze(black_box(&code), &options).unwrap());
        });
        let t_lift = time(|| {
            black_box(lift::lift(black_box(&a), lift_options));
        });
        // Each run optimizes a fresh copy; the copying is not timed.
        let t_opt = time_fresh(
            || raw.clone(),
            |mut m| {
                passes::optimize(&mut m);
                black_box(m);
            },
        );
        let all = t_analyze + t_lift + t_opt;
        let per_kb = all.as_secs_f64() * 1e6 / (code.len() as f64 / 1024.0);
        worst_per_kb = worst_per_kb.max(per_kb);
        if all > worst.0 {
            worst = (all, name.clone());
        }
        over_goal += usize::from(all > GOAL);
        count += 1;
        total += all;
        bytes += code.len();
        println!(
            "{:24} {:>6} {:>8.0}us {:>8.0}us {:>8.0}us {:>8} {:>8} {:>7.0}us  {}",
            name,
            code.len(),
            t_analyze.as_secs_f64() * 1e6,
            t_lift.as_secs_f64() * 1e6,
            t_opt.as_secs_f64() * 1e6,
            raw.inst_count(),
            opt.inst_count(),
            per_kb,
            form(&report)
        );
    }
    let per_kb = total.as_secs_f64() * 1e6 / (bytes as f64 / 1024.0);
    println!(
        "analyze + lift + optimize: {per_kb:.0} us per KB on average, {worst_per_kb:.0} us per KB at worst (small contracts pay fixed costs); slowest: {} in {:.1} ms; {over_goal} of {count} contracts over the goal of {} ms",
        worst.1,
        worst.0.as_secs_f64() * 1e3,
        GOAL.as_millis()
    );
}

/// How the stack was lifted: in values, partly in memory, or in memory.
fn form(r: &lift::LiftReport) -> String {
    if r.stack_only {
        format!("stack in memory ({} blocks)", r.stack_blocks)
    } else if r.stack_blocks > 0 {
        format!(
            "{} blocks with the stack in memory, {} spills",
            r.stack_blocks, r.spills
        )
    } else {
        format!("values ({} heights)", r.max_heights)
    }
}
