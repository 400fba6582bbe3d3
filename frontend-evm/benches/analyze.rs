//! Times disassembly + CFG + dispatch recovery over every fixture in
//! `examples/`, against a baseline measured in the same run: a plain linear
//! disassembly with JUMPDEST analysis (what every disassembler does).
//!
//! Run: `cargo bench -p chainlift-frontend-evm --bench analyze`.

use chainlift_frontend_evm::{Fork, Options, analyze, disasm};
use std::hint::black_box;
use std::path::Path;
use std::time::{Duration, Instant};

fn fixtures() -> Vec<(String, Vec<u8>)> {
    let examples = Path::new(env!("CARGO_MANIFEST_DIR")).join("../examples");
    let mut out = Vec::new();
    for dir in std::fs::read_dir(&examples).expect("examples/").flatten() {
        let Ok(entries) = std::fs::read_dir(dir.path().join("out")) else {
            continue;
        };
        for e in entries.flatten() {
            let p = e.path();
            let name = p.file_name().unwrap().to_string_lossy().into_owned();
            if let Some(stem) = name.strip_suffix(".runtime.hex") {
                let text = std::fs::read_to_string(&p).unwrap();
                let hex = text.trim().trim_start_matches("0x");
                let code = (0..hex.len())
                    .step_by(2)
                    .map(|i| u8::from_str_radix(&hex[i..i + 2], 16).unwrap())
                    .collect();
                out.push((stem.to_string(), code));
            }
        }
    }
    out.sort();
    out
}

/// Mean time of `f` over enough runs to fill ~200 ms.
fn time(mut f: impl FnMut()) -> Duration {
    f();
    let start = Instant::now();
    let mut runs = 0u32;
    while start.elapsed() < Duration::from_millis(200) || runs < 5 {
        f();
        runs += 1;
    }
    start.elapsed() / runs
}

fn main() {
    let options = Options::default();
    let mut total_full = Duration::ZERO;
    let mut total_base = Duration::ZERO;
    let mut total_bytes = 0usize;
    println!(
        "{:28} {:>7} {:>11} {:>11} {:>9} {:>7}",
        "fixture", "bytes", "baseline", "analyze", "us/KB", "ratio"
    );
    let fixtures = fixtures();
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
