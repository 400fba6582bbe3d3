//! Every compiled fixture in `examples/`: selectors against the ABI (0 false
//! positives, 0 false negatives), blocks reached, and snapshots of the CLI's
//! `disasm`, `cfg --json` and `inspect` output.

use alloy_primitives::keccak256;
use chainlift_frontend_evm::{Options, analyze};
use chainlift_tests::{chainlift, fixture_artifacts, root};
use serde_json::Value;
use std::collections::BTreeSet;
use std::fmt::Write;
use std::path::Path;

/// Canonical ABI type, written here independently of the CLI's own.
fn canonical(param: &Value) -> String {
    let ty = param["type"].as_str().unwrap();
    match ty.strip_prefix("tuple") {
        Some(suffix) => {
            let inner: Vec<String> = param["components"]
                .as_array()
                .unwrap()
                .iter()
                .map(canonical)
                .collect();
            format!("({}){suffix}", inner.join(","))
        }
        None => ty.to_string(),
    }
}

fn abi_selectors(abi: &Value) -> BTreeSet<u32> {
    abi.as_array()
        .unwrap()
        .iter()
        .filter(|f| f["type"] == "function")
        .map(|f| {
            let inputs: Vec<String> = f["inputs"]
                .as_array()
                .unwrap()
                .iter()
                .map(canonical)
                .collect();
            let sig = format!("{}({})", f["name"].as_str().unwrap(), inputs.join(","));
            let h = keccak256(sig.as_bytes());
            u32::from_be_bytes([h[0], h[1], h[2], h[3]])
        })
        .collect()
}

fn runtime(artifact: &Value) -> Vec<u8> {
    let hex = artifact["deployedBytecode"]["object"]
        .as_str()
        .unwrap()
        .trim_start_matches("0x");
    (0..hex.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&hex[i..i + 2], 16).unwrap())
        .collect()
}

fn label(path: &Path) -> String {
    path.strip_prefix(root().join("examples"))
        .unwrap()
        .to_string_lossy()
        .replace("/out/", "/")
}

#[test]
fn selectors_match_every_abi_and_blocks_are_reached() {
    let artifacts = fixture_artifacts();
    assert!(artifacts.len() >= 20, "fixtures missing: {artifacts:?}");
    let mut table = String::from(
        "fixture                        compiler        bytes  sel  fp  fn  reached/total  unresolved\n",
    );
    let mut failures = Vec::new();
    for path in &artifacts {
        let artifact: Value =
            serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
        let code = runtime(&artifact);
        let a = analyze(&code, &Options::default()).unwrap();
        let expected = abi_selectors(&artifact["abi"]);
        let found: BTreeSet<u32> = a.dispatch.selectors.iter().map(|s| s.selector).collect();
        let fp: Vec<_> = found.difference(&expected).collect();
        let fneg: Vec<_> = expected.difference(&found).collect();
        if !fp.is_empty() || !fneg.is_empty() {
            failures.push(format!(
                "{}: false positives {fp:x?}, false negatives {fneg:x?}",
                label(path)
            ));
        }
        let compiler = format!(
            "{} {}",
            artifact["compiler"]["name"].as_str().unwrap_or("?"),
            artifact["compiler"]["version"]
                .as_str()
                .unwrap_or("?")
                .split('+')
                .next()
                .unwrap()
        );
        writeln!(
            table,
            "{:30} {:15} {:5}  {:3} {:3} {:3}  {:>5}/{:<5}      {}",
            label(path),
            compiler,
            code.len(),
            found.len(),
            fp.len(),
            fneg.len(),
            a.cfg.reached(),
            a.cfg.blocks.len(),
            a.cfg.unresolved.len()
        )
        .unwrap();
        assert!(
            !a.cfg.budget_exhausted && !a.dispatch.exhausted,
            "{}: budget ran out",
            label(path)
        );
    }
    eprintln!("{table}");
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    insta::assert_snapshot!("fixture_summary", table);
}

fn fixture(rel: &str) -> String {
    root()
        .join("examples")
        .join(rel)
        .to_string_lossy()
        .into_owned()
}

#[test]
fn disasm_snapshots() {
    for rel in [
        "token/out/Token.json",
        "vyper/out/Counter.json",
        "legacy/out/Legacy.json",
    ] {
        let run = chainlift(&["disasm", &fixture(rel)]);
        assert_eq!(run.code, 0, "{}", run.stderr);
        insta::assert_snapshot!(format!("disasm__{}", rel.replace('/', "_")), run.stdout);
    }
}

#[test]
fn cfg_json_snapshots() {
    for rel in ["token/out/Token.json", "vyper/out/Counter.codesize.json"] {
        let run = chainlift(&["cfg", "--json", &fixture(rel)]);
        assert_eq!(run.code, 0, "{}", run.stderr);
        let json: Value = serde_json::from_str(&run.stdout).unwrap();
        assert_eq!(json["schema_version"], 2);
        insta::assert_snapshot!(format!("cfg__{}", rel.replace('/', "_")), run.stdout);
    }
}

#[test]
fn inspect_snapshots() {
    for path in fixture_artifacts() {
        let run = chainlift(&["inspect", &path.to_string_lossy()]);
        assert_eq!(run.code, 0, "{}", run.stderr);
        insta::assert_snapshot!(
            format!("inspect__{}", label(&path).replace('/', "_")),
            run.stdout
        );
    }
}

#[test]
fn inspect_json_lists_selectors_with_entries() {
    let run = chainlift(&["inspect", "--json", &fixture("token/out/Token.json")]);
    assert_eq!(run.code, 0);
    let json: Value = serde_json::from_str(&run.stdout).unwrap();
    assert_eq!(json["schema_version"], 2);
    let selectors = json["selectors"].as_array().unwrap();
    assert!(selectors.iter().any(|s| s["selector"] == "0xa9059cbb" && s["signature"] == "transfer(address,uint256)"));
    for s in selectors {
        let text = s["selector"].as_str().unwrap();
        assert!(
            text.len() == 10
                && text.starts_with("0x")
                && text[2..]
                    .chars()
                    .all(|c| c.is_ascii_hexdigit() && !c.is_ascii_uppercase())
        );
        assert!(s["entry_pc"].is_u64());
    }
    assert_eq!(json["compiler"]["name"], "solc");
    assert_eq!(json["abi_selectors_not_found"], serde_json::json!([]));
}
