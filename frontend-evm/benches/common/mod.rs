//! Shared by the benches: the fixtures and a timer.

use std::path::Path;
use std::time::{Duration, Instant};

/// Every `examples/*/out/*.runtime.hex`, as (name, bytes), sorted.
pub fn fixtures() -> Vec<(String, Vec<u8>)> {
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

/// Every contract code in revmc's benchmark transactions
/// (`../shared/corpus/bench`, when it is there), as (name, bytes).
pub fn bench_corpus() -> Vec<(String, Vec<u8>)> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/corpus/bench");
    let Ok(entries) = std::fs::read_dir(&dir) else {
        return vec![];
    };
    let mut out = Vec::new();
    for e in entries.flatten() {
        let p = e.path();
        if p.extension().is_none_or(|x| x != "json") {
            continue;
        }
        let stem = p.file_stem().unwrap().to_string_lossy().into_owned();
        let text = std::fs::read_to_string(&p).unwrap();
        // Each account's `"code": "0x…"`, read without a JSON parser.
        for (i, chunk) in text.split("\"code\"").skip(1).enumerate() {
            let Some(start) = chunk.find("\"0x") else {
                continue;
            };
            let rest = &chunk[start + 3..];
            let hex = &rest[..rest.find('"').unwrap_or(0)];
            if hex.len() < 2 || hex.len() % 2 != 0 {
                continue;
            }
            let code: Option<Vec<u8>> = (0..hex.len())
                .step_by(2)
                .map(|i| u8::from_str_radix(&hex[i..i + 2], 16).ok())
                .collect();
            if let Some(code) = code {
                out.push((format!("bench/{stem}#{i}"), code));
            }
        }
    }
    out.sort();
    out
}

/// Median time of `f` over enough runs to fill ~200 ms (the median, as
/// `chainlift bench` reports, since a shared machine's pauses skew a mean).
pub fn time(mut f: impl FnMut()) -> Duration {
    time_fresh(|| (), |()| f())
}

/// Median time of `f` on a fresh input from `setup` (not timed), over
/// enough runs to fill ~200 ms.
pub fn time_fresh<T>(mut setup: impl FnMut() -> T, mut f: impl FnMut(T)) -> Duration {
    f(setup());
    let mut runs = Vec::new();
    let start = Instant::now();
    while start.elapsed() < Duration::from_millis(200) || runs.len() < 5 {
        let input = setup();
        let t = Instant::now();
        f(input);
        runs.push(t.elapsed());
    }
    runs.sort_unstable();
    runs[runs.len() / 2]
}
