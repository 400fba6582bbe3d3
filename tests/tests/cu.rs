//! The compute units of every scenario call as a Solana program, pinned:
//! any change to the code backend-sbf emits that moves a CU figure shows
//! here as a snapshot diff, and the figures the README quotes are checked
//! against these measurements rather than copied by hand.

use chainlift_tests::{chainlift, root};
use serde_json::Value;
use std::fmt::Write;

/// `(scenario, call label, CU or why it cannot run)` for every call.
fn measure() -> Vec<(String, String, String)> {
    let mut rows = vec![];
    let mut files: Vec<_> = std::fs::read_dir(root().join("examples/scenarios"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "toml"))
        .collect();
    files.sort();
    for f in files {
        let name = f.file_stem().unwrap().to_string_lossy().to_string();
        let run = chainlift(&[
            "diff",
            &f.to_string_lossy(),
            "--engines",
            "evm,sbf",
            "--json",
        ]);
        assert!(
            run.code == 0 || run.code == 4,
            "{name}: {}{}",
            run.stdout,
            run.stderr
        );
        let v: Value = serde_json::from_str(&run.stdout).unwrap();
        for c in v["calls"].as_array().unwrap() {
            let label = c["call"].as_str().unwrap().to_string();
            let sbf = &c["engines"]["sbf"];
            let cu = match sbf["cost"]["amount"].as_u64() {
                Some(n) => n.to_string(),
                None => "cannot run".to_string(),
            };
            rows.push((name.clone(), label, cu));
        }
    }
    rows
}

fn cu_of(rows: &[(String, String, String)], scenario: &str, label_start: &str) -> u64 {
    rows.iter()
        .find(|(s, l, _)| s == scenario && l.starts_with(label_start))
        .and_then(|(_, _, cu)| cu.parse().ok())
        .unwrap_or_else(|| panic!("no measured call {scenario}: {label_start}…"))
}

/// `n` as the README writes it: `1,930`.
fn grouped(n: u64) -> String {
    let s = n.to_string();
    let mut out = String::new();
    for (i, c) in s.chars().enumerate() {
        if i > 0 && (s.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

#[test]
fn scenario_compute_units() {
    let rows = measure();
    let mut table = String::new();
    for (s, l, cu) in &rows {
        let l: String = l.chars().take(60).collect();
        writeln!(table, "{s:9} {cu:>10}  {l}").unwrap();
    }
    insta::assert_snapshot!("scenario_cu", table);

    // The README's figures, each as it is written there.
    let readme = std::fs::read_to_string(root().join("README.md")).unwrap();
    let readme = readme.split_whitespace().collect::<Vec<_>>().join(" ");
    let claims = [
        ("`transfer` takes", cu_of(&rows, "token", "transfer(")),
        ("`approve`", cu_of(&rows, "token", "bob approves")),
        ("`transferFrom`", cu_of(&rows, "token", "carol moves")),
        ("`balanceOf`", cu_of(&rows, "token", "balanceOf(")),
        (
            "A paid registration takes",
            cu_of(&rows, "registry", "alice registers with the fee"),
        ),
        ("`permit` takes", cu_of(&rows, "voucher", "a signed permit")),
    ];
    for (words, cu) in claims {
        let claim = format!("{words} {}", grouped(cu));
        assert!(
            readme.contains(&claim),
            "README.md should say `{claim}` (measured); update it"
        );
    }
}
