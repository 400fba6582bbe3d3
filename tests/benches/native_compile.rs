//! Times backend-native's compilation (Cranelift, from the legalized IR to
//! finalized machine code) of every fixture in `examples/` and every
//! contract of `../shared/corpus/bench`: per contract, the EVM code size,
//! the legalized IR's instructions, the machine code's size and the best of
//! three compile times, then the worst case per size class against the
//! issue's goals (≤ 50 ms up to 10 KB, ≤ 200 ms up to 24 KB).
//!
//! Run: `cargo bench -p chainlift-tests --bench native_compile`; with
//! `NATIVE_REGALLOC=fast` the single-pass register allocator and no
//! inlining (the native engine's first tier for large modules).

use chainlift_backend_native::{Options, Regalloc, compile};
use chainlift_frontend_evm::Fork;
use chainlift_frontend_evm::pipeline::{Cache, Stages};
use std::path::Path;
use std::time::Duration;

/// Every contract, named by its file's stem.
fn contracts() -> Vec<(String, Vec<u8>)> {
    chainlift_tests::ops::every_contract()
        .into_iter()
        .map(|(f, code)| {
            let stem = Path::new(&f).file_stem().unwrap_or_default();
            (stem.to_string_lossy().into_owned(), code)
        })
        .collect()
}

fn main() {
    let options = Options {
        regalloc: match std::env::var("NATIVE_REGALLOC").as_deref() {
            Ok("fast") => Regalloc::Fast,
            _ => Regalloc::Best,
        },
        optimize: true,
        inline: std::env::var("NATIVE_REGALLOC").as_deref() != Ok("fast"),
        verify: false,
    };
    let stages = Stages {
        legalize: true,
        ..Stages::default()
    };
    println!(
        "{:24} {:>7} {:>9} {:>10} {:>11}",
        "contract", "bytes", "ir insts", "code", "compile"
    );
    let (mut worst10, mut worst24) = (Duration::ZERO, Duration::ZERO);
    for (name, code) in contracts() {
        let Ok(compiled) = Cache::shared().get(&code, Fork::Osaka, stages) else {
            println!("{name:24} does not lift");
            continue;
        };
        let insts = chainlift_backend_native::ir_size(&compiled.module);
        let mut best = Duration::MAX;
        let mut bytes = 0;
        for _ in 0..3 {
            match compile(&compiled.module, &options) {
                Ok(p) => {
                    best = best.min(p.stats.compile_time);
                    bytes = p.stats.code_bytes;
                }
                Err(e) => {
                    println!("{name:24} {e}");
                    break;
                }
            }
        }
        if best == Duration::MAX {
            continue;
        }
        if code.len() <= 10 * 1024 {
            worst10 = worst10.max(best);
        }
        if code.len() <= 24 * 1024 {
            worst24 = worst24.max(best);
        }
        println!(
            "{name:24} {:>7} {insts:>9} {bytes:>10} {:>8.1} ms",
            code.len(),
            best.as_secs_f64() * 1e3
        );
    }
    println!(
        "worst up to 10 KB: {:.1} ms (goal 50 ms); up to 24 KB: {:.1} ms (goal 200 ms)",
        worst10.as_secs_f64() * 1e3,
        worst24.as_secs_f64() * 1e3
    );
}
