//! `chainlift lift` and `chainlift ir verify|opt|run` end to end.

use chainlift_tests::{chainlift, path};
use serde_json::Value;

fn temp(name: &str, contents: &str) -> String {
    let dir = std::env::temp_dir().join(format!("chainlift-ir-cli-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let p = dir.join(name);
    std::fs::write(&p, contents).unwrap();
    p.to_string_lossy().into_owned()
}

#[test]
fn lift_then_run_the_printed_ir() {
    // Stores calldata word 0 plus 1 at slot 0 and returns it.
    let code = "0x60003560010180600055600052602060".to_string() + "00f3";
    let lifted = chainlift(&["lift", "--code", &code]);
    assert_eq!(lifted.code, 0, "{}", lifted.stderr);
    let file = temp("add1.ir", &lifted.stdout);
    let verify = chainlift(&["ir", "verify", &file]);
    assert_eq!(verify.code, 0, "{}", verify.stderr);
    assert!(verify.stdout.contains(": ok"), "{}", verify.stdout);
    let calldata = format!("0x{:064x}", 41);
    let run = chainlift(&["ir", "run", &file, "--calldata", &calldata, "--json"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let v: Value = serde_json::from_str(&run.stdout).unwrap();
    assert_eq!(v["status"], "success");
    assert_eq!(v["return_data"], format!("0x{:064x}", 42));
    assert_eq!(v["storage"]["0x0"], "0x2a");
    let text = chainlift(&["ir", "run", &file, "--calldata", &calldata]);
    assert!(
        text.stdout.contains("status:       success"),
        "{}",
        text.stdout
    );
}

#[test]
fn the_legalized_lift_runs_like_the_lift() {
    // The ERC-20 fixture, legalized: no i256 anywhere, and `ir run` gives
    // the same outcome as the 256-bit module on a call (balanceOf(0) reads
    // a mapping slot: keccak, a word load and an ABI-encoded return).
    let token = path("examples/token/out/Token.json");
    let wide = chainlift(&["lift", &token]);
    let legal = chainlift(&["lift", &token, "--legalize"]);
    assert_eq!(legal.code, 0, "{}", legal.stderr);
    assert!(!legal.stdout.contains("i256"), "an i256 is left");
    assert!(
        legal.stdout.contains("function %u256_"),
        "no helper functions"
    );
    let (wide_file, legal_file) = (
        temp("wide.ir", &wide.stdout),
        temp("legal.ir", &legal.stdout),
    );
    let calldata = format!("0x70a08231{:064x}", 0);
    let runs: Vec<String> = [&wide_file, &legal_file]
        .iter()
        .map(|f| {
            let run = chainlift(&[
                "ir",
                "run",
                f,
                "--calldata",
                &calldata,
                "--storage",
                "0x1=5",
                "--json",
            ]);
            assert_eq!(run.code, 0, "{}", run.stderr);
            let v: Value = serde_json::from_str(&run.stdout).unwrap();
            format!("{} {} {}", v["status"], v["return_data"], v["storage"])
        })
        .collect();
    assert_eq!(runs[0], runs[1]);
    let stats = chainlift(&["lift", &token, "--legalize", "--stats"]);
    assert!(
        stats.stdout.contains("optimized (legalized)"),
        "{}",
        stats.stdout
    );
}

#[test]
fn raw_and_optimized_lifts_agree_on_a_fixture() {
    let token = path("examples/token/out/Token.json");
    let raw = chainlift(&["lift", "--no-opt", &token]);
    let opt = chainlift(&["lift", &token]);
    assert_eq!(raw.code, 0, "{}", raw.stderr);
    assert_eq!(opt.code, 0, "{}", opt.stderr);
    let raw_file = temp("token.raw.ir", &raw.stdout);
    let opt_file = temp("token.opt.ir", &opt.stdout);
    // totalSupply() and balanceOf(0) against empty storage: both engines agree.
    for calldata in [
        "0x18160ddd",
        "0x70a082310000000000000000000000000000000000000000000000000000000000000000",
        "0xdeadbeef",
    ] {
        let a = chainlift(&["ir", "run", &raw_file, "--calldata", calldata, "--json"]);
        let b = chainlift(&["ir", "run", &opt_file, "--calldata", calldata, "--json"]);
        let (a, b): (Value, Value) = (
            serde_json::from_str(&a.stdout).unwrap(),
            serde_json::from_str(&b.stdout).unwrap(),
        );
        assert_eq!(a["status"], b["status"], "{calldata}");
        assert_eq!(a["return_data"], b["return_data"], "{calldata}");
    }
    let stats = chainlift(&["lift", "--stats", &token]);
    assert!(
        stats.stdout.starts_with("instructions: "),
        "{}",
        stats.stdout
    );
}

#[test]
fn ir_opt_prints_verified_ir() {
    let file = temp(
        "fold.ir",
        "function %main() {\nblock0:\n    v0 = iconst.i256 0x2\n    v1 = iconst.i256 0x3\n    v2 = mul.i256 v0, v1\n    v3 = iconst.i256 0x0\n    host.sstore v3, v2\n    exit.stop\n}\n",
    );
    let run = chainlift(&["ir", "opt", &file]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(run.stdout.contains("iconst.i256 0x6"), "{}", run.stdout);
    assert!(!run.stdout.contains("mul"), "{}", run.stdout);
}

#[test]
fn bad_ir_exits_2_with_the_line_or_entity() {
    let syntax = temp(
        "syntax.ir",
        "function %main() {\nblock0:\n    v0 = frobnicate.i256 v1\n}\n",
    );
    let run = chainlift(&["ir", "verify", &syntax]);
    assert_eq!(run.code, 2);
    assert!(
        run.stderr.contains("line 3") && run.stderr.contains("frobnicate"),
        "{}",
        run.stderr
    );
    let invalid = temp(
        "invalid.ir",
        "function %main() {\nblock0:\n    brif v0, block1, block1\nblock1(v0: i256):\n    exit.stop\n}\n",
    );
    let run = chainlift(&["ir", "verify", &invalid]);
    assert_eq!(run.code, 2);
    assert!(
        run.stderr.contains("block0") && run.stderr.contains("v0"),
        "{}",
        run.stderr
    );
    let run = chainlift(&["ir", "run", "/nonexistent.ir"]);
    assert_eq!(run.code, 2);
}
