//! `chainlift test PATH…`: external EVM test suites and WebAssembly spec
//! scripts through every engine.

use crate::engines::{engine, engine_names};
use anyhow::{Context, bail};
use chainlift_emulator::Engine;
use chainlift_emulator::suite::{self, CaseResult, Verdict};
use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};

/// Every `.json` file under `paths`, sorted.
/// Every file with one of `exts` under `paths` (files or folders,
/// searched recursively), sorted.
pub(crate) fn files(paths: &[String], exts: &[&str]) -> anyhow::Result<Vec<PathBuf>> {
    let mut out = vec![];
    for p in paths {
        let mut stack = vec![PathBuf::from(p)];
        if !stack[0].exists() {
            bail!("{p}: no such file or folder");
        }
        while let Some(d) = stack.pop() {
            if d.is_dir() {
                for e in
                    std::fs::read_dir(&d).with_context(|| format!("cannot read {}", d.display()))?
                {
                    stack.push(e?.path());
                }
            } else if d.extension().is_some_and(|x| exts.iter().any(|e| x == *e)) {
                out.push(d);
            }
        }
    }
    out.sort();
    out.dedup();
    Ok(out)
}

/// `vm`, `state`, or `None` for JSON that is neither.
pub(crate) fn format_of(path: &Path) -> Option<&'static str> {
    let text = std::fs::read_to_string(path).ok()?;
    let v: serde_json::Value = serde_json::from_str(&text).ok()?;
    let first = v.as_object()?.values().next()?;
    if first.get("exec").is_some() {
        Some("vm")
    } else if first.get("transaction").is_some() && first.get("post").is_some() {
        Some("state")
    } else if first.get("transaction").is_some_and(|t| t.is_array()) {
        Some("bench")
    } else {
        None
    }
}

/// Runs the suites; returns the exit code (1 on any failure).
pub fn test(
    paths: &[String],
    names: &[String],
    junit: Option<&str>,
    verbose: bool,
    out: &mut dyn Write,
) -> anyhow::Result<u8> {
    // revm is the oracle: it always runs, first.
    let mut chosen: Vec<&str> = vec!["evm"];
    let wanted = engine_names(names);
    for n in wanted.iter().map(String::as_str) {
        if !chosen.contains(&n.trim()) {
            chosen.push(n.trim());
        }
    }
    let boxed: Vec<Box<dyn Engine>> = chosen
        .iter()
        .map(|n| engine(n))
        .collect::<anyhow::Result<_>>()?;
    let engines: Vec<&dyn Engine> = boxed.iter().map(|b| b.as_ref()).collect();
    let files = files(paths, &["json", "wast"])?;
    if files.is_empty() {
        bail!("no .json or .wast test files under {}", paths.join(", "));
    }
    // Spec scripts run on wasmtime (their oracle) and the IR.
    let wast_ir = chosen.contains(&"ir");
    let wast_others: Vec<&str> = chosen
        .iter()
        .copied()
        .filter(|n| !matches!(*n, "evm" | "ir" | "wasm"))
        .collect();
    let any_wast = files
        .iter()
        .any(|f| f.extension().is_some_and(|e| e == "wast"));
    let bar = indicatif::ProgressBar::new(files.len() as u64);
    bar.set_style(
        indicatif::ProgressStyle::with_template("{bar:40} {pos}/{len} files  {msg}")
            .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
    );
    let mut results: Vec<(PathBuf, CaseResult)> = vec![];
    for f in &files {
        bar.set_message(
            f.file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default(),
        );
        let is_wast = f.extension().is_some_and(|e| e == "wast");
        let cases = match format_of(f) {
            _ if is_wast => chainlift_emulator::wast::run_wast_file(f, wast_ir),
            Some("vm") => suite::run_vm_file(f, &engines),
            Some("bench") => suite::run_bench_file(f, &engines, suite::FIXTURE_FORK),
            Some(_) => suite::run_state_file(f, &engines),
            None => vec![CaseResult {
                name: f.display().to_string(),
                format: "unknown",
                verdict: Verdict::Skip("not a VM test, state test or benchmark fixture".into()),
            }],
        };
        results.extend(cases.into_iter().map(|c| (f.clone(), c)));
        bar.inc(1);
    }
    bar.finish_and_clear();
    let (mut passed, mut failed) = (0usize, 0usize);
    let mut skips: BTreeMap<&str, usize> = BTreeMap::new();
    for (_, r) in &results {
        match &r.verdict {
            Verdict::Pass => passed += 1,
            Verdict::Fail(why) => {
                failed += 1;
                writeln!(out, "FAIL {}: {why}", r.name)?;
            }
            Verdict::Skip(why) => {
                *skips.entry(why.as_str()).or_default() += 1;
                if verbose {
                    writeln!(out, "skip {}: {why}", r.name)?;
                }
            }
        }
    }
    for (why, n) in &skips {
        writeln!(out, "skipped {n}: {why}")?;
    }
    if let Some(path) = junit {
        std::fs::write(path, junit_xml(&results, &chosen))
            .with_context(|| format!("cannot write {path}"))?;
    }
    let skipped: usize = skips.values().sum();
    writeln!(out, "engines: {}; {} files", chosen.join(", "), files.len())?;
    if any_wast {
        let ir = if wast_ir { ", ir" } else { "" };
        writeln!(out, "wast scripts: wasm (wasmtime, the oracle){ir}")?;
        if !wast_others.is_empty() {
            writeln!(
                out,
                "not run on wast scripts: {} (they run contracts, not generic modules)",
                wast_others.join(", ")
            )?;
        }
    }
    writeln!(out, "{passed} passed, {failed} failed, {skipped} skipped")?;
    Ok(u8::from(failed > 0))
}

