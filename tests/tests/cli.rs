//! The CLI end to end: every input form, JSON shapes, exit codes.

use chainlift_tests::{chainlift, path, root};
use serde_json::{Value, json};
use std::path::PathBuf;

fn token() -> Value {
    serde_json::from_str(
        &std::fs::read_to_string(root().join("examples/token/out/Token.json")).unwrap(),
    )
    .unwrap()
}

fn token_hex() -> String {
    token()["deployedBytecode"]["object"]
        .as_str()
        .unwrap()
        .to_string()
}

fn temp(name: &str, contents: &[u8]) -> String {
    let dir: PathBuf =
        std::env::temp_dir().join(format!("chainlift-cli-tests-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let p = dir.join(name);
    std::fs::write(&p, contents).unwrap();
    p.to_string_lossy().into_owned()
}

fn selectors(args: &[&str]) -> Vec<String> {
    let mut full = vec!["inspect", "--json"];
    full.extend_from_slice(args);
    let run = chainlift(&full);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let v: Value = serde_json::from_str(&run.stdout).unwrap();
    v["selectors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["selector"].as_str().unwrap().to_string())
        .collect()
}

#[test]
fn every_input_form_gives_the_same_selectors() {
    let expected = selectors(&[&path("examples/token/out/Token.json")]);
    assert_eq!(expected.len(), 19);
    let hex = token_hex();
    let bytes: Vec<u8> = (2..hex.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&hex[i..i + 2], 16).unwrap())
        .collect();
    // Hex with whitespace and newlines, without 0x.
    let spaced: String = hex.as_bytes()[2..]
        .chunks(64)
        .map(|c| format!("{}\n  ", std::str::from_utf8(c).unwrap()))
        .collect();
    assert_eq!(
        selectors(&[&temp("spaced.hex", spaced.as_bytes())]),
        expected
    );
    assert_eq!(
        selectors(&[&path("examples/token/out/Token.runtime.hex")]),
        expected
    );
    assert_eq!(selectors(&[&temp("raw.bin", &bytes)]), expected);
    assert_eq!(selectors(&["--code", &hex]), expected);
    let abi = token()["abi"].clone();
    let hardhat = json!({"contractName": "Token", "abi": abi, "deployedBytecode": hex});
    assert_eq!(
        selectors(&[&temp("hardhat.json", hardhat.to_string().as_bytes())]),
        expected
    );
    let combined = json!({"contracts": {
        "Token.sol:Token": {"abi": abi, "bin-runtime": &hex[2..]},
        "Other.sol:Other": {"abi": [], "bin-runtime": "6000"},
    }, "version": "0.8.37"});
    let combined_path = temp("combined.json", combined.to_string().as_bytes());
    assert_eq!(
        selectors(&[&combined_path, "--contract", "Token"]),
        expected
    );
    let run = chainlift(&["inspect", &combined_path]);
    assert_eq!(run.code, 2);
    assert!(
        run.stderr.contains("--contract")
            && run.stderr.contains("Token")
            && run.stderr.contains("Other"),
        "{}",
        run.stderr
    );
    let standard = json!({"contracts": {"src/Token.sol": {"Token": {"abi": abi, "evm": {"deployedBytecode": {"object": &hex[2..]}}}}}});
    assert_eq!(
        selectors(&[&temp("standard.json", standard.to_string().as_bytes())]),
        expected
    );
}

#[test]
fn disasm_json_shape() {
    let run = chainlift(&["disasm", "--json", "--code", "0x6080604052fe"]);
    assert_eq!(run.code, 0);
    let v: Value = serde_json::from_str(&run.stdout).unwrap();
    assert_eq!(v["schema_version"], 2);
    assert_eq!(
        v["instructions"],
        json!([
            {"pc": 0, "opcode": 0x60, "name": "PUSH1", "immediate": "0x80", "truncated": false},
            {"pc": 2, "opcode": 0x60, "name": "PUSH1", "immediate": "0x40", "truncated": false},
            {"pc": 4, "opcode": 0x52, "name": "MSTORE", "immediate": null, "truncated": false},
            {"pc": 5, "opcode": 0xfe, "name": "INVALID", "immediate": null, "truncated": false},
        ])
    );
}

#[test]
fn metadata_is_split_from_code() {
    let run = chainlift(&["disasm", "--json", &path("examples/token/out/Token.json")]);
    let v: Value = serde_json::from_str(&run.stdout).unwrap();
    let meta = &v["metadata"];
    assert_eq!(
        meta["compiler"],
        json!({"name": "solc", "version": "0.8.37"})
    );
    let last = v["instructions"].as_array().unwrap().last().unwrap();
    assert_eq!(
        last["pc"].as_u64().unwrap() + 1,
        meta["offset"].as_u64().unwrap()
    );
    assert_eq!(
        meta["offset"].as_u64().unwrap() + meta["length"].as_u64().unwrap(),
        v["size"].as_u64().unwrap()
    );
}

#[test]
fn fork_gates_opcodes() {
    let osaka = chainlift(&["disasm", "--code", "0x5f1e5ce6"]);
    assert_eq!(
        osaka.stdout,
        "0000 PUSH0\n0001 CLZ\n0002 TLOAD\n0003 UNKNOWN_0xe6\n"
    );
    let old = chainlift(&["disasm", "--fork", "constantinople", "--code", "0x5f1e5ce6"]);
    assert_eq!(
        old.stdout,
        "0000 UNKNOWN_0x5f\n0001 UNKNOWN_0x1e\n0002 UNKNOWN_0x5c\n0003 UNKNOWN_0xe6\n"
    );
    let amsterdam = chainlift(&[
        "disasm",
        "--fork",
        "amsterdam",
        "--code",
        "0xe600e780e8115b",
    ]);
    assert_eq!(
        amsterdam.stdout,
        "0000 DUPN 0x00\n0002 SWAPN 0x80\n0004 EXCHANGE 0x11\n0006 JUMPDEST\n"
    );
    let run = chainlift(&[
        "inspect",
        "--json",
        &path("examples/memory/out/Buffers.json"),
    ]);
    let v: Value = serde_json::from_str(&run.stdout).unwrap();
    assert_eq!(v["minimum_fork"], "cancun");
    assert_eq!(v["fork_features"]["cancun"], json!(["MCOPY"]));
}

#[test]
fn cfg_dot_and_json() {
    let code = "0x600456005b00"; // PUSH1 4 JUMP STOP JUMPDEST STOP
    let dot = chainlift(&["cfg", "--code", code]);
    assert_eq!(dot.code, 0);
    assert!(
        dot.stdout.starts_with("digraph cfg {") && dot.stdout.contains("b0 -> b2"),
        "{}",
        dot.stdout
    );
    let run = chainlift(&["cfg", "--json", "--code", code]);
    let v: Value = serde_json::from_str(&run.stdout).unwrap();
    assert_eq!(
        v["edges"],
        json!([{"from": 0, "to": 2, "from_pc": 0, "to_pc": 4, "kind": "jump"}])
    );
    assert_eq!(v["reached"], 2);
    assert_eq!(v["total"], 3);
    let unresolved = chainlift(&["cfg", "--json", "--code", "0x5f3556"]);
    let v: Value = serde_json::from_str(&unresolved.stdout).unwrap();
    assert_eq!(v["unresolved_jumps"], json!([{"pc": 2, "block": 0}]));
}

#[test]
fn bad_input_exits_2_with_one_line() {
    for args in [
        vec!["inspect", "/nonexistent/file.hex"],
        vec!["inspect", "--code", "0x6g"],
        vec!["inspect", "--code", "0x600"],
        vec!["inspect", "--code", ""],
        vec!["inspect", "--fork", "mars", "--code", "0x00"],
        vec!["inspect"],
        vec!["frobnicate"],
        vec![],
    ] {
        let run = chainlift(&args);
        assert_eq!(run.code, 2, "{args:?}");
        assert_eq!(run.stderr.lines().count(), 1, "{args:?}: {}", run.stderr);
        assert!(run.stderr.starts_with("chainlift: "), "{}", run.stderr);
    }
    let not_artifact = temp("weird.json", br#"{"hello": 1}"#);
    let run = chainlift(&["inspect", &not_artifact]);
    assert_eq!(run.code, 2);
    assert!(
        run.stderr.contains("not a known artefact"),
        "{}",
        run.stderr
    );
    let unlinked = temp(
        "unlinked.hex",
        b"0x6080__$1234567890abcdef1234567890abcdef12$__00",
    );
    let run = chainlift(&["inspect", &unlinked]);
    assert_eq!(run.code, 2);
    assert!(
        run.stderr
            .contains("unlinked library placeholder at byte offset 2"),
        "{}",
        run.stderr
    );
}

#[test]
fn test_command_runs_suites_and_writes_junit() {
    let junit = std::env::temp_dir().join(format!("chainlift-junit-{}.xml", std::process::id()));
    let run = chainlift_tests::chainlift(&[
        "test",
        &chainlift_tests::path("../shared/corpus/legacytests-vm/vmArithmeticTest"),
        &chainlift_tests::path("../shared/corpus/state-tests/stShift"),
        "--junit",
        junit.to_str().unwrap(),
    ]);
    assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
    let last = run.stdout.lines().last().unwrap();
    let n: Vec<usize> = last
        .split(|c: char| !c.is_ascii_digit())
        .filter_map(|w| w.parse().ok())
        .collect();
    assert!(last.ends_with("skipped"), "{last}");
    assert_eq!(n[1], 0, "{last}");
    assert!(n[0] > 100, "{last}");
    let xml = std::fs::read_to_string(&junit).unwrap();
    assert!(xml.starts_with("<?xml"));
    assert_eq!(xml.matches("<testcase ").count(), n[0] + n[1] + n[2]);
    let _ = std::fs::remove_file(&junit);
    let bad = chainlift_tests::chainlift(&["test", "/nonexistent/suite"]);
    assert_eq!(bad.code, 2);
}

#[test]
fn bench_times_engines_against_revm_and_checks_outcomes() {
    let run = chainlift_tests::chainlift(&[
        "bench",
        &chainlift_tests::path("../shared/corpus/bench/counter.json"),
        &chainlift_tests::path("examples/scenarios/vault.toml"),
        "--engines",
        "evm,ir",
        "--json",
    ]);
    assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
    let v: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
    assert_eq!(v["schema_version"], 2);
    let fixtures = v["fixtures"].as_array().unwrap();
    let names: Vec<&str> = fixtures
        .iter()
        .map(|f| f["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["counter", "vault"]);
    for f in fixtures {
        let evm = &f["engines"]["evm"];
        assert_eq!(evm["ratio_vs_evm"], 1.0, "{f}");
        assert_eq!(evm["cost"]["unit"], "gas");
        let ir = &f["engines"]["ir"];
        assert_eq!(ir["equal"], true, "{f}");
        assert!(ir["median_ns"].as_u64().unwrap() > 0);
        assert!(ir["ratio_vs_evm"].as_f64().unwrap() > 0.0);
        assert_eq!(ir["cost"]["unit"], "instructions");
    }
    // The text form: one row per engine.
    let text = chainlift_tests::chainlift(&[
        "bench",
        &chainlift_tests::path("../shared/corpus/bench/counter.json"),
        "--engines",
        "ir",
    ]);
    assert_eq!(text.code, 0, "{}", text.stderr);
    assert!(
        text.stdout.contains("counter                  evm"),
        "{}",
        text.stdout
    );
    assert!(
        text.stdout.contains("counter                  ir "),
        "{}",
        text.stdout
    );
}
