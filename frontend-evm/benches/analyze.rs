//! Times disassembly + CFG + dispatch recovery over every fixture in
//! `examples/`, against a baseline measured in the same run: a plain linear
//! disassembly with JUMPDEST analysis (what every disassembler does).
//!
//! Run: `cargo bench -p chainlift-frontend-evm --bench analyze`.

/// The allocator the `chainlift` binary uses, so the times are its times.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

use chainlift_frontend_evm::{Fork, Options, analyze, disasm};
mod common;

use common::{bench_corpus, fixtures, time};
use std::hint::black_box;
use std::time::Duration;

fn main() {
    let options = Options::default();
    let mut total_full = Duration::ZERO;
    let mut total_base = Duration::ZERO;
    let mut total_bytes = 0usize;
    println!(
        "{:28} {:>7} {:>11} {:>11} {:>9} {:>7}",
        "fixture", "bytes", "baseline", "analyze", "us/KB", "ratio"
    );
    let fixtures: Vec<_> = fixtures().into_iter().chain(bench_corpus()).collect();
    for (name, code) in &fixtures {
        let base = time(|| {
            black_box(disasm::disassemble(black_box(code), Fork::Osaka));
            black_box(disasm::jumpdests(black_box(code)));
        });
        let full = time(|| {
            black_box(analyze(black_box(code), &options).unwrap());
        });
        total_full += full;
        total_base += base;
        total_bytes += code.len();
        println!(
            "{:28} {:>7} {:>9.1}us {:>9.1}us {:>9.1} {:>6.1}x",
            name,
            code.len(),
            base.as_secs_f64() * 1e6,
            full.as_secs_f64() * 1e6,
            full.as_secs_f64() * 1e6 / (code.len() as f64 / 1024.0),
            full.as_secs_f64() / base.as_secs_f64()
        );
    }
    let n = fixtures.len() as f64;
    println!(
        "all {} fixtures: {:.1} us per contract, {:.1} us per KB, {:.1}x the linear-disassembly baseline",
        fixtures.len(),
        total_full.as_secs_f64() * 1e6 / n,
        total_full.as_secs_f64() * 1e6 / (total_bytes as f64 / 1024.0),
        total_full.as_secs_f64() / total_base.as_secs_f64()
    );
}