fn xml_escape(s: &str) -> String {
    let mut o = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => o.push_str("&amp;"),
            '<' => o.push_str("&lt;"),
            '>' => o.push_str("&gt;"),
            '"' => o.push_str("&quot;"),
            '\'' => o.push_str("&apos;"),
            c if (c as u32) < 0x20 && c != '\n' && c != '\t' => {}
            c => o.push(c),
        }
    }
    o
}

/// JUnit XML: one `testsuite` per file, one `testcase` per case.
fn junit_xml(results: &[(PathBuf, CaseResult)], engines: &[&str]) -> String {
    let mut by_file: BTreeMap<&Path, Vec<&CaseResult>> = BTreeMap::new();
    for (f, r) in results {
        by_file.entry(f.as_path()).or_default().push(r);
    }
    let count =
        |rs: &[&CaseResult], f: fn(&Verdict) -> bool| rs.iter().filter(|r| f(&r.verdict)).count();
    let all: Vec<&CaseResult> = results.iter().map(|(_, r)| r).collect();
    let mut x = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    x.push_str(&format!(
        "<testsuites name=\"chainlift test ({})\" tests=\"{}\" failures=\"{}\" skipped=\"{}\">\n",
        engines.join(","),
        all.len(),
        count(&all, |v| matches!(v, Verdict::Fail(_))),
        count(&all, |v| matches!(v, Verdict::Skip(_))),
    ));
    for (file, rs) in by_file {
        x.push_str(&format!(
            "  <testsuite name=\"{}\" tests=\"{}\" failures=\"{}\" skipped=\"{}\">\n",
            xml_escape(&file.display().to_string()),
            rs.len(),
            count(&rs, |v| matches!(v, Verdict::Fail(_))),
            count(&rs, |v| matches!(v, Verdict::Skip(_))),
        ));
        for r in rs {
            let name = xml_escape(&r.name);
            let class = r.format;
            match &r.verdict {
                Verdict::Pass => x.push_str(&format!("    <testcase name=\"{name}\" classname=\"{class}\"/>\n")),
                Verdict::Fail(why) => x.push_str(&format!(
                    "    <testcase name=\"{name}\" classname=\"{class}\"><failure message=\"{}\"/></testcase>\n",
                    xml_escape(why)
                )),
                Verdict::Skip(why) => x.push_str(&format!(
                    "    <testcase name=\"{name}\" classname=\"{class}\"><skipped message=\"{}\"/></testcase>\n",
                    xml_escape(why)
                )),
            }
        }
        x.push_str("  </testsuite>\n");
    }
    x.push_str("</testsuites>\n");
    x
}
